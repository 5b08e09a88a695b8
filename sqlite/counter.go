package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/herdhq/herd"
)

// counterOpRetention is how long a retry of an identified increment gets
// the first answer. The contract allows forgetting after a day.
const counterOpRetention = 24 * time.Hour

const incrementSQL = `INSERT INTO counters (name, value) VALUES (?, 1)
	ON CONFLICT (name) DO UPDATE SET value = counters.value + 1
	RETURNING value`

// Increment implements herd.CounterStore.
func (db *DB) Increment(ctx context.Context, name, opID string) (int64, error) {
	var value int64
	if opID == "" {
		err := db.write.QueryRowContext(ctx, incrementSQL, name).Scan(&value)
		return value, dbError(err)
	}
	now := db.now()
	err := db.inTx(ctx, func(tx *sql.Tx) error {
		err := tx.QueryRowContext(ctx, `SELECT value FROM counter_ops WHERE name = ? AND op_id = ?`, name, opID).Scan(&value)
		switch {
		case err == nil:
			return nil // a retry: answer as the first time
		case !errors.Is(err, sql.ErrNoRows):
			return err
		}
		if err := tx.QueryRowContext(ctx, incrementSQL, name).Scan(&value); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx,
			`INSERT INTO counter_ops (name, op_id, value, created_at) VALUES (?, ?, ?, ?)`,
			name, opID, value, millis(now)); err != nil {
			return err
		}
		// Cheap when there is nothing to forget: one probe of an index.
		_, err = tx.ExecContext(ctx, `DELETE FROM counter_ops WHERE created_at < ?`, millis(now.Add(-counterOpRetention)))
		return err
	})
	return value, err
}

// Counter implements herd.CounterStore.
func (db *DB) Counter(ctx context.Context, name string) (int64, error) {
	var value int64
	err := db.read.QueryRowContext(ctx, `SELECT value FROM counters WHERE name = ?`, name).Scan(&value)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, herd.Errorf(herd.ENOTFOUND, "counter not found")
	}
	return value, dbError(err)
}
