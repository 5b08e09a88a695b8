package sqlite

import (
	"context"
	"database/sql"

	"github.com/herdhq/herd"
)

// EnsureSigningKey implements herd.SigningKeyStore. The key lives in a
// one-row table: the first insert wins and every caller reads the winner.
// A candidate with a zero CreatedAt is stored as created now.
func (db *DB) EnsureSigningKey(ctx context.Context, candidate herd.SigningKey) (herd.SigningKey, error) {
	if candidate.CreatedAt.IsZero() {
		candidate.CreatedAt = db.now()
	}
	var (
		k         herd.SigningKey
		createdAt int64
	)
	err := db.inTx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx,
			`INSERT INTO signing_key (singleton, kid, algorithm, private_pem, created_at) VALUES (1, ?, ?, ?, ?)
			ON CONFLICT (singleton) DO NOTHING`,
			candidate.ID, candidate.Algorithm, candidate.PrivatePEM, millis(candidate.CreatedAt)); err != nil {
			return err
		}
		return tx.QueryRowContext(ctx, `SELECT kid, algorithm, private_pem, created_at FROM signing_key WHERE singleton = 1`).
			Scan(&k.ID, &k.Algorithm, &k.PrivatePEM, &createdAt)
	})
	if err != nil {
		return herd.SigningKey{}, err
	}
	k.CreatedAt = fromMillis(createdAt)
	return k, nil
}
