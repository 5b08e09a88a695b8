package prove

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/herdhq/herd/cluster"
)

// warmup is how long the load runs before and after the disturbance, so
// the charts show the steady state on both sides.
const warmup = 2 * time.Second

// underLoad starts the mixed workload, runs disturb while it flows, keeps
// it flowing for warmup more, and returns the load's account.
func underLoad(ctx context.Context, e *env, res *Result, name string, cfg loadConfig, disturb func(ctx context.Context) error) (*workload, *loadResult, bool) {
	w, err := setupWorkload(ctx, e.lb, e.rec, e.cfg.LoadUsers, e.run+"-"+name)
	if err != nil {
		res.fail("%v", err)
		return nil, nil, false
	}
	before, haveCounters := e.lbCounters(ctx)
	stop := make(chan struct{})
	done := make(chan *loadResult, 1)
	go func() { done <- w.run(ctx, cfg, stop) }()
	sleep(ctx, warmup)
	err = disturb(ctx)
	sleep(ctx, warmup)
	close(stop)
	lr := <-done
	res.figure("requests", lr.requests)
	res.figure("requested rate (req/s)", cfg.rate)
	res.figure("achieved rate (req/s)", fmt.Sprintf("%.0f", lr.rate()))
	res.figure("duration", lr.end.Sub(lr.start).Round(100*time.Millisecond).String())
	if after, ok := e.lbCounters(ctx); ok && haveCounters {
		// Failures the load balancer hid by sending the request again.
		res.figure("retried by HAProxy", (after.Retries+after.Redispatches)-(before.Retries+before.Redispatches))
	}
	if err != nil {
		res.fail("%s: %v", name, err)
		return w, lr, false
	}
	// A load generator that fell behind proved less than it claims.
	if lr.rate() < 0.9*float64(cfg.rate) {
		res.fail("the load reached %.0f requests/s, under 90%% of the %d asked for", lr.rate(), cfg.rate)
	}
	return w, lr, true
}

// lbCounters reads HAProxy's counters when herd prove drives a local
// cluster whose admin socket it can reach.
func (e *env) lbCounters(ctx context.Context) (cluster.BackendCounters, bool) {
	if e.control == nil {
		return cluster.BackendCounters{}, false
	}
	st, err := e.control.Status(ctx)
	if err != nil || st.HAProxy.StatsSocket == "" {
		return cluster.BackendCounters{}, false
	}
	c, err := cluster.QueryBackend(ctx, st.HAProxy.StatsSocket)
	return c, err == nil
}

func replicaReady(ctx context.Context, e *env, url string) bool {
	ans, err := newAPI(url, e.lb.hc, time.Second).do(ctx, request{path: "/health/ready"})
	return err == nil && ans.status == http.StatusOK
}

func sleep(ctx context.Context, d time.Duration) {
	select {
	case <-ctx.Done():
	case <-time.After(d):
	}
}

// rollout replaces every replica through the supervisor while the load
// runs; not one request may fail.
func rollout(ctx context.Context, e *env, res *Result) {
	if !needControl(e, res) {
		return
	}
	cfg := loadConfig{rate: e.cfg.Rate, workers: e.cfg.LoadWorkers}
	start := time.Now()
	w, lr, ok := underLoad(ctx, e, res, "rollout", cfg, func(ctx context.Context) error {
		ctx, cancel := context.WithTimeout(ctx, 15*time.Minute)
		defer cancel()
		return e.control.Rollout(ctx, func(ev cluster.Event) {
			if !e.clusterInProcess {
				e.logf("  %s", ev.Message)
			}
		})
	})
	e.markClusterEvents(ctx, start, time.Now())
	if lr == nil {
		return
	}
	zeroFailures(ctx, e, res, w, lr, ok, " during the rollout")
}

// zeroFailures passes a load only when no request failed and the counter
// it drove ended exact.
func zeroFailures(ctx context.Context, e *env, res *Result, w *workload, lr *loadResult, counterOK bool, when string) {
	res.figure("failed requests", len(lr.failedAttempts))
	for _, a := range lr.failedAttempts {
		res.fail("%s at +%.1fs: %s", a.op, a.start.Sub(e.rec.start).Seconds(), a.detail)
	}
	if counterOK {
		checkCounter(ctx, e, res, w.counter, lr.acked, lr.values, w.users[0].access)
	}
	if res.Verdict == Pass {
		res.Summary = fmt.Sprintf("%d requests at %.0f/s%s, 0 failed", lr.requests, lr.rate(), when)
	}
}

