package redis_test

import (
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/herdhq/herd/internal/storetest"
	"github.com/herdhq/herd/internal/testenv"
	"github.com/herdhq/herd/redis"
)

// TestConformanceSentinel runs the suites through Redis Sentinel: a
// throwaway primary and a sentinel watching it, as a Sentinel deployment
// hands herd the primary's address.
func TestConformanceSentinel(t *testing.T) {
	primary := testenv.StartRedisServer(t)
	sentinelAddr := testenv.FreeAddr(t)
	_, sentinelPort, _ := net.SplitHostPort(sentinelAddr)
	host, port, _ := net.SplitHostPort(primary.Addr)
	conf := filepath.Join(t.TempDir(), "sentinel.conf")
	// The sentinel rewrites its config file, so it must be writable.
	if err := os.WriteFile(conf, []byte("port "+sentinelPort+"\nbind 127.0.0.1\n"+
		"sentinel monitor herdprimary "+host+" "+port+" 1\n"+
		"sentinel down-after-milliseconds herdprimary 5000\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("redis-server", conf, "--sentinel")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })

	s, err := redis.Open(redis.Config{SentinelMaster: "herdprimary", SentinelAddrs: []string{sentinelAddr}, Prefix: testPrefix()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	deadline := time.Now().Add(10 * time.Second)
	for {
		err := s.Ping(t.Context())
		if err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("herd never reached the primary through the sentinel: %v", err)
		}
		time.Sleep(100 * time.Millisecond)
	}
	storetest.RunSessionStore(t, s)
	storetest.RunRevocationStore(t, s)
	storetest.RunItemCache(t, s)
	storetest.RunIdempotencyStore(t, s)
}
