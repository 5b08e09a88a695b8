package redis_test

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/herdhq/herd"
	"github.com/herdhq/herd/redis"
)

// roundTrips counts what a Store sends: each command and each pipeline is
// one round trip to Redis.
type roundTrips struct{ n atomic.Int64 }

func (r *roundTrips) DialHook(next goredis.DialHook) goredis.DialHook { return next }

func (r *roundTrips) ProcessHook(next goredis.ProcessHook) goredis.ProcessHook {
	return func(ctx context.Context, cmd goredis.Cmder) error {
		r.n.Add(1)
		return next(ctx, cmd)
	}
}

func (r *roundTrips) ProcessPipelineHook(next goredis.ProcessPipelineHook) goredis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []goredis.Cmder) error {
		r.n.Add(1)
		return next(ctx, cmds)
	}
}

// The hot paths each cost one round trip: GET /session touches a session
// and checks nothing else in Redis, GET /items reads the cache, every
// authenticated request checks revocation.
func TestOneRoundTrip(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			s := b.open(t)
			ctx := t.Context()
			sess := herd.Session{ID: "rt-" + testPrefix(), UserID: "u", Email: "u@example.test",
				CreatedAt: time.Now(), ExpiresAt: time.Now().Add(time.Hour)}
			it := herd.Item{ID: "rt-" + testPrefix(), Data: []byte(`{}`), Version: 1, UpdatedAt: time.Now()}
			calls := map[string]func() error{
				"CreateSession": func() error { return s.CreateSession(ctx, sess, time.Hour) },
				"TouchSession": func() error {
					_, err := s.TouchSession(ctx, sess.ID, time.Hour)
					return err
				},
				"CacheItem": func() error { return s.CacheItem(ctx, it, time.Minute) },
				"CachedItem": func() error {
					_, ok, err := s.CachedItem(ctx, it.ID)
					if err == nil && !ok {
						t.Error("CachedItem missed")
					}
					return err
				},
				"IsRevoked": func() error {
					_, err := s.IsRevoked(ctx, "family", "jti")
					return err
				},
				"BeginIdempotent": func() error {
					_, err := s.BeginIdempotent(ctx, "rt-"+testPrefix(), "fp", time.Minute)
					return err
				},
			}
			// Warm up: the first EVALSHA of a script on a node finds it
			// missing and sends EVAL, and a Cluster client loads the slots.
			for _, name := range []string{"CreateSession", "TouchSession", "CacheItem", "CachedItem", "IsRevoked", "BeginIdempotent"} {
				if err := calls[name](); err != nil {
					t.Fatalf("%s: %v", name, err)
				}
			}
			var rt roundTrips
			redis.AddHook(s, &rt)
			for _, name := range []string{"CreateSession", "TouchSession", "CacheItem", "CachedItem", "IsRevoked", "BeginIdempotent"} {
				before := rt.n.Load()
				if err := calls[name](); err != nil && herd.ErrorCode(err) != herd.ECONFLICT {
					t.Fatalf("%s: %v", name, err)
				}
				if got, want := rt.n.Load()-before, int64(1); got != want {
					t.Errorf("%s took %d round trips, want %d", name, got, want)
				}
			}
		})
	}
}
