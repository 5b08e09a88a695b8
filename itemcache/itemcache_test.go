package itemcache

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"io"
	"log/slog"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/herdhq/herd"
	"github.com/herdhq/herd/internal/testenv"
	"github.com/herdhq/herd/redis"
	"github.com/herdhq/herd/sqlite"
)

// spyStore counts reads of a real store and can hold a read between
// loading a row and returning it, to stage a race exactly.
type spyStore struct {
	herd.ItemStore
	reads atomic.Int64
	hold  func() // called after the load, before returning; nil: none
}

func (s *spyStore) Item(ctx context.Context, id string) (herd.Item, error) {
	s.reads.Add(1)
	it, err := s.ItemStore.Item(ctx, id)
	if s.hold != nil {
		s.hold()
	}
	return it, err
}

func newItems(t *testing.T, cache herd.ItemCache) (*Items, *spyStore) {
	t.Helper()
	db, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "herd.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	spy := &spyStore{ItemStore: db}
	return &Items{
		Store: spy, Cache: cache, TTL: time.Minute, HoldTTL: 10 * time.Second, LoadTimeout: 5 * time.Second,
		Log: slog.New(slog.NewTextHandler(io.Discard, nil)),
	}, spy
}

func newRedis(t *testing.T, url string) *redis.Store {
	t.Helper()
	b := make([]byte, 6)
	rand.Read(b)
	rs, err := redis.Open(redis.Config{URL: url, Prefix: "itemcache-test-" + hex.EncodeToString(b)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { rs.Close() })
	return rs
}

func TestMissThenHit(t *testing.T) {
	items, spy := newItems(t, newRedis(t, testenv.RedisURL(t)))
	ctx := t.Context()
	if _, err := items.Put(ctx, "a", json.RawMessage(`{"n":1}`)); err != nil {
		t.Fatal(err)
	}
	// Put wrote through: the first read is already a hit.
	it, hit, err := items.Get(ctx, "a")
	if err != nil || !hit || it.Version != 1 {
		t.Fatalf("Get after Put = v%d hit=%v err=%v, want v1 from the cache", it.Version, hit, err)
	}
	if spy.reads.Load() != 0 {
		t.Fatalf("a cache hit read the store %d times", spy.reads.Load())
	}
	if _, _, err := items.Get(ctx, "missing"); herd.ErrorCode(err) != herd.ENOTFOUND {
		t.Fatalf("Get of a missing item: %v", err)
	}
}

func TestConcurrentMissesReadTheStoreOnce(t *testing.T) {
	items, spy := newItems(t, nil)
	ctx := t.Context()
	if _, err := items.Put(ctx, "hot", json.RawMessage(`1`)); err != nil {
		t.Fatal(err)
	}
	release := make(chan struct{})
	var entered sync.Once
	arrived := make(chan struct{})
	spy.hold = func() {
		entered.Do(func() { close(arrived) })
		<-release
	}
	var wg sync.WaitGroup
	for range 50 {
		wg.Go(func() {
			if _, _, err := items.Get(ctx, "hot"); err != nil {
				t.Error(err)
			}
		})
	}
	<-arrived
	// Give the other 49 time to join the flight in progress.
	time.Sleep(300 * time.Millisecond)
	close(release)
	wg.Wait()
	// Without merging it would be 50; a goroutine the scheduler started
	// late may begin a flight of its own after the first one ended.
	if got := spy.reads.Load(); got > 5 {
		t.Fatalf("50 concurrent misses made %d store reads, want 1 (a few if some came late)", got)
	}
}

// TestSlowReaderCannotCacheAnOlderVersion stages the race of the issue: a
// reader misses and loads v1; a writer commits v2 and caches it; only then
// does the reader try to cache v1. The cache must still hold v2.
func TestSlowReaderCannotCacheAnOlderVersion(t *testing.T) {
	rs := newRedis(t, testenv.RedisURL(t))
	items, spy := newItems(t, rs)
	ctx := t.Context()
	if _, err := items.Store.PutItem(ctx, "race", json.RawMessage(`"v1"`)); err != nil {
		t.Fatal(err)
	}
	loaded, resume := make(chan struct{}), make(chan struct{})
	spy.hold = func() { close(loaded); <-resume }
	done := make(chan herd.Item)
	go func() {
		it, _, err := items.Get(ctx, "race")
		if err != nil {
			t.Error(err)
		}
		done <- it
	}()
	<-loaded
	spy.hold = nil
	if _, err := items.Put(ctx, "race", json.RawMessage(`"v2"`)); err != nil {
		t.Fatal(err)
	}
	close(resume)
	if it := <-done; it.Version != 1 {
		t.Fatalf("the slow reader got v%d, want the v1 it loaded", it.Version)
	}
	it, hit, err := items.Get(ctx, "race")
	if err != nil || !hit || it.Version != 2 {
		t.Fatalf("after the race the cache serves v%d (hit=%v, err=%v), want v2", it.Version, hit, err)
	}
}

func TestCacheDownReadsFallThroughAndWritesRefuse(t *testing.T) {
	items, _ := newItems(t, newRedis(t, "redis://127.0.0.1:1/0"))
	ctx := t.Context()
	if _, err := items.Store.PutItem(ctx, "a", json.RawMessage(`true`)); err != nil {
		t.Fatal(err)
	}
	it, hit, err := items.Get(ctx, "a")
	if err != nil || hit || it.Version != 1 {
		t.Fatalf("Get with the cache down = v%d hit=%v err=%v, want v1 from the store", it.Version, hit, err)
	}
	// A write the cache cannot hold is refused, not made: once the cache is
	// back it could still serve the version before it.
	if _, err := items.Put(ctx, "a", json.RawMessage(`false`)); herd.ErrorCode(err) != herd.EUNAVAILABLE {
		t.Fatalf("Put with the cache down: %v, want EUNAVAILABLE", err)
	}
	if it, _ := items.Store.Item(ctx, "a"); it.Version != 1 {
		t.Fatalf("a refused Put wrote version %d", it.Version)
	}
}
