package postgres

import (
	"context"
	"errors"
	"math/rand/v2"

	"github.com/jackc/pgx/v5"

	"github.com/herdhq/herd"
)

// incrementSQL is the whole of an increment without an operation id: one
// statement, one round trip, one implicit transaction. The row lock taken by
// ON CONFLICT DO UPDATE serializes concurrent increments of one name, in
// this process or any other.
const incrementSQL = `
	INSERT INTO counters (name, value) VALUES ($1, 1)
	ON CONFLICT (name) DO UPDATE SET value = counters.value + 1
	RETURNING value`

// incrementOnceSQL increments unless the operation $2 was recorded for the
// counter $1, records it with the new value, and returns the recorded value
// either way, in one statement.
//
// Every part of one statement reads the same snapshot. So two concurrent
// calls with one new operation id can both see no record and both
// increment; the second then collides on counter_ops_pkey, which aborts its
// whole statement, increment included, and Increment runs it again: the new
// statement's snapshot holds the first call's record. A counter row cannot
// be missing while one of its operations is recorded, so the plain-insert
// path needs no check.
const incrementOnceSQL = `
	WITH inc AS (
		INSERT INTO counters AS c (name, value) VALUES ($1, 1)
		ON CONFLICT (name) DO UPDATE SET value = c.value + 1
		WHERE NOT EXISTS (SELECT 1 FROM counter_ops WHERE name = $1 AND op_id = $2)
		RETURNING c.value
	), op AS (
		INSERT INTO counter_ops (name, op_id, value)
		SELECT $1, $2, value FROM inc
		RETURNING value
	)
	SELECT value FROM op
	UNION ALL
	SELECT value FROM counter_ops WHERE name = $1 AND op_id = $2
	LIMIT 1`

// pruneCounterOpsSQL forgets a batch of operations older than a day, the
// contract's horizon; a batch keeps the statement short however much piled up.
const pruneCounterOpsSQL = `
	DELETE FROM counter_ops WHERE (name, op_id) IN (
		SELECT name, op_id FROM counter_ops
		WHERE created_at < now() - interval '1 day'
		LIMIT 1000)`

// pruneOneIn is how rarely a call prunes old records along the way: often
// enough to keep up with the writes that create them, rarely enough to cost
// nothing per call.
const pruneOneIn = 128

// Increment adds one to the named counter and returns the new value. With
// an opID, a repeated call returns the value the first call recorded, for a
// day at least.
func (db *DB) Increment(ctx context.Context, name, opID string) (int64, error) {
	ctx, cancel := db.ctx(ctx)
	defer cancel()
	var value int64
	if opID == "" {
		if err := db.pool.QueryRow(ctx, incrementSQL, name).Scan(&value); err != nil {
			return 0, db.fail("increment", err)
		}
		return value, nil
	}
	// Two attempts suffice: a collision means the winner has committed its
	// record, which the second attempt's snapshot sees.
	var err error
	for range 2 {
		err = db.pool.QueryRow(ctx, incrementOnceSQL, name, opID).Scan(&value)
		if !isUniqueViolation(err, "counter_ops_pkey") {
			break
		}
	}
	if errors.Is(err, pgx.ErrNoRows) {
		// Only if the record was pruned between the two parts of the
		// statement, a day after the operation: the caller may retry.
		return 0, herd.Errorf(herd.ECONFLICT, "operation record changed during the increment; retry")
	}
	if err != nil {
		return 0, db.fail("increment once", err)
	}
	if rand.IntN(pruneOneIn) == 0 {
		// Best effort: the increment has succeeded, and a later call prunes
		// what this one could not.
		_, _ = db.pool.Exec(ctx, pruneCounterOpsSQL)
	}
	return value, nil
}

// Counter returns the counter's value, or ENOTFOUND when it was never
// incremented.
func (db *DB) Counter(ctx context.Context, name string) (int64, error) {
	ctx, cancel := db.ctx(ctx)
	defer cancel()
	var value int64
	err := db.pool.QueryRow(ctx, "SELECT value FROM counters WHERE name = $1", name).Scan(&value)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, herd.Errorf(herd.ENOTFOUND, "counter not found")
	}
	if err != nil {
		return 0, db.fail("read counter", err)
	}
	return value, nil
}
