package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"fmt"
	"io/fs"
	"slices"
	"strconv"
	"strings"
	"time"
)

// migrations are applied in the order of their names, each once; the
// number before the first '_' is the schema version it brings.
//
//go:embed migrations/*.sql
var migrations embed.FS

// migrate applies the migrations newer than the database's schema version.
// It works in one IMMEDIATE transaction that reads the version only once it
// holds the write lock, so of several processes opening a new file at once,
// the first applies every migration and the others find nothing left to do.
func migrate(ctx context.Context, db *sql.DB, now time.Time) error {
	names, err := fs.Glob(migrations, "migrations/*.sql")
	if err != nil {
		return err
	}
	slices.Sort(names)

	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_version (
		version    INTEGER PRIMARY KEY,
		applied_at INTEGER NOT NULL
	)`); err != nil {
		return err
	}
	var current int
	if err := tx.QueryRowContext(ctx, `SELECT coalesce(max(version), 0) FROM schema_version`).Scan(&current); err != nil {
		return err
	}
	for _, name := range names {
		version, err := migrationVersion(name)
		if err != nil {
			return err
		}
		if version <= current {
			continue
		}
		body, err := migrations.ReadFile(name)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, string(body)); err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO schema_version (version, applied_at) VALUES (?, ?)`, version, millis(now)); err != nil {
			return err
		}
	}
	return tx.Commit()
}

// migrationVersion reads the version from a name like
// "migrations/0001_init.sql".
func migrationVersion(name string) (int, error) {
	base := strings.TrimPrefix(name, "migrations/")
	number, _, _ := strings.Cut(base, "_")
	version, err := strconv.Atoi(number)
	if err != nil || version < 1 {
		return 0, fmt.Errorf("migration %s: name must begin with a version number and '_'", name)
	}
	return version, nil
}
