package sqlite_test

import (
	"database/sql"
	"errors"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/herdhq/herd"
	"github.com/herdhq/herd/sqlite"
)

// Replicas on one machine open one file from several processes. Each *DB
// has its own connections and so its own locks on the file, as a process
// would: two of them stand in for two replicas.
func TestTwoHandlesIncrementOneCounter(t *testing.T) {
	path := tempPath(t)
	handles := []*sqlite.DB{mustOpen(t, path), mustOpen(t, path)}
	ctx := testContext(t)
	const goroutinesPerHandle, each = 10, 50

	var (
		mu     sync.Mutex
		seen   = map[int64]bool{}
		errs   []error
		wg     sync.WaitGroup
		viewed = map[int64]bool{}
	)
	session := herd.Session{ID: "s", UserID: "u", Email: "u@example.test", ExpiresAt: time.Now().Add(time.Hour)}
	if err := handles[0].CreateSession(ctx, session, time.Hour); err != nil {
		t.Fatal(err)
	}
	for _, db := range handles {
		for range goroutinesPerHandle {
			wg.Go(func() {
				for i := range each {
					v, err := db.Increment(ctx, "shared", "")
					var s herd.Session
					if err == nil && i%5 == 0 {
						s, err = db.TouchSession(ctx, session.ID, time.Hour)
					}
					mu.Lock()
					if err != nil {
						errs = append(errs, err)
					}
					if seen[v] || (s.Views != 0 && viewed[s.Views]) {
						errs = append(errs, errors.New("a value was returned twice"))
					}
					seen[v] = true
					if s.Views != 0 {
						viewed[s.Views] = true
					}
					mu.Unlock()
				}
			})
		}
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
	total := int64(len(handles) * goroutinesPerHandle * each)
	for _, db := range handles {
		if got, err := db.Counter(ctx, "shared"); err != nil || got != total {
			t.Fatalf("Counter = %d, %v; want %d", got, err, total)
		}
	}
	s, err := handles[1].TouchSession(ctx, session.ID, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := s.Views, total/5+1; got != want {
		t.Fatalf("views = %d, want %d", got, want)
	}
}

func TestConcurrentOpenOfNewFile(t *testing.T) {
	path := tempPath(t)
	const replicas = 8
	dbs := make([]*sqlite.DB, replicas)
	errs := make([]error, replicas)
	var wg sync.WaitGroup
	for i := range replicas {
		wg.Go(func() { dbs[i], errs[i] = sqlite.Open(testContext(t), path) })
	}
	wg.Wait()
	for i := range replicas {
		// A migration applied twice would fail its CREATE TABLE, so every
		// Open succeeding is the proof that each was applied once.
		if errs[i] != nil {
			t.Fatalf("Open %d: %v", i, errs[i])
		}
		defer dbs[i].Close()
	}

	raw, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	var rows, version int
	if err := raw.QueryRowContext(testContext(t), `SELECT count(*), max(version) FROM schema_version`).Scan(&rows, &version); err != nil {
		t.Fatal(err)
	}
	if rows < 1 || rows != version {
		t.Fatalf("schema_version holds %d rows up to version %d, want one row per version", rows, version)
	}
	if _, err := dbs[replicas-1].Increment(testContext(t), "c", ""); err != nil {
		t.Fatal(err)
	}
}

func TestCloseLeavesAClosedFile(t *testing.T) {
	path := tempPath(t)
	ctx := testContext(t)
	db, err := sqlite.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Increment(ctx, "c", ""); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Counter(ctx, "c"); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if _, err := db.Counter(ctx, "c"); err == nil {
		t.Fatal("Counter after Close succeeded")
	}
	// The last connection to close checkpoints the log into the file.
	if _, err := os.Stat(path + "-wal"); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("the write-ahead log outlived Close: %v", err)
	}

	reopened := mustOpen(t, path)
	if got, err := reopened.Increment(ctx, "c", ""); err != nil || got != 2 {
		t.Fatalf("Increment after reopening = %d, %v; want 2", got, err)
	}
}
