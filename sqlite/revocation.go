package sqlite

import (
	"context"
	"time"
)

// RevokeAccessToken implements herd.RevocationStore. Revoking again keeps
// the later of the two ends.
func (db *DB) RevokeAccessToken(ctx context.Context, familyID, jti string, until time.Time) error {
	_, err := db.write.ExecContext(ctx,
		`INSERT INTO revoked_access_tokens (jti, family_id, until) VALUES (?, ?, ?)
		ON CONFLICT (jti) DO UPDATE SET until = max(revoked_access_tokens.until, excluded.until)`,
		jti, familyID, millis(until))
	return dbError(err)
}

// RevokeFamily implements herd.RevocationStore. Revoking again keeps the
// later of the two ends.
func (db *DB) RevokeFamily(ctx context.Context, familyID string, until time.Time) error {
	_, err := db.write.ExecContext(ctx,
		`INSERT INTO revoked_families (family_id, until) VALUES (?, ?)
		ON CONFLICT (family_id) DO UPDATE SET until = max(revoked_families.until, excluded.until)`,
		familyID, millis(until))
	return dbError(err)
}

// IsRevoked implements herd.RevocationStore. Entries whose until has passed
// count as forgotten, whether or not Prune has removed them yet.
func (db *DB) IsRevoked(ctx context.Context, familyID, jti string) (bool, error) {
	var revoked bool
	err := db.read.QueryRowContext(ctx,
		`SELECT EXISTS (SELECT 1 FROM revoked_access_tokens WHERE jti = ?1 AND until > ?3)
		     OR EXISTS (SELECT 1 FROM revoked_families WHERE family_id = ?2 AND until > ?3)`,
		jti, familyID, millis(db.now())).Scan(&revoked)
	return revoked, dbError(err)
}
