package redis_test

import (
	"testing"
	"time"

	"github.com/herdhq/herd"
	"github.com/herdhq/herd/internal/testenv"
	"github.com/herdhq/herd/redis"
)

// BenchmarkTouchSession measures GET /session's Redis work: one script.
func BenchmarkTouchSession(b *testing.B) {
	s := mustOpen(b, redis.Config{URL: testenv.RedisURL(b), Prefix: testPrefix()})
	ctx := b.Context()
	sess := herd.Session{ID: "bench", UserID: "u", Email: "u@example.test",
		CreatedAt: time.Now(), ExpiresAt: time.Now().Add(time.Hour)}
	if err := s.CreateSession(ctx, sess, time.Hour); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := s.TouchSession(ctx, sess.ID, time.Hour); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkCachedItem measures a cache hit of GET /items: one HMGET.
func BenchmarkCachedItem(b *testing.B) {
	s := mustOpen(b, redis.Config{URL: testenv.RedisURL(b), Prefix: testPrefix()})
	ctx := b.Context()
	it := herd.Item{ID: "bench", Data: []byte(`{"name":"a value of a typical size","n":42}`), Version: 1, UpdatedAt: time.Now()}
	if err := s.CacheItem(ctx, it, time.Hour); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, ok, err := s.CachedItem(ctx, it.ID); err != nil || !ok {
			b.Fatalf("CachedItem = %v, %v", ok, err)
		}
	}
}
