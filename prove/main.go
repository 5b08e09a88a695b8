// Package prove is herd prove: a black-box verifier of a herd deployment.
//
// It speaks only herd's HTTP contract (API.md), so it can be pointed at
// any deployment: a load balancer URL (--target) and, when known, the
// replicas' own URLs (--replicas). With --control it also drives a local
// `herd cluster` (restarts, crashes, dependency outages) through the
// cluster's control socket, starting one itself when none is running.
// Each scenario reports PASS, FAIL or SKIP with its figures; the run
// writes a terminal table, report.json and a self-contained report.html.
package prove

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/herdhq/herd/cluster"
)

// Config is herd prove's settings.
type Config struct {
	Target     string   `json:"target"`
	Replicas   []string `json:"replicas,omitempty"`
	Control    bool     `json:"control"`
	ClusterDir string   `json:"cluster_dir,omitempty"`
	Scenarios  []string `json:"scenarios"`
	Out        string   `json:"out"`

	// Load for rollout, crash and soak.
	Rate        int `json:"rate"`
	LoadWorkers int `json:"load_workers"`
	LoadUsers   int `json:"load_users"`
	// Duration is how long soak runs.
	Duration time.Duration `json:"duration"`

	// Exactness: Workers × Increments.
	Workers    int `json:"workers"`
	Increments int `json:"increments"`

	CrashReplica  int           `json:"crash_replica"`
	ProbeInterval time.Duration `json:"probe_interval"`
	OutageHold    time.Duration `json:"outage_hold"`
	// HangTimeout is the longest an answer may take during an outage.
	HangTimeout    time.Duration `json:"hang_timeout"`
	RequestTimeout time.Duration `json:"request_timeout"`
	MaxTime        time.Duration `json:"max_time"`

	// The cluster herd prove starts when --control finds none.
	ClusterReplicas int    `json:"cluster_replicas,omitempty"`
	OwnBackends     bool   `json:"own_backends,omitempty"`
	Listen          string `json:"listen,omitempty"`
	BasePort        int    `json:"base_port,omitempty"`
	HerdBin         string `json:"herd_bin,omitempty"`
}

// MarshalJSON writes durations as "5s" rather than nanoseconds.
func (c Config) MarshalJSON() ([]byte, error) {
	type plain Config
	return json.Marshal(struct {
		plain
		Duration       string `json:"duration"`
		ProbeInterval  string `json:"probe_interval"`
		OutageHold     string `json:"outage_hold"`
		HangTimeout    string `json:"hang_timeout"`
		RequestTimeout string `json:"request_timeout"`
		MaxTime        string `json:"max_time"`
	}{plain(c), c.Duration.String(), c.ProbeInterval.String(), c.OutageHold.String(), c.HangTimeout.String(), c.RequestTimeout.String(), c.MaxTime.String()})
}

const defaultScenarios = "any-replica,exactness,rollout,crash,outage"

// Main runs `herd prove` with args (the words after "prove"). It returns
// an error when a scenario failed or the run could not be done; the
// reports are written either way once scenarios have run.
func Main(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	cfg, err := parseFlags(args, stderr)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, cfg.MaxTime)
	defer cancel()
	_, err = Run(ctx, cfg, getenv, stdout)
	return err
}

