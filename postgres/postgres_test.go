package postgres_test

import (
	"context"
	"crypto/rand"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/herdhq/herd/internal/testenv"
	"github.com/herdhq/herd/postgres"
)

// setupTimeout bounds each statement a test runs to set up or check.
const setupTimeout = 30 * time.Second

// randomName returns prefix followed by lower-case letters and digits no
// other run will produce: a valid unquoted identifier and application name.
func randomName(prefix string) string {
	return prefix + strings.ToLower(rand.Text())
}

// testConfig returns a configuration of the test database with a schema of
// its own, which does not exist yet and is dropped when t ends; so tests
// and runs never see each other's rows, and migrations start from nothing.
func testConfig(t testing.TB) postgres.Config {
	t.Helper()
	url := testenv.PostgresURL(t)
	schema := randomName("herd_test_")
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), setupTimeout)
		defer cancel()
		conn, err := pgx.Connect(ctx, url)
		if err != nil {
			t.Errorf("drop schema %s: %v", schema, err)
			return
		}
		defer conn.Close(ctx)
		if _, err := conn.Exec(ctx, "DROP SCHEMA IF EXISTS "+schema+" CASCADE"); err != nil {
			t.Errorf("drop schema %s: %v", schema, err)
		}
	})
	return postgres.Config{URL: url, Schema: schema, ApplicationName: randomName("herd-test-")}
}

// mustOpen opens cfg, migrating, and closes it when t ends.
func mustOpen(t testing.TB, cfg postgres.Config) *postgres.DB {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), setupTimeout)
	defer cancel()
	db, err := postgres.Open(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(db.Close)
	return db
}

// adminQuery runs sql with args on a connection of its own, outside any
// schema a test uses, and returns the first column of the first row.
func adminQuery[T any](t *testing.T, sql string, args ...any) T {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), setupTimeout)
	defer cancel()
	conn, err := pgx.Connect(ctx, testenv.PostgresURL(t))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	var v T
	if err := conn.QueryRow(ctx, sql, args...).Scan(&v); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
	return v
}
