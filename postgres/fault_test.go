package postgres_test

import (
	"context"
	"fmt"
	"net"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/herdhq/herd"
	"github.com/herdhq/herd/internal/testenv"
	"github.com/herdhq/herd/postgres"
)

// wantUnavailable fails the test unless err is EUNAVAILABLE with herd's
// own message, no driver text in it.
func wantUnavailable(t *testing.T, err error, what string) {
	t.Helper()
	if got, want := herd.ErrorCode(err), herd.EUNAVAILABLE; got != want {
		t.Fatalf("%s: code %q (%v), want %q", what, got, err, want)
	}
	if got, want := herd.ErrorMessage(err), "database is unavailable"; got != want {
		t.Fatalf("%s: message %q, want %q", what, got, want)
	}
}

// withHost returns the test database URL pointed at addr instead.
func withHost(t *testing.T, addr string) string {
	t.Helper()
	u, err := url.Parse(testenv.PostgresURL(t))
	if err != nil {
		t.Fatal(err)
	}
	u.Host = addr
	return u.String()
}

// targetAddr is host:port of the test database.
func targetAddr(t *testing.T) string {
	t.Helper()
	u, err := url.Parse(testenv.PostgresURL(t))
	if err != nil {
		t.Fatal(err)
	}
	if u.Port() == "" {
		return net.JoinHostPort(u.Hostname(), "5432")
	}
	return u.Host
}

// closedPort returns a local address that refuses connections.
func closedPort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// callContext bounds a test's calls far beyond any timeout under test, so
// that a hang fails the test (the context ends first) instead of stalling it.
func callContext(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(t.Context(), setupTimeout)
	t.Cleanup(cancel)
	return ctx
}

// wantBeforeDeadline fails the test if ctx ended: the call under test
// returned because its own timeout fired, not the test's.
func wantBeforeDeadline(t *testing.T, ctx context.Context, what string) {
	t.Helper()
	if ctx.Err() != nil {
		t.Fatalf("%s returned only when the test's own deadline passed: herd's timeouts did not bound it", what)
	}
}

// TestTerminatedConnections kills every connection of the pool from the
// server side, as a restart, a failover or an operator does. What the
// calls right after see: the first call either fails with EUNAVAILABLE (it
// was handed a dead connection, which it discovers by using it; the pool is
// then reset) or succeeds (the pool pinged a connection idle for over a
// second and replaced it); every later call succeeds, without reopening.
func TestTerminatedConnections(t *testing.T) {
	cfg := testConfig(t)
	cfg.MaxConns = 4
	db := mustOpen(t, cfg)
	ctx := callContext(t)
	name := randomName("counter-")

	// Open several connections, so that several dead ones wait in the pool.
	const warm = 8
	var wg sync.WaitGroup
	errs := make([]error, warm)
	for i := range warm {
		wg.Go(func() { _, errs[i] = db.Increment(ctx, name, "") })
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}

	// The timeout makes pg_terminate_backend wait until each is gone.
	killed := adminQuery[int64](t, `
		SELECT count(*) FILTER (WHERE pg_terminate_backend(pid, 10000))
		FROM pg_stat_activity WHERE application_name = $1`, cfg.ApplicationName)
	if killed == 0 {
		t.Fatalf("no connection with application_name %q to terminate", cfg.ApplicationName)
	}

	const calls = 6
	failed := 0
	for i := range calls {
		_, err := db.Increment(ctx, name, "")
		if err == nil {
			continue
		}
		wantUnavailable(t, err, fmt.Sprintf("Increment %d after %d connections were terminated", i+1, killed))
		if i > 0 {
			t.Fatalf("Increment %d after the connections were terminated failed (%v): only the first may", i+1, err)
		}
		failed++
	}
	t.Logf("%d connections terminated; %d of the calls after failed", killed, failed)
	// A failed call did not count: it never reached the server.
	if got, want := mustCounter(t, db, name), int64(warm+calls-failed); got != want {
		t.Fatalf("counter = %d, want %d", got, want)
	}
}

