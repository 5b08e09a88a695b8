package storetest

import (
	"context"
	"testing"

	"github.com/herdhq/herd"
)

// RunCounterStore checks s against the herd.CounterStore contract.
func RunCounterStore(t *testing.T, s herd.CounterStore) {
	t.Run("IncrementFromNothing", func(t *testing.T) {
		ctx := testContext(t)
		name := newID("counter")
		for want := int64(1); want <= 3; want++ {
			got, err := s.Increment(ctx, name, "")
			if err != nil {
				t.Fatal(err)
			}
			if got != want {
				t.Fatalf("Increment returned %d, want %d", got, want)
			}
		}
		if got, err := s.Counter(ctx, name); err != nil || got != 3 {
			t.Fatalf("Counter = %d, %v; want 3", got, err)
		}
	})

	t.Run("NotFound", func(t *testing.T) {
		_, err := s.Counter(testContext(t), newID("counter"))
		wantCode(t, err, herd.ENOTFOUND, "Counter of a name never incremented")
	})

	t.Run("CountersAreSeparate", func(t *testing.T) {
		ctx := testContext(t)
		a, b := newID("counter"), newID("counter")
		for range 2 {
			if _, err := s.Increment(ctx, a, ""); err != nil {
				t.Fatal(err)
			}
		}
		if got, err := s.Increment(ctx, b, ""); err != nil || got != 1 {
			t.Fatalf("Increment of a new counter = %d, %v; want 1", got, err)
		}
	})

	t.Run("Concurrent", func(t *testing.T) {
		ctx := testContext(t)
		const goroutines, each = 50, 20
		name := newID("counter")
		values := make([]int64, goroutines*each)
		errs := make([]error, goroutines)
		concurrently(goroutines, func(g int) {
			for j := range each {
				v, err := s.Increment(ctx, name, "")
				if err != nil {
					errs[g] = err
					return
				}
				values[g*each+j] = v
			}
		})
		for _, err := range errs {
			if err != nil {
				t.Fatal(err)
			}
		}
		wantEachOnce(t, values, "values returned by concurrent Increment")
		if got, err := s.Counter(ctx, name); err != nil || got != goroutines*each {
			t.Fatalf("Counter = %d, %v; want %d", got, err, goroutines*each)
		}
	})

	t.Run("OperationID", func(t *testing.T) {
		ctx := testContext(t)
		name, op := newID("counter"), newID("op")
		if got, err := s.Increment(ctx, name, ""); err != nil || got != 1 {
			t.Fatalf("Increment = %d, %v; want 1", got, err)
		}
		if got, err := s.Increment(ctx, name, op); err != nil || got != 2 {
			t.Fatalf("Increment with a new opID = %d, %v; want 2", got, err)
		}
		if got, err := s.Increment(ctx, name, ""); err != nil || got != 3 {
			t.Fatalf("Increment = %d, %v; want 3", got, err)
		}
		if got, err := s.Increment(ctx, name, op); err != nil || got != 2 {
			t.Fatalf("Increment with a repeated opID = %d, %v; want the first answer, 2", got, err)
		}
		if got, err := s.Counter(ctx, name); err != nil || got != 3 {
			t.Fatalf("Counter after a repeated opID = %d, %v; want 3", got, err)
		}
	})

	t.Run("ConcurrentSameOperationID", func(t *testing.T) {
		// A client's retry can reach another replica while the first
		// attempt is still running.
		ctx := testContext(t)
		const n = 20
		name, op := newID("counter"), newID("op")
		values := make([]int64, n)
		errs := make([]error, n)
		concurrently(n, func(i int) {
			values[i], errs[i] = s.Increment(ctx, name, op)
		})
		for i := range n {
			if errs[i] != nil {
				t.Fatal(errs[i])
			}
			if values[i] != 1 {
				t.Fatalf("Increment with one opID from %d goroutines returned %v, want 1 for all", n, values)
			}
		}
		if got, err := s.Counter(ctx, name); err != nil || got != 1 {
			t.Fatalf("Counter = %d, %v; want 1", got, err)
		}
	})

	t.Run("Deadline", func(t *testing.T) {
		wantUnavailableAfterDeadline(t, func(ctx context.Context) error {
			_, err := s.Increment(ctx, newID("counter"), "")
			return err
		})
	})
}
