package main

import (
	"context"
	"fmt"
	"net/url"
	"strings"

	"github.com/jackc/pgx/v5"
	goredis "github.com/redis/go-redis/v9"
)

// backends are the runner's own connections to PostgreSQL and Redis: to
// name their versions, and to remove what the run left behind.
type backends struct {
	pg    *pgx.Conn
	redis *goredis.Client
}

func openBackends(ctx context.Context, databaseURL, redisURL string) (*backends, error) {
	pg, err := pgx.Connect(ctx, databaseURL)
	if err != nil {
		return nil, fmt.Errorf("PostgreSQL at %s: %w", redactURL(databaseURL), err)
	}
	opt, err := goredis.ParseURL(redisURL)
	if err != nil {
		pg.Close(ctx)
		return nil, fmt.Errorf("Redis URL: %w", err)
	}
	redis := goredis.NewClient(opt)
	if err := redis.Ping(ctx).Err(); err != nil {
		pg.Close(ctx)
		redis.Close()
		return nil, fmt.Errorf("Redis at %s: %w", opt.Addr, err)
	}
	return &backends{pg: pg, redis: redis}, nil
}

func (b *backends) versions(ctx context.Context) (postgres, redis string) {
	b.pg.QueryRow(ctx, "SHOW server_version").Scan(&postgres)
	if info, err := b.redis.Info(ctx, "server").Result(); err == nil {
		for line := range strings.Lines(info) {
			if v, ok := strings.CutPrefix(strings.TrimSpace(line), "redis_version:"); ok {
				redis = v
			}
		}
	}
	return postgres, redis
}

// forget drops the run's schema and deletes its Redis keys.
func (b *backends) forget(ctx context.Context, schema, prefix string) error {
	if _, err := b.pg.Exec(ctx, "DROP SCHEMA IF EXISTS "+pgx.Identifier{schema}.Sanitize()+" CASCADE"); err != nil {
		return fmt.Errorf("dropping schema %s: %w", schema, err)
	}
	iter := b.redis.Scan(ctx, 0, prefix+":*", 1000).Iterator()
	for iter.Next(ctx) {
		b.redis.Unlink(ctx, iter.Val())
	}
	if err := iter.Err(); err != nil {
		return fmt.Errorf("deleting keys %s:*: %w", prefix, err)
	}
	return nil
}

func (b *backends) close(ctx context.Context) {
	b.pg.Close(ctx)
	b.redis.Close()
}

func redactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(invalid URL)"
	}
	return u.Redacted()
}

// throughProxy returns rawURL pointing at addr instead, keeping the
// database, credentials and options, and without TLS: the proxy reads the
// protocol in the clear.
func throughProxy(rawURL, addr string, pg bool) (string, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return "", err
	}
	u.Host = addr
	if pg {
		q := u.Query()
		q.Set("sslmode", "disable")
		u.RawQuery = q.Encode()
	}
	return u.String(), nil
}

// hostOf returns the host:port of a PostgreSQL or Redis URL.
func hostOf(rawURL, defaultPort string) (string, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return "", err
	}
	if u.Port() == "" {
		return u.Hostname() + ":" + defaultPort, nil
	}
	return u.Host, nil
}
