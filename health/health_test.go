package health

import (
	"context"
	"encoding/json"
	"errors"
	"net/http/httptest"
	"testing"
	"time"
)

func ready(t *testing.T, c *Checker, names ...string) (int, Report) {
	t.Helper()
	rec := httptest.NewRecorder()
	c.Ready(names...).ServeHTTP(rec, httptest.NewRequest("GET", "/health/ready", nil))
	var rep Report
	if err := json.Unmarshal(rec.Body.Bytes(), &rep); err != nil {
		t.Fatalf("body %q: %v", rec.Body, err)
	}
	return rec.Code, rep
}

func up(context.Context) error { return nil }

func TestReadyReportsEachDependency(t *testing.T) {
	c := New(time.Second,
		Check{"database", up},
		Check{"cache", func(context.Context) error { return errors.New("dial tcp: refused") }},
		Check{"storage", up},
	)
	code, rep := ready(t, c)
	if code != 503 || rep.Status != "error" {
		t.Fatalf("got %d %q, want 503 error", code, rep.Status)
	}
	if rep.Error["cache"].Status != "down" || rep.Info["database"].Status != "up" || rep.Details["storage"].Status != "up" {
		t.Errorf("report %+v", rep)
	}
	if rep.Error["cache"].Message == "dial tcp: refused" {
		t.Error("driver error leaked into the public probe")
	}
	// /health asks for the database only.
	if code, rep := ready(t, c, "database"); code != 200 || len(rep.Details) != 1 {
		t.Errorf("database only: %d %+v", code, rep)
	}
}

func TestSlowCheckTimesOutConcurrently(t *testing.T) {
	block := func(ctx context.Context) error { select {} }
	c := New(50*time.Millisecond, Check{"database", block}, Check{"cache", block}, Check{"storage", up})
	code, rep := ready(t, c)
	if code != 503 || rep.Error["database"].Message != "check timed out" || rep.Error["cache"].Message != "check timed out" {
		t.Errorf("got %d %+v", code, rep)
	}
	if rep.Info["storage"].Status != "up" {
		t.Errorf("storage should be up: %+v", rep)
	}
}

func TestDrainTurnsReadinessOffNotLiveness(t *testing.T) {
	calls := 0
	c := New(time.Second, Check{"database", func(context.Context) error { calls++; return nil }})
	if code, _ := ready(t, c); code != 200 {
		t.Fatalf("ready before drain = %d", code)
	}
	c.Drain()
	code, rep := ready(t, c)
	if code != 503 || rep.Status != "error" || rep.Error["shutdown"].Status != "down" {
		t.Errorf("during drain: %d %+v", code, rep)
	}
	if calls != 1 {
		t.Errorf("checks ran %d times; a draining replica should answer at once", calls)
	}
	rec := httptest.NewRecorder()
	c.Live().ServeHTTP(rec, httptest.NewRequest("GET", "/health/live", nil))
	if rec.Code != 200 || rec.Body.String() != "{\"status\":\"ok\"}\n" {
		t.Errorf("live during drain = %d %q", rec.Code, rec.Body)
	}
}
