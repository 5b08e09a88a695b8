package sqlite_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/herdhq/herd"
	"github.com/herdhq/herd/internal/storetest"
	"github.com/herdhq/herd/sqlite"
)

func TestUserStore(t *testing.T)         { storetest.RunUserStore(t, mustOpen(t, tempPath(t))) }
func TestCounterStore(t *testing.T)      { storetest.RunCounterStore(t, mustOpen(t, tempPath(t))) }
func TestItemStore(t *testing.T)         { storetest.RunItemStore(t, mustOpen(t, tempPath(t))) }
func TestRevocationStore(t *testing.T)   { storetest.RunRevocationStore(t, mustOpen(t, tempPath(t))) }
func TestSessionStore(t *testing.T)      { storetest.RunSessionStore(t, mustOpen(t, tempPath(t))) }
func TestIdempotencyStore(t *testing.T)  { storetest.RunIdempotencyStore(t, mustOpen(t, tempPath(t))) }
func TestRefreshTokenStore(t *testing.T) { storetest.RunRefreshTokenStore(t, mustOpen(t, tempPath(t))) }

func TestSigningKeyStore(t *testing.T) {
	storetest.RunSigningKeyStore(t, func(t *testing.T) herd.SigningKeyStore {
		return mustOpen(t, tempPath(t))
	})
}

func TestPing(t *testing.T) {
	db := mustOpen(t, tempPath(t))
	if err := db.Ping(testContext(t)); err != nil {
		t.Fatal(err)
	}
}

func TestOpenRefusesPathWithQuery(t *testing.T) {
	_, err := sqlite.Open(testContext(t), tempPath(t)+"?mode=memory")
	if got, want := herd.ErrorCode(err), herd.EINVALID; got != want {
		t.Fatalf("Open of a path with '?': code %q (%v), want %q", got, err, want)
	}
}

// tempPath returns the path of a database file that does not exist yet.
func tempPath(t *testing.T) string {
	return filepath.Join(t.TempDir(), "herd.db")
}

// mustOpen opens the database at path and closes it when the test ends,
// failing the test if closing fails.
func mustOpen(t *testing.T, path string) *sqlite.DB {
	t.Helper()
	db, err := sqlite.Open(testContext(t), path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := db.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return db
}

func testContext(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	t.Cleanup(cancel)
	return ctx
}
