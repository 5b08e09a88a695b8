package redis

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/herdhq/herd"
)

// A cached item is the hash {v, d, t} at <prefix>:item:{<id>}: its version,
// its data byte for byte, and its update time as RFC 3339 with nanoseconds,
// so that a cache hit answers exactly what the store answered on the miss.

func (s *Store) itemKey(id string) string { return s.key("item", tag(id)) }

// cacheScript writes the item unless the cache holds a version at least as
// new: the check and the write are one step, so a reader that loaded an old
// version can never put it back over a newer one.
//
// KEYS[1] the item; ARGV: version, data, updated_at, ttl in ms.
// Returns 1 when written, 0 when a newer or equal version was kept.
var cacheScript = goredis.NewScript(`
local cur = redis.call('HGET', KEYS[1], 'v')
if cur and tonumber(cur) >= tonumber(ARGV[1]) then
	return 0
end
redis.call('HSET', KEYS[1], 'v', ARGV[1], 'd', ARGV[2], 't', ARGV[3])
redis.call('PEXPIRE', KEYS[1], ARGV[4])
return 1
`)

// CachedItem returns the cached item and true, or false on a miss, with one
// HMGET.
func (s *Store) CachedItem(ctx context.Context, id string) (herd.Item, bool, error) {
	vals, err := s.client.HMGet(ctx, s.itemKey(id), "v", "d", "t").Result()
	if err != nil {
		return herd.Item{}, false, s.fail("cache", err)
	}
	if len(vals) != 3 || vals[0] == nil {
		return herd.Item{}, false, nil
	}
	it, err := itemFromFields(id, vals)
	if err != nil {
		// Only a bug writes an entry herd cannot read: say so rather than
		// answer a miss that would hide it.
		return herd.Item{}, false, fmt.Errorf("redis: cached item %s: %w", id, err)
	}
	return it, true, nil
}

func itemFromFields(id string, vals []any) (herd.Item, error) {
	v, ok0 := vals[0].(string)
	d, ok1 := vals[1].(string)
	t, ok2 := vals[2].(string)
	if !ok0 || !ok1 || !ok2 {
		return herd.Item{}, fmt.Errorf("incomplete entry")
	}
	version, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		return herd.Item{}, fmt.Errorf("version: %w", err)
	}
	var updated time.Time
	if err := updated.UnmarshalText([]byte(t)); err != nil {
		return herd.Item{}, fmt.Errorf("updated_at: %w", err)
	}
	return herd.Item{ID: id, Data: json.RawMessage(d), Version: version, UpdatedAt: updated}, nil
}

// CacheItem caches it for ttl unless a version at least as new is cached,
// atomically and in one round trip.
func (s *Store) CacheItem(ctx context.Context, it herd.Item, ttl time.Duration) error {
	ms := ttl.Milliseconds()
	if ms <= 0 {
		return nil
	}
	updated, err := it.UpdatedAt.MarshalText()
	if err != nil {
		return fmt.Errorf("redis: item %s: updated_at: %w", it.ID, err)
	}
	// Data goes as []byte: go-redis sends it unchanged, so the cache keeps
	// exactly the bytes it was given.
	err = cacheScript.Run(ctx, s.client, []string{s.itemKey(it.ID)},
		it.Version, []byte(it.Data), updated, ms).Err()
	return s.fail("cache", err)
}

// ForgetItem removes any cached version of id.
func (s *Store) ForgetItem(ctx context.Context, id string) error {
	return s.fail("cache", s.client.Del(ctx, s.itemKey(id)).Err())
}
