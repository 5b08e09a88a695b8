package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"slices"
	"time"
)

// serverResult is one server's figures on one route.
type serverResult struct {
	runs []measurement
	// Backend calls per request, from the counting pass.
	redisCommands, pgRoundTrips, pgTransactions float64
}

func (s serverResult) requests() int64 {
	var n int64
	for _, m := range s.runs {
		n += m.Requests
	}
	return n
}

// rate is requests over time across all runs.
func (s serverResult) rate() float64 {
	var us int64
	for _, m := range s.runs {
		us += m.DurationUS
	}
	return float64(s.requests()) / (float64(us) / 1e6)
}

// p50 and p99 are the medians across runs of each run's percentile.
func (s serverResult) p50() float64 {
	return medianOf(s.runs, func(m measurement) float64 { return m.P50US })
}
func (s serverResult) p99() float64 {
	return medianOf(s.runs, func(m measurement) float64 { return m.P99US })
}

func (s serverResult) failures() (non2xx, errors int64) {
	for _, m := range s.runs {
		non2xx += m.Non2xx
		errors += m.Errors
	}
	return
}

func medianOf(runs []measurement, f func(measurement) float64) float64 {
	vs := make([]float64, len(runs))
	for i, m := range runs {
		vs[i] = f(m)
	}
	slices.Sort(vs)
	if len(vs) == 0 {
		return 0
	}
	return vs[len(vs)/2]
}

type routeResult struct {
	route          route
	herd, baseline serverResult
}

// measureRoute warms both servers up, runs them in turns, then counts
// their backend calls per request.
func measureRoute(ctx context.Context, o options, dir string, rt route, herd, baseline *process, counting [2]countedServer) (routeResult, error) {
	res := routeResult{route: rt}
	warm := o.load
	warm.duration = o.warmup
	for _, p := range []*process{herd, baseline} {
		if _, err := runWrk(ctx, dir, p.base, rt, warm); err != nil {
			return res, err
		}
	}
	for range o.alternations {
		for _, side := range []struct {
			p   *process
			res *serverResult
		}{{herd, &res.herd}, {baseline, &res.baseline}} {
			m, err := runWrk(ctx, dir, side.p.base, rt, o.load)
			if err != nil {
				return res, err
			}
			side.res.runs = append(side.res.runs, m)
		}
	}

	for i, side := range []*serverResult{&res.herd, &res.baseline} {
		c := counting[i]
		// The first requests prepare statements and wake pooled
		// connections up; what is counted is the steady state.
		if err := sendSequentially(ctx, c.p, rt, 5); err != nil {
			return res, err
		}
		settle()
		pgBefore, xactBefore := c.pg.counts.snapshot()
		redisBefore, _ := c.redis.counts.snapshot()
		if err := sendSequentially(ctx, c.p, rt, o.countRequests); err != nil {
			return res, err
		}
		settle()
		pgAfter, xactAfter := c.pg.counts.snapshot()
		redisAfter, _ := c.redis.counts.snapshot()
		n := float64(o.countRequests)
		side.redisCommands = float64(redisAfter-redisBefore) / n
		side.pgRoundTrips = float64(pgAfter-pgBefore) / n
		side.pgTransactions = float64(xactAfter-xactBefore) / n
	}
	return res, nil
}

// countedServer is a server whose backend connections go through
// counting proxies.
type countedServer struct {
	p         *process
	pg, redis *countingProxy
}

// settle lets the proxies parse what they already forwarded: a server may
// answer a request the moment a backend's reply reaches it, a moment
// before the proxy has read that reply itself.
func settle() { time.Sleep(50 * time.Millisecond) }

// sendSequentially sends n requests of rt one after another and requires
// each to succeed: backend calls of failed requests would count for nothing.
func sendSequentially(ctx context.Context, p *process, rt route, n int) error {
	client := &http.Client{Timeout: 10 * time.Second}
	for i := range n {
		req, err := rt.request(p.base, i)
		if err != nil {
			return err
		}
		resp, err := client.Do(req.WithContext(ctx))
		if err != nil {
			return err
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode/100 != 2 {
			return fmt.Errorf("%s answered %s: %.200s", p.name, resp.Status, body)
		}
	}
	return nil
}

func ms(us float64) string { return fmt.Sprintf("%.3fms", us/1000) }

func (r routeResult) print(out io.Writer) {
	fmt.Fprintf(out, "\n%s\n", r.route.name)
	fmt.Fprintf(out, "  %-14s %10s %10s %10s %15s %12s %12s\n", "", "req/s", "p50", "p99", "redis cmds/req", "pg rt/req", "pg xact/req")
	for _, side := range []struct {
		name string
		s    serverResult
	}{{"herd", r.herd}, {"baseline", r.baseline}} {
		fmt.Fprintf(out, "  %-14s %10.0f %10s %10s %15.2f %12.2f %12.2f\n", side.name, side.s.rate(), ms(side.s.p50()), ms(side.s.p99()), side.s.redisCommands, side.s.pgRoundTrips, side.s.pgTransactions)
		if non2xx, errs := side.s.failures(); non2xx+errs > 0 {
			fmt.Fprintf(out, "  %-14s WARNING: %d non-2xx answers, %d socket errors\n", "", non2xx, errs)
		}
	}
	fmt.Fprintf(out, "  %-14s %10.2f %10.2f %10.2f\n", "herd/baseline", r.herd.rate()/r.baseline.rate(), r.herd.p50()/r.baseline.p50(), r.herd.p99()/r.baseline.p99())
}

// printSummary prints every route in one Markdown table, for
// BENCHMARKS.md, with the targets the issue set, read from the figures.
func printSummary(out io.Writer, results []routeResult) {
	fmt.Fprintln(out, "\n| route | herd req/s | baseline req/s | ratio | herd p50 | baseline p50 | herd p99 | baseline p99 | p99 ratio | Redis cmds/req herd (baseline) | PG round trips/req herd (baseline) | PG xact/req herd (baseline) |")
	fmt.Fprintln(out, "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
	for _, r := range results {
		fmt.Fprintf(out, "| %s | %.0f | %.0f | %.2f | %s | %s | %s | %s | %.2f | %.2f (%.2f) | %.2f (%.2f) | %.2f (%.2f) |\n",
			r.route.name, r.herd.rate(), r.baseline.rate(), r.herd.rate()/r.baseline.rate(),
			ms(r.herd.p50()), ms(r.baseline.p50()), ms(r.herd.p99()), ms(r.baseline.p99()), r.herd.p99()/r.baseline.p99(),
			r.herd.redisCommands, r.baseline.redisCommands, r.herd.pgRoundTrips, r.baseline.pgRoundTrips,
			r.herd.pgTransactions, r.baseline.pgTransactions)
	}
	fmt.Fprintln(out, "\ntargets (throughput ≥ 0.90× and p99 ≤ 1.2× the baseline's):")
	for _, r := range results {
		tput, p99 := r.herd.rate()/r.baseline.rate(), r.herd.p99()/r.baseline.p99()
		fmt.Fprintf(out, "  %-34s throughput %.2f %s   p99 %.2f %s\n", r.route.name, tput, verdict(tput >= 0.90), p99, verdict(p99 <= 1.2))
	}
}

func verdict(met bool) string {
	if met {
		return "met"
	}
	return "MISSED"
}
