package postgres_test

import (
	"context"
	"os"
	"sync"
	"testing"

	"github.com/herdhq/herd"
	"github.com/herdhq/herd/postgres"
)

// migrationFiles counts the migrations the binary embeds.
func migrationFiles(t *testing.T) int {
	t.Helper()
	entries, err := os.ReadDir("migrations")
	if err != nil {
		t.Fatal(err)
	}
	return len(entries)
}

// TestMigrateConcurrently starts replicas together on an empty schema, as a
// deployment does: every Migrate and Open must succeed, and each migration
// must be applied once (the first is not idempotent — its CREATE TABLEs
// would fail a second run — so a double application fails a caller).
func TestMigrateConcurrently(t *testing.T) {
	cfg := testConfig(t)
	const n = 8
	errs := make([]error, n)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			ctx, cancel := context.WithTimeout(t.Context(), setupTimeout)
			defer cancel()
			<-start
			if i%2 == 0 {
				errs[i] = postgres.Migrate(ctx, cfg)
				return
			}
			db, err := postgres.Open(ctx, cfg)
			if err != nil {
				errs[i] = err
				return
			}
			defer db.Close()
			errs[i] = db.Ping(ctx)
		})
	}
	close(start)
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("replica %d: %v", i, err)
		}
	}
	table := cfg.Schema + ".schema_migrations"
	if got, want := adminQuery[int64](t, "SELECT count(*) FROM "+table), int64(migrationFiles(t)); got != want {
		t.Fatalf("%d rows in schema_migrations, want %d", got, want)
	}
	if got, want := adminQuery[int64](t, "SELECT count(DISTINCT version) FROM "+table), int64(migrationFiles(t)); got != want {
		t.Fatalf("%d versions in schema_migrations, want %d", got, want)
	}
}

// TestPingNeedsMigratedSchema: a replica opened with SkipMigrate on a
// database nobody migrated is not ready, and becomes ready once `herd
// migrate` has run, without reopening.
func TestPingNeedsMigratedSchema(t *testing.T) {
	cfg := testConfig(t)
	cfg.SkipMigrate = true
	db := mustOpen(t, cfg)
	ctx, cancel := context.WithTimeout(t.Context(), setupTimeout)
	defer cancel()
	if got, want := herd.ErrorCode(db.Ping(ctx)), herd.EUNAVAILABLE; got != want {
		t.Fatalf("Ping before migrating: code %q, want %q", got, want)
	}
	if err := postgres.Migrate(ctx, cfg); err != nil {
		t.Fatal(err)
	}
	if err := db.Ping(ctx); err != nil {
		t.Fatalf("Ping after migrating: %v", err)
	}
	if got, err := db.Increment(ctx, "c", ""); err != nil || got != 1 {
		t.Fatalf("Increment = %d, %v; want 1", got, err)
	}
}

// TestMigrateTwice: a second Migrate finds nothing to do.
func TestMigrateTwice(t *testing.T) {
	cfg := testConfig(t)
	ctx, cancel := context.WithTimeout(t.Context(), setupTimeout)
	defer cancel()
	for range 2 {
		if err := postgres.Migrate(ctx, cfg); err != nil {
			t.Fatal(err)
		}
	}
	if got, want := adminQuery[int64](t, "SELECT count(*) FROM "+cfg.Schema+".schema_migrations"), int64(migrationFiles(t)); got != want {
		t.Fatalf("%d rows in schema_migrations, want %d", got, want)
	}
}
