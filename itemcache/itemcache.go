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
// Freshness across replicas rests on the cache's contract: a write holds
// the id in the cache before it touches the store and releases it with the
// new version after, and a fill never replaces a newer version nor lands
// during a hold. So a reader that loaded v1 before a writer stored v2 cannot
// put v1 back, and a cache that fails mid-write leaves a miss, never v1.
type Items struct {
	Store herd.ItemStore
	Cache herd.ItemCache // nil: every read goes to the store
	TTL   time.Duration
	// HoldTTL bounds a write's hold on the cache: longer than any write
	// takes, since a hold that ends early lets a reader cache the old version.
	HoldTTL time.Duration
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

// Put stores the item durably and caches the new version. With a cache it
// first holds the id there, and answers EUNAVAILABLE without writing when
// the cache cannot take the hold: a write the cache did not see could be
// followed by reads of the older version.
func (it *Items) Put(ctx context.Context, id string, data json.RawMessage) (herd.Item, error) {
	if it.Cache == nil {
		return it.Store.PutItem(ctx, id, data)
	}
	if err := it.Cache.HoldItem(ctx, id, it.HoldTTL); err != nil {
		return herd.Item{}, err
	}
	item, err := it.Store.PutItem(ctx, id, data)
	if err != nil {
		// The write may have committed all the same; the hold keeps the id
		// a miss until it ends, and readers then load whatever is stored.
		return item, err
	}
	if err := it.Cache.ReleaseItem(ctx, item, it.TTL); err != nil {
		it.Log.WarnContext(ctx, "item cache release failed; the id reads from the store until its hold ends", "err", err, "item_id", id)
	}
	return item, nil
}
