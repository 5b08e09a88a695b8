package redis_test

import (
	"context"
	"net"
	"os/exec"
	"strings"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/herdhq/herd"
	"github.com/herdhq/herd/internal/testenv"
	"github.com/herdhq/herd/redis"
)

// freeAddr returns a loopback address nothing listens on.
func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return addr
}

// throwawayRedis is a redis-server of the test's own, which the test may
// pause, kill and start again on the same address.
type throwawayRedis struct {
	t    *testing.T
	addr string
	cmd  *exec.Cmd
}

func startThrowawayRedis(t *testing.T) *throwawayRedis {
	t.Helper()
	if _, err := exec.LookPath("redis-server"); err != nil {
		if testenv.CI() {
			t.Fatal("redis-server is not installed; CI=true requires it")
		}
		t.Skip("redis-server is not installed")
	}
	r := &throwawayRedis{t: t, addr: freeAddr(t)}
	r.start()
	t.Cleanup(r.stop)
	return r
}

func (r *throwawayRedis) start() {
	r.t.Helper()
	_, port, _ := net.SplitHostPort(r.addr)
	r.cmd = exec.Command("redis-server", "--port", port, "--bind", "127.0.0.1",
		"--save", "", "--appendonly", "no")
	if err := r.cmd.Start(); err != nil {
		r.t.Fatal(err)
	}
	// Wait, bounded, until it answers.
	c := goredis.NewClient(&goredis.Options{Addr: r.addr, MaxRetries: -1})
	defer c.Close()
	for range 200 {
		ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
		err := c.Ping(ctx).Err()
		cancel()
		if err == nil {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	r.t.Fatalf("redis-server on %s did not answer", r.addr)
}

func (r *throwawayRedis) stop() {
	if r.cmd == nil {
		return
	}
	r.cmd.Process.Kill()
	r.cmd.Wait()
	r.cmd = nil
}

// do runs one command on a connection of its own.
func (r *throwawayRedis) do(args ...any) {
	r.t.Helper()
	c := goredis.NewClient(&goredis.Options{Addr: r.addr, MaxRetries: -1})
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := c.Do(ctx, args...).Err(); err != nil {
		r.t.Fatalf("%v: %v", args, err)
	}
}

// TestRedisAway checks that while Redis hangs or is gone every call fails
// with EUNAVAILABLE within the configured timeouts instead of hanging, and
// that the same Store works again once Redis is back.
func TestRedisAway(t *testing.T) {
	r := startThrowawayRedis(t)
	// The pause below is ten times these timeouts: a call that ignored them
	// would wait for the pause to end and then succeed, failing the test.
	const timeout = 300 * time.Millisecond
	const pause = 10 * timeout
	s, err := redis.Open(redis.Config{
		URL:         "redis://" + r.addr,
		Prefix:      testPrefix(),
		DialTimeout: timeout, ReadTimeout: timeout, WriteTimeout: timeout, PoolTimeout: timeout,
	})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	// No deadlines on these contexts: the Store's own timeouts must end
	// every call.
	ctx := context.Background()

	works := func(when string) {
		t.Helper()
		sess := herd.Session{ID: "s-" + strings.ToLower(when), UserID: "u", Email: "u@example.test",
			CreatedAt: time.Now(), ExpiresAt: time.Now().Add(time.Hour)}
		if err := s.CreateSession(ctx, sess, time.Hour); err != nil {
			t.Fatalf("%s: CreateSession: %v", when, err)
		}
		got, err := s.TouchSession(ctx, sess.ID, time.Hour)
		if err != nil {
			t.Fatalf("%s: TouchSession: %v", when, err)
		}
		if got, want := got.Views, int64(1); got != want {
			t.Fatalf("%s: views %d, want %d", when, got, want)
		}
		if err := s.Ping(ctx); err != nil {
			t.Fatalf("%s: Ping: %v", when, err)
		}
	}
	unavailable := func(when string) {
		t.Helper()
		calls := map[string]func() error{
			"Ping": func() error { return s.Ping(ctx) },
			"TouchSession": func() error {
				_, err := s.TouchSession(ctx, "s", time.Hour)
				return err
			},
			"CachedItem": func() error {
				_, _, err := s.CachedItem(ctx, "item")
				return err
			},
			"IsRevoked": func() error {
				_, err := s.IsRevoked(ctx, "family", "jti")
				return err
			},
		}
		for name, call := range calls {
			err := call()
			if got, want := herd.ErrorCode(err), herd.EUNAVAILABLE; got != want {
				t.Fatalf("%s: %s: code %q (%v), want %q", when, name, got, err, want)
			}
			if msg := herd.ErrorMessage(err); strings.Contains(msg, r.addr) || strings.Contains(msg, "i/o timeout") {
				t.Fatalf("%s: %s: client-safe message %q leaks the driver's error", when, name, msg)
			}
		}
	}

	works("Before")

	r.do("CLIENT", "PAUSE", pause.Milliseconds(), "ALL")
	unavailable("Paused")

	r.stop()
	unavailable("Killed")

	r.start()
	works("Restarted")
}
