// Package testenv finds the real services that tests run against.
//
// Each service has a setting (an environment variable) with a default that
// matches this project's machines and .ci/run. When the service does not
// answer, a test skips and names the setting that enables it, except under
// CI=true, where a missing service fails the test: CI must never pass by
// skipping what it was meant to prove.
package testenv

import (
	"net"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"
	"time"
)

// Settings and their defaults.
const (
	PostgresSetting     = "HERD_TEST_DATABASE_URL"
	RedisSetting        = "HERD_TEST_REDIS_URL"
	RedisClusterSetting = "HERD_TEST_REDIS_CLUSTER"
	S3Setting           = "HERD_TEST_BLOB_URL"

	DefaultPostgresURL  = "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"
	DefaultRedisURL     = "redis://127.0.0.1:6379/0"
	DefaultRedisCluster = "127.0.0.1:7000,127.0.0.1:7001,127.0.0.1:7002"
	// versitygw as .ci/run starts it (posix backend).
	DefaultS3URL       = "s3://herd-test?endpoint=http://127.0.0.1:7070&region=us-east-1&use_path_style=true"
	DefaultS3AccessKey = "herdtest"
	DefaultS3SecretKey = "herdtestsecret"
)

// CI reports whether the tests run under CI, where missing services fail.
func CI() bool { return os.Getenv("CI") == "true" }

// PostgresURL returns the URL of a reachable PostgreSQL, or skips (fails in CI).
func PostgresURL(t testing.TB) string {
	t.Helper()
	u := setting(PostgresSetting, DefaultPostgresURL)
	need(t, "PostgreSQL", PostgresSetting, hostOf(u, "5432"))
	return u
}

// RedisURL returns the URL of a reachable standalone Redis.
func RedisURL(t testing.TB) string {
	t.Helper()
	u := setting(RedisSetting, DefaultRedisURL)
	need(t, "Redis", RedisSetting, hostOf(u, "6379"))
	return u
}

// RedisClusterAddrs returns the seed addresses of a reachable Redis Cluster.
func RedisClusterAddrs(t testing.TB) []string {
	t.Helper()
	addrs := strings.Split(setting(RedisClusterSetting, DefaultRedisCluster), ",")
	for _, a := range addrs {
		need(t, "Redis Cluster", RedisClusterSetting, a)
	}
	return addrs
}

var s3CredsOnce sync.Once

// S3URL returns a gocloud.dev/blob URL of a reachable S3-compatible store.
// When AWS_ACCESS_KEY_ID is unset it sets the credentials .ci/run gives the
// local versitygw.
func S3URL(t testing.TB) string {
	t.Helper()
	u := setting(S3Setting, DefaultS3URL)
	parsed, err := url.Parse(u)
	if err != nil {
		t.Fatalf("%s: %v", S3Setting, err)
	}
	endpoint, err := url.Parse(parsed.Query().Get("endpoint"))
	if err != nil || endpoint.Host == "" {
		t.Fatalf("%s needs an endpoint= parameter", S3Setting)
	}
	need(t, "the S3 gateway", S3Setting, endpoint.Host)
	s3CredsOnce.Do(func() {
		if os.Getenv("AWS_ACCESS_KEY_ID") == "" {
			os.Setenv("AWS_ACCESS_KEY_ID", DefaultS3AccessKey)
			os.Setenv("AWS_SECRET_ACCESS_KEY", DefaultS3SecretKey)
		}
	})
	return u
}

func setting(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

func hostOf(rawURL, defaultPort string) string {
	u, err := url.Parse(rawURL)
	if err != nil || u.Hostname() == "" {
		return "127.0.0.1:" + defaultPort
	}
	if u.Port() == "" {
		return net.JoinHostPort(u.Hostname(), defaultPort)
	}
	return u.Host
}

func need(t testing.TB, what, setting, addr string) {
	t.Helper()
	conn, err := net.DialTimeout("tcp", addr, 2*time.Second)
	if err == nil {
		conn.Close()
		return
	}
	if CI() {
		t.Fatalf("%s is not reachable at %s (%v); CI=true requires it (set %s)", what, addr, err, setting)
	}
	t.Skipf("%s is not reachable at %s; set %s to run this test", what, addr, setting)
}
