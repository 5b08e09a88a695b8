package redis_test

import (
	"context"
	"crypto/rand"
	"strings"
	"testing"
	"time"

	"github.com/herdhq/herd"
	"github.com/herdhq/herd/internal/storetest"
	"github.com/herdhq/herd/internal/testenv"
	"github.com/herdhq/herd/redis"
)

// backends opens a Store on each real Redis setup: a single node and a
// Cluster, where every multi-key operation must stay in one slot. Each
// Store has a prefix of its own, so runs never see each other's keys.
var backends = []struct {
	name string
	open func(t *testing.T) *redis.Store
}{
	{"Standalone", func(t *testing.T) *redis.Store {
		return mustOpen(t, redis.Config{URL: testenv.RedisURL(t), Prefix: testPrefix()})
	}},
	{"Cluster", func(t *testing.T) *redis.Store {
		return mustOpen(t, redis.Config{ClusterAddrs: testenv.RedisClusterAddrs(t), Prefix: testPrefix()})
	}},
}

func testPrefix() string { return "herdtest-" + strings.ToLower(rand.Text()) }

func mustOpen(t testing.TB, cfg redis.Config) *redis.Store {
	t.Helper()
	s, err := redis.Open(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := s.Ping(ctx); err != nil {
		t.Fatalf("Ping: %v", err)
	}
	return s
}

func TestConformance(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			s := b.open(t)
			t.Run("SessionStore", func(t *testing.T) { storetest.RunSessionStore(t, s) })
			t.Run("RevocationStore", func(t *testing.T) { storetest.RunRevocationStore(t, s) })
			t.Run("ItemCache", func(t *testing.T) { storetest.RunItemCache(t, s) })
			t.Run("IdempotencyStore", func(t *testing.T) { storetest.RunIdempotencyStore(t, s) })
		})
	}
}

func TestOpenRefusesInvalidConfig(t *testing.T) {
	for _, tc := range []struct {
		name string
		cfg  redis.Config
	}{
		{"Nothing", redis.Config{}},
		{"URLAndCluster", redis.Config{URL: "redis://127.0.0.1:6379", ClusterAddrs: []string{"127.0.0.1:7000"}}},
		{"BadURL", redis.Config{URL: "http://127.0.0.1:6379"}},
		{"SentinelWithoutAddrs", redis.Config{SentinelMaster: "mymaster"}},
		{"SentinelAddrsWithoutMaster", redis.Config{SentinelAddrs: []string{"127.0.0.1:26379"}}},
		{"ClusterDB", redis.Config{ClusterAddrs: []string{"127.0.0.1:7000"}, DB: 1}},
		{"BracePrefix", redis.Config{URL: "redis://127.0.0.1:6379", Prefix: "a{b}"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if s, err := redis.Open(tc.cfg); err == nil {
				s.Close()
				t.Fatalf("Open(%+v) succeeded, want an error", tc.cfg)
			}
		})
	}
}

// A replica must start while its Redis is down: Open does not connect, and
// Ping then reports EUNAVAILABLE.
func TestOpenWhileRedisIsDown(t *testing.T) {
	addr := testenv.FreeAddr(t)
	for _, cfg := range []redis.Config{
		{URL: "redis://" + addr},
		{ClusterAddrs: []string{addr}},
		{SentinelMaster: "mymaster", SentinelAddrs: []string{addr}},
	} {
		s, err := redis.Open(cfg)
		if err != nil {
			t.Fatalf("Open(%+v): %v", cfg, err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		err = s.Ping(ctx)
		cancel()
		s.Close()
		if got, want := herd.ErrorCode(err), herd.EUNAVAILABLE; got != want {
			t.Fatalf("Ping(%+v) of a Redis that is down: code %q (%v), want %q", cfg, got, err, want)
		}
		if msg := herd.ErrorMessage(err); strings.Contains(msg, addr) {
			t.Fatalf("client-safe message %q leaks the driver's error", msg)
		}
	}
}

func TestRevocationRefusesEmptyFamily(t *testing.T) {
	s := mustOpen(t, redis.Config{URL: testenv.RedisURL(t), Prefix: testPrefix()})
	_, err := s.IsRevoked(t.Context(), "", "jti")
	if got, want := herd.ErrorCode(err), herd.EINVALID; got != want {
		t.Fatalf("IsRevoked with an empty family: code %q (%v), want %q", got, err, want)
	}
}

// A later revocation with an earlier until must not shorten an earlier one.
func TestRevocationNeverShortens(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			s := b.open(t)
			ctx := t.Context()
			family := "family-" + strings.ToLower(rand.Text())
			if err := s.RevokeFamily(ctx, family, time.Now().Add(time.Hour)); err != nil {
				t.Fatal(err)
			}
			if err := s.RevokeFamily(ctx, family, time.Now().Add(100*time.Millisecond)); err != nil {
				t.Fatal(err)
			}
			time.Sleep(300 * time.Millisecond)
			revoked, err := s.IsRevoked(ctx, family, "jti")
			if err != nil {
				t.Fatal(err)
			}
			if !revoked {
				t.Fatal("a revocation until an hour from now was shortened by a later one")
			}
		})
	}
}

// Once a key holds a response, a late Release must not drop it, and a
// Complete without a claim must not invent one.
func TestIdempotencyKeepsResponses(t *testing.T) {
	s := mustOpen(t, redis.Config{URL: testenv.RedisURL(t), Prefix: testPrefix()})
	ctx := t.Context()
	key, fp := "key-"+strings.ToLower(rand.Text()), "fp"
	if r, err := s.BeginIdempotent(ctx, key, fp, time.Minute); err != nil || r != nil {
		t.Fatalf("BeginIdempotent = %v, %v; want the claim", r, err)
	}
	want := herd.IdempotentResponse{Status: 201, ContentType: "application/json", Body: []byte(`{}`)}
	if err := s.CompleteIdempotent(ctx, key, want, time.Hour); err != nil {
		t.Fatal(err)
	}
	if err := s.ReleaseIdempotent(ctx, key); err != nil {
		t.Fatal(err)
	}
	r, err := s.BeginIdempotent(ctx, key, fp, time.Minute)
	if err != nil || r == nil {
		t.Fatalf("BeginIdempotent after a late release = %v, %v; want the stored response", r, err)
	}
	if got, want := r.Status, want.Status; got != want {
		t.Fatalf("replayed status %d, want %d", got, want)
	}

	err = s.CompleteIdempotent(ctx, "unclaimed-"+strings.ToLower(rand.Text()), want, time.Hour)
	if got, want := herd.ErrorCode(err), herd.ECONFLICT; got != want {
		t.Fatalf("CompleteIdempotent of an unclaimed key: code %q (%v), want %q", got, err, want)
	}
}