func parseFlags(args []string, stderr io.Writer) (Config, error) {
	var c Config
	fs := flag.NewFlagSet("herd prove", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var replicas, scens string
	fs.StringVar(&c.Target, "target", "", "load balancer URL (default: the controlled cluster's, else http://127.0.0.1:8080)")
	fs.StringVar(&replicas, "replicas", "", "comma-separated direct replica URLs, when known")
	fs.BoolVar(&c.Control, "control", false, "drive the herd cluster in --cluster-dir (start one when none runs) for rollout, crash and outage")
	fs.StringVar(&c.ClusterDir, "cluster-dir", ".herd-cluster", "state directory of the herd cluster to drive")
	fs.StringVar(&scens, "scenarios", defaultScenarios, "comma-separated scenarios: "+strings.Join(scenarioNames(), ","))
	fs.StringVar(&c.Out, "out", "prove-report", "directory for report.json and report.html")
	fs.IntVar(&c.Rate, "rate", 200, "requests per second of the mixed load during rollout, crash and soak")
	fs.IntVar(&c.LoadWorkers, "load-workers", 64, "most requests of the load in flight at once")
	fs.IntVar(&c.LoadUsers, "load-users", 8, "users the load acts as")
	fs.DurationVar(&c.Duration, "duration", 30*time.Second, "how long soak runs")
	fs.IntVar(&c.Workers, "workers", 20, "exactness: parallel workers (W)")
	fs.IntVar(&c.Increments, "increments", 50, "exactness: increments per worker (K)")
	fs.IntVar(&c.CrashReplica, "crash-replica", 1, "crash: index of the replica to SIGKILL")
	fs.DurationVar(&c.ProbeInterval, "probe-interval", 0, "outage: readiness probe interval (default: the cluster's HAProxy check interval)")
	fs.DurationVar(&c.OutageHold, "outage-hold", 3*time.Second, "outage: how long each dependency stays down")
	fs.DurationVar(&c.HangTimeout, "hang-timeout", 5*time.Second, "outage: an answer slower than this is a hang")
	fs.DurationVar(&c.RequestTimeout, "timeout", 10*time.Second, "deadline of every request")
	fs.DurationVar(&c.MaxTime, "max-time", 30*time.Minute, "deadline of the whole run")
	fs.IntVar(&c.ClusterReplicas, "cluster-replicas", 3, "replicas of the cluster herd prove starts itself")
	fs.BoolVar(&c.OwnBackends, "own-backends", false, "give the cluster herd prove starts its own Redis and PostgreSQL (needed by outage)")
	fs.StringVar(&c.Listen, "listen", "127.0.0.1:8080", "load balancer address of the cluster herd prove starts")
	fs.IntVar(&c.BasePort, "base-port", 8081, "first replica port of the cluster herd prove starts")
	fs.StringVar(&c.HerdBin, "herd", "", "herd binary for the cluster herd prove starts (default: this one)")
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	if fs.NArg() > 0 {
		return c, fmt.Errorf("herd prove: unexpected arguments %q", fs.Args())
	}
	for _, r := range splitList(replicas) {
		c.Replicas = append(c.Replicas, strings.TrimRight(r, "/"))
	}
	c.Scenarios = splitList(scens)
	for _, s := range c.Scenarios {
		if !slices.Contains(scenarioNames(), s) {
			return c, fmt.Errorf("herd prove: unknown scenario %q (known: %s)", s, strings.Join(scenarioNames(), ", "))
		}
	}
	if c.Rate < 1 || c.LoadWorkers < 1 || c.LoadUsers < 1 || c.Workers < 1 || c.Increments < 1 {
		return c, errors.New("herd prove: --rate, --load-workers, --load-users, --workers and --increments must be positive")
	}
	return c, nil
}

func splitList(s string) []string {
	var out []string
	for _, f := range strings.Split(s, ",") {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, f)
		}
	}
	return out
}

