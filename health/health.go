// Package health answers the liveness and readiness probes of a replica.
//
// Liveness says the process can serve at all and never touches a
// dependency: a restart would not mend a database outage, so a dependency
// must never fail liveness. Readiness says whether the load balancer should
// send traffic here; it runs every check concurrently, each under its own
// timeout, and turns 503 at once when the replica begins to drain.
package health

import (
	"context"
	"encoding/json"
	"net/http"
	"sync"
	"sync/atomic"
	"time"
)

// Check is one named dependency check.
type Check struct {
	Name  string
	Check func(ctx context.Context) error
}

// Checker runs checks and tracks the drain.
type Checker struct {
	checks   []Check
	timeout  time.Duration
	draining atomic.Bool //statelint:ignore per-process by nature: this replica leaving rotation, not state the replicas share

}

// New returns a Checker running each check with the given timeout.
func New(timeout time.Duration, checks ...Check) *Checker {
	return &Checker{checks: checks, timeout: timeout}
}

// Drain makes readiness answer 503 from now on.
func (c *Checker) Drain() { c.draining.Store(true) }

// Draining reports whether Drain was called.
func (c *Checker) Draining() bool { return c.draining.Load() }

// Entry is one check's result in a readiness answer.
type Entry struct {
	Status  string `json:"status"` // "up" or "down"
	Message string `json:"message,omitempty"`
}

// Report is the body of a readiness answer, in the shape of NestJS
// Terminus that API.md fixes.
type Report struct {
	Status  string           `json:"status"` // "ok" or "error"
	Info    map[string]Entry `json:"info"`
	Error   map[string]Entry `json:"error"`
	Details map[string]Entry `json:"details"`
}

// Run runs the checks named (all when none are named) concurrently.
func (c *Checker) Run(ctx context.Context, names ...string) Report {
	rep := Report{Status: "ok", Info: map[string]Entry{}, Error: map[string]Entry{}, Details: map[string]Entry{}}
	if c.Draining() {
		down := Entry{Status: "down", Message: "replica is shutting down"}
		rep.Status, rep.Error["shutdown"], rep.Details["shutdown"] = "error", down, down
		return rep
	}
	var mu sync.Mutex
	var wg sync.WaitGroup
	for _, chk := range c.checks {
		if !wanted(chk.Name, names) {
			continue
		}
		wg.Go(func() {
			e := c.run(ctx, chk)
			mu.Lock()
			defer mu.Unlock()
			rep.Details[chk.Name] = e
			if e.Status == "up" {
				rep.Info[chk.Name] = e
			} else {
				rep.Error[chk.Name], rep.Status = e, "error"
			}
		})
	}
	wg.Wait()
	return rep
}

func (c *Checker) run(ctx context.Context, chk Check) Entry {
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	done := make(chan error, 1)
	// A check that ignores its context must still not hold the probe past
	// the timeout.
	go func() { done <- chk.Check(ctx) }()
	select {
	case err := <-done:
		if err != nil {
			// The message names the failure kind only: probe answers are
			// public, driver errors are not.
			return Entry{Status: "down", Message: "check failed"}
		}
		return Entry{Status: "up"}
	case <-ctx.Done():
		return Entry{Status: "down", Message: "check timed out"}
	}
}

func wanted(name string, names []string) bool {
	if len(names) == 0 {
		return true
	}
	for _, n := range names {
		if n == name {
			return true
		}
	}
	return false
}

// Live answers 200 {"status":"ok"} while the process runs.
func (c *Checker) Live() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "no-store")
		w.Write([]byte(`{"status":"ok"}` + "\n"))
	})
}

// Ready answers 200 when every named check is up and the replica is not
// draining, and 503 otherwise, with the Report as body.
func (c *Checker) Ready(names ...string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rep := c.Run(r.Context(), names...)
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "no-store")
		if rep.Status != "ok" {
			w.WriteHeader(http.StatusServiceUnavailable)
		}
		json.NewEncoder(w).Encode(rep)
	})
}
