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
// A field h counts the writes of the item in progress (HoldItem); while it
// is above zero the entry is a miss and readers cannot fill it.

func (s *Store) itemKey(id string) string { return s.key("item", tag(id)) }

// cacheScript writes the item unless the cache holds a version at least as
// new: the check and the write are one step, so a reader that loaded an old
// version can never put it back over a newer one.
//
// KEYS[1] the item; ARGV: version, data, updated_at, ttl in ms.
// Returns 1 when written, 0 when a newer or equal version was kept.
var cacheScript = goredis.NewScript(`
local cur, held = unpack(redis.call('HMGET', KEYS[1], 'v', 'h'))
if held and tonumber(held) > 0 then
	return 0
end
if cur and tonumber(cur) >= tonumber(ARGV[1]) then
	return 0
end
redis.call('HSET', KEYS[1], 'v', ARGV[1], 'd', ARGV[2], 't', ARGV[3])
redis.call('PEXPIRE', KEYS[1], ARGV[4])
return 1
`)

// holdItemScript drops the cached version and counts one more write in
// progress, for at most the hold's ttl.
//
// KEYS[1] the item; ARGV: hold ttl in ms.
var holdItemScript = goredis.NewScript(`
redis.call('HDEL', KEYS[1], 'v', 'd', 't')
redis.call('HINCRBY', KEYS[1], 'h', 1)
redis.call('PEXPIRE', KEYS[1], ARGV[1])
return 1
`)

// releaseItemScript ends one hold and caches the version just written unless a
// newer one is cached. While other holds remain the entry stays a miss and
// keeps their expiry; the last release gives it the cache ttl.
//
// KEYS[1] the item; ARGV: version, data, updated_at, ttl in ms.
var releaseItemScript = goredis.NewScript(`
local held = redis.call('HINCRBY', KEYS[1], 'h', -1)
if held <= 0 then
	redis.call('HDEL', KEYS[1], 'h')
end
local cur = redis.call('HGET', KEYS[1], 'v')
if not cur or tonumber(cur) < tonumber(ARGV[1]) then
	redis.call('HSET', KEYS[1], 'v', ARGV[1], 'd', ARGV[2], 't', ARGV[3])
end
if held <= 0 then
	redis.call('PEXPIRE', KEYS[1], ARGV[4])
end
return 1
`)

// CachedItem returns the cached item and true, or false on a miss, with one
// HMGET.
func (s *Store) CachedItem(ctx context.Context, id string) (herd.Item, bool, error) {
	vals, err := s.client.HMGet(ctx, s.itemKey(id), "v", "d", "t", "h").Result()
	if err != nil {
		return herd.Item{}, false, s.fail("cache", err)
	}
	if len(vals) != 4 || vals[0] == nil || vals[3] != nil && vals[3] != "0" {
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

// HoldItem marks a write of id in progress; see herd.ItemCache.
func (s *Store) HoldItem(ctx context.Context, id string, holdTTL time.Duration) error {
	ms := max(holdTTL.Milliseconds(), 1)
	return s.fail("cache", holdItemScript.Run(ctx, s.client, []string{s.itemKey(id)}, ms).Err())
}

// ReleaseItem ends one hold of it.ID and caches it; see herd.ItemCache.
func (s *Store) ReleaseItem(ctx context.Context, it herd.Item, ttl time.Duration) error {
	updated, err := it.UpdatedAt.MarshalText()
	if err != nil {
		return fmt.Errorf("redis: item %s: updated_at: %w", it.ID, err)
	}
	err = releaseItemScript.Run(ctx, s.client, []string{s.itemKey(it.ID)},
		it.Version, []byte(it.Data), updated, max(ttl.Milliseconds(), 1)).Err()
	return s.fail("cache", err)
}

// ForgetItem removes any cached version of id.
func (s *Store) ForgetItem(ctx context.Context, id string) error {
	return s.fail("cache", s.client.Del(ctx, s.itemKey(id)).Err())
}
