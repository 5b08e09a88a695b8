package prove

import (
	"context"
	"fmt"
	"net/http"
	"sync"
	"time"
)

// exactness sends W workers × K increments of one counter through the
// load balancer, each with its own Idempotency-Key and retried with the
// same key on a transport error or a 5xx, and checks the final value
// against the acknowledged increments. Then it reads one session from 100
// requests at once and checks that no view was lost.
func exactness(ctx context.Context, e *env, res *Result) {
	u, err := e.lb.newUser(ctx, e.run+"-exact")
	if err != nil {
		res.fail("set up: %v", err)
		return
	}
	name := fmt.Sprintf("%s-exact-%s", e.run, randomID(4))
	W, K := e.cfg.Workers, e.cfg.Increments
	var (
		mu      sync.Mutex
		acked   int
		values  []int64
		retries int
		wg      sync.WaitGroup
	)
	start := time.Now()
	for w := range W {
		wg.Go(func() {
			for k := range K {
				key := fmt.Sprintf("prove-%s-%d-%d-%s", e.run, w, k, randomID(6))
				v, tries, err := incrementUntilDone(ctx, e, name, u.access, key, 20)
				mu.Lock()
				retries += tries - 1
				if err != nil {
					res.fail("increment with key %s never acknowledged after %d tries: %v", key, tries, err)
				} else {
					acked++
					values = append(values, v)
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	res.figure("workers × increments", fmt.Sprintf("%d × %d", W, K))
	res.figure("retries", retries)
	res.figure("increments/s", fmt.Sprintf("%.0f", float64(acked)/elapsed.Seconds()))
	checkCounter(ctx, e, res, name, acked, values, u.access)

	// 100 parallel session updates: each read adds one view.
	const parallel = 100
	before, err := readViews(ctx, e.lb, u.sid)
	if err != nil {
		res.fail("read session: %v", err)
		return
	}
	reps := e.endpoints()
	var failed int
	for i := range parallel {
		wg.Go(func() {
			t0 := time.Now()
			_, err := reps[i%len(reps)].expect(ctx, request{path: "/session", cookie: u.sid}, http.StatusOK)
			e.rec.sample(t0, time.Since(t0), err != nil)
			if err != nil {
				mu.Lock()
				failed++
				res.fail("parallel session read: %v", err)
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	after, err := readViews(ctx, e.lb, u.sid)
	if err != nil {
		res.fail("read session: %v", err)
		return
	}
	// The read that measures "after" is itself one more view.
	want := before + parallel + 1
	res.figure("parallel session updates", parallel)
	res.figure("session views lost", want-after)
	if failed == 0 && after != want {
		res.fail("session views: %d after %d parallel reads from %d, want %d (%d lost)", after, parallel, before, want, want-after)
	}
	if res.Verdict == Pass {
		res.Summary = fmt.Sprintf("%d increments, counter exact; %d parallel session updates, none lost", acked, parallel)
	}
}

// incrementUntilDone increments counter name with Idempotency-Key key,
// retrying with the same key after a transport error or a 5xx, and
// returns the value the acknowledged increment produced.
func incrementUntilDone(ctx context.Context, e *env, name, token, key string, maxTries int) (int64, int, error) {
	var lastErr error
	for try := 1; try <= maxTries; try++ {
		t0 := time.Now()
		ans, err := e.lb.do(ctx, request{method: http.MethodPost, path: "/counters/" + name + "/increment", token: token, idemKey: key})
		ok := err == nil && ans.status == http.StatusOK
		e.rec.sample(t0, time.Since(t0), !ok)
		if ok {
			var c counterValue
			if err := decodeInto(ans, &c); err != nil {
				return 0, try, err
			}
			return c.Value, try, nil
		}
		if err == nil {
			lastErr = fmt.Errorf("answer %s", ans)
			// A 4xx will not change on retry, except 409: the key is
			// still held by the first attempt.
			if ans.status < 500 && ans.status != http.StatusConflict {
				return 0, try, lastErr
			}
		} else {
			lastErr = err
		}
		select {
		case <-ctx.Done():
			return 0, try, ctx.Err()
		case <-time.After(min(time.Duration(try)*50*time.Millisecond, time.Second)):
		}
	}
	return 0, maxTries, lastErr
}

func readViews(ctx context.Context, a *api, sid string) (int64, error) {
	ans, err := a.expect(ctx, request{path: "/session", cookie: sid}, http.StatusOK)
	if err != nil {
		return 0, err
	}
	var v sessionView
	err = decodeInto(ans, &v)
	return v.Views, err
}
