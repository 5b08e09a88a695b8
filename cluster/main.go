package cluster

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"
)

const usage = `usage: herd cluster <command> [flags]

commands:
  up [--replicas N] [--detach] [--own-backends] ...
                   start N herd serve replicas behind HAProxy and supervise them
  status [--json]  show replicas, PIDs, ports and HAProxy's view
  kill I           SIGKILL replica I (the supervisor restarts it)
  rollout          replace every replica, one at a time
  backend stop|start redis|postgres
                   stop or start a private backend (up --own-backends)
  down             stop the replicas, HAProxy and private backends

every command takes --dir (default ./.herd-cluster), the state directory.
`

// Main runs `herd cluster` with args (the words after "cluster").
// getenv supplies HERD_DRAIN_DELAY and HERD_SHUTDOWN_TIMEOUT, which tell
// the supervisor how long a replica takes to stop; the replicas inherit
// the process environment. ctx ending stops a foreground `up`.
func Main(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return errors.New("herd cluster: missing command")
	}
	cmd, args := args[0], args[1:]
	fs := flag.NewFlagSet("herd cluster "+cmd, flag.ContinueOnError)
	fs.SetOutput(stderr)
	dir := fs.String("dir", ".herd-cluster", "state `directory`: control socket, state.json, haproxy.cfg, logs")
	switch cmd {
	case "up":
		return up(ctx, fs, dir, args, getenv, stdout)
	case "status":
		asJSON := fs.Bool("json", false, "print the status as JSON")
		if _, err := parseArgs(fs, args, 0); err != nil {
			return err
		}
		st, err := Dial(*dir).Status(ctx)
		if err != nil {
			return err
		}
		if *asJSON {
			enc := json.NewEncoder(stdout)
			enc.SetIndent("", "  ")
			return enc.Encode(st)
		}
		printStatus(stdout, st)
		return nil
	case "kill":
		pos, err := parseArgs(fs, args, 1)
		if err != nil {
			return err
		}
		i, err := strconv.Atoi(pos[0])
		if err != nil {
			return fmt.Errorf("herd cluster kill: replica index %q: %w", pos[0], err)
		}
		if err := Dial(*dir).Kill(ctx, i); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "replica %d: SIGKILL sent\n", i)
		return nil
	case "rollout":
		if _, err := parseArgs(fs, args, 0); err != nil {
			return err
		}
		ctx, cancel := context.WithTimeout(ctx, 30*time.Minute)
		defer cancel()
		return Dial(*dir).Rollout(ctx, func(e Event) { fmt.Fprintln(stdout, e) })
	case "backend":
		pos, err := parseArgs(fs, args, 2)
		if err != nil {
			return err
		}
		if err := Dial(*dir).Backend(ctx, pos[1], pos[0]); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "%s: %s done\n", pos[1], pos[0])
		return nil
	case "down":
		if _, err := parseArgs(fs, args, 0); err != nil {
			return err
		}
		err := Dial(*dir).Down(ctx)
		if errors.Is(err, ErrNotRunning) {
			return reap(*dir, stdout)
		}
		if err != nil {
			return err
		}
		fmt.Fprintln(stdout, "cluster stopped")
		return nil
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return nil
	}
	fmt.Fprint(stderr, usage)
	return fmt.Errorf("herd cluster: unknown command %q", cmd)
}

// parseArgs parses flags that may come before or after the n positional
// arguments.
func parseArgs(fs *flag.FlagSet, args []string, n int) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		if fs.NArg() == 0 {
			break
		}
		pos = append(pos, fs.Arg(0))
		args = fs.Args()[1:]
	}
	if len(pos) != n {
		return nil, fmt.Errorf("%s: want %d arguments, got %d (%q)", fs.Name(), n, len(pos), pos)
	}
	return pos, nil
}

