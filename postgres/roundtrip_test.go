package postgres

import (
	"context"
	"crypto/rand"
	"net"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/herdhq/herd/internal/testenv"
)

// countingConn counts the writes to a connection: pgx writes a whole
// request (Bind, Execute, Sync) at once and then waits for the answer, so
// writes count round trips.
type countingConn struct {
	net.Conn
	writes *atomic.Int64
}

func (c countingConn) Write(p []byte) (int, error) {
	c.writes.Add(1)
	return c.Conn.Write(p)
}

// TestIncrementIsOneRoundTrip holds Increment to its contract with the
// benchmark that counts transactions per request: one statement, sent in
// one round trip, in no explicit transaction (BEGIN and COMMIT would be
// round trips of their own).
func TestIncrementIsOneRoundTrip(t *testing.T) {
	url := testenv.PostgresURL(t)
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	cfg := Config{URL: url, Schema: "herd_test_" + strings.ToLower(rand.Text()), MaxConns: 1}.withDefaults()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		conn, err := pgx.Connect(ctx, url)
		if err != nil {
			t.Error(err)
			return
		}
		defer conn.Close(ctx)
		if _, err := conn.Exec(ctx, "DROP SCHEMA IF EXISTS "+cfg.Schema+" CASCADE"); err != nil {
			t.Error(err)
		}
	})
	if err := Migrate(ctx, cfg); err != nil {
		t.Fatal(err)
	}

	pc, err := cfg.poolConfig()
	if err != nil {
		t.Fatal(err)
	}
	var writes atomic.Int64
	var dialer net.Dialer
	pc.ConnConfig.DialFunc = func(ctx context.Context, network, addr string) (net.Conn, error) {
		c, err := dialer.DialContext(ctx, network, addr)
		if err != nil {
			return nil, err
		}
		return countingConn{Conn: c, writes: &writes}, nil
	}
	// The liveness ping of a connection idle for a second would be a round
	// trip of its own, and this test must not depend on timing.
	pc.ShouldPing = func(context.Context, pgxpool.ShouldPingParams) bool { return false }
	pool, err := pgxpool.NewWithConfig(ctx, pc)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	db := &DB{pool: pool, queryTimeout: cfg.QueryTimeout}

	// The first call on a connection also prepares the statement.
	if _, err := db.Increment(ctx, "c", ""); err != nil {
		t.Fatal(err)
	}
	const calls = 10
	before := writes.Load()
	for range calls {
		if _, err := db.Increment(ctx, "c", ""); err != nil {
			t.Fatal(err)
		}
	}
	if got, want := writes.Load()-before, int64(calls); got != want {
		t.Fatalf("%d calls of Increment took %d round trips, want %d", calls, got, want)
	}
}
