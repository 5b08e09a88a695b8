package redis

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/herdhq/herd"
)

// A session is the hash {user_id, email, views, created_at, expires_at} at
// <prefix>:sess:{<id>}, times in Unix milliseconds (the precision the
// contract asks for, and exact in Lua's floating-point numbers). Redis deletes it at the
// earlier of its idle deadline and its absolute expiry: its TTL is always
// capped at the absolute expiry, so no reader ever sees an expired session.

func (s *Store) sessionKey(id string) string { return s.key("sess", tag(id)) }

// touchScript raises views, slides the idle deadline (capped at the absolute
// expiry) and returns the session, in one step per session.
//
// KEYS[1] the session; ARGV[1] now in Unix ms; ARGV[2] idle in ms.
// Returns nil when there is no live session, else
// {views, user_id, email, created_at, expires_at}.
var touchScript = goredis.NewScript(`
local f = redis.call('HMGET', KEYS[1], 'user_id', 'email', 'created_at', 'expires_at')
if not f[1] then
	return false
end
local now = tonumber(ARGV[1])
local ttl = math.min(tonumber(ARGV[2]), tonumber(f[4]) - now)
if ttl <= 0 then
	-- The clocks of the replica that set the TTL and of this one differ a
	-- little; the absolute expiry wins.
	redis.call('DEL', KEYS[1])
	return false
end
local views = redis.call('HINCRBY', KEYS[1], 'views', 1)
redis.call('PEXPIRE', KEYS[1], ttl)
return {views, f[1], f[2], f[3], f[4]}
`)

// CreateSession stores sess with Views 0, to live for idle unless touched,
// never past sess.ExpiresAt. An existing session with the same id is
// replaced. A session whose expiry has passed already is not stored.
func (s *Store) CreateSession(ctx context.Context, sess herd.Session, idle time.Duration) error {
	ttl := min(idle, time.Until(sess.ExpiresAt))
	if ttl < time.Millisecond {
		return nil
	}
	key := s.sessionKey(sess.ID)
	// MULTI/EXEC: the hash never exists without its TTL, and the whole
	// transaction is one round trip.
	_, err := s.client.TxPipelined(ctx, func(p goredis.Pipeliner) error {
		p.Del(ctx, key)
		p.HSet(ctx, key,
			"user_id", sess.UserID,
			"email", sess.Email,
			"views", 0,
			"created_at", sess.CreatedAt.UnixMilli(),
			"expires_at", sess.ExpiresAt.UnixMilli(),
		)
		p.PExpire(ctx, key, ttl)
		return nil
	})
	return s.fail("session store", err)
}

// TouchSession adds one view and slides the idle deadline, atomically and in
// one round trip (one EVALSHA). It returns ENOTFOUND when there is no live
// session with this id.
func (s *Store) TouchSession(ctx context.Context, id string, idle time.Duration) (herd.Session, error) {
	res, err := touchScript.Run(ctx, s.client, []string{s.sessionKey(id)},
		time.Now().UnixMilli(), max(idle.Milliseconds(), 1)).Slice()
	if errors.Is(err, goredis.Nil) {
		return herd.Session{}, herd.Errorf(herd.ENOTFOUND, "session not found")
	}
	if err != nil {
		return herd.Session{}, s.fail("session store", err)
	}
	sess, err := sessionFromReply(id, res)
	if err != nil {
		return herd.Session{}, fmt.Errorf("redis: session %s: %w", id, err)
	}
	return sess, nil
}

// sessionFromReply reads touchScript's reply.
func sessionFromReply(id string, res []any) (herd.Session, error) {
	if len(res) != 5 {
		return herd.Session{}, fmt.Errorf("script returned %d values, want 5", len(res))
	}
	views, ok := res[0].(int64)
	userID, ok1 := res[1].(string)
	email, ok2 := res[2].(string)
	created, ok3 := res[3].(string)
	expires, ok4 := res[4].(string)
	if !ok || !ok1 || !ok2 || !ok3 || !ok4 {
		return herd.Session{}, fmt.Errorf("script returned unexpected types %T %T %T %T %T", res...)
	}
	createdMS, err := strconv.ParseInt(created, 10, 64)
	if err != nil {
		return herd.Session{}, fmt.Errorf("created_at: %w", err)
	}
	expiresMS, err := strconv.ParseInt(expires, 10, 64)
	if err != nil {
		return herd.Session{}, fmt.Errorf("expires_at: %w", err)
	}
	return herd.Session{
		ID:        id,
		UserID:    userID,
		Email:     email,
		Views:     views,
		CreatedAt: time.UnixMilli(createdMS),
		ExpiresAt: time.UnixMilli(expiresMS),
	}, nil
}

// DeleteSession removes the session; an unknown id is not an error.
func (s *Store) DeleteSession(ctx context.Context, id string) error {
	return s.fail("session store", s.client.Del(ctx, s.sessionKey(id)).Err())
}
