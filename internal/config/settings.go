package config

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"net"
	"os"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/herdhq/herd"
)

// Setting is one row of the configuration table.
type Setting struct {
	Name    string
	Default string
	Help    string
	Secret  bool          // may be given as Name_FILE
	Compute func() string // a default that depends on the machine
	set     func(c *Config, raw string) error
}

// Settings is the whole table, in the order --help prints it.
var Settings = []Setting{
	text("HERD_ADDR", ":8080", "address to listen on", func(c *Config) *string { return &c.Addr }, validAddr),
	{Name: "HERD_INSTANCE_ID", Help: "this replica's id in X-Instance-ID and logs (default: hostname plus a random suffix)",
		Compute: defaultInstanceID, set: func(c *Config, raw string) error {
			if !herd.ValidID(raw) {
				return fmt.Errorf("want 1-128 characters of [A-Za-z0-9._-]")
			}
			c.InstanceID = raw
			return nil
		}},
	text("HERD_DATA_DIR", "./herd-data", "data directory of the embedded default (SQLite and blobs/)", func(c *Config) *string { return &c.DataDir }, nil),
	oneOf("HERD_LOG_LEVEL", "info", "log level", func(c *Config) *string { return &c.LogLevel }, "debug", "info", "warn", "error"),
	oneOf("HERD_LOG_FORMAT", "json", "log format", func(c *Config) *string { return &c.LogFormat }, "json", "text"),
	durationOrOff("HERD_LOG_FLUSH_INTERVAL", "50ms", "info lines are written in batches at this interval (warnings and errors at once); 0 writes every line at once", func(c *Config) *time.Duration { return &c.LogFlush }),
	duration("HERD_DRAIN_DELAY", "5s", "after SIGTERM: how long readiness is 503 while requests are still served", func(c *Config) *time.Duration { return &c.DrainDelay }),
	duration("HERD_SHUTDOWN_TIMEOUT", "20s", "after the drain delay: how long in-flight requests get to finish", func(c *Config) *time.Duration { return &c.ShutdownTimeout }),
	duration("HERD_CHECK_TIMEOUT", "1s", "timeout of each readiness check", func(c *Config) *time.Duration { return &c.CheckTimeout }),
	duration("HERD_REQUEST_TIMEOUT", "10s", "deadline of each request's work, backend calls included", func(c *Config) *time.Duration { return &c.RequestTimeout }),
	duration("HERD_READ_HEADER_TIMEOUT", "5s", "http.Server ReadHeaderTimeout (slowloris)", func(c *Config) *time.Duration { return &c.ReadHeaderTimeout }),
	duration("HERD_READ_TIMEOUT", "60s", "http.Server ReadTimeout (a whole request, body included)", func(c *Config) *time.Duration { return &c.ReadTimeout }),
	duration("HERD_WRITE_TIMEOUT", "60s", "http.Server WriteTimeout", func(c *Config) *time.Duration { return &c.WriteTimeout }),
	duration("HERD_IDLE_TIMEOUT", "120s", "http.Server IdleTimeout for keep-alive connections", func(c *Config) *time.Duration { return &c.IdleTimeout }),
	integer("HERD_MAX_HEADER_BYTES", "65536", "http.Server MaxHeaderBytes", func(c *Config) *int { return &c.MaxHeaderBytes }),

	secret("DATABASE_URL", "", "PostgreSQL URL; unset: SQLite in HERD_DATA_DIR", func(c *Config) *string { return &c.DatabaseURL }),
	integer("HERD_DB_MAX_CONNS", "10", "PostgreSQL pool size", func(c *Config) *int { return &c.DBMaxConns }),
	duration("HERD_DB_CONNECT_TIMEOUT", "5s", "PostgreSQL connect timeout", func(c *Config) *time.Duration { return &c.DBConnectTimeout }),
	duration("HERD_DB_QUERY_TIMEOUT", "3s", "deadline of each database query", func(c *Config) *time.Duration { return &c.DBQueryTimeout }),
	text("HERD_DB_SCHEMA", "", "PostgreSQL schema for herd's tables, created when missing (default: the server's search_path)", func(c *Config) *string { return &c.DBSchema }, nil),
	secret("REDIS_URL", "", "Redis URL of a single node; unset (and no Sentinel or Cluster): sessions etc. in SQLite", func(c *Config) *string { return &c.RedisURL }),
	text("HERD_REDIS_SENTINEL_MASTER", "", "Redis Sentinel master name", func(c *Config) *string { return &c.RedisSentinelName }, nil),
	list("HERD_REDIS_SENTINEL_ADDRS", "", "Redis Sentinel addresses, comma-separated", func(c *Config) *[]string { return &c.RedisSentinels }),
	list("HERD_REDIS_CLUSTER_ADDRS", "", "Redis Cluster seed addresses, comma-separated", func(c *Config) *[]string { return &c.RedisCluster }),
	secret("HERD_REDIS_PASSWORD", "", "Redis password for Sentinel or Cluster (REDIS_URL carries its own)", func(c *Config) *string { return &c.RedisPassword }),
	text("HERD_REDIS_PREFIX", "herd", "prefix of every Redis key", func(c *Config) *string { return &c.RedisPrefix }, nil),
	duration("HERD_REDIS_TIMEOUT", "1s", "Redis read and write timeout (dial: twice this)", func(c *Config) *time.Duration { return &c.RedisTimeout }),
	secret("BLOB_URL", "", "object storage URL (s3://bucket?endpoint=…&region=…&use_path_style=true, gs://, azblob://); unset: HERD_DATA_DIR/blobs", func(c *Config) *string { return &c.BlobURL }),

	text("HERD_JWT_ISSUER", "herd", "iss of access tokens", func(c *Config) *string { return &c.JWTIssuer }, nil),
	text("HERD_JWT_AUDIENCE", "herd", "aud of access tokens", func(c *Config) *string { return &c.JWTAudience }, nil),
	duration("HERD_JWT_ACCESS_TTL", "1h", "access token lifetime", func(c *Config) *time.Duration { return &c.JWTAccessTTL }),
	duration("HERD_JWT_LEEWAY", "30s", "clock skew allowed on exp and nbf", func(c *Config) *time.Duration { return &c.JWTLeeway }),
	secret("HERD_JWT_PRIVATE_KEY", "", "Ed25519 signing key, PKCS #8 PEM; unset: one is generated once and kept in the database", func(c *Config) *string { return &c.JWTPrivateKey }),
	secret("HERD_JWT_PREVIOUS_KEYS", "", "earlier Ed25519 public keys, PEM, still accepted and published in the JWKS", func(c *Config) *string { return &c.JWTPreviousKeys }),
	duration("HERD_REFRESH_TTL", "720h", "refresh token lifetime", func(c *Config) *time.Duration { return &c.RefreshTTL }),
	boolean("HERD_REVOCATION_FAIL_OPEN", "false", "when the revocation store is down: false answers 503 (fail closed), true accepts unexpired tokens", func(c *Config) *bool { return &c.RevocationFailOpen }),
	duration("HERD_SESSION_IDLE_TIMEOUT", "30m", "a session ends after this long without a request", func(c *Config) *time.Duration { return &c.SessionIdle }),
	duration("HERD_SESSION_LIFETIME", "24h", "a session ends this long after login, however active", func(c *Config) *time.Duration { return &c.SessionLifetime }),
	boolean("HERD_COOKIE_SECURE", "false", "mark the session cookie Secure (set it behind HTTPS)", func(c *Config) *bool { return &c.CookieSecure }),
	bytesize("HERD_MAX_FILE_SIZE", "10485760", "largest file upload in bytes; larger gets 413", func(c *Config) *int64 { return &c.MaxFileSize }),
	duration("HERD_CACHE_TTL", "5m", "how long an item stays in the shared cache", func(c *Config) *time.Duration { return &c.CacheTTL }),
	duration("HERD_IDEMPOTENCY_LOCK_TTL", "10s", "how long a replica that died mid-request holds its Idempotency-Key", func(c *Config) *time.Duration { return &c.IdempotencyLockTTL }),
	duration("HERD_IDEMPOTENCY_RETENTION", "24h", "how long a first answer is replayed to retries", func(c *Config) *time.Duration { return &c.IdempotencyRetained }),
}

