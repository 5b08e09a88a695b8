package sqlite

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/herdhq/herd"
)

func TestPrune(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	db, err := Open(ctx, filepath.Join(t.TempDir(), "herd.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()

	start := time.Now()
	hour, week := start.Add(time.Hour), start.Add(7*24*time.Hour)
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	// Of each kind, "gone" expires within two days and "kept" lives on.
	must(db.CreateSession(ctx, herd.Session{ID: "gone", ExpiresAt: hour}, time.Hour))
	must(db.CreateSession(ctx, herd.Session{ID: "kept", ExpiresAt: week}, 5*24*time.Hour))
	must(db.RevokeAccessToken(ctx, "f", "gone", hour))
	must(db.RevokeAccessToken(ctx, "f", "kept", week))
	must(db.RevokeFamily(ctx, "gone", hour))
	must(db.RevokeFamily(ctx, "kept", week))
	_, err = db.BeginIdempotent(ctx, "gone", "fp", time.Minute)
	must(err)
	_, err = db.BeginIdempotent(ctx, "kept", "fp", time.Minute)
	must(err)
	must(db.CompleteIdempotent(ctx, "kept", herd.IdempotentResponse{Status: 200}, 5*24*time.Hour))
	_, err = db.Increment(ctx, "c", "gone")
	must(err)
	must(db.CreateRefreshToken(ctx, herd.RefreshToken{Hash: "gone", FamilyID: "gone", ExpiresAt: hour}))
	must(db.CreateRefreshToken(ctx, herd.RefreshToken{Hash: "kept", FamilyID: "kept", ExpiresAt: week}))
	must(db.RevokeRefreshFamily(ctx, "gone"))
	must(db.RevokeRefreshFamily(ctx, "kept"))

	db.now = func() time.Time { return start.Add(2 * 24 * time.Hour) }
	must(db.Prune(ctx))
	_, err = db.Increment(ctx, "c", "kept")
	must(err)

	for _, check := range []struct{ table, key string }{
		{"sessions", "id"},
		{"revoked_access_tokens", "jti"},
		{"revoked_families", "family_id"},
		{"idempotency_keys", "key"},
		{"counter_ops", "op_id"},
		{"refresh_tokens", "hash"},
		{"refresh_family_revocations", "family_id"},
	} {
		var keys []string
		rows, err := db.read.QueryContext(ctx, `SELECT `+check.key+` FROM `+check.table+` ORDER BY 1`)
		must(err)
		for rows.Next() {
			var k string
			must(rows.Scan(&k))
			keys = append(keys, k)
		}
		must(rows.Err())
		if got, want := len(keys), 1; got != want || keys[0] != "kept" {
			t.Errorf("%s after Prune holds %q, want only \"kept\"", check.table, keys)
		}
	}
	if got, err := db.Counter(ctx, "c"); err != nil || got != 2 {
		t.Fatalf("Counter = %d, %v; want 2: Prune must not touch counters", got, err)
	}
}
