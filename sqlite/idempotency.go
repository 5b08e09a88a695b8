package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/herdhq/herd"
)

// BeginIdempotent implements herd.IdempotencyStore. A key whose record has
// expired (a claim past its lock, an answer past its retention) is claimed
// afresh, whatever its fingerprint was. While a claim is held, a request
// with another fingerprint gets EMISMATCH rather than ECONFLICT: it could
// never be answered by that claim's response.
func (db *DB) BeginIdempotent(ctx context.Context, key, fingerprint string, lockTTL time.Duration) (*herd.IdempotentResponse, error) {
	now := db.now()
	var replay *herd.IdempotentResponse
	err := db.inTx(ctx, func(tx *sql.Tx) error {
		var claimed string
		err := tx.QueryRowContext(ctx,
			`INSERT INTO idempotency_keys (key, fingerprint, expires_at) VALUES (?1, ?2, ?3)
			ON CONFLICT (key) DO UPDATE SET fingerprint = excluded.fingerprint, status = NULL,
				content_type = NULL, body = NULL, expires_at = excluded.expires_at
			WHERE idempotency_keys.expires_at <= ?4
			RETURNING key`,
			key, fingerprint, millis(now.Add(lockTTL)), millis(now)).Scan(&claimed)
		switch {
		case err == nil:
			return nil
		case !errors.Is(err, sql.ErrNoRows):
			return err
		}

		// A live record holds the key.
		var (
			stored      string
			status      sql.NullInt64
			contentType sql.NullString
			body        []byte
		)
		if err := tx.QueryRowContext(ctx,
			`SELECT fingerprint, status, content_type, body FROM idempotency_keys WHERE key = ?`,
			key).Scan(&stored, &status, &contentType, &body); err != nil {
			return err
		}
		switch {
		case stored != fingerprint:
			return herd.Errorf(herd.EMISMATCH, "the idempotency key was used with another request")
		case !status.Valid:
			return herd.Errorf(herd.ECONFLICT, "a request with this idempotency key is in progress")
		}
		replay = &herd.IdempotentResponse{Status: int(status.Int64), ContentType: contentType.String, Body: body}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return replay, nil
}

// CompleteIdempotent implements herd.IdempotencyStore. It returns ENOTFOUND
// when the key is not claimed, e.g. after ReleaseIdempotent.
func (db *DB) CompleteIdempotent(ctx context.Context, key string, r herd.IdempotentResponse, retention time.Duration) error {
	res, err := db.write.ExecContext(ctx,
		`UPDATE idempotency_keys SET status = ?, content_type = ?, body = ?, expires_at = ? WHERE key = ?`,
		r.Status, r.ContentType, r.Body, millis(db.now().Add(retention)), key)
	if err != nil {
		return dbError(err)
	}
	if n, err := res.RowsAffected(); err != nil || n == 0 {
		return herd.Errorf(herd.ENOTFOUND, "idempotency key not claimed")
	}
	return nil
}

// ReleaseIdempotent implements herd.IdempotencyStore. A completed key keeps
// its answer.
func (db *DB) ReleaseIdempotent(ctx context.Context, key string) error {
	_, err := db.write.ExecContext(ctx, `DELETE FROM idempotency_keys WHERE key = ? AND status IS NULL`, key)
	return dbError(err)
}
