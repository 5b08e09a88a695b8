package cluster

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/herdhq/herd/internal/testenv"
)

// TestMain lets the test binary stand in for `herd serve` when the
// supervisor starts it with fakeServeEnv set: the supervisor tests then
// run without the real server, which the end-to-end test in prove uses.
func TestMain(m *testing.M) {
	if os.Getenv(fakeServeEnv) == "1" {
		if len(os.Args) > 1 && os.Args[1] == "migrate" {
			fmt.Println("schema is up to date")
			return
		}
		fakeServe()
		return
	}
	os.Exit(m.Run())
}

const fakeServeEnv = "HERD_CLUSTER_FAKE_SERVE"

// fakeServe behaves like herd serve where the supervisor can see it: it
// answers on HERD_ADDR, and after SIGTERM turns /health/ready to 503 at
// once, serves on for HERD_DRAIN_DELAY, then exits 0.
func fakeServe() {
	var draining atomic.Bool
	id := os.Getenv("HERD_INSTANCE_ID")
	mux := http.NewServeMux()
	mux.HandleFunc("/health/ready", func(w http.ResponseWriter, r *http.Request) {
		if draining.Load() {
			w.WriteHeader(http.StatusServiceUnavailable)
		}
	})
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Instance-ID", id)
		io.WriteString(w, "ok")
	})
	srv := &http.Server{Addr: os.Getenv("HERD_ADDR"), Handler: mux}
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGTERM)
	go func() {
		<-sig
		draining.Store(true)
		d, _ := time.ParseDuration(os.Getenv("HERD_DRAIN_DELAY"))
		time.Sleep(d)
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.Shutdown(ctx)
	}()
	if err := srv.ListenAndServe(); err != http.ErrServerClosed {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

// freeRange finds n consecutive free ports on 127.0.0.1.
func freeRange(t *testing.T, n int) int {
	t.Helper()
	for base := 21000 + os.Getpid()%2000; base < 60000; base += n + 7 {
		ok := true
		for p := base; p < base+n && ok; p++ {
			ok = portFree(p)
		}
		if ok {
			return base
		}
	}
	t.Fatal("no free port range")
	return 0
}

func startFakeCluster(t *testing.T, replicas int) (*Supervisor, Options) {
	t.Helper()
	haproxyBin(t)
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	dir, err := os.MkdirTemp("", "herd-cluster-test-") // t.TempDir is too long a path for a unix socket
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	opts := Options{
		Dir:             dir,
		Replicas:        replicas,
		BasePort:        freeRange(t, 2*replicas),
		Listen:          freeAddr(t),
		HerdBin:         exe,
		Env:             append(os.Environ(), fakeServeEnv+"=1", "HERD_DRAIN_DELAY=1500ms"),
		DrainDelay:      1500 * time.Millisecond,
		ShutdownTimeout: 5 * time.Second,
		ReadyTimeout:    20 * time.Second,
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	s, err := Start(ctx, opts, testWriter{t})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Down(context.Background()) })
	return s, opts
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(b []byte) (int, error) {
	w.t.Log(string(b[:len(b)-1]))
	return len(b), nil
}

// TestRolloutUnderLoadLosesNoRequest rolls every replica while requests
// flow through HAProxy; not one may fail.
func TestRolloutUnderLoadLosesNoRequest(t *testing.T) {
	s, opts := startFakeCluster(t, 2)
	c := Dial(opts.Dir)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	before, err := c.Status(ctx)
	if err != nil {
		t.Fatal(err)
	}

	var ok, failed atomic.Int64
	var firstErr atomic.Value
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			client := &http.Client{Timeout: 5 * time.Second}
			for {
				select {
				case <-stop:
					return
				default:
				}
				resp, err := client.Get("http://" + opts.Listen + "/x")
				if err == nil {
					io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					if resp.StatusCode != http.StatusOK {
						err = fmt.Errorf("status %d", resp.StatusCode)
					}
				}
				if err != nil {
					failed.Add(1)
					firstErr.CompareAndSwap(nil, err.Error())
				} else {
					ok.Add(1)
				}
				time.Sleep(5 * time.Millisecond)
			}
		})
	}
	var events []Event
	err = c.Rollout(ctx, func(e Event) { events = append(events, e) })
	close(stop)
	wg.Wait()
	if err != nil {
		t.Fatal(err)
	}
	if got, want := failed.Load(), int64(0); got != want {
		t.Fatalf("failed requests during rollout: got %d (first: %v), want %d; %d succeeded", got, firstErr.Load(), want, ok.Load())
	}
	if ok.Load() == 0 {
		t.Fatal("no request succeeded")
	}
	sigterms := 0
	for _, e := range events {
		if e.Kind == "sigterm" {
			sigterms++
		}
	}
	if got, want := sigterms, 2; got != want {
		t.Fatalf("SIGTERM events streamed: got %d, want %d", got, want)
	}
	after := s.Status(ctx)
	for i, r := range after.Replicas {
		if r.PID == before.Replicas[i].PID || r.PID == 0 {
			t.Errorf("replica %d: pid %d before, %d after rollout", i, before.Replicas[i].PID, r.PID)
		}
		if got, want := r.Port, before.Replicas[i].Port+2; got != want {
			t.Errorf("replica %d port: got %d, want %d", i, got, want)
		}
		if got, want := r.Restarts, 0; got != want {
			t.Errorf("replica %d restarts: got %d, want %d", i, got, want)
		}
	}
}

