package herd

import (
	"context"
	"encoding/json"
	"time"
)

// MaxItemSize is the largest item body, in bytes.
const MaxItemSize = 64 << 10

// Item is a versioned JSON value.
type Item struct {
	ID        string
	Data      json.RawMessage
	Version   int64 // 1 for the first write, then one more on each write
	UpdatedAt time.Time
}

// ItemStore keeps items durably.
type ItemStore interface {
	// PutItem stores data under id and returns the stored item. The version
	// is raised atomically: N concurrent writes to one id leave version N
	// and return the versions 1..N, each once.
	PutItem(ctx context.Context, id string, data json.RawMessage) (Item, error)
	// Item returns ENOTFOUND when id was never written.
	Item(ctx context.Context, id string) (Item, error)
}

// ItemCache is a shared, lossy cache of items in front of an ItemStore.
// Every method may fail with EUNAVAILABLE; callers then use the store.
//
// A write goes HoldItem, ItemStore.PutItem, ReleaseItem. The hold is what
// keeps a read after a write from ever returning the older version: were
// the cache only updated after the store, a cache that failed just then
// would keep serving the old version.
type ItemCache interface {
	// CachedItem returns the cached item and true, or false on a miss. An
	// id held by a write in progress is a miss.
	CachedItem(ctx context.Context, id string) (Item, bool, error)
	// CacheItem stores it for ttl unless the cache holds a version of the
	// same id that is at least as new, or a write of the id is in progress,
	// atomically. So a reader that loaded v1 before a writer cached v2 can
	// never put v1 back.
	CacheItem(ctx context.Context, it Item, ttl time.Duration) error
	// HoldItem drops any cached version of id and marks a write of it in
	// progress for at most holdTTL: until as many ReleaseItem calls as
	// holds, CachedItem misses and CacheItem stores nothing. Holds nest.
	HoldItem(ctx context.Context, id string, holdTTL time.Duration) error
	// ReleaseItem ends one hold of it.ID and caches it for ttl unless a
	// version at least as new is cached, atomically. A hold never released
	// (the writer died, or the cache failed) ends after its holdTTL, and the
	// id is then a plain miss.
	ReleaseItem(ctx context.Context, it Item, ttl time.Duration) error
	// ForgetItem removes any cached version of id.
	ForgetItem(ctx context.Context, id string) error
}
