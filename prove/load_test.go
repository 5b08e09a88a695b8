package prove

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"
)

// counterServer stands in for herd's counter routes where the test needs
// to fail requests on purpose: it applies each Idempotency-Key once and
// replays the answer, and fails the first try of every third key with a
// 502 after applying it, as a replica dying after its commit would.
type counterServer struct {
	mu      sync.Mutex
	value   int64
	answers map[string]int64
	tries   map[string]int
	n       int
}

func (s *counterServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		s.mu.Lock()
		v := s.value
		s.mu.Unlock()
		json.NewEncoder(w).Encode(counterValue{Name: "c", Value: v})
		return
	}
	key := r.Header.Get("Idempotency-Key")
	s.mu.Lock()
	defer s.mu.Unlock()
	s.tries[key]++
	v, done := s.answers[key]
	if !done {
		s.value++
		v = s.value
		s.answers[key] = v
		s.n++
		if s.n%3 == 0 {
			w.WriteHeader(http.StatusBadGateway)
			return
		}
	}
	json.NewEncoder(w).Encode(counterValue{Name: "c", Value: v})
}

func testEnv(t *testing.T, h http.Handler) *env {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return &env{
		cfg: Config{RequestTimeout: 5 * time.Second},
		lb:  newAPI(srv.URL, srv.Client(), 5*time.Second),
		rec: newRecorder(time.Now()),
		log: io.Discard,
		run: "t",
	}
}

func TestIncrementRetriesWithTheSameKey(t *testing.T) {
	s := &counterServer{answers: map[string]int64{}, tries: map[string]int{}}
	e := testEnv(t, s)
	ctx := context.Background()
	var values []int64
	for i := range 9 {
		key := fmt.Sprintf("k%d", i)
		v, tries, err := incrementUntilDone(ctx, e, "c", "tok", key, 5)
		if err != nil {
			t.Fatal(err)
		}
		if got, want := tries, s.tries[key]; got != want {
			t.Fatalf("key %s: %d tries reported, server saw %d", key, got, want)
		}
		values = append(values, v)
	}
	if got, want := s.value, int64(9); got != want {
		t.Fatalf("server counter: got %d, want %d (a retry applied twice?)", got, want)
	}
	res := &Result{Verdict: Pass}
	checkCounter(ctx, e, res, "c", len(values), values, "tok")
	if got, want := res.Verdict, Pass; got != want {
		t.Fatalf("checkCounter: got %s, want %s: %v", got, want, res.Errors)
	}
}

func TestCheckCounterCatchesLostAndDoubled(t *testing.T) {
	for _, c := range []struct {
		name   string
		server int64
		acked  int
		values []int64
	}{
		{"lost", 9, 10, []int64{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}},
		{"doubled", 11, 10, []int64{1, 2, 3, 4, 5, 6, 7, 8, 9, 11}},
		{"repeated value", 10, 10, []int64{1, 2, 3, 4, 5, 6, 7, 8, 9, 9}},
	} {
		t.Run(c.name, func(t *testing.T) {
			e := testEnv(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				json.NewEncoder(w).Encode(counterValue{Name: "c", Value: c.server})
			}))
			res := &Result{Verdict: Pass}
			checkCounter(context.Background(), e, res, "c", c.acked, c.values, "tok")
			if got, want := res.Verdict, Fail; got != want {
				t.Fatalf("verdict: got %s, want %s", got, want)
			}
		})
	}
}

func TestSplitInFlight(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 10, 0, time.UTC)
	killSent, killDone := t0, t0.Add(5*time.Millisecond)
	at := func(startMs, endMs int) attempt {
		return attempt{op: fmt.Sprintf("%d-%d", startMs, endMs), start: t0.Add(time.Duration(startMs) * time.Millisecond), end: t0.Add(time.Duration(endMs) * time.Millisecond)}
	}
	inFlight, other := splitInFlight([]attempt{
		at(-100, 3),   // open across the kill
		at(2, 40),     // sent while the kill was being delivered
		at(-300, -50), // done before the kill: not excused
		at(100, 150),  // sent after the kill took effect: not excused
	}, killSent, killDone)
	if got, want := len(inFlight), 2; got != want {
		t.Fatalf("in flight: got %d (%v), want %d", got, inFlight, want)
	}
	if got, want := len(other), 2; got != want {
		t.Fatalf("others: got %d (%v), want %d", got, other, want)
	}
	if got, want := other[0].op, "-300--50"; got != want {
		t.Errorf("first other: got %s, want %s", got, want)
	}
}

// TestLoadKeepsItsRateAndCountsFailures runs the workload against a
// stand-in that refuses one request in ten: the failures must be counted,
// and with retries every request must end in success.
func TestLoadKeepsItsRateAndCountsFailures(t *testing.T) {
	var mu sync.Mutex
	n := 0
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		n++
		seen := n
		mu.Unlock()
		if seen%10 == 0 {
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		json.NewEncoder(w).Encode(counterValue{Name: "c", Value: int64(seen)})
	})
	for _, retry := range []bool{false, true} {
		t.Run(fmt.Sprintf("retry=%v", retry), func(t *testing.T) {
			e := testEnv(t, h)
			w := &workload{lb: e.lb, rec: e.rec, counter: "c", users: []*user{{access: "a", sid: "s"}}, items: []string{"i"}}
			stop := make(chan struct{})
			time.AfterFunc(time.Second, func() { close(stop) })
			lr := w.run(context.Background(), loadConfig{rate: 100, workers: 8, retry: retry, maxAttempts: 5}, stop)
			// The pacer must never exceed its rate; how close it gets is
			// the shared machine's business, so the floor is loose.
			if lr.requests < 20 || lr.requests > 110 {
				t.Errorf("requests in 1 s at 100/s: got %d", lr.requests)
			}
			if len(lr.failedAttempts) == 0 {
				t.Error("no failed attempt recorded, though one in ten failed")
			}
			if retry {
				if got, want := len(lr.lost), 0; got != want {
					t.Errorf("requests never succeeded with retries: got %d, want %d", got, want)
				}
				if got, want := lr.ok, lr.requests; got != want {
					t.Errorf("ok: got %d, want %d", got, want)
				}
			} else if got, want := len(lr.lost), len(lr.failedAttempts); got != want {
				t.Errorf("without retries every failure is final: lost %d, failed %d", got, want)
			}
			points, _, _ := e.rec.timeline()
			errs := 0
			for _, p := range points {
				errs += p.Errors
			}
			if got, want := errs, len(lr.failedAttempts); got != want {
				t.Errorf("errors on the chart: got %d, want %d", got, want)
			}
		})
	}
}

func TestParseFlags(t *testing.T) {
	cfg, err := parseFlags([]string{"--target", "http://lb:80/", "--replicas", "http://a:1/, http://b:2", "--scenarios", "any-replica,soak", "--rate", "50"}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := fmt.Sprint(cfg.Replicas), "[http://a:1 http://b:2]"; got != want {
		t.Errorf("replicas: got %s, want %s", got, want)
	}
	if got, want := fmt.Sprint(cfg.Scenarios), "[any-replica soak]"; got != want {
		t.Errorf("scenarios: got %s, want %s", got, want)
	}
	if got, want := cfg.Rate, 50; got != want {
		t.Errorf("rate: got %d, want %d", got, want)
	}
	if _, err := parseFlags([]string{"--scenarios", "rollout,bogus"}, io.Discard); err == nil {
		t.Error("unknown scenario accepted")
	}
	if _, err := parseFlags([]string{"--rate", "0"}, io.Discard); err == nil {
		t.Error("rate 0 accepted")
	}
}
