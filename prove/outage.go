package prove

import (
	"context"
	"fmt"
	"net/http"
	"sync"
	"time"
)

// recoveryLimit is how soon after a dependency returns everything must
// work again.
const recoveryLimit = 5 * time.Second

// outage stops each of the cluster's private dependencies (Redis, then
// PostgreSQL) and starts it again. While it is down, readiness must turn
// 503 within two probe intervals and every answer must be a success or a
// 503 problem document, never a hang; after it returns, everything must
// work within 5 s, with no replica restarted.
func outage(ctx context.Context, e *env, res *Result) {
	if !needControl(e, res) {
		return
	}
	st, err := e.control.Status(ctx)
	if err != nil {
		res.fail("cluster status: %v", err)
		return
	}
	if len(st.Backends) == 0 {
		res.Verdict = Skip
		res.Summary = "the cluster has no local dependencies to stop (herd cluster up --own-backends)"
		return
	}
	interval := e.cfg.ProbeInterval
	if interval == 0 {
		interval = time.Duration(st.CheckInterval)
	}
	res.figure("probe interval", interval.String())
	hc := &http.Client{Transport: newTransport()}
	var direct []*api
	for _, r := range st.Replicas {
		direct = append(direct, newAPI(r.URL, hc, e.cfg.HangTimeout))
	}
	lb := newAPI(e.lb.base, hc, e.cfg.HangTimeout)
	u, err := lb.newUser(ctx, e.run+"-outage")
	if err != nil {
		res.fail("set up: %v", err)
		return
	}
	for _, want := range []string{"redis", "postgres"} {
		for _, b := range st.Backends {
			if b.Name == want {
				outageOf(ctx, e, res, b.Name, interval, lb, direct, u)
			}
		}
	}
	after, err := e.control.Status(ctx)
	if err != nil {
		res.fail("cluster status: %v", err)
		return
	}
	for i, r := range after.Replicas {
		if b := st.Replicas[i]; r.PID != b.PID || r.Restarts != b.Restarts {
			res.fail("replica %d was restarted during the outages (pid %d → %d)", i, b.PID, r.PID)
		}
	}
	if res.Verdict == Pass {
		res.Summary = fmt.Sprintf("%d dependencies stopped and restarted; 503s only, no hang, recovered within %s, no replica restarted", len(st.Backends), recoveryLimit)
	}
}

func outageOf(ctx context.Context, e *env, res *Result, dep string, interval time.Duration, lb *api, direct []*api, u *user) {
	// A fresh session: one in a throwaway Redis did not survive its restart.
	sid, err := lb.newSession(ctx, u.email, u.password)
	if err != nil {
		res.fail("before stopping %s: %v", dep, err)
		return
	}
	u.sid = sid
	e.logf("  %s: stopping", dep)
	traffic := startOutageTraffic(ctx, e, lb, direct, u)
	if err := e.control.Backend(ctx, dep, "stop"); err != nil {
		traffic.stop()
		res.fail("stop %s: %v", dep, err)
		return
	}
	stopped := time.Now()
	e.rec.event(stopped, dep+" stopped")

	// Readiness turns 503 on every replica within two probe intervals.
	var slowest time.Duration
	for i, r := range direct {
		d, err := waitStatus(ctx, r, "/health/ready", http.StatusServiceUnavailable, stopped, 30*time.Second)
		if err != nil {
			res.fail("%s down: replica %d readiness: %v", dep, i, err)
			continue
		}
		slowest = max(slowest, d)
	}
	res.figure(dep+": readiness 503 after", slowest.Round(time.Millisecond).String())
	if slowest > 2*interval {
		res.fail("%s down: readiness took %s to turn 503, over two probe intervals (%s)", dep, slowest.Round(time.Millisecond), 2*interval)
	}
	sleep(ctx, e.cfg.OutageHold)

	e.logf("  %s: starting again", dep)
	err = e.control.Backend(ctx, dep, "start")
	back := time.Now()
	counts := traffic.stop()
	e.rec.event(back, dep+" started")
	res.figure(dep+": answers during the outage", fmt.Sprintf("%d ok, %d × 503 problem", counts.ok, counts.unavailable))
	res.figure(dep+": wrong answers or hangs", len(counts.wrong))
	for _, w := range counts.wrong {
		res.fail("%s down: %s", dep, w)
	}
	if err != nil {
		res.fail("start %s again: %v", dep, err)
		return
	}

	// Everything works again soon after the dependency is back.
	deadline := time.Now().Add(60 * time.Second)
	for {
		err := fullCycle(ctx, lb, direct, u)
		if err == nil {
			took := time.Since(back)
			res.figure(dep+": recovered after", took.Round(time.Millisecond).String())
			if took > recoveryLimit {
				res.fail("%s back: recovery took %s, over %s", dep, took.Round(time.Millisecond), recoveryLimit)
			}
			return
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			res.fail("%s back: not recovered after %s: %v", dep, time.Since(back).Round(time.Second), err)
			return
		}
		sleep(ctx, 100*time.Millisecond)
	}
}

