package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/herdhq/herd"
	"github.com/herdhq/herd/auth"
	"github.com/herdhq/herd/batchlog"
	"github.com/herdhq/herd/blob"
	"github.com/herdhq/herd/health"
	herdhttp "github.com/herdhq/herd/http"
	"github.com/herdhq/herd/internal/config"
	"github.com/herdhq/herd/itemcache"
	"github.com/herdhq/herd/postgres"
	"github.com/herdhq/herd/redis"
	"github.com/herdhq/herd/reqctx"
	"github.com/herdhq/herd/sqlite"
)

func serve(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("herd serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintln(stderr, "Usage: herd serve\n\nherd serve is configured by the environment:")
		config.PrintHelp(stderr)
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return err
	}
	cfg, err := config.Load(getenv)
	if err != nil {
		return fmt.Errorf("invalid configuration:\n%w", err)
	}
	log, logs := newLogger(cfg, stdout)
	defer logs.close()
	started := time.Now()

	b, err := openBackends(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer b.close()

	tokens, err := loadTokens(ctx, cfg, b.signingKeys)
	if err != nil {
		return err
	}
	checker := health.New(cfg.CheckTimeout,
		health.Check{Name: "database", Check: b.records.Ping},
		health.Check{Name: "cache", Check: b.cachePing},
		health.Check{Name: "storage", Check: b.files.Ping},
	)
	handler := herdhttp.NewServer(herdhttp.Deps{
		Log:        log,
		InstanceID: cfg.InstanceID,
		Users:      b.users, Counters: b.counters, Refresh: b.refresh,
		Revocations: b.revocations, Sessions: b.sessions, Idempotency: b.idempotency,
		Items: &itemcache.Items{
			Store: b.items, Cache: b.cache, TTL: cfg.CacheTTL, HoldTTL: 2 * cfg.RequestTimeout,
			LoadTimeout: cfg.RequestTimeout, Log: log,
		},
		Files:   b.files,
		Tokens:  tokens,
		Health:  checker,
		Metrics: herdhttp.NewMetrics(),
		Limits: herdhttp.Limits{
			RequestTimeout: cfg.RequestTimeout, MaxHeaderBytes: cfg.MaxHeaderBytes, MaxFileSize: cfg.MaxFileSize,
			AccessTTL: cfg.JWTAccessTTL, RefreshTTL: cfg.RefreshTTL,
			SessionIdle: cfg.SessionIdle, SessionLifetime: cfg.SessionLifetime,
			CookieSecure: cfg.CookieSecure, RevocationFailOpen: cfg.RevocationFailOpen,
			IdempotencyLockTTL: cfg.IdempotencyLockTTL, IdempotencyRetained: cfg.IdempotencyRetained,
		},
	})

	srv := &http.Server{
		Handler:           handler,
		ReadHeaderTimeout: cfg.ReadHeaderTimeout,
		ReadTimeout:       cfg.ReadTimeout,
		WriteTimeout:      cfg.WriteTimeout,
		IdleTimeout:       cfg.IdleTimeout,
		MaxHeaderBytes:    cfg.MaxHeaderBytes + herdhttp.HeaderSlack,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
		// Requests outlive the signal context: the drain must let them
		// finish, so their base context is not the one SIGTERM cancels.
		BaseContext: func(net.Listener) context.Context { return context.WithoutCancel(ctx) },
	}
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return fmt.Errorf("HERD_ADDR=%s: %w", cfg.Addr, err)
	}
	log.Info("listening", "addr", ln.Addr().String(), "backends", b.describe, "startup_ms", time.Since(started).Milliseconds())
	// Whoever started herd may be waiting for that line.
	logs.flush()

	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	if b.prune != nil {
		go b.prune(ctx, log)
	}

	select {
	case err := <-served:
		return fmt.Errorf("serving: %w", err)
	case <-ctx.Done():
	}
	// Drain: leave the load balancer's rotation first, keep serving what it
	// still sends until it has noticed, then stop taking connections and let
	// the requests in flight finish.
	checker.Drain()
	log.Info("draining", "drain_delay", cfg.DrainDelay.String())
	select {
	case <-time.After(cfg.DrainDelay):
	case err := <-served:
		return fmt.Errorf("serving: %w", err)
	}
	log.Info("shutting down", "timeout", cfg.ShutdownTimeout.String())
	// A fresh context: the signal context is already done and would give
	// Shutdown no grace at all.
	shutdownCtx, cancel := context.WithTimeout(context.Background(), cfg.ShutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	log.Info("stopped")
	return nil
}

// newLogger logs JSON (or text) lines to w with each request's
// correlation. Info lines are batched into one write per
// HERD_LOG_FLUSH_INTERVAL: a write per request line costs more than the rest
// of herd's own work on a request. Close the logOutput last.
func newLogger(cfg config.Config, w io.Writer) (*slog.Logger, *logOutput) {
	var level slog.Level
	level.UnmarshalText([]byte(cfg.LogLevel))
	opts := &slog.HandlerOptions{Level: level}
	out := &logOutput{}
	if cfg.LogFlush > 0 {
		out.batched = batchlog.NewWriter(w, 64<<10)
		w = out.batched
		ctx, stop := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() { out.batched.FlushEvery(ctx, cfg.LogFlush); close(done) }()
		out.stop = func() { stop(); <-done }
	}
	var h slog.Handler = slog.NewJSONHandler(w, opts)
	if cfg.LogFormat == "text" {
		h = slog.NewTextHandler(w, opts)
	}
	if out.batched != nil {
		h = batchlog.Handler{Handler: h, W: out.batched, Level: slog.LevelWarn}
	}
	return slog.New(reqctx.LogHandler{Handler: h}).With("instance_id", cfg.InstanceID), out
}

// logOutput is where the log lines go: batched, or written at once.
type logOutput struct {
	batched *batchlog.Writer
	stop    func()
}

func (o *logOutput) flush() {
	if o.batched != nil {
		o.batched.Flush()
	}
}

func (o *logOutput) close() {
	if o.stop != nil {
		o.stop()
	}
}

// backends are the stores herd serve runs on: the embedded default, or
// PostgreSQL, Redis and object storage, in any mix the configuration names.
type backends struct {
	records     herd.Pinger
	users       herd.UserStore
	counters    herd.CounterStore
	items       herd.ItemStore
	refresh     herd.RefreshTokenStore
	idempotency herd.IdempotencyStore
	signingKeys herd.SigningKeyStore
	sessions    herd.SessionStore
	revocations herd.RevocationStore
	cache       herd.ItemCache // nil on the embedded default
	cachePing   func(context.Context) error
	files       *blob.Store
	describe    string
	prune       func(context.Context, *slog.Logger)
	closers     []func()
}

func (b *backends) close() {
	for i := len(b.closers) - 1; i >= 0; i-- {
		b.closers[i]()
	}
}

func openBackends(ctx context.Context, cfg config.Config, log *slog.Logger) (_ *backends, err error) {
	b := &backends{}
	defer func() {
		if err != nil {
			b.close()
		}
	}()
	var lite *sqlite.DB
	openSQLite := func() (*sqlite.DB, error) {
		if lite != nil {
			return lite, nil
		}
		if err := os.MkdirAll(cfg.DataDir, 0o750); err != nil {
			return nil, fmt.Errorf("HERD_DATA_DIR: %w", err)
		}
		db, err := sqlite.Open(ctx, filepath.Join(cfg.DataDir, "herd.db"))
		if err != nil {
			return nil, fmt.Errorf("HERD_DATA_DIR: opening SQLite: %w", err)
		}
		lite = db
		b.closers = append(b.closers, func() { db.Close() })
		b.prune = func(ctx context.Context, log *slog.Logger) { pruneLoop(ctx, log, db) }
		return db, nil
	}

	// Records: PostgreSQL or SQLite.
	if cfg.DatabaseURL != "" {
		pg, err := postgres.Open(ctx, postgresConfig(cfg))
		if err != nil {
			return nil, fmt.Errorf("DATABASE_URL: %w", err)
		}
		b.closers = append(b.closers, pg.Close)
		b.records, b.users, b.counters, b.items, b.refresh, b.idempotency, b.signingKeys = pg, pg, pg, pg, pg, pg, pg
		b.describe = "postgres"
	} else {
		db, err := openSQLite()
		if err != nil {
			return nil, err
		}
		b.records, b.users, b.counters, b.items, b.refresh, b.idempotency, b.signingKeys = db, db, db, db, db, db, db
		b.describe = "sqlite"
	}

	// Sessions, revocations and the item cache: Redis or SQLite.
	if cfg.RedisConfigured() {
		rs, err := redis.Open(redis.Config{
			URL: cfg.RedisURL, SentinelMaster: cfg.RedisSentinelName, SentinelAddrs: cfg.RedisSentinels,
			ClusterAddrs: cfg.RedisCluster, Password: cfg.RedisPassword, Prefix: cfg.RedisPrefix,
			DialTimeout: 2 * cfg.RedisTimeout, ReadTimeout: cfg.RedisTimeout, WriteTimeout: cfg.RedisTimeout,
			PoolTimeout: cfg.RedisTimeout + cfg.RedisTimeout/2,
		})
		if err != nil {
			return nil, fmt.Errorf("redis: %w", err)
		}
		redis.SetLogger(log)
		b.closers = append(b.closers, func() { rs.Close() })
		b.sessions, b.revocations, b.cache, b.cachePing = rs, rs, rs, rs.Ping
		b.describe += "+redis"
	} else {
		if cfg.DatabaseURL != "" {
			// Sessions on a replica's own disk would break the moment a
			// second machine joins.
			return nil, errors.New("DATABASE_URL is set but Redis is not: sessions and revocations need REDIS_URL, HERD_REDIS_SENTINEL_MASTER or HERD_REDIS_CLUSTER_ADDRS")
		}
		db, err := openSQLite()
		if err != nil {
			return nil, err
		}
		b.sessions, b.revocations, b.cachePing = db, db, db.Ping
	}

	// Files: object storage or the data directory's blobs/ folder.
	if cfg.BlobURL != "" {
		files, err := blob.Open(ctx, cfg.BlobURL)
		if err != nil {
			return nil, fmt.Errorf("BLOB_URL: %w", err)
		}
		b.files = files
		b.describe += "+objectstorage"
	} else {
		files, err := blob.OpenDir(ctx, filepath.Join(cfg.DataDir, "blobs"))
		if err != nil {
			return nil, fmt.Errorf("HERD_DATA_DIR: opening blobs/: %w", err)
		}
		b.files = files
		b.describe += "+blobdir"
	}
	b.closers = append(b.closers, func() { b.files.Close() })
	return b, nil
}

func postgresConfig(cfg config.Config) postgres.Config {
	return postgres.Config{
		URL: cfg.DatabaseURL, MaxConns: int32(cfg.DBMaxConns),
		ConnectTimeout: cfg.DBConnectTimeout, QueryTimeout: cfg.DBQueryTimeout, Schema: cfg.DBSchema,
	}
}

// loadTokens returns the token issuer: the configured key, or else the key
// every replica shares through the record store, made by whichever replica
// came first.
func loadTokens(ctx context.Context, cfg config.Config, keys herd.SigningKeyStore) (*auth.Tokens, error) {
	var previous []auth.PublicKey
	if cfg.JWTPreviousKeys != "" {
		var err error
		if previous, err = auth.ParsePublicKeysPEM([]byte(cfg.JWTPreviousKeys)); err != nil {
			return nil, fmt.Errorf("HERD_JWT_PREVIOUS_KEYS: %w", err)
		}
	}
	tcfg := auth.Config{Issuer: cfg.JWTIssuer, Audience: cfg.JWTAudience, AccessTTL: cfg.JWTAccessTTL, Leeway: cfg.JWTLeeway}
	if cfg.JWTPrivateKey != "" {
		key, err := auth.ParsePrivateKeyPEM([]byte(cfg.JWTPrivateKey))
		if err != nil {
			return nil, fmt.Errorf("HERD_JWT_PRIVATE_KEY: %w", err)
		}
		return auth.NewTokens(tcfg, key, previous...), nil
	}
	key, err := auth.SharedKey(ctx, keys)
	if err != nil {
		return nil, fmt.Errorf("loading the shared signing key: %w", err)
	}
	return auth.NewTokens(tcfg, key, previous...), nil
}

// pruneLoop forgets expired sessions, revocations and idempotency records
// of the embedded store, so the file does not grow without bound.
func pruneLoop(ctx context.Context, log *slog.Logger, db *sqlite.DB) {
	t := time.NewTicker(time.Minute)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			pctx, cancel := context.WithTimeout(ctx, 10*time.Second)
			if err := db.Prune(pctx); err != nil {
				log.Warn("pruning expired records failed", "err", err)
			}
			cancel()
		}
	}
}

func migrate(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	cfg, err := config.Load(getenv)
	if err != nil {
		return fmt.Errorf("invalid configuration:\n%w", err)
	}
	if cfg.DatabaseURL != "" {
		if err := postgres.Migrate(ctx, postgresConfig(cfg)); err != nil {
			return err
		}
		fmt.Fprintln(stdout, "PostgreSQL schema is up to date")
		return nil
	}
	if err := os.MkdirAll(cfg.DataDir, 0o750); err != nil {
		return err
	}
	db, err := sqlite.Open(ctx, filepath.Join(cfg.DataDir, "herd.db"))
	if err != nil {
		return err
	}
	fmt.Fprintln(stdout, "SQLite schema in", cfg.DataDir, "is up to date")
	return db.Close()
}
