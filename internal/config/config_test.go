package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func env(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

func TestDefaults(t *testing.T) {
	c, err := Load(env(nil))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := c.Addr, ":8080"; got != want {
		t.Errorf("Addr = %q, want %q", got, want)
	}
	if got, want := c.DrainDelay, 5*time.Second; got != want {
		t.Errorf("DrainDelay = %v, want %v", got, want)
	}
	if got, want := c.ShutdownTimeout, 20*time.Second; got != want {
		t.Errorf("ShutdownTimeout = %v, want %v", got, want)
	}
	if got, want := c.MaxFileSize, int64(10<<20); got != want {
		t.Errorf("MaxFileSize = %v, want %v", got, want)
	}
	if c.InstanceID == "" {
		t.Error("InstanceID has no default")
	}
	if c.Production() {
		t.Error("no backend configured, yet Production() is true")
	}
}

func TestInvalidSettingsAreNamed(t *testing.T) {
	_, err := Load(env(map[string]string{
		"HERD_DRAIN_DELAY":   "soon",
		"HERD_ADDR":          "8080",
		"HERD_LOG_LEVEL":     "loud",
		"HERD_INSTANCE_ID":   "a/b",
		"HERD_MAX_FILE_SIZE": "-1",
	}))
	if err == nil {
		t.Fatal("Load accepted invalid settings")
	}
	for _, name := range []string{"HERD_DRAIN_DELAY", "HERD_ADDR", "HERD_LOG_LEVEL", "HERD_INSTANCE_ID", "HERD_MAX_FILE_SIZE"} {
		if !strings.Contains(err.Error(), name) {
			t.Errorf("error does not name %s: %v", name, err)
		}
	}
}

func TestSecretFromFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "db")
	if err := os.WriteFile(path, []byte("postgres://x@h/db\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	c, err := Load(env(map[string]string{"DATABASE_URL_FILE": path}))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := c.DatabaseURL, "postgres://x@h/db"; got != want {
		t.Errorf("DatabaseURL = %q, want %q", got, want)
	}
	if _, err := Load(env(map[string]string{"DATABASE_URL_FILE": path, "DATABASE_URL": "y"})); err == nil {
		t.Error("both DATABASE_URL and DATABASE_URL_FILE accepted")
	}
	if _, err := Load(env(map[string]string{"DATABASE_URL_FILE": path + ".missing"})); err == nil {
		t.Error("missing secret file accepted")
	}
}

func TestRedisTopologiesAreExclusive(t *testing.T) {
	_, err := Load(env(map[string]string{"REDIS_URL": "redis://h:6379", "HERD_REDIS_CLUSTER_ADDRS": "a:1,b:2"}))
	if err == nil {
		t.Fatal("REDIS_URL with HERD_REDIS_CLUSTER_ADDRS accepted")
	}
	c, err := Load(env(map[string]string{"HERD_REDIS_CLUSTER_ADDRS": " a:1, b:2 ,"}))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := strings.Join(c.RedisCluster, "|"), "a:1|b:2"; got != want {
		t.Errorf("RedisCluster = %q, want %q", got, want)
	}
	if !c.Production() {
		t.Error("a Redis Cluster is configured, yet Production() is false")
	}
}

// TestREADMEListsEverySetting keeps the README's settings table true.
func TestREADMEListsEverySetting(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range Settings {
		row := "| `" + s.Name + "`"
		if !strings.Contains(string(readme), row) {
			t.Errorf("README.md has no settings row for %s", s.Name)
		}
	}
}
