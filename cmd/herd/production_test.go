package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/herdhq/herd/internal/replicatest"
	"github.com/herdhq/herd/internal/testenv"
)

// productionEnv returns the settings of a replica on PostgreSQL, Redis and
// the S3 gateway, isolated from other runs by a fresh schema, key prefix
// and key folder.
func productionEnv(t *testing.T) map[string]string {
	t.Helper()
	dbURL := testenv.PostgresURL(t)
	redisURL := testenv.RedisURL(t)
	blobURL := testenv.S3URL(t)
	b := make([]byte, 6)
	rand.Read(b)
	run := hex.EncodeToString(b)
	schema := "herd_serve_" + run
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if conn, err := pgx.Connect(ctx, dbURL); err == nil {
			conn.Exec(ctx, "DROP SCHEMA IF EXISTS "+schema+" CASCADE")
			conn.Close(ctx)
		}
	})
	return map[string]string{
		"DATABASE_URL":          dbURL,
		"HERD_DB_SCHEMA":        schema,
		"REDIS_URL":             redisURL,
		"HERD_REDIS_PREFIX":     "herdtest-" + run,
		"BLOB_URL":              blobURL,
		"AWS_ACCESS_KEY_ID":     os.Getenv("AWS_ACCESS_KEY_ID"),
		"AWS_SECRET_ACCESS_KEY": os.Getenv("AWS_SECRET_ACCESS_KEY"),
	}
}

// TestTwoReplicasOnProductionBackends runs the cross-replica checks on
// PostgreSQL + Redis + S3, then shows that the replicas kept nothing on
// their own disks: their data directories were never even made.
func TestTwoReplicasOnProductionBackends(t *testing.T) {
	env := productionEnv(t)
	dirA, dirB := t.TempDir()+"/a", t.TempDir()+"/b"
	envA, envB := map[string]string{"HERD_DATA_DIR": dirA}, map[string]string{"HERD_DATA_DIR": dirB}
	for k, v := range env {
		envA[k], envB[k] = v, v
	}
	a := startReplica(t, envA)
	b := startReplica(t, envB)
	replicatest.Run(t, a.URL, b.URL)
	for _, dir := range []string{dirA, dirB} {
		if _, err := os.Stat(dir); !os.IsNotExist(err) {
			entries, _ := os.ReadDir(dir)
			var names []string
			for _, e := range entries {
				names = append(names, e.Name())
			}
			t.Errorf("a replica on production backends wrote to its data directory %s: %s", dir, strings.Join(names, ", "))
		}
	}
}
