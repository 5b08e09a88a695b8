package redis

import goredis "github.com/redis/go-redis/v9"

// AddHook lets tests watch the commands a Store sends.
func AddHook(s *Store, h goredis.Hook) { s.client.AddHook(h) }
