package prove

import (
	"context"
	"fmt"
	"net/http"
	"sync"
	"time"
)

// workload is a mix of reads and writes through the load balancer, by a
// pool of users that each have a token, a session and an item.
type workload struct {
	lb      *api
	users   []*user
	counter string
	items   []string
	rec     *recorder
}

type loadConfig struct {
	// rate is the requests per second the load keeps up.
	rate int
	// workers bounds the requests in flight.
	workers int
	// retry sends a failed request again, an increment with the same
	// Idempotency-Key, until it succeeds or maxAttempts is reached.
	retry       bool
	maxAttempts int
}

// attempt is one try of a request.
type attempt struct {
	op         string
	start, end time.Time
	detail     string
}

// loadResult accounts for every request the load sent.
type loadResult struct {
	mu       sync.Mutex
	start    time.Time
	end      time.Time
	requests int // logical requests, retries not counted
	ok       int // requests that got their answer, maybe after retries
	attempts int
	// failedAttempts are the attempts that got no answer or a wrong one.
	failedAttempts []attempt
	// lost are requests that never succeeded.
	lost []attempt
	// acked are the increments acknowledged with 200; values are the
	// counter values they returned.
	acked  int
	values []int64
}

func (r *loadResult) rate() float64 {
	d := r.end.Sub(r.start).Seconds()
	if d <= 0 {
		return 0
	}
	return float64(r.requests) / d
}

// opMix is the order requests are issued in, weighted towards the
// stateful routes: 4 GET /me, 4 GET /session, 4 increments, 2 PUT /items,
// 3 GET /items, 3 GET /health/live in every 20.
var opMix = []string{
	"me", "session", "increment", "get-item", "live",
	"me", "increment", "session", "put-item", "get-item",
	"session", "me", "increment", "live", "get-item",
	"increment", "session", "me", "put-item", "live",
}

// setupWorkload creates n users, each with an item, through lb.
func setupWorkload(ctx context.Context, lb *api, rec *recorder, n int, name string) (*workload, error) {
	w := &workload{lb: lb, rec: rec, counter: name + "-" + randomID(4)}
	for i := range n {
		u, err := lb.newUser(ctx, name)
		if err != nil {
			return nil, fmt.Errorf("set up load user %d: %w", i, err)
		}
		id := fmt.Sprintf("%s-item-%d-%s", name, i, randomID(3))
		if _, err := lb.expect(ctx, request{method: http.MethodPut, path: "/items/" + id, token: u.access, json: map[string]any{"n": 0}}, http.StatusOK); err != nil {
			return nil, fmt.Errorf("set up load item: %w", err)
		}
		w.users = append(w.users, u)
		w.items = append(w.items, id)
	}
	return w, nil
}

// run sends requests at cfg.rate until stop is closed or ctx ends, then
// waits for those in flight. Latency counts from the moment a request was
// due, so a stalled server cannot hide behind a stalled load generator.
func (w *workload) run(ctx context.Context, cfg loadConfig, stop <-chan struct{}) *loadResult {
	res := &loadResult{start: time.Now()}
	type job struct {
		i   int
		due time.Time
	}
	jobs := make(chan job, cfg.workers)
	var wg sync.WaitGroup
	for range cfg.workers {
		wg.Go(func() {
			for j := range jobs {
				w.issue(ctx, cfg, j.i, j.due, res)
			}
		})
	}
	interval := time.Second / time.Duration(cfg.rate)
	next := res.start
	timer := time.NewTimer(0)
	defer timer.Stop()
loop:
	for i := 0; ; i++ {
		select {
		case <-stop:
			break loop
		case <-ctx.Done():
			break loop
		case <-timer.C:
		}
		select {
		case jobs <- job{i, next}:
		case <-stop:
			break loop
		case <-ctx.Done():
			break loop
		}
		next = next.Add(interval)
		timer.Reset(time.Until(next))
	}
	res.mu.Lock()
	res.end = time.Now()
	res.mu.Unlock()
	close(jobs)
	wg.Wait()
	return res
}

// issue sends request number i, retrying as cfg says.
func (w *workload) issue(ctx context.Context, cfg loadConfig, i int, due time.Time, res *loadResult) {
	op := opMix[i%len(opMix)]
	k := i % len(w.users)
	u := w.users[k]
	var r request
	switch op {
	case "me":
		r = request{path: "/me", token: u.access}
	case "session":
		r = request{path: "/session", cookie: u.sid}
	case "increment":
		r = request{method: http.MethodPost, path: "/counters/" + w.counter + "/increment", token: u.access, idemKey: "prove-" + randomID(12)}
	case "put-item":
		r = request{method: http.MethodPut, path: "/items/" + w.items[k], token: u.access, json: map[string]any{"n": i}, idemKey: "prove-" + randomID(12)}
	case "get-item":
		r = request{path: "/items/" + w.items[k], token: u.access}
	case "live":
		r = request{path: "/health/live"}
	}
	res.mu.Lock()
	res.requests++
	res.mu.Unlock()
	start := due
	var last attempt
	for n := 1; ; n++ {
		ans, err := w.lb.do(ctx, r)
		end := time.Now()
		failed := err != nil || ans.status != http.StatusOK
		w.rec.sample(start, end.Sub(start), failed)
		res.mu.Lock()
		res.attempts++
		if !failed {
			res.ok++
			if op == "increment" {
				var c counterValue
				if decodeInto(ans, &c) == nil {
					res.acked++
					res.values = append(res.values, c.Value)
				}
			}
			res.mu.Unlock()
			return
		}
		detail := fmt.Sprint(err)
		if err == nil {
			detail = ans.String()
		}
		last = attempt{op: op + " " + r.path, start: start, end: end, detail: detail}
		res.failedAttempts = append(res.failedAttempts, last)
		res.mu.Unlock()
		if !cfg.retry || n >= cfg.maxAttempts || ctx.Err() != nil {
			break
		}
		select {
		case <-ctx.Done():
		case <-time.After(min(time.Duration(n)*100*time.Millisecond, time.Second)):
		}
		start = time.Now()
	}
	res.mu.Lock()
	res.lost = append(res.lost, last)
	res.mu.Unlock()
}
