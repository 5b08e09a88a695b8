package redis

import (
	"context"
	"fmt"
	"strconv"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/herdhq/herd"
)

// An Idempotency-Key is the hash at <prefix>:idem:{<key>} with fields state
// ("claim" or "done") and fp (the request's fingerprint), and once done
// status, ct and body (the response). A claim lives for lockTTL, so the
// claim of a holder that died simply expires and the next request takes the
// key over; a response lives for its retention.

func (s *Store) idemKey(key string) string { return s.key("idem", tag(key)) }

// What beginScript found.
const (
	idemClaimed  = 0 // the caller holds the claim now
	idemDone     = 1 // followed by status, content type and body
	idemMismatch = 2
	idemConflict = 3
)

// beginScript: KEYS[1] the key; ARGV fingerprint, lockTTL in ms.
var beginScript = goredis.NewScript(`
local f = redis.call('HMGET', KEYS[1], 'state', 'fp', 'status', 'ct', 'body')
if not f[1] then
	redis.call('HSET', KEYS[1], 'state', 'claim', 'fp', ARGV[1])
	redis.call('PEXPIRE', KEYS[1], ARGV[2])
	return {0}
end
if f[2] ~= ARGV[1] then
	return {2}
end
if f[1] == 'done' then
	return {1, f[3], f[4], f[5]}
end
return {3}
`)

// completeScript stores the response over a claim. KEYS[1] the key; ARGV
// status, content type, body, retention in ms. Returns 1 when stored, 2 when
// a response was stored already (the first one stays), 0 when there is no
// claim.
var completeScript = goredis.NewScript(`
local state = redis.call('HGET', KEYS[1], 'state')
if state == 'done' then
	return 2
end
if state ~= 'claim' then
	return 0
end
redis.call('HSET', KEYS[1], 'state', 'done', 'status', ARGV[1], 'ct', ARGV[2], 'body', ARGV[3])
redis.call('PEXPIRE', KEYS[1], ARGV[4])
return 1
`)

// releaseScript deletes KEYS[1] if it is a claim, never a stored response.
var releaseScript = goredis.NewScript(`
if redis.call('HGET', KEYS[1], 'state') == 'claim' then
	redis.call('DEL', KEYS[1])
end
return 1
`)

// BeginIdempotent claims key, replays its response, or refuses, in one
// script (so of concurrent calls exactly one claims).
func (s *Store) BeginIdempotent(ctx context.Context, key, fingerprint string, lockTTL time.Duration) (*herd.IdempotentResponse, error) {
	res, err := beginScript.Run(ctx, s.client, []string{s.idemKey(key)},
		fingerprint, max(lockTTL.Milliseconds(), 1)).Slice()
	if err != nil {
		return nil, s.fail("idempotency store", err)
	}
	if len(res) == 0 {
		return nil, fmt.Errorf("redis: idempotency script returned nothing")
	}
	switch res[0] {
	case int64(idemClaimed):
		return nil, nil
	case int64(idemMismatch):
		return nil, herd.Errorf(herd.EMISMATCH, "idempotency key was used with another request")
	case int64(idemConflict):
		return nil, herd.Errorf(herd.ECONFLICT, "a request with this idempotency key is in progress")
	case int64(idemDone):
		r, err := responseFromReply(res[1:])
		if err != nil {
			return nil, fmt.Errorf("redis: idempotency key %s: %w", key, err)
		}
		return r, nil
	}
	return nil, fmt.Errorf("redis: idempotency script returned %v", res[0])
}

func responseFromReply(res []any) (*herd.IdempotentResponse, error) {
	if len(res) != 3 {
		return nil, fmt.Errorf("stored response has %d fields, want 3", len(res))
	}
	status, ok0 := res[0].(string)
	ct, ok1 := res[1].(string)
	body, ok2 := res[2].(string)
	if !ok0 || !ok1 || !ok2 {
		return nil, fmt.Errorf("stored response is incomplete")
	}
	code, err := strconv.Atoi(status)
	if err != nil {
		return nil, fmt.Errorf("status: %w", err)
	}
	r := &herd.IdempotentResponse{Status: code, ContentType: ct}
	if body != "" {
		r.Body = []byte(body)
	}
	return r, nil
}

// CompleteIdempotent stores r as the answer to key for retention. It returns
// ECONFLICT when key is not claimed (the claim outlived its lockTTL and
// expired): the answer cannot be kept, since it is not known which request
// it answers. Completing a key twice keeps the first answer.
func (s *Store) CompleteIdempotent(ctx context.Context, key string, r herd.IdempotentResponse, retention time.Duration) error {
	n, err := completeScript.Run(ctx, s.client, []string{s.idemKey(key)},
		r.Status, r.ContentType, r.Body, max(retention.Milliseconds(), 1)).Int()
	if err != nil {
		return s.fail("idempotency store", err)
	}
	if n == 0 {
		return herd.Errorf(herd.ECONFLICT, "idempotency key is not claimed")
	}
	return nil
}

// ReleaseIdempotent drops the claim on key, so that a retry acts afresh. A
// stored answer is kept.
func (s *Store) ReleaseIdempotent(ctx context.Context, key string) error {
	return s.fail("idempotency store", releaseScript.Run(ctx, s.client, []string{s.idemKey(key)}).Err())
}
