// Package redis keeps herd's shared, short-lived state in Redis: sessions,
// revoked access tokens, the item cache and idempotency records.
//
// One *Store works against a single Redis, a Sentinel-managed primary or a
// Redis Cluster. Every operation touches one key, or several keys that share a
// hash tag, so each runs on one Cluster slot; every multi-step operation is one
// Lua script or one MULTI transaction, so it is atomic and costs one round
// trip.
package redis

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"strings"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/herdhq/herd"
)

// Compile-time checks that *Store keeps the contracts it claims.
var (
	_ herd.SessionStore     = (*Store)(nil)
	_ herd.RevocationStore  = (*Store)(nil)
	_ herd.ItemCache        = (*Store)(nil)
	_ herd.IdempotencyStore = (*Store)(nil)
	_ herd.Pinger           = (*Store)(nil)
)

// Default timeouts. They are short on purpose: Redis answers in well under a
// millisecond, so a call that waits longer than this is talking to a Redis
// that is away, and the caller is better served by a quick 503.
const (
	DefaultPrefix       = "herd"
	DefaultDialTimeout  = 2 * time.Second
	DefaultReadTimeout  = time.Second
	DefaultWriteTimeout = time.Second
	DefaultPoolTimeout  = 1500 * time.Millisecond
)

// Config says which Redis to use. Exactly one of URL, SentinelMaster (with
// SentinelAddrs) and ClusterAddrs must be set.
type Config struct {
	// URL of a single Redis, e.g. redis://user:pass@host:6379/0 or rediss://…
	URL string
	// SentinelMaster names the primary that the Sentinels at SentinelAddrs
	// watch; the Store follows it through failovers.
	SentinelMaster string
	SentinelAddrs  []string
	// ClusterAddrs are seed nodes of a Redis Cluster.
	ClusterAddrs []string

	// Username and Password, when set, override those of URL.
	Username, Password string
	// DB, when not 0, overrides the database of URL. Cluster has only DB 0.
	DB int
	// TLS, when set, encrypts every connection (for URL, it replaces the
	// default that a rediss:// URL implies, e.g. to trust a private CA).
	TLS *tls.Config

	// Prefix starts every key, so that several deployments (or test runs)
	// can share one Redis. Default "herd". It may not contain braces: they
	// would break the hash tags that keep related keys in one slot.
	Prefix string

	// Timeouts; zero means the default above.
	DialTimeout, ReadTimeout, WriteTimeout, PoolTimeout time.Duration
	// PoolSize is the number of connections per node; zero means go-redis's
	// default (10 per CPU).
	PoolSize int
}

// Store implements herd's Redis-backed stores. It is safe for concurrent use.
type Store struct {
	client goredis.UniversalClient
	prefix string
}

// Open builds a Store from cfg. It does not connect: a replica whose Redis is
// down at start must still start (and report not ready), so Open fails only
// on an invalid cfg. Use Ping to learn whether Redis answers.
func Open(cfg Config) (*Store, error) {
	if cfg.Prefix == "" {
		cfg.Prefix = DefaultPrefix
	}
	if strings.ContainsAny(cfg.Prefix, "{}") {
		return nil, fmt.Errorf("redis: prefix %q may not contain braces", cfg.Prefix)
	}
	cfg.DialTimeout = orDefault(cfg.DialTimeout, DefaultDialTimeout)
	cfg.ReadTimeout = orDefault(cfg.ReadTimeout, DefaultReadTimeout)
	cfg.WriteTimeout = orDefault(cfg.WriteTimeout, DefaultWriteTimeout)
	cfg.PoolTimeout = orDefault(cfg.PoolTimeout, DefaultPoolTimeout)

	client, err := newClient(cfg)
	if err != nil {
		return nil, err
	}
	return &Store{client: client, prefix: cfg.Prefix}, nil
}

func orDefault(d, def time.Duration) time.Duration {
	if d <= 0 {
		return def
	}
	return d
}