func mustCounter(t *testing.T, db *postgres.DB, name string) int64 {
	t.Helper()
	v, err := db.Counter(callContext(t), name)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// TestRefusedPort: with nothing listening, Open (which must migrate) and
// Migrate fail with EUNAVAILABLE; with SkipMigrate, Open succeeds and every
// call is EUNAVAILABLE, so a replica starts and reports itself not ready.
func TestRefusedPort(t *testing.T) {
	cfg := postgres.Config{URL: withHost(t, closedPort(t)), ConnectTimeout: time.Second, QueryTimeout: time.Second}
	ctx := callContext(t)

	_, err := postgres.Open(ctx, cfg)
	wantUnavailable(t, err, "Open")
	wantBeforeDeadline(t, ctx, "Open")
	wantUnavailable(t, postgres.Migrate(ctx, cfg), "Migrate")

	cfg.SkipMigrate = true
	db, err := postgres.Open(ctx, cfg)
	if err != nil {
		t.Fatalf("Open with SkipMigrate: %v", err)
	}
	defer db.Close()
	wantUnavailable(t, db.Ping(ctx), "Ping")
	_, err = db.Increment(ctx, "c", "")
	wantUnavailable(t, err, "Increment")
	_, err = db.UserByEmail(ctx, "a@example.test")
	wantUnavailable(t, err, "UserByEmail")
	wantBeforeDeadline(t, ctx, "the calls")
}

// TestDatabaseComesBack: a replica started while the database was away
// serves once it returns, and again after the network dropped every
// connection, without reopening.
func TestDatabaseComesBack(t *testing.T) {
	cfg := testConfig(t)
	ctx := callContext(t)
	if err := postgres.Migrate(ctx, cfg); err != nil {
		t.Fatal(err)
	}
	proxy := newFaultProxy(t, targetAddr(t))
	cfg.URL = withHost(t, proxy.addr)
	cfg.SkipMigrate = true
	cfg.ConnectTimeout, cfg.QueryTimeout = time.Second, time.Second
	db := mustOpen(t, cfg)

	wantUnavailable(t, db.Ping(ctx), "Ping while the database is away")
	proxy.up()
	if err := db.Ping(ctx); err != nil {
		t.Fatalf("Ping once the database is back: %v", err)
	}
	if got, err := db.Increment(ctx, "c", ""); err != nil || got != 1 {
		t.Fatalf("Increment = %d, %v; want 1", got, err)
	}

	proxy.down()
	_, err := db.Increment(ctx, "c", "")
	wantUnavailable(t, err, "Increment while the network is down")
	proxy.up()
	if got, err := db.Increment(ctx, "c", ""); err != nil || got != 2 {
		t.Fatalf("Increment after the network is back = %d, %v; want 2", got, err)
	}
	wantBeforeDeadline(t, ctx, "the calls")
}

// TestStalledDatabase: a database that keeps the connection open and never
// answers costs a call its QueryTimeout, no more, and EUNAVAILABLE; a new
// pool's first connection is bounded alike.
func TestStalledDatabase(t *testing.T) {
	cfg := testConfig(t)
	ctx := callContext(t)
	if err := postgres.Migrate(ctx, cfg); err != nil {
		t.Fatal(err)
	}
	proxy := newFaultProxy(t, targetAddr(t))
	proxy.up()
	cfg.URL = withHost(t, proxy.addr)
	cfg.SkipMigrate = true
	cfg.ConnectTimeout, cfg.QueryTimeout = time.Second, time.Second
	db := mustOpen(t, cfg)
	if _, err := db.Increment(ctx, "c", ""); err != nil {
		t.Fatal(err)
	}

	proxy.stall()
	_, err := db.Counter(ctx, "c")
	wantUnavailable(t, err, "Counter on an established connection to a stalled database")
	wantUnavailable(t, db.Ping(ctx), "Ping of a stalled database")
	fresh := mustOpen(t, cfg)
	wantUnavailable(t, fresh.Ping(ctx), "Ping of a new pool to a stalled database")
	wantBeforeDeadline(t, ctx, "the calls")

	proxy.resume()
	if got, err := db.Counter(ctx, "c"); err != nil || got != 1 {
		t.Fatalf("Counter after the database answers again = %d, %v; want 1", got, err)
	}
	if err := fresh.Ping(ctx); err != nil {
		t.Fatalf("Ping of the new pool after the database answers again: %v", err)
	}
}

// TestNoDriverTextInMessages: an error that is the caller's fault or a bug
// still keeps the driver's words out of the client-safe message.
func TestNoDriverTextInMessages(t *testing.T) {
	db := mustOpen(t, testConfig(t))
	ctx := callContext(t)
	// A NUL byte is valid Go but refused by PostgreSQL's text type.
	_, err := db.Increment(ctx, "bad\x00name", "")
	if err == nil {
		t.Fatal("Increment of a name with a NUL byte succeeded")
	}
	if msg := herd.ErrorMessage(err); strings.Contains(msg, "SQLSTATE") || strings.Contains(msg, "0x00") {
		t.Fatalf("message %q carries driver text", msg)
	}
}