// PrintHelp writes the settings table.
func PrintHelp(w io.Writer) {
	tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "SETTING\tDEFAULT\tMEANING")
	for _, s := range Settings {
		name := s.Name
		if s.Secret {
			name += " (or _FILE)"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\n", name, s.Default, s.Help)
	}
	tw.Flush()
}

func text(name, def, help string, field func(*Config) *string, check func(string) error) Setting {
	return Setting{Name: name, Default: def, Help: help, set: func(c *Config, raw string) error {
		if check != nil {
			if err := check(raw); err != nil {
				return err
			}
		}
		*field(c) = raw
		return nil
	}}
}

func secret(name, def, help string, field func(*Config) *string) Setting {
	s := text(name, def, help, field, nil)
	s.Secret = true
	return s
}

func oneOf(name, def, help string, field func(*Config) *string, allowed ...string) Setting {
	return text(name, def, help+" ("+strings.Join(allowed, ", ")+")", field, func(raw string) error {
		for _, a := range allowed {
			if raw == a {
				return nil
			}
		}
		return fmt.Errorf("want one of %s", strings.Join(allowed, ", "))
	})
}

func duration(name, def, help string, field func(*Config) *time.Duration) Setting {
	return Setting{Name: name, Default: def, Help: help, set: func(c *Config, raw string) error {
		d, err := time.ParseDuration(raw)
		if err != nil || d <= 0 {
			return fmt.Errorf("want a positive duration such as 500ms or 5s")
		}
		*field(c) = d
		return nil
	}}
}

