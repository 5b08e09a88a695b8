package storetest

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"testing"
	"time"

	"github.com/herdhq/herd"
)

// RunRefreshTokenStore checks s against the herd.RefreshTokenStore contract.
func RunRefreshTokenStore(t *testing.T, s herd.RefreshTokenStore) {
	t.Run("SpendOnce", func(t *testing.T) {
		ctx := testContext(t)
		tok := newRefreshToken(newID("family"))
		if err := s.CreateRefreshToken(ctx, tok); err != nil {
			t.Fatal(err)
		}
		got, err := s.SpendRefreshToken(ctx, tok.Hash)
		if err != nil {
			t.Fatal(err)
		}
		wantSameToken(t, got, tok)
	})

	t.Run("Unknown", func(t *testing.T) {
		_, err := s.SpendRefreshToken(testContext(t), newRefreshToken(newID("family")).Hash)
		wantCode(t, err, herd.EUNAUTHORIZED, "SpendRefreshToken of an unknown hash")
		if errors.Is(err, herd.ErrRefreshReused) {
			t.Fatalf("SpendRefreshToken of an unknown hash: %v, want no ErrRefreshReused", err)
		}
	})

	t.Run("Expired", func(t *testing.T) {
		ctx := testContext(t)
		tok := newRefreshToken(newID("family"))
		tok.ExpiresAt = msNow().Add(-time.Second)
		if err := s.CreateRefreshToken(ctx, tok); err != nil {
			t.Fatal(err)
		}
		_, err := s.SpendRefreshToken(ctx, tok.Hash)
		wantCode(t, err, herd.EUNAUTHORIZED, "SpendRefreshToken of an expired token")
	})

	t.Run("ReuseRevokesFamily", func(t *testing.T) {
		ctx := testContext(t)
		family := newID("family")
		first := newRefreshToken(family)
		if err := s.CreateRefreshToken(ctx, first); err != nil {
			t.Fatal(err)
		}
		if _, err := s.SpendRefreshToken(ctx, first.Hash); err != nil {
			t.Fatal(err)
		}
		rotated := newRefreshToken(family)
		if err := s.CreateRefreshToken(ctx, rotated); err != nil {
			t.Fatal(err)
		}
		other := newRefreshToken(newID("family"))
		if err := s.CreateRefreshToken(ctx, other); err != nil {
			t.Fatal(err)
		}

		got, err := s.SpendRefreshToken(ctx, first.Hash)
		wantCode(t, err, herd.EUNAUTHORIZED, "SpendRefreshToken of a spent token")
		if !errors.Is(err, herd.ErrRefreshReused) {
			t.Fatalf("SpendRefreshToken of a spent token: %v, want it to wrap ErrRefreshReused", err)
		}
		wantSameToken(t, got, first)

		_, err = s.SpendRefreshToken(ctx, rotated.Hash)
		wantCode(t, err, herd.EUNAUTHORIZED, "SpendRefreshToken of a token whose family was reused")
		if _, err := s.SpendRefreshToken(ctx, other.Hash); err != nil {
			t.Fatalf("SpendRefreshToken of another family's token: %v", err)
		}
	})

	t.Run("RevokeFamily", func(t *testing.T) {
		ctx := testContext(t)
		family := newID("family")
		tok := newRefreshToken(family)
		if err := s.CreateRefreshToken(ctx, tok); err != nil {
			t.Fatal(err)
		}
		for range 2 {
			if err := s.RevokeRefreshFamily(ctx, family); err != nil {
				t.Fatal(err)
			}
		}
		_, err := s.SpendRefreshToken(ctx, tok.Hash)
		wantCode(t, err, herd.EUNAUTHORIZED, "SpendRefreshToken of a revoked family")
		if err := s.RevokeRefreshFamily(ctx, newID("family")); err != nil {
			t.Fatalf("RevokeRefreshFamily of an unknown family: %v", err)
		}
	})

	t.Run("ConcurrentSpend", func(t *testing.T) {
		ctx := testContext(t)
		const n = 20
		tok := newRefreshToken(newID("family"))
		if err := s.CreateRefreshToken(ctx, tok); err != nil {
			t.Fatal(err)
		}
		errs := make([]error, n)
		concurrently(n, func(i int) {
			_, errs[i] = s.SpendRefreshToken(ctx, tok.Hash)
		})
		spent := 0
		for _, err := range errs {
			switch herd.ErrorCode(err) {
			case "":
				spent++
			case herd.EUNAUTHORIZED:
			default:
				t.Fatalf("SpendRefreshToken: %v, want success or EUNAUTHORIZED", err)
			}
		}
		if got, want := spent, 1; got != want {
			t.Fatalf("%d of %d concurrent SpendRefreshToken succeeded, want %d", got, n, want)
		}
	})

	t.Run("Deadline", func(t *testing.T) {
		wantUnavailableAfterDeadline(t, func(ctx context.Context) error {
			return s.CreateRefreshToken(ctx, newRefreshToken(newID("family")))
		})
	})
}

// RunRevocationStore checks s against the herd.RevocationStore contract.
func RunRevocationStore(t *testing.T, s herd.RevocationStore) {
	until := time.Now().Add(time.Hour)

	t.Run("AccessToken", func(t *testing.T) {
		ctx := testContext(t)
		family, jti := newID("family"), newID("jti")
		wantRevoked(t, s, family, jti, false)
		for range 2 {
			if err := s.RevokeAccessToken(ctx, family, jti, until); err != nil {
				t.Fatal(err)
			}
		}
		wantRevoked(t, s, family, jti, true)
		wantRevoked(t, s, family, newID("jti"), false)
	})

	t.Run("Family", func(t *testing.T) {
		ctx := testContext(t)
		family, jti := newID("family"), newID("jti")
		wantRevoked(t, s, family, jti, false)
		for range 2 {
			if err := s.RevokeFamily(ctx, family, until); err != nil {
				t.Fatal(err)
			}
		}
		wantRevoked(t, s, family, jti, true)
		wantRevoked(t, s, family, newID("jti"), true)
		wantRevoked(t, s, newID("family"), jti, false)
	})

	t.Run("Deadline", func(t *testing.T) {
		wantUnavailableAfterDeadline(t, func(ctx context.Context) error {
			_, err := s.IsRevoked(ctx, newID("family"), newID("jti"))
			return err
		})
	})
}

func wantRevoked(t *testing.T, s herd.RevocationStore, family, jti string, want bool) {
	t.Helper()
	got, err := s.IsRevoked(testContext(t), family, jti)
	if err != nil {
		t.Fatal(err)
	}
	if got != want {
		t.Fatalf("IsRevoked(%s, %s) = %v, want %v", family, jti, got, want)
	}
}

func newRefreshToken(family string) herd.RefreshToken {
	sum := sha256.Sum256([]byte(rand.Text()))
	return herd.RefreshToken{
		Hash:      hex.EncodeToString(sum[:]),
		FamilyID:  family,
		UserID:    newID("user"),
		ExpiresAt: msNow().Add(time.Hour),
	}
}

func wantSameToken(t *testing.T, got, want herd.RefreshToken) {
	t.Helper()
	if got.Hash != want.Hash || got.FamilyID != want.FamilyID || got.UserID != want.UserID ||
		!got.ExpiresAt.Equal(want.ExpiresAt) {
		t.Fatalf("got token %+v, want %+v", got, want)
	}
}
