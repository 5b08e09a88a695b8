// Package postgres keeps herd's records in PostgreSQL: users, counters,
// items, refresh tokens, access-token revocations, idempotency keys and the
// signing key. It is the production record store; every replica of a
// service opens the same database, so every method is safe to call from any
// number of processes at once, and each is one statement unless its doc
// comment says otherwise.
//
// Errors follow package herd: a missing record is ENOTFOUND, a database that
// does not answer (refused, terminated, too slow, out of connections) is
// EUNAVAILABLE, and driver text only ever reaches the wrapped cause, never
// herd.Error.Message.
package postgres

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/herdhq/herd"
)

// The stores *DB implements.
var (
	_ herd.UserStore         = (*DB)(nil)
	_ herd.CounterStore      = (*DB)(nil)
	_ herd.ItemStore         = (*DB)(nil)
	_ herd.RefreshTokenStore = (*DB)(nil)
	_ herd.RevocationStore   = (*DB)(nil)
	_ herd.IdempotencyStore  = (*DB)(nil)
	_ herd.SigningKeyStore   = (*DB)(nil)
	_ herd.Pinger            = (*DB)(nil)
)

// Defaults for the zero fields of Config.
const (
	DefaultMaxConns        = 10
	DefaultConnectTimeout  = 5 * time.Second
	DefaultQueryTimeout    = 3 * time.Second
	DefaultMigrateTimeout  = time.Minute
	DefaultMaxConnLifetime = time.Hour
	DefaultMaxConnIdleTime = 30 * time.Minute
	DefaultApplicationName = "herd"
)

// Config says how to reach the database. Zero fields take the defaults above.
type Config struct {
	// URL is a libpq connection URL or key=value string, e.g.
	// postgres://herd@db:5432/herd?sslmode=require.
	URL string
	// MaxConns and MinConns bound the pool of each replica. Mind the
	// server's max_connections: it must exceed replicas × MaxConns.
	MaxConns int32
	MinConns int32
	// ConnectTimeout bounds one connection attempt (dial, TLS, startup).
	ConnectTimeout time.Duration
	// QueryTimeout bounds every method call, including waiting for a
	// connection from the pool. A caller's earlier deadline wins.
	QueryTimeout time.Duration
	// MigrateTimeout bounds Migrate, and the migration step of Open,
	// including the wait for another replica that migrates at the time.
	MigrateTimeout  time.Duration
	MaxConnLifetime time.Duration
	MaxConnIdleTime time.Duration
	// SkipMigrate makes Open skip migrations, for deployments that run
	// `herd migrate` as a separate step. Open then does not connect at all:
	// a replica starts while the database is away, and Ping reports it not
	// ready until the database answers with an up-to-date schema.
	SkipMigrate bool
	// Schema, when set, is the only schema on the search_path of every
	// connection; Migrate creates it if needed. Empty keeps the server's
	// search_path (usually "$user", public).
	Schema string
	// ApplicationName is shown in pg_stat_activity. When empty, the URL's
	// application_name is kept, or else "herd" is used.
	ApplicationName string
}

func (c Config) withDefaults() Config {
	if c.MaxConns <= 0 {
		c.MaxConns = DefaultMaxConns
	}
	if c.MinConns < 0 {
		c.MinConns = 0
	}
	if c.MinConns > c.MaxConns {
		c.MinConns = c.MaxConns
	}
	if c.ConnectTimeout <= 0 {
		c.ConnectTimeout = DefaultConnectTimeout
	}
	if c.QueryTimeout <= 0 {
		c.QueryTimeout = DefaultQueryTimeout
	}
	if c.MigrateTimeout <= 0 {
		c.MigrateTimeout = DefaultMigrateTimeout
	}
	if c.MaxConnLifetime <= 0 {
		c.MaxConnLifetime = DefaultMaxConnLifetime
	}
	if c.MaxConnIdleTime <= 0 {
		c.MaxConnIdleTime = DefaultMaxConnIdleTime
	}
	return c
}

// poolConfig turns c (with defaults applied) into a pgxpool configuration.
func (c Config) poolConfig() (*pgxpool.Config, error) {
	pc, err := pgxpool.ParseConfig(c.URL)
	if err != nil {
		// pgx redacts the password from its parse errors.
		return nil, fmt.Errorf("postgres: parse URL: %w", err)
	}
	pc.MaxConns = c.MaxConns
	pc.MinConns = c.MinConns
	pc.MaxConnLifetime = c.MaxConnLifetime
	pc.MaxConnIdleTime = c.MaxConnIdleTime
	c.setConnConfig(pc.ConnConfig)
	return pc, nil
}

