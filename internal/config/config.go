// Package config reads herd serve's settings from the environment.
//
// Every setting is one row of the table in settings.go: its variable, its
// default, its help line and how it parses. Config is built once in run and
// passed down as a value; nothing reads the environment later.
package config

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"time"
)

// Config is herd serve's whole configuration.
type Config struct {
	Addr            string
	InstanceID      string
	DataDir         string
	LogLevel        string
	LogFormat       string
	LogFlush        time.Duration // 0: write each line at once
	DrainDelay      time.Duration
	ShutdownTimeout time.Duration
	CheckTimeout    time.Duration
	RequestTimeout  time.Duration

	ReadHeaderTimeout time.Duration
	ReadTimeout       time.Duration
	WriteTimeout      time.Duration
	IdleTimeout       time.Duration
	MaxHeaderBytes    int

	DatabaseURL       string
	DBMaxConns        int
	DBConnectTimeout  time.Duration
	DBQueryTimeout    time.Duration
	DBSchema          string
	RedisURL          string
	RedisSentinelName string
	RedisSentinels    []string
	RedisCluster      []string
	RedisPassword     string
	RedisPrefix       string
	RedisTimeout      time.Duration
	BlobURL           string

	JWTIssuer           string
	JWTAudience         string
	JWTAccessTTL        time.Duration
	JWTLeeway           time.Duration
	JWTPrivateKey       string // PEM, PKCS #8 Ed25519
	JWTPreviousKeys     string // PEM, PKIX Ed25519 public keys
	RefreshTTL          time.Duration
	RevocationFailOpen  bool
	SessionIdle         time.Duration
	SessionLifetime     time.Duration
	CookieSecure        bool
	MaxFileSize         int64
	CacheTTL            time.Duration
	IdempotencyLockTTL  time.Duration
	IdempotencyRetained time.Duration
}

// Production reports whether any external backend is configured.
func (c Config) Production() bool {
	return c.DatabaseURL != "" || c.RedisConfigured() || c.BlobURL != ""
}

// RedisConfigured reports whether a Redis of any topology is configured.
func (c Config) RedisConfigured() bool {
	return c.RedisURL != "" || c.RedisSentinelName != "" || len(c.RedisCluster) > 0
}

// Load reads every setting through getenv. A setting S with a secret may
// instead be given as S_FILE, the path of a file holding it. The error
// names every invalid setting.
func Load(getenv func(string) string) (Config, error) {
	var c Config
	var errs []error
	for _, s := range Settings {
		raw, err := lookup(getenv, s)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if raw == "" {
			raw = s.Default
		}
		if raw == "" && s.Default == "" {
			// Unset with no default: leave the zero value, unless the
			// setting computes one.
			if s.Compute == nil {
				continue
			}
			raw = s.Compute()
		}
		if err := s.set(&c, raw); err != nil {
			errs = append(errs, fmt.Errorf("%s=%q: %w", s.Name, raw, err))
		}
	}
	if err := c.validate(); err != nil {
		errs = append(errs, err)
	}
	return c, errors.Join(errs...)
}

func lookup(getenv func(string) string, s Setting) (string, error) {
	v := getenv(s.Name)
	if !s.Secret {
		return v, nil
	}
	path := getenv(s.Name + "_FILE")
	switch {
	case path == "":
		return v, nil
	case v != "":
		return "", fmt.Errorf("%s and %s_FILE are both set; choose one", s.Name, s.Name)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("%s_FILE: %w", s.Name, err)
	}
	return strings.TrimRight(string(b), "\r\n"), nil
}

func (c Config) validate() error {
	var errs []error
	if c.RedisSentinelName != "" && len(c.RedisSentinels) == 0 {
		errs = append(errs, errors.New("HERD_REDIS_SENTINEL_MASTER needs HERD_REDIS_SENTINEL_ADDRS"))
	}
	if c.RedisURL != "" && (c.RedisSentinelName != "" || len(c.RedisCluster) > 0) ||
		c.RedisSentinelName != "" && len(c.RedisCluster) > 0 {
		errs = append(errs, errors.New("REDIS_URL, HERD_REDIS_SENTINEL_MASTER and HERD_REDIS_CLUSTER_ADDRS are exclusive; set one"))
	}
	if c.SessionIdle > c.SessionLifetime {
		errs = append(errs, errors.New("HERD_SESSION_IDLE_TIMEOUT must not exceed HERD_SESSION_LIFETIME"))
	}
	return errors.Join(errs...)
}