// fullCycle is one of each kind of request that needs the dependencies:
// readiness and an increment on every replica, a login and a new session
// through the load balancer.
func fullCycle(ctx context.Context, lb *api, direct []*api, u *user) error {
	for i, r := range direct {
		if _, err := r.expect(ctx, request{path: "/health/ready"}, http.StatusOK); err != nil {
			return fmt.Errorf("replica %d: %w", i, err)
		}
		if _, err := r.expect(ctx, request{method: http.MethodPost, path: "/counters/outage-" + randomID(3) + "/increment", token: u.access, idemKey: "prove-" + randomID(12)}, http.StatusOK); err != nil {
			return fmt.Errorf("replica %d: %w", i, err)
		}
	}
	if _, err := lb.login(ctx, u.email, u.password); err != nil {
		return err
	}
	sid, err := lb.newSession(ctx, u.email, u.password)
	if err != nil {
		return err
	}
	_, err = lb.expect(ctx, request{path: "/session", cookie: sid}, http.StatusOK)
	return err
}

// waitStatus polls path on a until it answers want, and returns how long
// after since that was.
func waitStatus(ctx context.Context, a *api, path string, want int, since time.Time, limit time.Duration) (time.Duration, error) {
	deadline := time.Now().Add(limit)
	for {
		ans, err := a.do(ctx, request{path: path})
		if err == nil && ans.status == want {
			return time.Since(since), nil
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			return 0, fmt.Errorf("still %v after %s, want %d", ans, limit, want)
		}
		sleep(ctx, 20*time.Millisecond)
	}
}

// outageTraffic sends requests that need the dependencies while one is
// down and sorts their answers.
type outageTraffic struct {
	cancel context.CancelFunc
	wg     sync.WaitGroup
	mu     sync.Mutex
	counts outageCounts
}

type outageCounts struct {
	ok, unavailable int
	wrong           []string
}

func startOutageTraffic(ctx context.Context, e *env, lb *api, direct []*api, u *user) *outageTraffic {
	ctx, cancel := context.WithCancel(ctx)
	t := &outageTraffic{cancel: cancel}
	targets := append([]*api{lb}, direct...)
	reqs := []request{
		{path: "/me", token: u.access},
		{path: "/session", cookie: u.sid},
		{method: http.MethodPost, path: "/counters/outage/increment", token: u.access},
		{path: "/items/outage", token: u.access},
	}
	for w := range 4 {
		t.wg.Go(func() {
			for i := w; ctx.Err() == nil; i += 4 {
				a := targets[i%len(targets)]
				r := reqs[i%len(reqs)]
				if r.method == http.MethodPost {
					r.idemKey = "prove-" + randomID(12)
				}
				t0 := time.Now()
				ans, err := a.do(ctx, r)
				if ctx.Err() != nil {
					return // stopped while in flight: not the server's doing
				}
				wrong := ""
				switch {
				case err != nil:
					wrong = fmt.Sprintf("%s %s on %s: no answer within %s: %v", methodOf(r), r.path, a.base, e.cfg.HangTimeout, err)
				case ans.status < 300 || ans.status == http.StatusNotFound && r.path == "/items/outage":
				case isProblem(ans, http.StatusServiceUnavailable):
				default:
					wrong = fmt.Sprintf("%s %s on %s: %s, want success or a 503 problem document", methodOf(r), r.path, a.base, ans)
				}
				// The chart counts every answer that is not a success as an
				// error, expected 503s included, so the outage shows.
				e.rec.sample(t0, time.Since(t0), err != nil || ans.status >= 300)
				t.mu.Lock()
				switch {
				case wrong != "":
					t.counts.wrong = append(t.counts.wrong, wrong)
				case ans.status == http.StatusServiceUnavailable:
					t.counts.unavailable++
				default:
					t.counts.ok++
				}
				t.mu.Unlock()
				sleep(ctx, 50*time.Millisecond)
			}
		})
	}
	return t
}

func (t *outageTraffic) stop() outageCounts {
	t.cancel()
	t.wg.Wait()
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.counts
}
