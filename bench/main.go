// Command bench measures herd's hot paths against a floor: bench/baseline,
// which serves the same routes on plain net/http with exactly the same
// backend calls and none of herd's HTTP layer. Both run on the production
// backends (PostgreSQL and Redis), are driven by wrk at constant
// concurrency for a fixed time after a warm-up, and take turns on every
// route so that drift on a shared machine hits both.
//
//	go run ./bench -short   # CI: a few seconds per route
//	go run ./bench          # the figures in BENCHMARKS.md
//
// It prints, per route, req/s, p50 and p99 of both servers and their ratio,
// and the backend calls per request of each (Redis commands sent, EVALSHA
// counting one; PostgreSQL transactions); then herd's time to ready and
// its peak RSS. It judges nothing: the figures are read, not asserted.
package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/herdhq/herd/internal/testenv"
)

type options struct {
	warmup        time.Duration
	alternations  int
	load          load
	readyStarts   int
	countRequests int
	databaseURL   string
	redisURL      string
	logLevel      string
	only          string
	herdBinary    string
}

func main() {
	var o options
	short := flag.Bool("short", false, "CI mode: 1s warm-up, 2s per run, one alternation, fewer samples")
	flag.DurationVar(&o.warmup, "warmup", 2*time.Second, "warm-up of each server on each route, not measured")
	flag.DurationVar(&o.load.duration, "duration", 5*time.Second, "length of one measured run (whole seconds: wrk's unit)")
	flag.IntVar(&o.alternations, "alternations", 3, "measured runs per server and route, herd and baseline taking turns")
	flag.IntVar(&o.load.threads, "threads", 2, "wrk threads")
	flag.IntVar(&o.load.connections, "connections", 32, "wrk connections, i.e. requests in flight (a route may set fewer)")
	flag.IntVar(&o.readyStarts, "ready-starts", 10, "herd starts timed from exec to the first 200 from /health/ready")
	flag.IntVar(&o.countRequests, "count-requests", 100, "sequential requests per server and route while backend calls are counted")
	flag.StringVar(&o.databaseURL, "database-url", envOr(testenv.PostgresSetting, testenv.DefaultPostgresURL),
		"PostgreSQL URL; the servers work in a fresh schema of its database, dropped at the end")
	flag.StringVar(&o.redisURL, "redis-url", envOr(testenv.RedisSetting, testenv.DefaultRedisURL), "Redis URL")
	flag.StringVar(&o.logLevel, "log-level", "info", "herd's HERD_LOG_LEVEL: info writes the access log (the product's default), warn does not")
	flag.StringVar(&o.only, "only", "", "run only the routes whose name contains this")
	flag.StringVar(&o.herdBinary, "herd-binary", "", "run this herd binary instead of building ./cmd/herd, e.g. to compare two builds")
	flag.Parse()
	if *short {
		// Short defaults; a flag given explicitly still wins.
		set := map[string]bool{}
		flag.Visit(func(f *flag.Flag) { set[f.Name] = true })
		for name, value := range map[string]string{
			"warmup": "1s", "duration": "2s", "alternations": "1", "ready-starts": "3", "count-requests": "20",
		} {
			if !set[name] {
				flag.Set(name, value)
			}
		}
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, o, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

func envOr(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

func run(ctx context.Context, o options, out io.Writer) (err error) {
	began := time.Now()
	defer func() {
		if err == nil {
			fmt.Fprintf(out, "the run took %v\n", time.Since(began).Round(time.Second))
		}
	}()
	if err := requireWrk(); err != nil {
		return err
	}
	root, err := moduleRoot(ctx)
	if err != nil {
		return err
	}
	dir, err := os.MkdirTemp("", "herd-bench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)

	fmt.Fprintln(out, "building herd and the baseline…")
	herdBin := o.herdBinary
	if herdBin == "" {
		if herdBin, err = build(ctx, root, dir, "./cmd/herd", "herd"); err != nil {
			return err
		}
	}
	baselineBin, err := build(ctx, root, dir, "./bench/baseline", "baseline")
	if err != nil {
		return err
	}

	b, err := openBackends(ctx, o.databaseURL, o.redisURL)
	if err != nil {
		return err
	}
	defer b.close(context.WithoutCancel(ctx))
	run := randomHex(4)
	schema, prefix := "bench_"+run, "bench-"+run
	defer func() {
		if err := b.forget(context.WithoutCancel(ctx), schema, prefix); err != nil {
			fmt.Fprintln(os.Stderr, "bench:", err)
		}
	}()
	pgVersion, redisVersion := b.versions(ctx)
	printMachine(out, pgVersion, redisVersion)

	// Every server shares one schema, one prefix and one folder of files:
	// the same token, cookie and item work on all of them.
	dataDir := filepath.Join(dir, "data")
	startHerd := func(instance, databaseURL, redisURL string) (*process, time.Duration, error) {
		addr, err := freeAddr()
		if err != nil {
			return nil, 0, err
		}
		started := time.Now()
		p, err := start("herd", herdBin, []string{"serve"}, []string{
			"HERD_ADDR=" + addr, "HERD_INSTANCE_ID=" + instance,
			"DATABASE_URL=" + databaseURL, "HERD_DB_SCHEMA=" + schema,
			"REDIS_URL=" + redisURL, "HERD_REDIS_PREFIX=" + prefix,
			"HERD_DATA_DIR=" + dataDir, "HERD_LOG_LEVEL=" + o.logLevel,
			"HERD_DRAIN_DELAY=1ms", "HERD_SHUTDOWN_TIMEOUT=5s",
		}, addr)
		if err != nil {
			return nil, 0, err
		}
		ready, err := p.waitReady("/health/ready", started, 30*time.Second)
		if err != nil {
			p.stop(time.Second)
			return nil, 0, err
		}
		return p, ready, nil
	}
	startBaseline := func(databaseURL, redisURL string) (*process, error) {
		addr, err := freeAddr()
		if err != nil {
			return nil, err
		}
		p, err := start("baseline", baselineBin, []string{
			"-addr", addr, "-database-url", databaseURL, "-schema", schema,
			"-redis-url", redisURL, "-redis-prefix", prefix, "-blob-dir", filepath.Join(dataDir, "blobs"),
		}, nil, addr)
		if err != nil {
			return nil, err
		}
		if _, err := p.waitReady("/health/live", time.Now(), 30*time.Second); err != nil {
			p.stop(time.Second)
			return nil, err
		}
		return p, nil
	}

	herd, _, err := startHerd("bench-herd", o.databaseURL, o.redisURL)
	if err != nil {
		return err
	}
	defer herd.stop(10 * time.Second)
	fx, err := setUp(ctx, herd.base, run)
	if err != nil {
		return fmt.Errorf("setting up through herd: %w", err)
	}
	baseline, err := startBaseline(o.databaseURL, o.redisURL)
	if err != nil {
		return err
	}
	defer baseline.stop(10 * time.Second)

	// A second pair, through counting proxies, counts backend calls; the
	// pair under load talks to the backends directly.
	pgAddr, err := hostOf(o.databaseURL, "5432")
	if err != nil {
		return err
	}
	redisAddr, err := hostOf(o.redisURL, "6379")
	if err != nil {
		return err
	}
	var counting [2]countedServer
	for i := range counting {
		c := &counting[i]
		if c.pg, err = startProxy(pgAddr, nil, countReadyForQuery); err != nil {
			return err
		}
		defer c.pg.close()
		if c.redis, err = startProxy(redisAddr, countRESPCommands, nil); err != nil {
			return err
		}
		defer c.redis.close()
		databaseURL, err := throughProxy(o.databaseURL, c.pg.addr(), true)
		if err != nil {
			return err
		}
		redisURL, err := throughProxy(o.redisURL, c.redis.addr(), false)
		if err != nil {
			return err
		}
		if i == 0 {
			c.p, _, err = startHerd("bench-herd-counted", databaseURL, redisURL)
		} else {
			c.p, err = startBaseline(databaseURL, redisURL)
		}
		if err != nil {
			return err
		}
		defer c.p.stop(10 * time.Second)
	}

	// Time to ready is taken first, on warm backends and an idle machine.
	var readies []time.Duration
	for i := range o.readyStarts {
		p, ready, err := startHerd(fmt.Sprintf("bench-ready-%d", i), o.databaseURL, o.redisURL)
		if err != nil {
			return fmt.Errorf("timing readiness: %w", err)
		}
		p.stop(10 * time.Second)
		readies = append(readies, ready)
	}

	fmt.Fprintf(out, "\nload: wrk, %d threads, %d connections (fewer where a route says), %v warm-up, %d × %v per server and route, herd and baseline alternating; herd HERD_LOG_LEVEL=%s\n",
		o.load.threads, o.load.connections, o.warmup, o.alternations, o.load.duration, o.logLevel)
	var results []routeResult
	for _, rt := range routes(fx) {
		if o.only != "" && !strings.Contains(rt.name, o.only) {
			continue
		}
		res, err := measureRoute(ctx, o, dir, rt, herd, baseline, counting)
		if err != nil {
			return fmt.Errorf("%s: %w", rt.name, err)
		}
		res.print(out)
		results = append(results, res)
	}

	herdRSS, err := herd.peakRSS()
	if err != nil {
		return err
	}
	baselineRSS, err := baseline.peakRSS()
	if err != nil {
		return err
	}
	printSummary(out, results)
	fmt.Fprintf(out, "\ntime to ready (exec → first 200 from /health/ready, warm backends, %d starts): %s\n", len(readies), describeDurations(readies))
	fmt.Fprintf(out, "peak RSS (VmHWM) after the load: herd %.1f MiB, baseline %.1f MiB\n", float64(herdRSS)/(1<<20), float64(baselineRSS)/(1<<20))
	if lines := herd.stdoutLines.Load(); lines > 0 {
		fmt.Fprintf(out, "herd's stdout: %d lines, %.0f bytes each on average (one access-log line per request)\n", lines, float64(herd.stdoutBytes.Load())/float64(lines))
	}
	return nil
}

func printMachine(out io.Writer, pgVersion, redisVersion string) {
	cpu := "unknown CPU"
	if info, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for line := range strings.Lines(string(info)) {
			if v, ok := strings.CutPrefix(line, "model name"); ok {
				cpu = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(v), ":"))
				break
			}
		}
	}
	fmt.Fprintf(out, "machine: %s, %d CPUs, %s/%s, %s; PostgreSQL %s, Redis %s; %s\n",
		cpu, runtime.NumCPU(), runtime.GOOS, runtime.GOARCH, runtime.Version(), pgVersion, redisVersion,
		time.Now().UTC().Format(time.DateTime+" UTC"))
}

func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}

func describeDurations(ds []time.Duration) string {
	if len(ds) == 0 {
		return "not measured"
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	ms := func(d time.Duration) string { return fmt.Sprintf("%.1f ms", float64(d.Microseconds())/1000) }
	return fmt.Sprintf("median %s, min %s, max %s", ms(s[len(s)/2]), ms(s[0]), ms(s[len(s)-1]))
}
