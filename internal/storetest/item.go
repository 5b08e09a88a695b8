package storetest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"testing"

	"github.com/herdhq/herd"
)

// RunItemStore checks s against the herd.ItemStore contract.
func RunItemStore(t *testing.T, s herd.ItemStore) {
	t.Run("PutAndGet", func(t *testing.T) {
		ctx := testContext(t)
		id := newID("item")
		// Spacing and key order that a store normalising JSON would change.
		first := json.RawMessage(`{"z": 1,  "a": [true, null, "é"]}`)
		before := msNow()
		put, err := s.PutItem(ctx, id, first)
		if err != nil {
			t.Fatal(err)
		}
		wantItem(t, put, id, first, 1)
		if put.UpdatedAt.Before(before) {
			t.Fatalf("UpdatedAt %v is before the write began, %v", put.UpdatedAt, before)
		}
		got, err := s.Item(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		wantItem(t, got, id, first, 1)
		if !got.UpdatedAt.Equal(put.UpdatedAt) {
			t.Fatalf("Item UpdatedAt %v, PutItem returned %v", got.UpdatedAt, put.UpdatedAt)
		}

		second := json.RawMessage(`[1,2,3]`)
		put, err = s.PutItem(ctx, id, second)
		if err != nil {
			t.Fatal(err)
		}
		wantItem(t, put, id, second, 2)
		got, err = s.Item(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		wantItem(t, got, id, second, 2)
	})

	t.Run("LargestItem", func(t *testing.T) {
		ctx := testContext(t)
		id := newID("item")
		data := json.RawMessage(`"` + string(bytes.Repeat([]byte("x"), herd.MaxItemSize-2)) + `"`)
		if _, err := s.PutItem(ctx, id, data); err != nil {
			t.Fatal(err)
		}
		got, err := s.Item(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		wantItem(t, got, id, data, 1)
	})

	t.Run("NotFound", func(t *testing.T) {
		_, err := s.Item(testContext(t), newID("item"))
		wantCode(t, err, herd.ENOTFOUND, "Item of an id never written")
	})

	t.Run("ConcurrentPut", func(t *testing.T) {
		ctx := testContext(t)
		const n = 30
		id := newID("item")
		versions := make([]int64, n)
		errs := make([]error, n)
		concurrently(n, func(i int) {
			it, err := s.PutItem(ctx, id, json.RawMessage(fmt.Sprintf(`{"writer":%d}`, i)))
			versions[i], errs[i] = it.Version, err
		})
		for _, err := range errs {
			if err != nil {
				t.Fatal(err)
			}
		}
		wantEachOnce(t, versions, "versions returned by concurrent PutItem")
		got, err := s.Item(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if got, want := got.Version, int64(n); got != want {
			t.Fatalf("version after %d concurrent writes = %d, want %d", n, got, want)
		}
	})

	t.Run("Deadline", func(t *testing.T) {
		wantUnavailableAfterDeadline(t, func(ctx context.Context) error {
			_, err := s.PutItem(ctx, newID("item"), json.RawMessage(`1`))
			return err
		})
	})
}

func wantItem(t *testing.T, got herd.Item, id string, data json.RawMessage, version int64) {
	t.Helper()
	if got.ID != id || !bytes.Equal(got.Data, data) || got.Version != version {
		t.Fatalf("got item %s v%d %s, want %s v%d %s", got.ID, got.Version, got.Data, id, version, data)
	}
	if got.UpdatedAt.IsZero() {
		t.Fatalf("item %s v%d has no UpdatedAt", got.ID, got.Version)
	}
}
