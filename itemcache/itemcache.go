// Package itemcache reads items cache-aside through a shared cache and
// writes them through it, so that no replica ever serves a version older
// than one already written.
package itemcache

import (
	"context"
	"encoding/json"
	"log/slog"
	"time"

	"golang.org/x/sync/singleflight"

	"github.com/herdhq/herd"
)

// Items is an ItemStore read through an optional ItemCache.
//
// Freshness across replicas rests on the cache's set-if-newer contract and
// on writes going through the cache rather than invalidating it: a reader
// that loaded v1 before a writer stored v2 cannot put v1 back, because the
// cache already holds v2. Deleting on write would open exactly that race.
type Items struct {
	Store herd.ItemStore
	Cache herd.ItemCache // nil: every read goes to the store
	TTL   time.Duration
	// LoadTimeout bounds a store read shared by concurrent misses; it does
	// not end when the first caller goes away.
	LoadTimeout time.Duration
	Log         *slog.Logger

	// loads is per-process by design: it only merges this replica's
	// concurrent misses on one id into one database read.
	loads singleflight.Group
}

// Get returns the item and whether it came from the cache. A cache that
// fails is logged and bypassed: reads then go to the store and still work.
func (it *Items) Get(ctx context.Context, id string) (herd.Item, bool, error) {
	if it.Cache != nil {
		item, ok, err := it.Cache.CachedItem(ctx, id)
		switch {
		case err != nil:
			it.Log.WarnContext(ctx, "item cache read failed; reading the store", "err", err)
		case ok:
			return item, true, nil
		}
	}
	v, err, _ := it.loads.Do(id, func() (any, error) {
		loadCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), it.LoadTimeout)
		defer cancel()
		item, err := it.Store.Item(loadCtx, id)
		if err != nil {
			return herd.Item{}, err
		}
		if it.Cache != nil {
			if err := it.Cache.CacheItem(loadCtx, item, it.TTL); err != nil {
				it.Log.WarnContext(ctx, "item cache fill failed", "err", err)
			}
		}
		return item, nil
	})
	if err != nil {
		return herd.Item{}, false, err
	}
	return v.(herd.Item), false, nil
}

// Put stores the item durably, then caches the new version. When the cache
// write fails the cached copy is dropped if possible; should that fail too,
// an older version may be served until the TTL ends, so keep it short.
func (it *Items) Put(ctx context.Context, id string, data json.RawMessage) (herd.Item, error) {
	item, err := it.Store.PutItem(ctx, id, data)
	if err != nil || it.Cache == nil {
		return item, err
	}
	if err := it.Cache.CacheItem(ctx, item, it.TTL); err != nil {
		it.Log.WarnContext(ctx, "item cache write failed; forgetting the cached copy", "err", err)
		if err := it.Cache.ForgetItem(ctx, id); err != nil {
			it.Log.ErrorContext(ctx, "item cache may serve an older version until its TTL", "err", err, "item_id", id)
		}
	}
	return item, nil
}
