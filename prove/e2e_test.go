package prove

import (
	"context"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/herdhq/herd/cluster"
	"github.com/herdhq/herd/internal/testenv"
)

// buildHerd builds the herd binary from this module.
func buildHerd(t *testing.T) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, "go", "env", "GOMOD").Output()
	if err != nil {
		t.Fatal(err)
	}
	root := filepath.Dir(strings.TrimSpace(string(out)))
	bin := filepath.Join(t.TempDir(), "herd")
	build := exec.CommandContext(ctx, "go", "build", "-o", bin, "./cmd/herd")
	build.Dir = root
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build ./cmd/herd: %v\n%s", err, out)
	}
	return bin
}

func needHAProxy(t *testing.T) {
	t.Helper()
	if _, err := cluster.FindHAProxy(""); err != nil {
		if testenv.CI() {
			t.Fatal(err)
		}
		t.Skip(err)
	}
}

// freePorts finds n consecutive free ports on 127.0.0.1.
func freePorts(t *testing.T, n int) int {
	t.Helper()
	for base := 30000 + os.Getpid()%3000; base < 60000; base += n + 11 {
		ok := true
		for p := base; p < base+n && ok; p++ {
			l, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(p))
			if err != nil {
				ok = false
				continue
			}
			l.Close()
		}
		if ok {
			return base
		}
	}
	t.Fatal("no free port range")
	return 0
}

// startTestCluster runs a real cluster of herd serve replicas behind the
// real HAProxy, on the embedded default unless env says otherwise.
func startTestCluster(t *testing.T, replicas int, ownBackends bool, env ...string) string {
	t.Helper()
	needHAProxy(t)
	bin := buildHerd(t)
	dir, err := os.MkdirTemp("", "herd-prove-e2e-") // short: the control socket's path is bounded
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	base := freePorts(t, 2*replicas+1)
	opts := cluster.Options{
		Dir:             dir,
		Replicas:        replicas,
		BasePort:        base + 1,
		Listen:          "127.0.0.1:" + strconv.Itoa(base),
		HerdBin:         bin,
		OwnBackends:     ownBackends,
		Env:             append(append(os.Environ(), "HERD_DRAIN_DELAY=2s", "HERD_SHUTDOWN_TIMEOUT=10s", "HERD_LOG_LEVEL=warn"), env...),
		DrainDelay:      2 * time.Second,
		ShutdownTimeout: 10 * time.Second,
		ReadyTimeout:    60 * time.Second,
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	s, err := cluster.Start(ctx, opts, newTestLog(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		s.Down(context.Background())
		if t.Failed() {
			for i := range replicas {
				b, _ := os.ReadFile(filepath.Join(dir, "logs", "replica-"+strconv.Itoa(i)+".log"))
				t.Logf("replica %d log (tail):\n%s", i, tail(string(b), 8))
			}
		}
	})
	return dir
}

func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	for i, l := range lines {
		lines[i] = truncate(l, 400)
	}
	return strings.Join(lines, "\n")
}

// testLog writes whole lines to the test log.
type testLog struct {
	t   *testing.T
	mu  *sync.Mutex
	buf *[]byte
}

func newTestLog(t *testing.T) testLog { return testLog{t, new(sync.Mutex), new([]byte)} }

func (w testLog) Write(b []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	*w.buf = append(*w.buf, b...)
	for {
		i := strings.IndexByte(string(*w.buf), '\n')
		if i < 0 {
			return len(b), nil
		}
		w.t.Log(string((*w.buf)[:i]))
		*w.buf = (*w.buf)[i+1:]
	}
}

func testConfig(t *testing.T, dir string, scenarios ...string) Config {
	cfg, err := parseFlags([]string{
		"--control", "--cluster-dir", dir,
		"--scenarios", strings.Join(scenarios, ","),
		"--out", t.TempDir(),
		"--rate", "100", "--load-workers", "32", "--load-users", "4",
		"--workers", "10", "--increments", "20",
		"--max-time", "3m",
	}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

func runProve(t *testing.T, cfg Config) *Report {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), cfg.MaxTime)
	defer cancel()
	report, err := Run(ctx, cfg, os.Getenv, newTestLog(t))
	if report == nil {
		t.Fatal(err)
	}
	for _, s := range report.Scenarios {
		if got, want := s.Verdict, Pass; got != want {
			t.Errorf("%s: got %s, want %s: %s\n%s", s.Name, got, want, s.Summary, strings.Join(s.Errors, "\n"))
		}
	}
	if got, want := report.Verdict, Pass; got != want || err != nil {
		t.Errorf("report verdict: got %s (%v), want %s", got, err, want)
	}
	html, err := os.ReadFile(filepath.Join(cfg.Out, "report.html"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(html), "<svg") {
		t.Error("report.html has no chart")
	}
	return report
}

// TestEndToEndEmbedded runs herd prove against a real 3-replica cluster
// on the embedded default: every request-level scenario must pass, and
// the rollout must show in the report's events.
func TestEndToEndEmbedded(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end")
	}
	dir := startTestCluster(t, 3, false)
	report := runProve(t, testConfig(t, dir, "any-replica", "exactness", "rollout", "crash"))
	sigterms := 0
	for _, e := range report.Events {
		if strings.HasSuffix(e.Label, "SIGTERM") {
			sigterms++
		}
	}
	if got, want := sigterms, 3; got != want {
		t.Errorf("SIGTERM markers: got %d, want %d", got, want)
	}
}

// TestEndToEndOutage runs the outage scenario against a cluster with its
// own Redis and PostgreSQL, which herd prove stops and starts for real.
func TestEndToEndOutage(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end")
	}
	for _, bin := range []string{"redis-server"} {
		if _, err := exec.LookPath(bin); err != nil {
			if testenv.CI() {
				t.Fatal(err)
			}
			t.Skip(err)
		}
	}
	dir := startTestCluster(t, 2, true)
	runProve(t, testConfig(t, dir, "outage"))
}