func durationOrOff(name, def, help string, field func(*Config) *time.Duration) Setting {
	return Setting{Name: name, Default: def, Help: help, set: func(c *Config, raw string) error {
		d, err := time.ParseDuration(raw)
		if err != nil || d < 0 {
			return fmt.Errorf("want a duration such as 50ms, or 0 for off")
		}
		*field(c) = d
		return nil
	}}
}

func integer(name, def, help string, field func(*Config) *int) Setting {
	return Setting{Name: name, Default: def, Help: help, set: func(c *Config, raw string) error {
		n, err := strconv.Atoi(raw)
		if err != nil || n <= 0 {
			return fmt.Errorf("want a positive whole number")
		}
		*field(c) = n
		return nil
	}}
}

func bytesize(name, def, help string, field func(*Config) *int64) Setting {
	return Setting{Name: name, Default: def, Help: help, set: func(c *Config, raw string) error {
		n, err := strconv.ParseInt(raw, 10, 64)
		if err != nil || n <= 0 {
			return fmt.Errorf("want a positive number of bytes")
		}
		*field(c) = n
		return nil
	}}
}

func boolean(name, def, help string, field func(*Config) *bool) Setting {
	return Setting{Name: name, Default: def, Help: help, set: func(c *Config, raw string) error {
		b, err := strconv.ParseBool(raw)
		if err != nil {
			return fmt.Errorf("want true or false")
		}
		*field(c) = b
		return nil
	}}
}

func list(name, def, help string, field func(*Config) *[]string) Setting {
	return Setting{Name: name, Default: def, Help: help, set: func(c *Config, raw string) error {
		var out []string
		for _, p := range strings.Split(raw, ",") {
			if p = strings.TrimSpace(p); p != "" {
				out = append(out, p)
			}
		}
		*field(c) = out
		return nil
	}}
}

func validAddr(raw string) error {
	if _, _, err := net.SplitHostPort(raw); err != nil {
		return fmt.Errorf("want host:port or :port")
	}
	return nil
}

func defaultInstanceID() string {
	host, err := os.Hostname()
	if err != nil || host == "" {
		host = "herd"
	}
	var b [3]byte
	rand.Read(b[:])
	id := host + "-" + hex.EncodeToString(b[:])
	if !herd.ValidID(id) {
		return "herd-" + hex.EncodeToString(b[:])
	}
	return id
}
