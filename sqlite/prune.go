package sqlite

import (
	"context"
	"time"
)

// pruneBatch bounds the rows one DELETE removes, so that Prune never holds
// the file's write lock long enough to stall other replicas' writes.
const pruneBatch = 1000

// refreshRevocationGrace is how long a refresh family's revocation outlives
// the family's last token: a rotation that raced the revocation may still
// create a token shortly after it.
const refreshRevocationGrace = 24 * time.Hour

// Prune deletes what has expired: sessions, revocations, idempotency
// records, counter operation records older than a day, expired refresh
// tokens and the revocations of families with no token left. Nothing it
// deletes is visible to the stores' methods any more, so it is safe to run
// at any time, from any number of replicas at once; call it every few
// minutes.
func (db *DB) Prune(ctx context.Context) error {
	now := db.now()
	deletes := []struct {
		table, where string
		arg          int64
	}{
		{"sessions", "idle_expires_at <= ?", millis(now)},
		{"revoked_access_tokens", "until <= ?", millis(now)},
		{"revoked_families", "until <= ?", millis(now)},
		{"idempotency_keys", "expires_at <= ?", millis(now)},
		{"counter_ops", "created_at < ?", millis(now.Add(-counterOpRetention))},
		{"refresh_tokens", "expires_at <= ?", millis(now)},
		{"refresh_family_revocations",
			"revoked_at < ? AND NOT EXISTS (SELECT 1 FROM refresh_tokens t WHERE t.family_id = refresh_family_revocations.family_id)",
			millis(now.Add(-refreshRevocationGrace))},
	}
	for _, d := range deletes {
		// SQLite has no DELETE … LIMIT unless compiled with it.
		query := `DELETE FROM ` + d.table + ` WHERE rowid IN (SELECT rowid FROM ` + d.table + ` WHERE ` + d.where + ` LIMIT ?)`
		for {
			res, err := db.write.ExecContext(ctx, query, d.arg, pruneBatch)
			if err != nil {
				return dbError(err)
			}
			n, err := res.RowsAffected()
			if err != nil {
				return dbError(err)
			}
			if n < pruneBatch {
				break
			}
		}
	}
	return nil
}