// connConfig is the configuration of the single connection Migrate uses.
func (c Config) connConfig() (*pgx.ConnConfig, error) {
	cc, err := pgx.ParseConfig(c.URL)
	if err != nil {
		return nil, fmt.Errorf("postgres: parse URL: %w", err)
	}
	c.setConnConfig(cc)
	return cc, nil
}

func (c Config) setConnConfig(cc *pgx.ConnConfig) {
	cc.ConnectTimeout = c.ConnectTimeout
	switch {
	case c.ApplicationName != "":
		cc.RuntimeParams["application_name"] = c.ApplicationName
	case cc.RuntimeParams["application_name"] == "":
		cc.RuntimeParams["application_name"] = DefaultApplicationName
	}
	if c.Schema != "" {
		cc.RuntimeParams["search_path"] = pgx.Identifier{c.Schema}.Sanitize()
	}
}

// DB is a pool of connections to one PostgreSQL database. It is safe for
// concurrent use.
type DB struct {
	pool         *pgxpool.Pool
	queryTimeout time.Duration
	// schemaReady is set once the schema is known to be migrated, so that
	// Ping stops checking schema_migrations.
	schemaReady atomic.Bool
}

// Open connects to the database of cfg and, unless cfg.SkipMigrate, applies
// the migrations this binary holds (see Migrate). An unreachable database
// is EUNAVAILABLE then, so a replica that must migrate fails to start; with
// SkipMigrate, Open makes no connection and cannot fail for that reason.
func Open(ctx context.Context, cfg Config) (*DB, error) {
	cfg = cfg.withDefaults()
	pc, err := cfg.poolConfig()
	if err != nil {
		return nil, err
	}
	pool, err := pgxpool.NewWithConfig(ctx, pc)
	if err != nil {
		return nil, fmt.Errorf("postgres: create pool: %w", err)
	}
	db := &DB{pool: pool, queryTimeout: cfg.QueryTimeout}
	if cfg.SkipMigrate {
		return db, nil
	}
	if err := db.migrate(ctx, cfg); err != nil {
		pool.Close()
		return nil, err
	}
	db.schemaReady.Store(true)
	return db, nil
}

func (db *DB) migrate(ctx context.Context, cfg Config) error {
	ctx, cancel := context.WithTimeout(ctx, cfg.MigrateTimeout)
	defer cancel()
	conn, err := db.pool.Acquire(ctx)
	if err != nil {
		return db.fail("acquire connection to migrate", err)
	}
	defer conn.Release()
	return db.fail("migrate", migrate(ctx, conn.Conn(), cfg.Schema))
}

// Close closes every connection, waiting for those in use to be returned.
func (db *DB) Close() { db.pool.Close() }

// Ping checks that the database answers and, until it has once, that its
// schema has every migration this binary knows. Either failing is
// EUNAVAILABLE: the replica is not ready.
func (db *DB) Ping(ctx context.Context) error {
	ctx, cancel := db.ctx(ctx)
	defer cancel()
	if db.schemaReady.Load() {
		return db.fail("ping", db.pool.Ping(ctx))
	}
	version, err := schemaVersion(ctx, db.pool)
	if err != nil {
		return db.fail("read schema version", err)
	}
	if want := latestVersion(); version < want {
		return herd.Unavailable("database", fmt.Errorf("postgres: schema is at version %d, this binary needs %d: run herd migrate", version, want))
	}
	db.schemaReady.Store(true)
	return nil
}

// ctx bounds one method call by the query timeout.
func (db *DB) ctx(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, db.queryTimeout)
}

// fail turns a driver error of the operation op into a herd error (see
// classify) and, when the error says the server dropped the connection,
// closes the pool's other connections too: they were most likely dropped
// with it (a restart, a failover, pg_terminate_backend), and without the
// reset each of them would fail one more call before the pool noticed.
func (db *DB) fail(op string, err error) error {
	if err == nil {
		return nil
	}
	if connectionLost(err) {
		db.pool.Reset()
	}
	return classify(op, err)
}

// classify wraps err: EUNAVAILABLE when the database did not answer or
// cannot serve right now, otherwise an unclassified error (EINTERNAL) that
// keeps the driver's text for logs only.
func classify(op string, err error) error {
	var he *herd.Error
	switch {
	case err == nil:
		return nil
	case errors.As(err, &he):
		return err
	case unavailable(err):
		return herd.Unavailable("database", fmt.Errorf("postgres: %s: %w", op, err))
	default:
		return fmt.Errorf("postgres: %s: %w", op, err)
	}
}
