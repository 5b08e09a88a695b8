package redis_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/herdhq/herd"
	"github.com/herdhq/herd/internal/testenv"
	"github.com/herdhq/herd/redis"
)

// TestRedisAway checks that while Redis hangs or is gone every call fails
// with EUNAVAILABLE within the configured timeouts instead of hanging, and
// that the same Store works again once Redis is back.
func TestRedisAway(t *testing.T) {
	r := testenv.StartRedisServer(t)
	// The pause below is ten times these timeouts: a call that ignored them
	// would wait for the pause to end and then succeed, failing the test.
	const timeout = 300 * time.Millisecond
	const pause = 10 * timeout
	s, err := redis.Open(redis.Config{
		URL:         "redis://" + r.Addr,
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
			if msg := herd.ErrorMessage(err); strings.Contains(msg, r.Addr) || strings.Contains(msg, "i/o timeout") {
				t.Fatalf("%s: %s: client-safe message %q leaks the driver's error", when, name, msg)
			}
		}
	}

	works("Before")

	r.Do("CLIENT", "PAUSE", pause.Milliseconds(), "ALL")
	unavailable("Paused")

	r.Kill()
	unavailable("Killed")

	r.Start()
	works("Restarted")
}
