// Package sqlite is herd's embedded record store: every store interface of
// package herd in one SQLite file, which several replica processes on one
// machine may open at the same time.
package sqlite

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"math/rand/v2"
	"runtime"
	"strings"
	"time"

	"github.com/herdhq/herd"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

var (
	_ herd.UserStore         = (*DB)(nil)
	_ herd.CounterStore      = (*DB)(nil)
	_ herd.ItemStore         = (*DB)(nil)
	_ herd.RefreshTokenStore = (*DB)(nil)
	_ herd.RevocationStore   = (*DB)(nil)
	_ herd.SessionStore      = (*DB)(nil)
	_ herd.IdempotencyStore  = (*DB)(nil)
	_ herd.SigningKeyStore   = (*DB)(nil)
	_ herd.Pinger            = (*DB)(nil)
)

// Connection settings shared by both pools. WAL lets readers run beside the
// one writer; the busy timeout makes a connection wait for another process's
// write lock instead of failing at once; synchronous=NORMAL is durable
// across process crashes in WAL mode, which is what replicas need.
const commonParams = "_pragma=busy_timeout(5000)&_pragma=journal_mode(WAL)&_pragma=foreign_keys(1)&_pragma=synchronous(NORMAL)"

// DB is one SQLite database file. It implements every store interface of
// package herd and herd.Pinger. Its methods are safe for concurrent use, and
// other processes may use the same file at the same time.
type DB struct {
	// write has a single connection, so writers of this process queue in
	// database/sql (where contexts are honoured) instead of competing for
	// SQLite's file lock; only other processes wait in the busy handler.
	// Its transactions begin IMMEDIATE: a deferred transaction that reads
	// and then writes can fail with SQLITE_BUSY without waiting.
	write *sql.DB
	read  *sql.DB

	// now is the clock of every expiry; tests move it.
	now func() time.Time
}

// Open opens the database file at path, creating it if needed, and brings
// its schema up to date. Replicas may open one file at the same moment:
// each migration is applied once.
func Open(ctx context.Context, path string) (*DB, error) {
	// The driver reads everything after a '?' as parameters.
	if path == "" || strings.ContainsRune(path, '?') {
		return nil, herd.Errorf(herd.EINVALID, "invalid database path %q", path)
	}
	write, err := sql.Open("sqlite", path+"?"+commonParams+"&_txlock=immediate")
	if err != nil {
		return nil, err
	}
	write.SetMaxOpenConns(1)
	write.SetMaxIdleConns(1)
	read, err := sql.Open("sqlite", path+"?"+commonParams+"&_pragma=query_only(1)")
	if err != nil {
		write.Close()
		return nil, err
	}
	readers := max(4, runtime.GOMAXPROCS(0))
	read.SetMaxOpenConns(readers)
	read.SetMaxIdleConns(readers)

	db := &DB{write: write, read: read, now: time.Now}
	if err := migrateWhenFree(ctx, write, db.now); err != nil {
		db.Close()
		return nil, fmt.Errorf("migrate %s: %w", path, dbError(err))
	}
	return db, nil
}

// migrateWhenFree migrates, waiting out the moments when another process
// holds the file in a way the busy timeout does not cover: while a new file
// turns to WAL mode, or its WAL index is rebuilt, SQLite answers
// SQLITE_BUSY at once. Replicas started together on a new data directory
// hit exactly that.
func migrateWhenFree(ctx context.Context, write *sql.DB, now func() time.Time) error {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	for wait := 10 * time.Millisecond; ; wait = min(2*wait, time.Second) {
		err := migrate(ctx, write, now())
		if !isBusy(err) {
			return err
		}
		select {
		case <-ctx.Done():
			return err
		case <-time.After(wait + time.Duration(rand.Int64N(int64(wait)))):
		}
	}
}

// isBusy reports whether err is SQLite's "database is locked" or "busy".
func isBusy(err error) bool {
	var sqliteErr *sqlite.Error
	if !errors.As(err, &sqliteErr) {
		return false
	}
	code := sqliteErr.Code() & 0xff
	return code == sqlite3.SQLITE_BUSY || code == sqlite3.SQLITE_LOCKED
}

// Close closes the database. Calls in progress finish first.
func (db *DB) Close() error {
	return errors.Join(db.read.Close(), db.write.Close())
}

// Ping reports whether the database file can be read.
func (db *DB) Ping(ctx context.Context) error {
	var version int64
	err := db.read.QueryRowContext(ctx, `SELECT coalesce(max(version), 0) FROM schema_version`).Scan(&version)
	return dbError(err)
}

// inTx runs fn in an IMMEDIATE transaction on the write connection and
// commits it when fn returns nil.
func (db *DB) inTx(ctx context.Context, fn func(tx *sql.Tx) error) error {
	tx, err := db.write.BeginTx(ctx, nil)
	if err != nil {
		return dbError(err)
	}
	defer tx.Rollback()
	if err := fn(tx); err != nil {
		return dbError(err)
	}
	return dbError(tx.Commit())
}

// unavailableCodes are the primary SQLite result codes that mean the
// database cannot be used at the moment rather than that herd has a bug.
var unavailableCodes = map[int]bool{
	sqlite3.SQLITE_BUSY:      true, // another process held the lock past the busy timeout
	sqlite3.SQLITE_LOCKED:    true,
	sqlite3.SQLITE_NOMEM:     true,
	sqlite3.SQLITE_READONLY:  true, // e.g. a file system remounted read-only
	sqlite3.SQLITE_INTERRUPT: true, // the context ended mid-statement
	sqlite3.SQLITE_IOERR:     true,
	sqlite3.SQLITE_FULL:      true,
	sqlite3.SQLITE_CANTOPEN:  true,
	sqlite3.SQLITE_PROTOCOL:  true,
}

// dbError turns a driver error into a herd error: a missing row into
// ENOTFOUND, anything that says the database cannot answer now into
// EUNAVAILABLE. Other errors stay as they are, to be reported as internal.
func dbError(err error) error {
	var herdErr *herd.Error
	var sqliteErr *sqlite.Error
	switch {
	case err == nil:
		return nil
	case errors.As(err, &herdErr):
		return err
	case errors.Is(err, sql.ErrNoRows):
		return &herd.Error{Code: herd.ENOTFOUND, Message: "not found", Err: err}
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, context.Canceled),
		errors.Is(err, sql.ErrConnDone), errors.Is(err, driver.ErrBadConn):
		return herd.Unavailable("database", err)
	case errors.As(err, &sqliteErr) && unavailableCodes[sqliteErr.Code()&0xff]:
		return herd.Unavailable("database", err)
	}
	return err
}

// isUniqueViolation reports whether err is a failed UNIQUE or PRIMARY KEY
// constraint.
func isUniqueViolation(err error) bool {
	var sqliteErr *sqlite.Error
	if !errors.As(err, &sqliteErr) {
		return false
	}
	code := sqliteErr.Code()
	return code == sqlite3.SQLITE_CONSTRAINT_UNIQUE || code == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY
}

// millis is how the schema stores a time: unix milliseconds.
func millis(t time.Time) int64 { return t.UnixMilli() }

func fromMillis(ms int64) time.Time { return time.UnixMilli(ms).UTC() }
