package sqlite

import (
	"context"
	"database/sql"
	"errors"

	"github.com/herdhq/herd"
)

// CreateRefreshToken implements herd.RefreshTokenStore.
func (db *DB) CreateRefreshToken(ctx context.Context, t herd.RefreshToken) error {
	_, err := db.write.ExecContext(ctx,
		`INSERT INTO refresh_tokens (hash, family_id, user_id, expires_at) VALUES (?, ?, ?, ?)`,
		t.Hash, t.FamilyID, t.UserID, millis(t.ExpiresAt))
	if isUniqueViolation(err) {
		return &herd.Error{Code: herd.ECONFLICT, Message: "refresh token exists already", Err: err}
	}
	return dbError(err)
}

// SpendRefreshToken implements herd.RefreshTokenStore. The spend is one
// UPDATE, so of concurrent spends exactly one changes the row.
func (db *DB) SpendRefreshToken(ctx context.Context, hash string) (herd.RefreshToken, error) {
	now := millis(db.now())
	t := herd.RefreshToken{Hash: hash}
	var expiresAt int64
	err := db.write.QueryRowContext(ctx,
		`UPDATE refresh_tokens SET spent_at = ?1
		WHERE hash = ?2 AND spent_at IS NULL AND expires_at > ?1
		AND NOT EXISTS (SELECT 1 FROM refresh_family_revocations r WHERE r.family_id = refresh_tokens.family_id)
		RETURNING family_id, user_id, expires_at`,
		now, hash).Scan(&t.FamilyID, &t.UserID, &expiresAt)
	if err == nil {
		t.ExpiresAt = fromMillis(expiresAt)
		return t, nil
	}
	if !errors.Is(err, sql.ErrNoRows) {
		return herd.RefreshToken{}, dbError(err)
	}

	// Nothing spent: find out why. A token once spent stays spent, so this
	// read needs no transaction with the update.
	var spentAt sql.NullInt64
	err = db.write.QueryRowContext(ctx,
		`SELECT family_id, user_id, expires_at, spent_at FROM refresh_tokens WHERE hash = ?`,
		hash).Scan(&t.FamilyID, &t.UserID, &expiresAt, &spentAt)
	if errors.Is(err, sql.ErrNoRows) {
		return herd.RefreshToken{}, herd.Errorf(herd.EUNAUTHORIZED, "invalid refresh token")
	}
	if err != nil {
		return herd.RefreshToken{}, dbError(err)
	}
	t.ExpiresAt = fromMillis(expiresAt)
	if !spentAt.Valid {
		return herd.RefreshToken{}, herd.Errorf(herd.EUNAUTHORIZED, "invalid refresh token") // expired or revoked
	}
	if err := db.RevokeRefreshFamily(ctx, t.FamilyID); err != nil {
		return herd.RefreshToken{}, err
	}
	return t, &herd.Error{Code: herd.EUNAUTHORIZED, Message: "invalid refresh token", Err: herd.ErrRefreshReused}
}

// RevokeRefreshFamily implements herd.RefreshTokenStore. The revocation
// holds for tokens of the family created later too.
func (db *DB) RevokeRefreshFamily(ctx context.Context, familyID string) error {
	_, err := db.write.ExecContext(ctx,
		`INSERT INTO refresh_family_revocations (family_id, revoked_at) VALUES (?, ?) ON CONFLICT (family_id) DO NOTHING`,
		familyID, millis(db.now()))
	return dbError(err)
}
