package postgres

import (
	"context"
	"errors"
	"math/rand/v2"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/herdhq/herd"
)

// CreateRefreshToken stores t as unspent. A hash stored already is ECONFLICT.
func (db *DB) CreateRefreshToken(ctx context.Context, t herd.RefreshToken) error {
	ctx, cancel := db.ctx(ctx)
	defer cancel()
	_, err := db.pool.Exec(ctx, `
		INSERT INTO refresh_tokens (hash, family_id, user_id, expires_at)
		VALUES ($1, $2, $3, $4)`,
		t.Hash, t.FamilyID, t.UserID, t.ExpiresAt)
	if isUniqueViolation(err, "refresh_tokens_pkey") {
		return herd.Errorf(herd.ECONFLICT, "refresh token exists already")
	}
	if err != nil {
		return db.fail("create refresh token", err)
	}
	if rand.IntN(pruneOneIn) == 0 {
		db.pruneRefreshTokens(ctx)
	}
	return nil
}

// pruneRefreshTokens forgets tokens a day past their expiry — spending one
// then fails as unknown rather than as reused, which is as unauthorized —
// and the revocations of families with no token left. Best effort.
func (db *DB) pruneRefreshTokens(ctx context.Context) {
	_, _ = db.pool.Exec(ctx, `
		DELETE FROM refresh_tokens WHERE hash IN (
			SELECT hash FROM refresh_tokens
			WHERE expires_at < now() - interval '1 day' LIMIT 1000)`)
	_, _ = db.pool.Exec(ctx, `
		DELETE FROM refresh_families WHERE family_id IN (
			SELECT family_id FROM refresh_families f
			WHERE revoked_at < now() - interval '1 day'
			AND NOT EXISTS (SELECT 1 FROM refresh_tokens t WHERE t.family_id = f.family_id)
			LIMIT 1000)`)
}

// spendSQL spends a valid token. Of concurrent calls with one hash, the
// first takes the row lock; the others wait, re-check the WHERE clause
// against the spent row, and update nothing.
const spendSQL = `
	UPDATE refresh_tokens t SET spent_at = now()
	WHERE hash = $1 AND spent_at IS NULL AND expires_at > now()
	AND NOT EXISTS (SELECT 1 FROM refresh_families f WHERE f.family_id = t.family_id)
	RETURNING family_id, user_id, expires_at`

// whyNotSpentSQL reads the token that could not be spent and, if it was
// spent already, revokes its family in the same statement.
const whyNotSpentSQL = `
	WITH t AS (
		SELECT family_id, user_id, expires_at, spent_at IS NOT NULL AS spent
		FROM refresh_tokens WHERE hash = $1
	), revoke AS (
		INSERT INTO refresh_families (family_id)
		SELECT family_id FROM t WHERE spent
		ON CONFLICT (family_id) DO NOTHING
	)
	SELECT family_id, user_id, expires_at, spent FROM t`

// SpendRefreshToken marks the token spent and returns it. An unknown,
// expired or revoked token is EUNAUTHORIZED; a spent one revokes its family
// and returns EUNAUTHORIZED wrapping herd.ErrRefreshReused, with the token.
// The common case is one statement; a refusal costs a second.
func (db *DB) SpendRefreshToken(ctx context.Context, hash string) (herd.RefreshToken, error) {
	ctx, cancel := db.ctx(ctx)
	defer cancel()
	t := herd.RefreshToken{Hash: hash}
	err := db.pool.QueryRow(ctx, spendSQL, hash).Scan(&t.FamilyID, &t.UserID, &t.ExpiresAt)
	if err == nil {
		return t, nil
	}
	if !errors.Is(err, pgx.ErrNoRows) {
		return herd.RefreshToken{}, db.fail("spend refresh token", err)
	}
	var spent bool
	err = db.pool.QueryRow(ctx, whyNotSpentSQL, hash).Scan(&t.FamilyID, &t.UserID, &t.ExpiresAt, &spent)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return herd.RefreshToken{}, herd.Errorf(herd.EUNAUTHORIZED, "refresh token unknown")
	case err != nil:
		return herd.RefreshToken{}, db.fail("check refresh token", err)
	case spent:
		return t, &herd.Error{Code: herd.EUNAUTHORIZED, Message: herd.ErrRefreshReused.Message, Err: herd.ErrRefreshReused}
	default:
		return herd.RefreshToken{}, herd.Errorf(herd.EUNAUTHORIZED, "refresh token expired or revoked")
	}
}

// RevokeRefreshFamily makes every token of the family unusable. It is
// idempotent and succeeds for an unknown family.
func (db *DB) RevokeRefreshFamily(ctx context.Context, familyID string) error {
	ctx, cancel := db.ctx(ctx)
	defer cancel()
	_, err := db.pool.Exec(ctx, `
		INSERT INTO refresh_families (family_id) VALUES ($1)
		ON CONFLICT (family_id) DO NOTHING`, familyID)
	return db.fail("revoke refresh family", err)
}

// RevokeAccessToken revokes the access token jti until the given time; a
// later until of a second call wins.
func (db *DB) RevokeAccessToken(ctx context.Context, familyID, jti string, until time.Time) error {
	ctx, cancel := db.ctx(ctx)
	defer cancel()
	_, err := db.pool.Exec(ctx, `
		INSERT INTO revoked_access_tokens AS r (jti, family_id, until) VALUES ($1, $2, $3)
		ON CONFLICT (jti) DO UPDATE SET until = greatest(r.until, excluded.until)`,
		jti, familyID, until)
	if err != nil {
		return db.fail("revoke access token", err)
	}
	db.maybePruneRevocations(ctx)
	return nil
}

// RevokeFamily revokes every access token of the login familyID until the
// given time; a later until of a second call wins.
func (db *DB) RevokeFamily(ctx context.Context, familyID string, until time.Time) error {
	ctx, cancel := db.ctx(ctx)
	defer cancel()
	_, err := db.pool.Exec(ctx, `
		INSERT INTO revoked_access_families AS r (family_id, until) VALUES ($1, $2)
		ON CONFLICT (family_id) DO UPDATE SET until = greatest(r.until, excluded.until)`,
		familyID, until)
	if err != nil {
		return db.fail("revoke access family", err)
	}
	db.maybePruneRevocations(ctx)
	return nil
}

// IsRevoked reports whether the access token jti of familyID was revoked by
// either method and the revocation has not run out, in one statement.
func (db *DB) IsRevoked(ctx context.Context, familyID, jti string) (bool, error) {
	ctx, cancel := db.ctx(ctx)
	defer cancel()
	var revoked bool
	err := db.pool.QueryRow(ctx, `
		SELECT EXISTS (SELECT 1 FROM revoked_access_tokens WHERE jti = $2 AND until > now())
		    OR EXISTS (SELECT 1 FROM revoked_access_families WHERE family_id = $1 AND until > now())`,
		familyID, jti).Scan(&revoked)
	if err != nil {
		return false, db.fail("check revocation", err)
	}
	return revoked, nil
}

// maybePruneRevocations now and then forgets revocations that ran out.
func (db *DB) maybePruneRevocations(ctx context.Context) {
	if rand.IntN(pruneOneIn) != 0 {
		return
	}
	_, _ = db.pool.Exec(ctx, `
		DELETE FROM revoked_access_tokens WHERE jti IN (
			SELECT jti FROM revoked_access_tokens WHERE until < now() LIMIT 1000)`)
	_, _ = db.pool.Exec(ctx, `
		DELETE FROM revoked_access_families WHERE family_id IN (
			SELECT family_id FROM revoked_access_families WHERE until < now() LIMIT 1000)`)
}