func newClient(cfg Config) (goredis.UniversalClient, error) {
	kinds := 0
	for _, set := range []bool{cfg.URL != "", cfg.SentinelMaster != "" || len(cfg.SentinelAddrs) > 0, len(cfg.ClusterAddrs) > 0} {
		if set {
			kinds++
		}
	}
	if kinds != 1 {
		return nil, errors.New("redis: set exactly one of URL, SentinelMaster with SentinelAddrs, or ClusterAddrs")
	}

	// No retries: go-redis retries a command whose connection broke after it
	// was sent, and a script that ran but whose reply was lost would then run
	// twice (a session's views counted twice). A failed call becomes a 503
	// and the client retries the request instead. Connections that Redis
	// closed are still weeded out when taken from the pool.
	const noRetries = -1
	// One dial per attempt: go-redis would otherwise dial five times with
	// pauses between, multiplying DialTimeout while Redis is away.
	const dialOnce = 1

	switch {
	case cfg.URL != "":
		opt, err := goredis.ParseURL(cfg.URL)
		if err != nil {
			// ParseURL's error may quote the URL, password included.
			return nil, errors.New("redis: invalid URL")
		}
		if cfg.Username != "" {
			opt.Username = cfg.Username
		}
		if cfg.Password != "" {
			opt.Password = cfg.Password
		}
		if cfg.DB != 0 {
			opt.DB = cfg.DB
		}
		if cfg.TLS != nil {
			opt.TLSConfig = cfg.TLS
		}
		opt.DialTimeout = cfg.DialTimeout
		opt.ReadTimeout = cfg.ReadTimeout
		opt.WriteTimeout = cfg.WriteTimeout
		opt.PoolTimeout = cfg.PoolTimeout
		opt.ContextTimeoutEnabled = true
		opt.MaxRetries = noRetries
		opt.DialerRetries = dialOnce
		if cfg.PoolSize > 0 {
			opt.PoolSize = cfg.PoolSize
		}
		return goredis.NewClient(opt), nil

	case cfg.SentinelMaster != "":
		if len(cfg.SentinelAddrs) == 0 {
			return nil, errors.New("redis: SentinelMaster needs SentinelAddrs")
		}
		return goredis.NewFailoverClient(&goredis.FailoverOptions{
			MasterName:            cfg.SentinelMaster,
			SentinelAddrs:         cfg.SentinelAddrs,
			Username:              cfg.Username,
			Password:              cfg.Password,
			DB:                    cfg.DB,
			TLSConfig:             cfg.TLS,
			DialTimeout:           cfg.DialTimeout,
			ReadTimeout:           cfg.ReadTimeout,
			WriteTimeout:          cfg.WriteTimeout,
			PoolTimeout:           cfg.PoolTimeout,
			PoolSize:              cfg.PoolSize,
			ContextTimeoutEnabled: true,
			MaxRetries:            noRetries,
			DialerRetries:         dialOnce,
		}), nil

	case len(cfg.SentinelAddrs) > 0:
		return nil, errors.New("redis: SentinelAddrs need SentinelMaster")

	default:
		if cfg.DB != 0 {
			return nil, errors.New("redis: Redis Cluster has only DB 0")
		}
		// MaxRedirects stays at its default: following MOVED and ASK while
		// slots migrate is what keeps a resharding cluster usable.
		return goredis.NewClusterClient(&goredis.ClusterOptions{
			Addrs:                 cfg.ClusterAddrs,
			Username:              cfg.Username,
			Password:              cfg.Password,
			TLSConfig:             cfg.TLS,
			DialTimeout:           cfg.DialTimeout,
			ReadTimeout:           cfg.ReadTimeout,
			WriteTimeout:          cfg.WriteTimeout,
			PoolTimeout:           cfg.PoolTimeout,
			PoolSize:              cfg.PoolSize,
			ContextTimeoutEnabled: true,
			MaxRetries:            noRetries,
			DialerRetries:         dialOnce,
		}), nil
	}
}

// Close closes every connection. Calls after Close fail with EUNAVAILABLE.
func (s *Store) Close() error { return s.client.Close() }

// Ping reports whether Redis answers; on a Cluster, whether every primary
// does, since each holds a share of the keys.
func (s *Store) Ping(ctx context.Context) error {
	if c, ok := s.client.(*goredis.ClusterClient); ok {
		err := c.ForEachMaster(ctx, func(ctx context.Context, node *goredis.Client) error {
			return node.Ping(ctx).Err()
		})
		return s.fail("cache", err)
	}
	return s.fail("cache", s.client.Ping(ctx).Err())
}

// key joins the prefix and parts with ':'.
func (s *Store) key(parts ...string) string {
	return s.prefix + ":" + strings.Join(parts, ":")
}

// tag makes id a Cluster hash tag, so that every key built around it lands
// in the slot of id alone.
func tag(id string) string { return "{" + id + "}" }

// Redis error replies that mean "not now" rather than "wrong": the server is
// loading, failing over, out of memory or busy with a script. Any other
// reply (a wrong type, a script bug) is herd's fault and stays EINTERNAL.
var unavailableReplies = []string{
	"LOADING", "CLUSTERDOWN", "TRYAGAIN", "MASTERDOWN", "READONLY",
	"BUSY", "NOREPLICAS", "OOM", "ERR max number of clients",
}

// fail turns a go-redis error into herd's vocabulary: what is unavailable
// when Redis cannot be reached or cannot serve now, EINTERNAL otherwise.
// The driver's text stays in the wrapped error, for logs only.
func (s *Store) fail(what string, err error) error {
	if err == nil {
		return nil
	}
	var he *herd.Error
	if errors.As(err, &he) {
		return err
	}
	var re goredis.Error
	if errors.As(err, &re) {
		msg := re.Error()
		for _, p := range unavailableReplies {
			if strings.HasPrefix(msg, p) {
				return herd.Unavailable(what, err)
			}
		}
		return fmt.Errorf("redis %s: %w", what, err)
	}
	// Not a reply: the network, a timeout, a deadline, the pool or a closed
	// client. Each means Redis did not answer.
	return herd.Unavailable(what, err)
}
