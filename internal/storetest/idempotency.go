package storetest

import (
	"bytes"
	"context"
	"testing"
	"time"

	"github.com/herdhq/herd"
)

// RunIdempotencyStore checks s against the herd.IdempotencyStore contract.
func RunIdempotencyStore(t *testing.T, s herd.IdempotencyStore) {
	const (
		lockTTL   = time.Minute
		retention = time.Hour
	)

	t.Run("ClaimCompleteReplay", func(t *testing.T) {
		ctx := testContext(t)
		key, fp := newID("key"), newID("fp")
		claim(t, s, key, fp, lockTTL)
		_, err := s.BeginIdempotent(ctx, key, fp, lockTTL)
		wantCode(t, err, herd.ECONFLICT, "BeginIdempotent of a held key")

		want := herd.IdempotentResponse{Status: 201, ContentType: "application/json", Body: []byte(`{"id": "é"}`)}
		if err := s.CompleteIdempotent(ctx, key, want, retention); err != nil {
			t.Fatal(err)
		}
		for range 2 {
			wantReplay(t, s, key, fp, want)
		}
		_, err = s.BeginIdempotent(ctx, key, newID("fp"), lockTTL)
		wantCode(t, err, herd.EMISMATCH, "BeginIdempotent of a completed key with another fingerprint")
	})

	t.Run("EmptyBody", func(t *testing.T) {
		ctx := testContext(t)
		key, fp := newID("key"), newID("fp")
		claim(t, s, key, fp, lockTTL)
		want := herd.IdempotentResponse{Status: 204}
		if err := s.CompleteIdempotent(ctx, key, want, retention); err != nil {
			t.Fatal(err)
		}
		wantReplay(t, s, key, fp, want)
	})

	t.Run("Release", func(t *testing.T) {
		ctx := testContext(t)
		key, fp := newID("key"), newID("fp")
		claim(t, s, key, fp, lockTTL)
		if err := s.ReleaseIdempotent(ctx, key); err != nil {
			t.Fatal(err)
		}
		claim(t, s, key, fp, lockTTL)
	})

	t.Run("ConcurrentBegin", func(t *testing.T) {
		ctx := testContext(t)
		const n = 20
		key, fp := newID("key"), newID("fp")
		responses := make([]*herd.IdempotentResponse, n)
		errs := make([]error, n)
		concurrently(n, func(i int) {
			responses[i], errs[i] = s.BeginIdempotent(ctx, key, fp, lockTTL)
		})
		claims := 0
		for i, err := range errs {
			switch herd.ErrorCode(err) {
			case "":
				if responses[i] != nil {
					t.Fatalf("BeginIdempotent of a key never completed replayed %+v", responses[i])
				}
				claims++
			case herd.ECONFLICT:
			default:
				t.Fatalf("BeginIdempotent: %v, want a claim or ECONFLICT", err)
			}
		}
		if got, want := claims, 1; got != want {
			t.Fatalf("%d of %d concurrent BeginIdempotent claimed the key, want %d", got, n, want)
		}
	})

	t.Run("Takeover", func(t *testing.T) {
		ctx := testContext(t)
		// A claim whose holder died.
		abandoned, fp := newID("key"), newID("fp")
		claim(t, s, abandoned, fp, shortTTL)
		_, err := s.BeginIdempotent(ctx, abandoned, fp, shortTTL)
		wantCode(t, err, herd.ECONFLICT, "BeginIdempotent of a held key")
		// A completed key outlives its lock.
		completed := newID("key")
		claim(t, s, completed, fp, shortTTL)
		want := herd.IdempotentResponse{Status: 200, ContentType: "text/plain", Body: []byte("done")}
		if err := s.CompleteIdempotent(ctx, completed, want, retention); err != nil {
			t.Fatal(err)
		}

		sleepPast(time.Now().Add(shortTTL))
		claim(t, s, abandoned, fp, lockTTL)
		_, err = s.BeginIdempotent(ctx, abandoned, fp, lockTTL)
		wantCode(t, err, herd.ECONFLICT, "BeginIdempotent of a key taken over")
		wantReplay(t, s, completed, fp, want)
	})

	t.Run("Deadline", func(t *testing.T) {
		wantUnavailableAfterDeadline(t, func(ctx context.Context) error {
			_, err := s.BeginIdempotent(ctx, newID("key"), newID("fp"), lockTTL)
			return err
		})
	})
}

// claim fails the test unless BeginIdempotent gives the caller the claim.
func claim(t *testing.T, s herd.IdempotencyStore, key, fp string, lockTTL time.Duration) {
	t.Helper()
	r, err := s.BeginIdempotent(testContext(t), key, fp, lockTTL)
	if err != nil {
		t.Fatalf("BeginIdempotent: %v, want the claim", err)
	}
	if r != nil {
		t.Fatalf("BeginIdempotent replayed %+v, want the claim", r)
	}
}

func wantReplay(t *testing.T, s herd.IdempotencyStore, key, fp string, want herd.IdempotentResponse) {
	t.Helper()
	got, err := s.BeginIdempotent(testContext(t), key, fp, time.Minute)
	if err != nil {
		t.Fatalf("BeginIdempotent of a completed key: %v", err)
	}
	if got == nil {
		t.Fatal("BeginIdempotent of a completed key gave a claim, want the stored response")
	}
	if got.Status != want.Status || got.ContentType != want.ContentType || !bytes.Equal(got.Body, want.Body) {
		t.Fatalf("replayed %d %q %q, want %d %q %q", got.Status, got.ContentType, got.Body, want.Status, want.ContentType, want.Body)
	}
}
