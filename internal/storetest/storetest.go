// Package storetest holds one conformance suite per store interface of the
// herd package, run by every backend's tests against the real backend (the
// shape of litestream's RunWithReplicaClient).
//
// The suites may share their store with other tests and other runs (one
// PostgreSQL database, one Redis): every subtest uses fresh random ids, names,
// emails and keys, so runs never collide and nothing needs cleaning up.
//
// Conventions the suites rely on, beyond the doc comments in package herd:
//   - Times the suites pass in are whole milliseconds, and the times read
//     back must be equal to them (time.Time.Equal): stores keep at least
//     millisecond precision.
//   - Item data and idempotent response bodies come back byte for byte as
//     given, not merely as equal JSON.
//   - A call whose context deadline has passed fails with EUNAVAILABLE (the
//     dependency did not answer in time), never with EINTERNAL.
//   - Expiry is checked with TTLs of one second and a wait past them, so a
//     store that keeps whole seconds still passes.
package storetest

import (
	"context"
	"crypto/rand"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/herdhq/herd"
)

// shortTTL is the TTL of every expiry check. One second, because some
// backends (Redis EXPIRE) count in whole seconds.
const shortTTL = time.Second

// callTimeout bounds each suite call to the store, so that a store that
// hangs fails the test instead of stalling it.
const callTimeout = 30 * time.Second

// newID returns prefix followed by a random suffix of [a-z2-7], a valid
// herd id (herd.ValidID) that no other run will produce.
func newID(prefix string) string {
	return prefix + "-" + strings.ToLower(rand.Text())
}

// testContext returns a context that ends with the test or after callTimeout.
func testContext(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), callTimeout)
	t.Cleanup(cancel)
	return ctx
}

// expiredContext returns a context whose deadline has passed.
func expiredContext(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithDeadline(t.Context(), time.Now().Add(-time.Second))
	t.Cleanup(cancel)
	return ctx
}

// msNow returns the current time truncated to the millisecond, the precision
// every store keeps.
func msNow() time.Time { return time.Now().Truncate(time.Millisecond) }

// sleepPast waits until deadline has certainly passed for the store too.
func sleepPast(deadline time.Time) {
	time.Sleep(time.Until(deadline) + 250*time.Millisecond)
}

// wantCode fails the test unless err carries the herd error code want.
func wantCode(t *testing.T, err error, want, what string) {
	t.Helper()
	if got := herd.ErrorCode(err); got != want {
		t.Fatalf("%s: error code %q (%v), want %q", what, got, err, want)
	}
}

// wantUnavailableAfterDeadline checks that call, given a context whose
// deadline has passed, fails with EUNAVAILABLE.
func wantUnavailableAfterDeadline(t *testing.T, call func(ctx context.Context) error) {
	t.Helper()
	wantCode(t, call(expiredContext(t)), herd.EUNAVAILABLE, "call with an expired deadline")
}

// concurrently runs f(0) … f(n-1) each in its own goroutine, all released at
// once, and waits for them. f must not call t.Fatal: it records its results
// for the test goroutine to check.
func concurrently(n int, f func(i int)) {
	var ready, done sync.WaitGroup
	start := make(chan struct{})
	ready.Add(n)
	for i := range n {
		done.Go(func() {
			ready.Done()
			<-start
			f(i)
		})
	}
	ready.Wait()
	close(start)
	done.Wait()
}

// wantEachOnce fails the test unless values holds 1..len(values), each once.
func wantEachOnce(t *testing.T, values []int64, what string) {
	t.Helper()
	seen := make(map[int64]bool, len(values))
	for _, v := range values {
		if v < 1 || v > int64(len(values)) || seen[v] {
			t.Fatalf("%s: got %d among %d results, want each of 1..%d once: %v", what, v, len(values), len(values), values)
		}
		seen[v] = true
	}
}
