package redis

import (
	"context"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/herdhq/herd"
)

// Revocations are marker keys that expire with the tokens they revoke:
// <prefix>:rev:{<family>}:f for a whole login and
// <prefix>:rev:{<family>}:j:<jti> for one access token. Both carry the
// family as hash tag, so IsRevoked is one EXISTS of two keys in one slot.

func (s *Store) familyKey(familyID string) string { return s.key("rev", tag(familyID), "f") }

func (s *Store) tokenKey(familyID, jti string) string {
	return s.key("rev", tag(familyID), "j", jti)
}

// extendScript makes KEYS[1] live at least ARGV[1] ms more: a second
// revocation with an earlier until must not shorten the first.
var extendScript = goredis.NewScript(`
local ttl = tonumber(ARGV[1])
if redis.call('PTTL', KEYS[1]) < ttl then
	redis.call('SET', KEYS[1], '1', 'PX', ttl)
end
return 1
`)

// RevokeAccessToken revokes the access token jti of familyID until until.
func (s *Store) RevokeAccessToken(ctx context.Context, familyID, jti string, until time.Time) error {
	if err := checkFamily(familyID); err != nil {
		return err
	}
	return s.revoke(ctx, s.tokenKey(familyID, jti), until)
}

// RevokeFamily revokes every access token of familyID until until.
func (s *Store) RevokeFamily(ctx context.Context, familyID string, until time.Time) error {
	if err := checkFamily(familyID); err != nil {
		return err
	}
	return s.revoke(ctx, s.familyKey(familyID), until)
}

func (s *Store) revoke(ctx context.Context, key string, until time.Time) error {
	ttl := time.Until(until).Milliseconds()
	if ttl <= 0 {
		// The token has expired already: nothing is left to revoke.
		return nil
	}
	return s.fail("revocation store", extendScript.Run(ctx, s.client, []string{key}, ttl).Err())
}

// IsRevoked reports whether jti or its whole family is revoked, with one
// EXISTS command.
func (s *Store) IsRevoked(ctx context.Context, familyID, jti string) (bool, error) {
	if err := checkFamily(familyID); err != nil {
		return false, err
	}
	n, err := s.client.Exists(ctx, s.familyKey(familyID), s.tokenKey(familyID, jti)).Result()
	if err != nil {
		return false, s.fail("revocation store", err)
	}
	return n > 0, nil
}

// checkFamily refuses an empty family: its hash tag "{}" would be empty, and
// Redis Cluster hashes keys with an empty tag whole, which would put the two
// keys IsRevoked reads in different slots.
func checkFamily(familyID string) error {
	if familyID == "" {
		return herd.Errorf(herd.EINVALID, "token family is empty")
	}
	return nil
}
