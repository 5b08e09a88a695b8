package storetest

import (
	"context"
	"testing"
	"time"

	"github.com/herdhq/herd"
)

// RunSessionStore checks s against the herd.SessionStore contract.
func RunSessionStore(t *testing.T, s herd.SessionStore) {
	const idle = time.Hour

	t.Run("CreateAndTouch", func(t *testing.T) {
		ctx := testContext(t)
		want := newSession(msNow().Add(24 * time.Hour))
		want.Views = 7 // ignored: a session starts at 0 views
		if err := s.CreateSession(ctx, want, idle); err != nil {
			t.Fatal(err)
		}
		for views := int64(1); views <= 3; views++ {
			got, err := s.TouchSession(ctx, want.ID, idle)
			if err != nil {
				t.Fatal(err)
			}
			want.Views = views
			wantSameSession(t, got, want)
		}
	})

	t.Run("NotFound", func(t *testing.T) {
		_, err := s.TouchSession(testContext(t), newID("session"), idle)
		wantCode(t, err, herd.ENOTFOUND, "TouchSession of an unknown id")
	})

	t.Run("Delete", func(t *testing.T) {
		ctx := testContext(t)
		sess := newSession(msNow().Add(time.Hour))
		if err := s.CreateSession(ctx, sess, idle); err != nil {
			t.Fatal(err)
		}
		if err := s.DeleteSession(ctx, sess.ID); err != nil {
			t.Fatal(err)
		}
		_, err := s.TouchSession(ctx, sess.ID, idle)
		wantCode(t, err, herd.ENOTFOUND, "TouchSession of a deleted session")
		if err := s.DeleteSession(ctx, sess.ID); err != nil {
			t.Fatalf("DeleteSession of a deleted session: %v", err)
		}
		if err := s.DeleteSession(ctx, newID("session")); err != nil {
			t.Fatalf("DeleteSession of an unknown id: %v", err)
		}
	})

	t.Run("ConcurrentTouch", func(t *testing.T) {
		ctx := testContext(t)
		const n = 50
		sess := newSession(msNow().Add(time.Hour))
		if err := s.CreateSession(ctx, sess, idle); err != nil {
			t.Fatal(err)
		}
		views := make([]int64, n)
		errs := make([]error, n)
		concurrently(n, func(i int) {
			got, err := s.TouchSession(ctx, sess.ID, idle)
			views[i], errs[i] = got.Views, err
		})
		for _, err := range errs {
			if err != nil {
				t.Fatal(err)
			}
		}
		wantEachOnce(t, views, "views returned by concurrent TouchSession")
		got, err := s.TouchSession(ctx, sess.ID, idle)
		if err != nil {
			t.Fatal(err)
		}
		if got, want := got.Views, int64(n+1); got != want {
			t.Fatalf("views after %d concurrent touches and one more = %d, want %d", n, got, want)
		}
	})

	t.Run("AlreadyExpired", func(t *testing.T) {
		ctx := testContext(t)
		sess := newSession(msNow().Add(-time.Second))
		if err := s.CreateSession(ctx, sess, idle); err != nil {
			t.Fatal(err)
		}
		_, err := s.TouchSession(ctx, sess.ID, idle)
		wantCode(t, err, herd.ENOTFOUND, "TouchSession of a session past its ExpiresAt")
	})

	// One wait serves every expiry check.
	t.Run("Expiry", func(t *testing.T) {
		ctx := testContext(t)
		// Idle for longer than its idle time.
		idled := newSession(msNow().Add(time.Hour))
		if err := s.CreateSession(ctx, idled, shortTTL); err != nil {
			t.Fatal(err)
		}
		// Touched with a long idle time, so only the touch keeps it alive.
		slid := newSession(msNow().Add(time.Hour))
		if err := s.CreateSession(ctx, slid, shortTTL); err != nil {
			t.Fatal(err)
		}
		if _, err := s.TouchSession(ctx, slid.ID, idle); err != nil {
			t.Fatal(err)
		}
		// Touched with a long idle time, but its absolute end comes first.
		ended := newSession(msNow().Add(shortTTL))
		if err := s.CreateSession(ctx, ended, idle); err != nil {
			t.Fatal(err)
		}
		got, err := s.TouchSession(ctx, ended.ID, idle)
		if err != nil {
			t.Fatal(err)
		}
		if !got.ExpiresAt.Equal(ended.ExpiresAt) {
			t.Fatalf("TouchSession moved ExpiresAt from %v to %v", ended.ExpiresAt, got.ExpiresAt)
		}

		sleepPast(time.Now().Add(shortTTL))
		_, err = s.TouchSession(ctx, idled.ID, idle)
		wantCode(t, err, herd.ENOTFOUND, "TouchSession of a session idle past its idle time")
		_, err = s.TouchSession(ctx, ended.ID, idle)
		wantCode(t, err, herd.ENOTFOUND, "TouchSession of a session past its ExpiresAt")
		got, err = s.TouchSession(ctx, slid.ID, idle)
		if err != nil {
			t.Fatalf("TouchSession of a session whose idle deadline a touch slid: %v", err)
		}
		if got, want := got.Views, int64(2); got != want {
			t.Fatalf("views = %d, want %d", got, want)
		}
	})

	t.Run("Deadline", func(t *testing.T) {
		wantUnavailableAfterDeadline(t, func(ctx context.Context) error {
			_, err := s.TouchSession(ctx, newID("session"), idle)
			return err
		})
	})
}

func newSession(expires time.Time) herd.Session {
	user := newID("user")
	return herd.Session{
		ID:        newID("session"),
		UserID:    user,
		Email:     user + "@example.test",
		CreatedAt: msNow(),
		ExpiresAt: expires,
	}
}

func wantSameSession(t *testing.T, got, want herd.Session) {
	t.Helper()
	if got.ID != want.ID || got.UserID != want.UserID || got.Email != want.Email || got.Views != want.Views ||
		!got.CreatedAt.Equal(want.CreatedAt) || !got.ExpiresAt.Equal(want.ExpiresAt) {
		t.Fatalf("got session %+v, want %+v", got, want)
	}
}
