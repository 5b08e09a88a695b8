package auth_test

import (
	"path/filepath"
	"sync"
	"testing"

	"github.com/herdhq/herd/auth"
	"github.com/herdhq/herd/sqlite"
)

func TestSharedKeyIsTheSameForEveryCaller(t *testing.T) {
	db, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "herd.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ids := make([]string, 8)
	var wg sync.WaitGroup
	for i := range ids {
		wg.Go(func() {
			k, err := auth.SharedKey(t.Context(), db)
			if err != nil {
				t.Error(err)
				return
			}
			ids[i] = k.ID
		})
	}
	wg.Wait()
	for _, id := range ids[1:] {
		if id != ids[0] || id == "" {
			t.Fatalf("replicas starting together got keys %v, want one", ids)
		}
	}
}
