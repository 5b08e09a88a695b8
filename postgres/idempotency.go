package postgres

import (
	"context"
	"errors"
	"math/rand/v2"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/herdhq/herd"
)

// beginIdempotentSQL claims key $1 for fingerprint $2 until now + $3
// microseconds when the key is free — new, its claim's holder gone past
// the lock, or its answer past retention — and otherwise returns the row
// that holds it, in one statement.
//
// A call that waited on another's insert of the same new key sees that row
// in ON CONFLICT (the latest version) but not in the closing SELECT (the
// statement's snapshot predates it), so it gets no row at all; it runs the
// statement again and then sees the row.
const beginIdempotentSQL = `
	WITH claim AS (
		INSERT INTO idempotency_keys AS k (key, fingerprint, locked_until)
		VALUES ($1, $2, now() + $3::bigint * interval '1 microsecond')
		ON CONFLICT (key) DO UPDATE
		SET fingerprint = excluded.fingerprint, locked_until = excluded.locked_until,
		    completed = false, status = NULL, content_type = NULL, body = NULL, expires_at = NULL
		WHERE (NOT k.completed AND k.locked_until <= now())
		   OR (k.completed AND k.expires_at <= now())
		RETURNING 1
	)
	SELECT true, '', false, 0, '', NULL::bytea FROM claim
	UNION ALL
	SELECT false, fingerprint, completed, coalesce(status, 0), coalesce(content_type, ''), body
	FROM idempotency_keys WHERE key = $1 AND NOT EXISTS (SELECT 1 FROM claim)`

// BeginIdempotent claims key, or returns the stored answer (same
// fingerprint, completed), EMISMATCH (another fingerprint) or ECONFLICT (a
// live claim). A claim whose lockTTL has passed is free to take again, by a
// request of any fingerprint: it never produced an answer.
func (db *DB) BeginIdempotent(ctx context.Context, key, fingerprint string, lockTTL time.Duration) (*herd.IdempotentResponse, error) {
	ctx, cancel := db.ctx(ctx)
	defer cancel()
	var (
		claimed, completed bool
		storedFingerprint  string
		r                  herd.IdempotentResponse
		err                error
	)
	// An attempt finds no row only when another call inserted the key
	// after this statement's snapshot; the next attempt sees that row, or
	// inserts if it was released meanwhile. Only a key churned by other
	// calls faster than this loop runs exhausts the attempts: it is busy.
	for range 3 {
		err = db.pool.QueryRow(ctx, beginIdempotentSQL, key, fingerprint, lockTTL.Microseconds()).
			Scan(&claimed, &storedFingerprint, &completed, &r.Status, &r.ContentType, &r.Body)
		if !errors.Is(err, pgx.ErrNoRows) {
			break
		}
	}
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return nil, herd.Errorf(herd.ECONFLICT, "idempotency key is busy")
	case err != nil:
		return nil, db.fail("claim idempotency key", err)
	case claimed:
		if rand.IntN(pruneOneIn) == 0 {
			db.pruneIdempotencyKeys(ctx)
		}
		return nil, nil
	case storedFingerprint != fingerprint:
		return nil, herd.Errorf(herd.EMISMATCH, "idempotency key was used with another request")
	case !completed:
		return nil, herd.Errorf(herd.ECONFLICT, "a request with this idempotency key is in progress")
	default:
		return &r, nil
	}
}

// pruneIdempotencyKeys forgets answers past retention and claims past their
// lock, which BeginIdempotent treats as free anyway. Best effort.
func (db *DB) pruneIdempotencyKeys(ctx context.Context) {
	_, _ = db.pool.Exec(ctx, `
		DELETE FROM idempotency_keys WHERE key IN (
			SELECT key FROM idempotency_keys
			WHERE (completed AND expires_at < now()) OR (NOT completed AND locked_until < now())
			LIMIT 1000)`)
}

// CompleteIdempotent stores the answer of the claimed key until retention
// has passed. A key that is not claimed (never, released, or completed
// already) is ENOTFOUND.
func (db *DB) CompleteIdempotent(ctx context.Context, key string, r herd.IdempotentResponse, retention time.Duration) error {
	ctx, cancel := db.ctx(ctx)
	defer cancel()
	body := r.Body
	tag, err := db.pool.Exec(ctx, `
		UPDATE idempotency_keys
		SET completed = true, locked_until = NULL, status = $2, content_type = $3, body = $4,
		    expires_at = now() + $5::bigint * interval '1 microsecond'
		WHERE key = $1 AND NOT completed`,
		key, r.Status, r.ContentType, body, retention.Microseconds())
	if err != nil {
		return db.fail("complete idempotency key", err)
	}
	if tag.RowsAffected() == 0 {
		return herd.Errorf(herd.ENOTFOUND, "idempotency key is not claimed")
	}
	return nil
}

// ReleaseIdempotent drops the claim on key, so that a retry acts afresh. A
// completed answer stays; an unknown key succeeds.
func (db *DB) ReleaseIdempotent(ctx context.Context, key string) error {
	ctx, cancel := db.ctx(ctx)
	defer cancel()
	_, err := db.pool.Exec(ctx, "DELETE FROM idempotency_keys WHERE key = $1 AND NOT completed", key)
	return db.fail("release idempotency key", err)
}
