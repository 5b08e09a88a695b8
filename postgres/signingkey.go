package postgres

import (
	"context"

	"github.com/herdhq/herd"
)

// EnsureSigningKey stores candidate unless a key is stored, and returns the
// stored key. The table holds one row at most (its key is the constant
// true), so replicas that start together all insert-or-skip the same row
// and then read the one that won. Two statements: the read must come after
// the insert's commit to see a concurrent winner's row.
func (db *DB) EnsureSigningKey(ctx context.Context, candidate herd.SigningKey) (herd.SigningKey, error) {
	ctx, cancel := db.ctx(ctx)
	defer cancel()
	if _, err := db.pool.Exec(ctx, `
		INSERT INTO signing_key (id, algorithm, private_pem, created_at)
		VALUES ($1, $2, $3, coalesce($4, now()))
		ON CONFLICT (singleton) DO NOTHING`,
		candidate.ID, candidate.Algorithm, candidate.PrivatePEM, nullTime(candidate.CreatedAt)); err != nil {
		return herd.SigningKey{}, db.fail("store signing key", err)
	}
	var k herd.SigningKey
	if err := db.pool.QueryRow(ctx, "SELECT id, algorithm, private_pem, created_at FROM signing_key").
		Scan(&k.ID, &k.Algorithm, &k.PrivatePEM, &k.CreatedAt); err != nil {
		return herd.SigningKey{}, db.fail("read signing key", err)
	}
	return k, nil
}
