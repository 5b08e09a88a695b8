package postgres_test

import (
	"testing"

	"github.com/herdhq/herd"
	"github.com/herdhq/herd/internal/storetest"
)

// TestStores runs the conformance suite of every store *DB implements.
func TestStores(t *testing.T) {
	db := mustOpen(t, testConfig(t))
	t.Run("UserStore", func(t *testing.T) { storetest.RunUserStore(t, db) })
	t.Run("CounterStore", func(t *testing.T) { storetest.RunCounterStore(t, db) })
	t.Run("ItemStore", func(t *testing.T) { storetest.RunItemStore(t, db) })
	t.Run("RefreshTokenStore", func(t *testing.T) { storetest.RunRefreshTokenStore(t, db) })
	t.Run("RevocationStore", func(t *testing.T) { storetest.RunRevocationStore(t, db) })
	t.Run("IdempotencyStore", func(t *testing.T) { storetest.RunIdempotencyStore(t, db) })
	t.Run("SigningKeyStore", func(t *testing.T) {
		// The key is a singleton: each call gets an empty schema of its own.
		storetest.RunSigningKeyStore(t, func(t *testing.T) herd.SigningKeyStore {
			return mustOpen(t, testConfig(t))
		})
	})
}
