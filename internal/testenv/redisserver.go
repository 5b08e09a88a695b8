package testenv

import (
	"context"
	"net"
	"os/exec"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"
)

// RedisServer is a redis-server of a test's own, on a free loopback port,
// which the test may pause, kill and start again on the same address. It
// keeps nothing on disk.
type RedisServer struct {
	Addr string
	t    testing.TB
	cmd  *exec.Cmd
}

// StartRedisServer starts one and stops it when the test ends. Without the
// redis-server binary the test skips, or fails under CI=true.
func StartRedisServer(t testing.TB) *RedisServer {
	t.Helper()
	if _, err := exec.LookPath("redis-server"); err != nil {
		if CI() {
			t.Fatal("redis-server is not installed; CI=true requires it")
		}
		t.Skip("redis-server is not installed")
	}
	r := &RedisServer{Addr: FreeAddr(t), t: t}
	r.Start()
	t.Cleanup(r.Kill)
	return r
}

// URL is the server's redis:// URL.
func (r *RedisServer) URL() string { return "redis://" + r.Addr + "/0" }

// Start runs redis-server on r.Addr and waits, bounded, until it answers.
func (r *RedisServer) Start() {
	r.t.Helper()
	_, port, _ := net.SplitHostPort(r.Addr)
	r.cmd = exec.Command("redis-server", "--port", port, "--bind", "127.0.0.1", "--save", "", "--appendonly", "no")
	if err := r.cmd.Start(); err != nil {
		r.t.Fatal(err)
	}
	c := goredis.NewClient(&goredis.Options{Addr: r.Addr, MaxRetries: -1})
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
	r.t.Fatalf("redis-server on %s did not answer", r.Addr)
}

// Kill ends redis-server at once, as a crash or an OOM kill would.
func (r *RedisServer) Kill() {
	if r.cmd == nil {
		return
	}
	r.cmd.Process.Kill()
	r.cmd.Wait()
	r.cmd = nil
}

// Do runs one command on a connection of its own, e.g. CLIENT PAUSE.
func (r *RedisServer) Do(args ...any) {
	r.t.Helper()
	c := goredis.NewClient(&goredis.Options{Addr: r.Addr, MaxRetries: -1})
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := c.Do(ctx, args...).Err(); err != nil {
		r.t.Fatalf("%v: %v", args, err)
	}
}

// FreeAddr returns a loopback address nothing listens on right now.
func FreeAddr(t testing.TB) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}
