package redis_test

import (
	"testing"
	"time"

	"github.com/herdhq/herd"
	"github.com/herdhq/herd/internal/testenv"
	"github.com/herdhq/herd/redis"
)

// BenchmarkCreateSession measures POST /session's Redis work: one MULTI
// of HSET and PEXPIRE, one round trip.
func BenchmarkCreateSession(b *testing.B) {
	s := mustOpen(b, redis.Config{URL: testenv.RedisURL(b), Prefix: testPrefix()})
	ctx := b.Context()
	now := time.Now()
	sess := herd.Session{ID: "bench", UserID: "u", Email: "u@example.test", CreatedAt: now, ExpiresAt: now.Add(time.Hour)}
	b.ReportAllocs()
	for b.Loop() {
		if err := s.CreateSession(ctx, sess, time.Hour); err != nil {
			b.Fatal(err)
		}
	}
}
