package postgres

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"hash/fnv"
	"io/fs"
	"path"
	"slices"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// The migrations, named NNNN_what.sql. A migration is never edited once
// released: a change is a new file with the next number.
//
//go:embed migrations/*.sql
var migrationFS embed.FS

type migration struct {
	version int
	name    string
	sql     string
}

// migrations returns the embedded migrations in order. It panics on a
// badly named file, which a test catches before any release.
func migrations() []migration {
	names, err := fs.Glob(migrationFS, "migrations/*.sql")
	if err != nil {
		panic(err)
	}
	var ms []migration
	for _, name := range names {
		base := path.Base(name)
		num, _, ok := strings.Cut(base, "_")
		version, err := strconv.Atoi(num)
		if !ok || err != nil || version <= 0 {
			panic(fmt.Sprintf("postgres: migration %s is not named NNNN_what.sql", base))
		}
		sql, err := migrationFS.ReadFile(name)
		if err != nil {
			panic(err)
		}
		ms = append(ms, migration{version: version, name: base, sql: string(sql)})
	}
	slices.SortFunc(ms, func(a, b migration) int { return a.version - b.version })
	for i := 1; i < len(ms); i++ {
		if ms[i].version == ms[i-1].version {
			panic(fmt.Sprintf("postgres: migrations %s and %s share a version", ms[i-1].name, ms[i].name))
		}
	}
	return ms
}

// latestVersion is the version of the newest migration this binary holds.
func latestVersion() int {
	ms := migrations()
	return ms[len(ms)-1].version
}

// Migrate applies the migrations cfg's database lacks, each once, over one
// connection of its own. Any number of replicas may call it at once: they
// serialize on an advisory lock (per schema) and all but the first find
// nothing left to do. Everything runs in one transaction, so a failed
// migration leaves the schema as it was. It is bounded by cfg.MigrateTimeout.
func Migrate(ctx context.Context, cfg Config) error {
	cfg = cfg.withDefaults()
	cc, err := cfg.connConfig()
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, cfg.MigrateTimeout)
	defer cancel()
	conn, err := pgx.ConnectConfig(ctx, cc)
	if err != nil {
		return classify("connect to migrate", err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	return classify("migrate", migrate(ctx, conn, cfg.Schema))
}

// migrate applies the missing migrations over conn in one transaction that
// first takes the schema's advisory lock. The transaction-scoped lock is
// released by commit or rollback, and by the server if conn dies, so a
// replica killed mid-migration never leaves the others waiting.
func migrate(ctx context.Context, conn *pgx.Conn, schema string) (err error) {
	tx, err := conn.Begin(ctx)
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			// The rollback's own error adds nothing: the server rolls back
			// a transaction whose connection is gone.
			_ = tx.Rollback(context.WithoutCancel(ctx))
		}
	}()
	if _, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock($1)", migrationLockKey(schema)); err != nil {
		return fmt.Errorf("take migration lock: %w", err)
	}
	if schema != "" {
		if _, err := tx.Exec(ctx, "CREATE SCHEMA IF NOT EXISTS "+pgx.Identifier{schema}.Sanitize()); err != nil {
			return fmt.Errorf("create schema: %w", err)
		}
	}
	if _, err := tx.Exec(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version    integer PRIMARY KEY,
		name       text NOT NULL,
		applied_at timestamptz NOT NULL DEFAULT now()
	)`); err != nil {
		return fmt.Errorf("create schema_migrations: %w", err)
	}
	rows, err := tx.Query(ctx, "SELECT version FROM schema_migrations")
	if err != nil {
		return err
	}
	applied, err := pgx.CollectRows(rows, pgx.RowTo[int32])
	if err != nil {
		return err
	}
	for _, m := range migrations() {
		if slices.Contains(applied, int32(m.version)) {
			continue
		}
		// No arguments: pgx sends the file with the simple protocol, which
		// allows several statements.
		if _, err := tx.Exec(ctx, m.sql); err != nil {
			return fmt.Errorf("apply %s: %w", m.name, err)
		}
		if _, err := tx.Exec(ctx, "INSERT INTO schema_migrations (version, name) VALUES ($1, $2)", m.version, m.name); err != nil {
			return fmt.Errorf("record %s: %w", m.name, err)
		}
	}
	return tx.Commit(ctx)
}

// migrationLockKey is the advisory lock of one schema's migrations, so that
// migrations of different schemas (tests, tenants) do not wait on each other.
func migrationLockKey(schema string) int64 {
	h := fnv.New64a()
	h.Write([]byte("herd migrate " + schema))
	return int64(h.Sum64())
}

// querier is what pool and connection share.
type querier interface {
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// schemaVersion returns the newest applied migration, 0 when none is.
func schemaVersion(ctx context.Context, q querier) (int, error) {
	var version int32
	err := q.QueryRow(ctx, "SELECT coalesce(max(version), 0) FROM schema_migrations").Scan(&version)
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && pgErr.Code == "42P01" { // undefined_table
		return 0, nil
	}
	return int(version), err
}