// Run runs the scenarios of cfg and writes the reports. The error is
// non-nil when any scenario failed.
func Run(ctx context.Context, cfg Config, getenv func(string) string, stdout io.Writer) (*Report, error) {
	start := time.Now()
	e := &env{cfg: cfg, rec: newRecorder(start), log: stdout, run: "p" + randomID(4)}
	hc := &http.Client{Transport: newTransport()}

	if cfg.Control {
		c := cluster.Dial(cfg.ClusterDir)
		if _, err := c.Status(ctx); errors.Is(err, cluster.ErrNotRunning) {
			e.logf("no herd cluster in %s: starting one", cfg.ClusterDir)
			s, err := startCluster(ctx, cfg, getenv, stdout)
			if err != nil {
				return nil, err
			}
			e.clusterInProcess = true
			defer func() {
				e.logf("stopping the cluster herd prove started")
				s.Down(context.WithoutCancel(ctx))
			}()
		} else if err != nil {
			return nil, err
		}
		e.control = c
	}
	if err := e.locate(ctx, hc); err != nil {
		return nil, err
	}
	e.logf("target %s, %d replicas known, run %s", e.lb.base, len(e.replicas), e.run)

	report := &Report{Started: start, Target: e.lb.base, Controlled: cfg.Control, Settings: cfg}
	for _, r := range e.replicas {
		report.Replicas = append(report.Replicas, r.base)
	}
	for _, s := range scenarios {
		if !slices.Contains(cfg.Scenarios, s.name) {
			continue
		}
		if ctx.Err() != nil {
			report.Scenarios = append(report.Scenarios, Result{Name: s.name, Verdict: Fail, Summary: "not run: " + ctx.Err().Error()})
			continue
		}
		// A rollout moves the replicas to other ports.
		if err := e.locate(ctx, hc); err != nil {
			report.Scenarios = append(report.Scenarios, Result{Name: s.name, Verdict: Fail, Summary: err.Error()})
			continue
		}
		report.Scenarios = append(report.Scenarios, runScenario(ctx, e, s))
	}
	report.Finished = time.Now()
	report.Timeline, report.Events, report.Phases = e.rec.timeline()
	report.Verdict = Pass
	if report.failed() > 0 {
		report.Verdict = Fail
	}
	fmt.Fprintln(stdout)
	writeTable(stdout, report)
	jsonPath, htmlPath, err := writeReports(cfg.Out, report)
	if err != nil {
		return report, err
	}
	fmt.Fprintf(stdout, "reports: %s, %s\n", jsonPath, htmlPath)
	if report.Verdict == Fail {
		return report, fmt.Errorf("herd prove: %d scenarios failed", report.failed())
	}
	return report, nil
}

// locate sets the load balancer and replica URLs, from the flags or from
// the controlled cluster, and waits until the load balancer is ready.
func (e *env) locate(ctx context.Context, hc *http.Client) error {
	target, replicas := e.cfg.Target, e.cfg.Replicas
	if e.control != nil {
		st, err := e.control.Status(ctx)
		if err != nil {
			return err
		}
		if target == "" {
			target = st.URL
		}
		if len(replicas) == 0 {
			for _, r := range st.Replicas {
				replicas = append(replicas, r.URL)
			}
		}
	}
	if target == "" {
		target = "http://127.0.0.1:8080"
	}
	e.lb = newAPI(target, hc, e.cfg.RequestTimeout)
	e.replicas = nil
	for _, r := range replicas {
		e.replicas = append(e.replicas, newAPI(r, hc, e.cfg.RequestTimeout))
	}
	for _, a := range append([]*api{e.lb}, e.replicas...) {
		if _, err := waitStatus(ctx, a, "/health/ready", http.StatusOK, time.Now(), 60*time.Second); err != nil {
			return fmt.Errorf("%s is not ready: %w", a.base, err)
		}
	}
	return nil
}

func startCluster(ctx context.Context, cfg Config, getenv func(string) string, stdout io.Writer) (*cluster.Supervisor, error) {
	opts := cluster.Options{
		Dir:         cfg.ClusterDir,
		Replicas:    cfg.ClusterReplicas,
		BasePort:    cfg.BasePort,
		Listen:      cfg.Listen,
		HerdBin:     cfg.HerdBin,
		OwnBackends: cfg.OwnBackends,
		Env:         os.Environ(),
	}
	for _, s := range []struct {
		key string
		to  *time.Duration
	}{{"HERD_DRAIN_DELAY", &opts.DrainDelay}, {"HERD_SHUTDOWN_TIMEOUT", &opts.ShutdownTimeout}} {
		if v := getenv(s.key); v != "" {
			d, err := time.ParseDuration(v)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", s.key, err)
			}
			*s.to = d
		}
	}
	return cluster.Start(ctx, opts, stdout)
}
