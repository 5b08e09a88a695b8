package storetest

import (
	"context"
	"slices"
	"testing"

	"github.com/herdhq/herd"
)

// RunUserStore checks s against the herd.UserStore contract.
func RunUserStore(t *testing.T, s herd.UserStore) {
	t.Run("CreateAndFind", func(t *testing.T) {
		ctx := testContext(t)
		want := newUser()
		if err := s.CreateUser(ctx, want); err != nil {
			t.Fatal(err)
		}
		byEmail, err := s.UserByEmail(ctx, want.Email)
		if err != nil {
			t.Fatal(err)
		}
		wantSameUser(t, byEmail, want)
		byID, err := s.UserByID(ctx, want.ID)
		if err != nil {
			t.Fatal(err)
		}
		wantSameUser(t, byID, want)
	})

	t.Run("NotFound", func(t *testing.T) {
		ctx := testContext(t)
		_, err := s.UserByEmail(ctx, newUser().Email)
		wantCode(t, err, herd.ENOTFOUND, "UserByEmail of an unknown email")
		_, err = s.UserByID(ctx, newID("user"))
		wantCode(t, err, herd.ENOTFOUND, "UserByID of an unknown id")
	})

	t.Run("EmailTaken", func(t *testing.T) {
		ctx := testContext(t)
		first := newUser()
		if err := s.CreateUser(ctx, first); err != nil {
			t.Fatal(err)
		}
		second := newUser()
		second.Email = first.Email
		wantCode(t, s.CreateUser(ctx, second), herd.ECONFLICT, "CreateUser with a taken email")
		if _, err := s.UserByID(ctx, second.ID); herd.ErrorCode(err) != herd.ENOTFOUND {
			t.Fatalf("UserByID of the refused user: %v, want ENOTFOUND", err)
		}
		got, err := s.UserByEmail(ctx, first.Email)
		if err != nil {
			t.Fatal(err)
		}
		wantSameUser(t, got, first)
	})

	t.Run("ConcurrentSameEmail", func(t *testing.T) {
		ctx := testContext(t)
		const n = 20
		email := newUser().Email
		errs := make([]error, n)
		concurrently(n, func(i int) {
			u := newUser()
			u.Email = email
			errs[i] = s.CreateUser(ctx, u)
		})
		created := 0
		for _, err := range errs {
			switch herd.ErrorCode(err) {
			case "":
				created++
			case herd.ECONFLICT:
			default:
				t.Fatalf("CreateUser: %v, want success or ECONFLICT", err)
			}
		}
		if got, want := created, 1; got != want {
			t.Fatalf("%d of %d concurrent CreateUser with one email succeeded, want %d", got, n, want)
		}
	})

	t.Run("Deadline", func(t *testing.T) {
		wantUnavailableAfterDeadline(t, func(ctx context.Context) error {
			_, err := s.UserByID(ctx, newID("user"))
			return err
		})
	})
}

func newUser() herd.User {
	id := newID("user")
	return herd.User{
		ID:           id,
		Email:        id + "@example.test",
		PasswordHash: "$argon2id$v=19$m=65536,t=1,p=4$c2FsdHNhbHQ$" + id,
		Roles:        []string{"user", "admin"},
		CreatedAt:    msNow(),
	}
}

func wantSameUser(t *testing.T, got, want herd.User) {
	t.Helper()
	if got.ID != want.ID || got.Email != want.Email || got.PasswordHash != want.PasswordHash ||
		!slices.Equal(got.Roles, want.Roles) || !got.CreatedAt.Equal(want.CreatedAt) {
		t.Fatalf("got user %+v, want %+v", got, want)
	}
}