// soak runs the load for --duration with nothing disturbed on purpose;
// pointed at a deployment being rolled out by other means (kubectl
// rollout restart), it proves that rollout.
func soak(ctx context.Context, e *env, res *Result) {
	cfg := loadConfig{rate: e.cfg.Rate, workers: e.cfg.LoadWorkers}
	w, lr, ok := underLoad(ctx, e, res, "soak", cfg, func(ctx context.Context) error {
		sleep(ctx, e.cfg.Duration)
		return ctx.Err()
	})
	if lr == nil {
		return
	}
	zeroFailures(ctx, e, res, w, lr, ok, "")
}

// crash SIGKILLs one replica while the load runs with retries. A request
// may fail only if it was in flight when the replica died, and then it
// must succeed on retry; the counter must end exact, and every user's
// token and session must still work.
func crash(ctx context.Context, e *env, res *Result) {
	if !needControl(e, res) {
		return
	}
	st, err := e.control.Status(ctx)
	if err != nil {
		res.fail("cluster status: %v", err)
		return
	}
	victim := e.cfg.CrashReplica % len(st.Replicas)
	restartsBefore := st.Replicas[victim].Restarts
	cfg := loadConfig{rate: e.cfg.Rate, workers: e.cfg.LoadWorkers, retry: true, maxAttempts: 30}
	var killSent, killDone, back time.Time
	start := time.Now()
	w, lr, ok := underLoad(ctx, e, res, "crash", cfg, func(ctx context.Context) error {
		killSent = time.Now()
		err := e.control.Kill(ctx, victim)
		killDone = time.Now()
		if err != nil {
			return err
		}
		e.logf("  replica %d: SIGKILL", victim)
		// Keep the load on until the supervisor has the replica back in
		// rotation, so the restart is under load too.
		ctx, cancel := context.WithTimeout(ctx, 60*time.Second)
		defer cancel()
		for {
			st, err := e.control.Status(ctx)
			if err == nil {
				r := st.Replicas[victim]
				// HAProxy may not have noticed the death yet, so its UP
				// alone proves nothing: the new process must answer too.
				if r.Restarts > restartsBefore && r.PID != 0 && r.LB == "UP" && replicaReady(ctx, e, r.URL) {
					back = time.Now()
					e.logf("  replica %d: back in rotation as pid %d", victim, r.PID)
					return nil
				}
			}
			select {
			case <-ctx.Done():
				return fmt.Errorf("replica %d not back in rotation: %w", victim, ctx.Err())
			case <-time.After(100 * time.Millisecond):
			}
		}
	})
	e.markClusterEvents(ctx, start, time.Now())
	if lr == nil {
		return
	}
	inFlight, other := splitInFlight(lr.failedAttempts, killSent, killDone)
	for _, a := range other {
		res.fail("%s failed at +%.1fs, not in flight at the kill: %s", a.op, a.start.Sub(e.rec.start).Seconds(), a.detail)
	}
	res.figure("replica killed", victim)
	if !back.IsZero() {
		res.figure("back in rotation after", back.Sub(killDone).Round(10*time.Millisecond).String())
	}
	res.figure("failed attempts in flight at the kill", len(inFlight))
	res.figure("failed attempts otherwise", len(other))
	res.figure("requests never succeeded", len(lr.lost))
	for _, a := range lr.lost {
		res.fail("%s never succeeded: %s", a.op, a.detail)
	}
	if !ok {
		return
	}
	checkCounter(ctx, e, res, w.counter, lr.acked, lr.values, w.users[0].access)
	lostTokens, lostSessions := 0, 0
	for _, u := range w.users {
		if _, err := e.lb.expect(ctx, request{path: "/me", token: u.access}, http.StatusOK); err != nil {
			lostTokens++
			res.fail("token lost: %v", err)
		}
		if _, err := e.lb.expect(ctx, request{path: "/session", cookie: u.sid}, http.StatusOK); err != nil {
			lostSessions++
			res.fail("session lost: %v", err)
		}
	}
	res.figure("tokens lost", lostTokens)
	res.figure("sessions lost", lostSessions)
	if res.Verdict == Pass {
		res.Summary = fmt.Sprintf("%d requests; %d attempts failed in flight and succeeded on retry; counter exact; no token or session lost", lr.requests, len(inFlight))
	}
}

// splitInFlight sorts failed attempts into those in flight when the
// replica was killed (sent before the kill took effect, and still open
// when it was sent) and the others, which a crash does not excuse.
func splitInFlight(failed []attempt, killSent, killDone time.Time) (inFlight, other []attempt) {
	for _, a := range failed {
		if !a.start.After(killDone) && !a.end.Before(killSent) {
			inFlight = append(inFlight, a)
		} else {
			other = append(other, a)
		}
	}
	return inFlight, other
}