func up(ctx context.Context, fs *flag.FlagSet, dir *string, args []string, getenv func(string) string, stdout io.Writer) error {
	var o Options
	fs.IntVar(&o.Replicas, "replicas", 3, "number of replicas")
	fs.IntVar(&o.BasePort, "base-port", 8081, "first replica port; replicas use 2×replicas consecutive ports")
	fs.StringVar(&o.Listen, "listen", "127.0.0.1:8080", "HAProxy's address")
	fs.StringVar(&o.HerdBin, "herd", "", "herd binary to run as `herd serve` (default: this one)")
	fs.StringVar(&o.HAProxyBin, "haproxy", "haproxy", "haproxy binary")
	fs.StringVar(&o.DataDir, "data-dir", "", "HERD_DATA_DIR shared by the replicas (default DIR/data; HERD_DATA_DIR in the environment wins)")
	fs.BoolVar(&o.OwnBackends, "own-backends", false, "run a private Redis and PostgreSQL for the cluster (herd prove's outage scenario stops and starts them)")
	fs.BoolVar(&o.SkipMigrate, "no-migrate", false, "do not run `herd migrate` before starting the replicas")
	fs.DurationVar(&o.CheckInterval, "check-interval", DefaultCheckInterval, "HAProxy health check interval")
	detach := fs.Bool("detach", false, "run the supervisor in the background; return once the cluster is ready")
	if _, err := parseArgs(fs, args, 0); err != nil {
		return err
	}
	o.Dir = *dir
	var err error
	if o.DrainDelay, err = envDuration(getenv, "HERD_DRAIN_DELAY", DefaultDrainDelay); err != nil {
		return err
	}
	if o.ShutdownTimeout, err = envDuration(getenv, "HERD_SHUTDOWN_TIMEOUT", DefaultShutdownTimeout); err != nil {
		return err
	}
	if *detach {
		return upDetached(ctx, withDefaults(o), args, stdout)
	}
	s, err := Start(ctx, o, stdout)
	if err != nil {
		return err
	}
	select {
	case <-ctx.Done():
		return s.Down(context.Background())
	case <-s.Stopped():
		return nil
	}
}

func envDuration(getenv func(string) string, key string, def time.Duration) (time.Duration, error) {
	v := getenv(key)
	if v == "" {
		return def, nil
	}
	d, err := time.ParseDuration(v)
	if err != nil {
		return 0, fmt.Errorf("%s: %w", key, err)
	}
	return d, nil
}

// upDetached starts `herd cluster up` again without --detach in a new
// session, its output in DIR/cluster.log, and waits until it is ready.
func upDetached(ctx context.Context, o Options, args []string, stdout io.Writer) error {
	exe, err := os.Executable()
	if err != nil {
		return err
	}
	if err := os.MkdirAll(o.Dir, 0o755); err != nil {
		return err
	}
	logPath := filepath.Join(o.Dir, "cluster.log")
	logf, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	defer logf.Close()
	var rest []string
	for _, a := range args {
		if a != "--detach" && a != "-detach" && a != "--detach=true" && a != "-detach=true" {
			rest = append(rest, a)
		}
	}
	cmd := exec.Command(exe, append([]string{"cluster", "up", "--dir", o.Dir}, rest...)...)
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := cmd.Start(); err != nil {
		return err
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	fmt.Fprintf(stdout, "supervisor pid %d starting; log %s\n", cmd.Process.Pid, logPath)
	ctx, cancel := context.WithTimeout(ctx, o.ReadyTimeout+2*time.Minute)
	defer cancel()
	c := Dial(o.Dir)
	for {
		if st, err := c.Status(ctx); err == nil && st.Ready && st.SupervisorPID == cmd.Process.Pid {
			fmt.Fprintf(stdout, "cluster ready: %d replicas behind %s\n", len(st.Replicas), st.URL)
			return nil
		}
		select {
		case err := <-exited:
			tail, _ := os.ReadFile(logPath)
			return fmt.Errorf("herd cluster up exited (%v):\n%s", err, lastLines(string(tail), 20))
		case <-ctx.Done():
			return fmt.Errorf("cluster not ready: %w (see %s)", ctx.Err(), logPath)
		case <-time.After(200 * time.Millisecond):
		}
	}
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

func printStatus(w io.Writer, st Status) {
	state := "starting"
	if st.Ready {
		state = "ready"
	}
	fmt.Fprintf(w, "cluster %s at %s (supervisor pid %d, haproxy pid %d, config %s)\n", state, st.URL, st.SupervisorPID, st.HAProxy.PID, st.HAProxy.Config)
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "REPLICA\tPID\tURL\tINSTANCE\tHAPROXY\tRESTARTS\tLOG")
	for _, r := range st.Replicas {
		pid := "-"
		if r.PID != 0 {
			pid = strconv.Itoa(r.PID)
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%d\t%s\n", r.Index, pid, r.URL, r.InstanceID, r.LB, r.Restarts, r.Log)
	}
	tw.Flush()
	for _, b := range st.Backends {
		run := "stopped"
		if b.Running {
			run = fmt.Sprintf("running pid %d", b.PID)
		}
		fmt.Fprintf(w, "backend %s: %s, %s\n", b.Name, b.URL, run)
	}
}