// TestKilledReplicaIsRestarted kills a replica through the control socket
// and waits for the supervisor to bring a new process up and ready.
func TestKilledReplicaIsRestarted(t *testing.T) {
	s, opts := startFakeCluster(t, 2)
	c := Dial(opts.Dir)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	before := s.Status(ctx)
	old := before.Replicas[1].PID
	if err := Main(ctx, []string{"kill", "1", "--dir", opts.Dir}, os.Getenv, io.Discard, io.Discard); err != nil {
		t.Fatal(err)
	}
	for {
		st, err := c.Status(ctx)
		if err != nil {
			t.Fatal(err)
		}
		r := st.Replicas[1]
		if r.PID != 0 && r.PID != old && r.LB == "UP" {
			if got, want := r.Restarts, 1; got != want {
				t.Fatalf("restarts: got %d, want %d", got, want)
			}
			break
		}
		select {
		case <-ctx.Done():
			t.Fatalf("replica 1 not back in rotation: %+v", r)
		case <-time.After(100 * time.Millisecond):
		}
	}
	if err := syscall.Kill(old, 0); err == nil {
		t.Fatalf("killed pid %d still exists", old)
	}

	if err := Main(ctx, []string{"down", "--dir", opts.Dir}, os.Getenv, io.Discard, io.Discard); err != nil {
		t.Fatal(err)
	}
	st := s.Status(ctx)
	for _, r := range st.Replicas {
		if r.PID != 0 {
			t.Errorf("replica %d still running after down: pid %d", r.Index, r.PID)
		}
	}
	if _, err := c.Status(ctx); err == nil {
		t.Fatal("control socket still answers after down")
	}
}

// TestOwnBackendsStopAndStart runs the private Redis and PostgreSQL and
// stops and starts each for real.
func TestOwnBackendsStopAndStart(t *testing.T) {
	for _, bin := range []string{"redis-server"} {
		if _, err := exec.LookPath(bin); err != nil {
			if testenv.CI() {
				t.Fatal(err)
			}
			t.Skip(err)
		}
	}
	if _, err := postgresBinDir(); err != nil {
		if testenv.CI() {
			t.Fatal(err)
		}
		t.Skip(err)
	}
	dir := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	redis, err := newRedis(dir)
	if err != nil {
		t.Fatal(err)
	}
	pg, cleanup, err := newPostgres(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	defer cleanup()
	for _, b := range []*backend{redis, pg} {
		addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(b.port))
		for round := range 2 {
			if err := b.start(ctx); err != nil {
				t.Fatalf("%s round %d: %v", b.name, round, err)
			}
			if err := b.ready(ctx); err != nil {
				t.Fatalf("%s round %d not ready: %v", b.name, round, err)
			}
			if err := b.stop(); err != nil {
				t.Fatalf("%s round %d stop: %v", b.name, round, err)
			}
			if conn, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
				conn.Close()
				t.Fatalf("%s round %d: still accepting at %s after stop", b.name, round, addr)
			}
		}
	}
}
