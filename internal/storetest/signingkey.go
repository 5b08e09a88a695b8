package storetest

import (
	"bytes"
	"context"
	"testing"

	"github.com/herdhq/herd"
)

// RunSigningKeyStore checks stores against the herd.SigningKeyStore
// contract. The key is a singleton, so newStore must return a store holding
// no key (a fresh database, schema or key prefix) each time it is called.
func RunSigningKeyStore(t *testing.T, newStore func(t *testing.T) herd.SigningKeyStore) {
	t.Run("FirstWins", func(t *testing.T) {
		s := newStore(t)
		ctx := testContext(t)
		first := newSigningKey()
		got, err := s.EnsureSigningKey(ctx, first)
		if err != nil {
			t.Fatal(err)
		}
		wantSameKey(t, got, first)
		got, err = s.EnsureSigningKey(ctx, newSigningKey())
		if err != nil {
			t.Fatal(err)
		}
		wantSameKey(t, got, first)
	})

	t.Run("Concurrent", func(t *testing.T) {
		s := newStore(t)
		ctx := testContext(t)
		const n = 20
		candidates := make([]herd.SigningKey, n)
		for i := range candidates {
			candidates[i] = newSigningKey()
		}
		got := make([]herd.SigningKey, n)
		errs := make([]error, n)
		concurrently(n, func(i int) {
			got[i], errs[i] = s.EnsureSigningKey(ctx, candidates[i])
		})
		for _, err := range errs {
			if err != nil {
				t.Fatal(err)
			}
		}
		var winner herd.SigningKey
		for _, c := range candidates {
			if c.ID == got[0].ID {
				winner = c
			}
		}
		if winner.ID == "" {
			t.Fatalf("EnsureSigningKey returned %q, none of the candidates", got[0].ID)
		}
		for _, k := range got {
			wantSameKey(t, k, winner)
		}
	})

	t.Run("Deadline", func(t *testing.T) {
		s := newStore(t)
		wantUnavailableAfterDeadline(t, func(ctx context.Context) error {
			_, err := s.EnsureSigningKey(ctx, newSigningKey())
			return err
		})
	})
}

func newSigningKey() herd.SigningKey {
	id := newID("kid")
	return herd.SigningKey{
		ID:         id,
		Algorithm:  "EdDSA",
		PrivatePEM: []byte("-----BEGIN PRIVATE KEY-----\n" + id + "\n-----END PRIVATE KEY-----\n"),
		CreatedAt:  msNow(),
	}
}

func wantSameKey(t *testing.T, got, want herd.SigningKey) {
	t.Helper()
	if got.ID != want.ID || got.Algorithm != want.Algorithm || !bytes.Equal(got.PrivatePEM, want.PrivatePEM) ||
		!got.CreatedAt.Equal(want.CreatedAt) {
		t.Fatalf("got signing key %q (%s, %v), want %q (%s, %v)", got.ID, got.Algorithm, got.CreatedAt, want.ID, want.Algorithm, want.CreatedAt)
	}
}
