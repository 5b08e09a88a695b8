package storetest

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/herdhq/herd"
)

// RunItemCache checks c against the herd.ItemCache contract.
func RunItemCache(t *testing.T, c herd.ItemCache) {
	const ttl = time.Minute

	t.Run("Miss", func(t *testing.T) {
		_, ok, err := c.CachedItem(testContext(t), newID("item"))
		if err != nil || ok {
			t.Fatalf("CachedItem of an uncached id = %v, %v; want a miss", ok, err)
		}
	})

	t.Run("CacheAndGet", func(t *testing.T) {
		ctx := testContext(t)
		want := cacheItem(newID("item"), 1)
		want.Data = json.RawMessage(`{"z": 1,  "a": "é"}`)
		if err := c.CacheItem(ctx, want, ttl); err != nil {
			t.Fatal(err)
		}
		wantCached(t, c, want)
	})

	t.Run("NewerReplaces", func(t *testing.T) {
		ctx := testContext(t)
		id := newID("item")
		if err := c.CacheItem(ctx, cacheItem(id, 1), ttl); err != nil {
			t.Fatal(err)
		}
		v2 := cacheItem(id, 2)
		if err := c.CacheItem(ctx, v2, ttl); err != nil {
			t.Fatal(err)
		}
		wantCached(t, c, v2)
	})

	t.Run("OlderIsIgnored", func(t *testing.T) {
		ctx := testContext(t)
		id := newID("item")
		v2 := cacheItem(id, 2)
		if err := c.CacheItem(ctx, v2, ttl); err != nil {
			t.Fatal(err)
		}
		if err := c.CacheItem(ctx, cacheItem(id, 1), ttl); err != nil {
			t.Fatal(err)
		}
		wantCached(t, c, v2)

		sameVersion := v2
		sameVersion.Data = json.RawMessage(`"another body"`)
		if err := c.CacheItem(ctx, sameVersion, ttl); err != nil {
			t.Fatal(err)
		}
		wantCached(t, c, v2)
	})

	t.Run("Forget", func(t *testing.T) {
		ctx := testContext(t)
		id := newID("item")
		if err := c.CacheItem(ctx, cacheItem(id, 5), ttl); err != nil {
			t.Fatal(err)
		}
		if err := c.ForgetItem(ctx, id); err != nil {
			t.Fatal(err)
		}
		if _, ok, err := c.CachedItem(ctx, id); err != nil || ok {
			t.Fatalf("CachedItem after ForgetItem = %v, %v; want a miss", ok, err)
		}
		// Forgotten means forgotten: an older version may be cached again.
		v1 := cacheItem(id, 1)
		if err := c.CacheItem(ctx, v1, ttl); err != nil {
			t.Fatal(err)
		}
		wantCached(t, c, v1)
		if err := c.ForgetItem(ctx, newID("item")); err != nil {
			t.Fatalf("ForgetItem of an uncached id: %v", err)
		}
	})

	t.Run("ConcurrentVersions", func(t *testing.T) {
		ctx := testContext(t)
		const n = 20
		id := newID("item")
		errs := make([]error, n)
		items := make([]herd.Item, n)
		for i := range items {
			items[i] = cacheItem(id, int64(i+1))
		}
		concurrently(n, func(i int) {
			errs[i] = c.CacheItem(ctx, items[i], ttl)
		})
		for _, err := range errs {
			if err != nil {
				t.Fatal(err)
			}
		}
		wantCached(t, c, items[n-1])
	})

	t.Run("HoldMakesAMissAndBlocksFills", func(t *testing.T) {
		ctx := testContext(t)
		id := newID("item")
		v1 := cacheItem(id, 1)
		if err := c.CacheItem(ctx, v1, ttl); err != nil {
			t.Fatal(err)
		}
		if err := c.HoldItem(ctx, id, ttl); err != nil {
			t.Fatal(err)
		}
		wantMissed(t, c, id, "a held id")
		// A reader that loaded v1 before the write cannot put it back...
		if err := c.CacheItem(ctx, v1, ttl); err != nil {
			t.Fatal(err)
		}
		wantMissed(t, c, id, "a held id after a reader's fill")
		// ...and the release caches what was written.
		v2 := cacheItem(id, 2)
		if err := c.ReleaseItem(ctx, v2, ttl); err != nil {
			t.Fatal(err)
		}
		wantCached(t, c, v2)
		if err := c.CacheItem(ctx, v1, ttl); err != nil {
			t.Fatal(err)
		}
		wantCached(t, c, v2)
	})

	t.Run("HoldsNest", func(t *testing.T) {
		ctx := testContext(t)
		id := newID("item")
		for range 2 {
			if err := c.HoldItem(ctx, id, ttl); err != nil {
				t.Fatal(err)
			}
		}
		v2, v3 := cacheItem(id, 2), cacheItem(id, 3)
		if err := c.ReleaseItem(ctx, v3, ttl); err != nil {
			t.Fatal(err)
		}
		wantMissed(t, c, id, "an id with one of two holds released")
		// The writer that finished last wrote the older version: the newer
		// one stays.
		if err := c.ReleaseItem(ctx, v2, ttl); err != nil {
			t.Fatal(err)
		}
		wantCached(t, c, v3)
	})

	t.Run("UnreleasedHoldExpires", func(t *testing.T) {
		ctx := testContext(t)
		id := newID("item")
		if err := c.CacheItem(ctx, cacheItem(id, 1), ttl); err != nil {
			t.Fatal(err)
		}
		if err := c.HoldItem(ctx, id, shortTTL); err != nil {
			t.Fatal(err)
		}
		sleepPast(time.Now().Add(shortTTL))
		// The writer died: the old version is gone, not back, and readers
		// may fill again.
		wantMissed(t, c, id, "an id whose hold expired")
		v2 := cacheItem(id, 2)
		if err := c.CacheItem(ctx, v2, ttl); err != nil {
			t.Fatal(err)
		}
		wantCached(t, c, v2)
		// A release arriving after its hold expired still caches.
		v3 := cacheItem(id, 3)
		if err := c.ReleaseItem(ctx, v3, ttl); err != nil {
			t.Fatal(err)
		}
		wantCached(t, c, v3)
	})

	t.Run("Expiry", func(t *testing.T) {
		ctx := testContext(t)
		id := newID("item")
		if err := c.CacheItem(ctx, cacheItem(id, 1), shortTTL); err != nil {
			t.Fatal(err)
		}
		sleepPast(time.Now().Add(shortTTL))
		if _, ok, err := c.CachedItem(ctx, id); err != nil || ok {
			t.Fatalf("CachedItem after its ttl = %v, %v; want a miss", ok, err)
		}
	})

	t.Run("Deadline", func(t *testing.T) {
		wantUnavailableAfterDeadline(t, func(ctx context.Context) error {
			_, _, err := c.CachedItem(ctx, newID("item"))
			return err
		})
	})
}

// cacheItem returns version v of item id, its data naming the version.
func cacheItem(id string, v int64) herd.Item {
	return herd.Item{
		ID:        id,
		Data:      json.RawMessage(fmt.Sprintf(`{"version":%d}`, v)),
		Version:   v,
		UpdatedAt: msNow(),
	}
}

func wantCached(t *testing.T, c herd.ItemCache, want herd.Item) {
	t.Helper()
	got, ok, err := c.CachedItem(testContext(t), want.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !ok {
		t.Fatalf("CachedItem(%s) missed, want version %d", want.ID, want.Version)
	}
	wantItem(t, got, want.ID, want.Data, want.Version)
	if !got.UpdatedAt.Equal(want.UpdatedAt) {
		t.Fatalf("cached UpdatedAt %v, want %v", got.UpdatedAt, want.UpdatedAt)
	}
}

func wantMissed(t *testing.T, c herd.ItemCache, id, what string) {
	t.Helper()
	if it, ok, err := c.CachedItem(testContext(t), id); err != nil || ok {
		t.Fatalf("CachedItem of %s = v%d, %v, %v; want a miss", what, it.Version, ok, err)
	}
}
