//statelint:ignore the cluster supervisor is one process per machine that owns the replicas; it is not a replica and keeps no request state
package cluster

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Supervisor owns the replicas, HAProxy and the private backends.
type Supervisor struct {
	opts     Options
	progress io.Writer
	// progressMu keeps the progress lines of concurrent events whole: the
	// writer may be a terminal, a log or a test's buffer.
	progressMu sync.Mutex
	haproxy    HAProxyConfig
	cfgPath    string
	haLog      string

	// ops serialises the operations that replace or stop processes
	// (rollout, kill, backend changes, down).
	ops sync.Mutex

	mu       sync.Mutex
	replicas []*replica
	ha       *process
	backends []*backend
	events   []Event
	saving   sync.Mutex
	// subscribers receive every event; a slow one misses events rather
	// than stalling the supervisor.
	subscribers map[chan Event]bool
	ready       bool
	closing     bool
	cleanup     []func()

	control *http.Server
	stopped chan struct{} // closed when Down has finished
}

// replica is one of the N positions; its process changes on restart and
// rollout.
type replica struct {
	index    int
	slot     int
	gen      int
	restarts int
	proc     *process
}

const maxEvents = 2000

// Start brings the cluster up: private backends when asked, HAProxy, then
// the replicas, and returns once every replica is ready and in rotation.
// progress receives one line per step. The control socket answers from
// the start, with Status.Ready false until then.
func Start(ctx context.Context, opts Options, progress io.Writer) (*Supervisor, error) {
	opts = withDefaults(opts)
	if opts.Replicas < 1 {
		return nil, errors.New("--replicas must be at least 1")
	}
	s := &Supervisor{opts: opts, progress: progress, stopped: make(chan struct{})}
	haBin, err := FindHAProxy(opts.HAProxyBin)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(filepath.Join(opts.Dir, "logs"), 0o755); err != nil {
		return nil, err
	}
	sock := SocketPath(opts.Dir)
	if len(sock) >= 104 {
		return nil, fmt.Errorf("state directory path too long for a unix socket: %s", sock)
	}
	if _, err := Dial(opts.Dir).Status(ctx); err == nil {
		return nil, fmt.Errorf("a cluster is already running in %s (herd cluster down --dir %s)", opts.Dir, opts.Dir)
	}
	if err := s.checkPorts(); err != nil {
		return nil, err
	}
	if err := s.serveControl(sock); err != nil {
		return nil, err
	}
	ok := false
	defer func() {
		if !ok {
			s.Down(context.Background())
		}
	}()

	if opts.OwnBackends {
		if err := s.startBackends(ctx); err != nil {
			return nil, err
		}
	}

	s.cfgPath = filepath.Join(opts.Dir, "haproxy.cfg")
	s.haLog = filepath.Join(opts.Dir, "logs", "haproxy.log")
	s.haproxy = HAProxyConfig{
		Listen:        opts.Listen,
		StatsSocket:   filepath.Join(opts.Dir, "haproxy.sock"),
		CheckInterval: opts.CheckInterval,
	}
	for slot := range opts.slots() {
		s.haproxy.Servers = append(s.haproxy.Servers, HAProxyServer{
			Name: slotName(slot),
			Addr: net.JoinHostPort("127.0.0.1", strconv.Itoa(opts.slotPort(slot))),
		})
	}
	text, err := s.haproxy.Render()
	if err != nil {
		return nil, err
	}
	if err := os.WriteFile(s.cfgPath, text, 0o644); err != nil {
		return nil, err
	}
	if err := CheckHAProxyConfig(ctx, haBin, s.cfgPath); err != nil {
		return nil, err
	}
	haLog, err := os.OpenFile(s.haLog, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, err
	}
	defer haLog.Close()
	hctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	ha, err := startHAProxy(hctx, haBin, s.cfgPath, haLog)
	cancel()
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	s.ha = ha
	s.mu.Unlock()
	s.event("start", -1, "haproxy pid %d listening on %s (config %s)", ha.pid(), opts.Listen, s.cfgPath)
	go s.watchHAProxy(ha)

	if !opts.SkipMigrate {
		if err := s.migrate(ctx); err != nil {
			return nil, err
		}
	}
	for i := range opts.Replicas {
		r := &replica{index: i, slot: i}
		s.mu.Lock()
		s.replicas = append(s.replicas, r)
		s.mu.Unlock()
	}
	errs := make(chan error, opts.Replicas)
	for _, r := range s.replicas {
		go func() {
			p, err := s.startReplica(r, r.slot, r.gen)
			if err == nil {
				s.mu.Lock()
				r.proc = p
				s.mu.Unlock()
				go s.watch(r, p)
				err = s.waitReady(ctx, r, p)
			}
			errs <- err
		}()
	}
	for range opts.Replicas {
		if err := <-errs; err != nil {
			return nil, err
		}
	}
	want := map[string]string{}
	for slot := range opts.slots() {
		want[slotName(slot)] = "DOWN"
		if slot < opts.Replicas {
			want[slotName(slot)] = "UP"
		}
	}
	wctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	err = waitServers(wctx, s.haproxy.StatsSocket, want)
	cancel()
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	s.ready = true
	s.mu.Unlock()
	s.event("ready", -1, "cluster ready: %d replicas behind http://%s", opts.Replicas, opts.Listen)
	ok = true
	return s, nil
}

func withDefaults(o Options) Options {
	if o.Dir == "" {
		o.Dir = ".herd-cluster"
	}
	if abs, err := filepath.Abs(o.Dir); err == nil {
		o.Dir = abs
	}
	if o.Replicas == 0 {
		o.Replicas = 3
	}
	if o.BasePort == 0 {
		o.BasePort = 8081
	}
	if o.Listen == "" {
		o.Listen = "127.0.0.1:8080"
	}
	if o.HerdBin == "" {
		o.HerdBin, _ = os.Executable()
	}
	if o.DataDir == "" {
		o.DataDir = filepath.Join(o.Dir, "data")
	}
	if abs, err := filepath.Abs(o.DataDir); err == nil {
		o.DataDir = abs
	}
	if o.Env == nil {
		o.Env = os.Environ()
	}
	if o.CheckInterval == 0 {
		o.CheckInterval = DefaultCheckInterval
	}
	if o.DrainDelay == 0 {
		o.DrainDelay = DefaultDrainDelay
	}
	if o.ShutdownTimeout == 0 {
		o.ShutdownTimeout = DefaultShutdownTimeout
	}
	if o.ReadyTimeout == 0 {
		o.ReadyTimeout = 60 * time.Second
	}
	return o
}

// SocketPath is where the supervisor of the cluster in dir listens.
func SocketPath(dir string) string { return filepath.Join(dir, "control.sock") }

func slotName(slot int) string { return "slot" + strconv.Itoa(slot) }

func (s *Supervisor) checkPorts() error {
	l, err := net.Listen("tcp", s.opts.Listen)
	if err != nil {
		return fmt.Errorf("load balancer address %s is taken (--listen): %w", s.opts.Listen, err)
	}
	l.Close()
	for slot := range s.opts.slots() {
		if p := s.opts.slotPort(slot); !portFree(p) {
			return fmt.Errorf("replica port %d is taken; replicas use %d..%d (--base-port)", p, s.opts.BasePort, s.opts.slotPort(s.opts.slots()-1))
		}
	}
	return nil
}

func (s *Supervisor) startBackends(ctx context.Context) error {
	redis, err := newRedis(filepath.Join(s.opts.Dir, "redis"))
	if err != nil {
		return err
	}
	pg, cleanup, err := newPostgres(ctx, filepath.Join(s.opts.Dir, "logs"))
	if err != nil {
		return err
	}
	s.mu.Lock()
	s.cleanup = append(s.cleanup, cleanup)
	s.backends = []*backend{redis, pg}
	s.mu.Unlock()
	redis.logPath = filepath.Join(s.opts.Dir, "logs", "redis.log")
	for _, b := range s.backends {
		if err := b.start(ctx); err != nil {
			return err
		}
		s.event("backend-start", -1, "%s pid %d at %s", b.name, b.current().pid(), b.url)
	}
	return nil
}

// migrate runs `herd migrate` once before any replica starts: replicas
// that all start on a fresh database would otherwise race to create its
// schema. It also reports a bad configuration at once, with herd's words.
func (s *Supervisor) migrate(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, s.opts.HerdBin, "migrate")
	cmd.Env = s.replicaEnv(0, 0, 0)
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("%s migrate: %v\n%s", s.opts.HerdBin, err, strings.TrimSpace(string(out)))
	}
	s.event("migrate", -1, "herd migrate: %s", lastLines(strings.TrimSpace(string(out)), 1))
	return nil
}

// replicaEnv is the environment of the replica in slot at generation gen.
func (s *Supervisor) replicaEnv(index, slot, gen int) []string {
	env := append([]string(nil), s.opts.Env...)
	set := func(k, v string) { env = append(env, k+"="+v) }
	set("HERD_ADDR", net.JoinHostPort("127.0.0.1", strconv.Itoa(s.opts.slotPort(slot))))
	set("HERD_INSTANCE_ID", fmt.Sprintf("replica-%d.%d", index, gen))
	if !hasEnv(s.opts.Env, "HERD_DATA_DIR") {
		set("HERD_DATA_DIR", s.opts.DataDir)
	}
	for _, b := range s.backends {
		switch b.name {
		case "redis":
			set("REDIS_URL", b.url)
		case "postgres":
			set("DATABASE_URL", b.url)
		}
	}
	return env
}

func hasEnv(env []string, key string) bool {
	for _, kv := range env {
		if k, v, _ := strings.Cut(kv, "="); k == key && v != "" {
			return true
		}
	}
	return false
}

func (s *Supervisor) replicaLog(index int) string {
	return filepath.Join(s.opts.Dir, "logs", fmt.Sprintf("replica-%d.log", index))
}

func (s *Supervisor) startReplica(r *replica, slot, gen int) (*process, error) {
	logf, err := os.OpenFile(s.replicaLog(r.index), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, err
	}
	defer logf.Close()
	cmd := exec.Command(s.opts.HerdBin, "serve")
	cmd.Env = s.replicaEnv(r.index, slot, gen)
	cmd.Stdout, cmd.Stderr = logf, logf
	p, err := startProcess(cmd)
	if err != nil {
		return nil, fmt.Errorf("start replica %d: %w", r.index, err)
	}
	s.event("start", r.index, "replica %d: started pid %d on port %d (generation %d)", r.index, p.pid(), s.opts.slotPort(slot), gen)
	return p, nil
}

// waitReady polls the replica's readiness until it answers 200.
func (s *Supervisor) waitReady(ctx context.Context, r *replica, p *process) error {
	ctx, cancel := context.WithTimeout(ctx, s.opts.ReadyTimeout)
	defer cancel()
	url := fmt.Sprintf("http://127.0.0.1:%d/health/ready", s.opts.slotPort(s.slotOf(r, p)))
	client := &http.Client{Timeout: time.Second}
	for {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if resp, err := client.Do(req); err == nil {
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				s.event("ready", r.index, "replica %d: pid %d ready", r.index, p.pid())
				return nil
			}
		}
		select {
		case <-p.done:
			return fmt.Errorf("replica %d (pid %d) exited before it was ready: %v (see %s)", r.index, p.pid(), p.err, s.replicaLog(r.index))
		case <-ctx.Done():
			return fmt.Errorf("replica %d (pid %d) not ready at %s: %w (see %s)", r.index, p.pid(), url, ctx.Err(), s.replicaLog(r.index))
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// slotOf is the slot p listens on: the replica's slot unless p is a
// rollout's successor, which starts on the other one.
func (s *Supervisor) slotOf(r *replica, p *process) int {
	for _, kv := range p.cmd.Env {
		if v, ok := strings.CutPrefix(kv, "HERD_ADDR="); ok {
			_, port, _ := net.SplitHostPort(v)
			n, _ := strconv.Atoi(port)
			return n - s.opts.BasePort
		}
	}
	return r.slot
}

// watch restarts the replica when p exits while it is still the
// replica's process: an exit nobody asked for.
func (s *Supervisor) watch(r *replica, p *process) {
	<-p.done
	if !s.current(r, p) {
		return
	}
	s.event("exit", r.index, "replica %d: pid %d exited unexpectedly (%s); restarting", r.index, p.pid(), exitText(p.err))
	backoff := 100 * time.Millisecond
	if time.Since(p.started) < 2*time.Second {
		// A replica that dies at once would otherwise spin.
		backoff = 2 * time.Second
	}
	for {
		time.Sleep(backoff)
		s.mu.Lock()
		if s.closing || r.proc != p {
			s.mu.Unlock()
			return
		}
		r.gen++
		r.restarts++
		slot, gen := r.slot, r.gen
		s.mu.Unlock()
		np, err := s.startReplica(r, slot, gen)
		if err != nil {
			s.event("exit", r.index, "replica %d: restart failed: %v", r.index, err)
			backoff = min(2*backoff, 5*time.Second)
			continue
		}
		s.mu.Lock()
		if s.closing || r.proc != p {
			s.mu.Unlock()
			np.stop(s.opts.exitGrace())
			return
		}
		r.proc = np
		s.mu.Unlock()
		s.event("restart", r.index, "replica %d: restarted as pid %d", r.index, np.pid())
		go s.watch(r, np)
		go s.waitReady(context.Background(), r, np)
		return
	}
}

// current reports whether p is still replica r's process and the cluster
// is not shutting down.
func (s *Supervisor) current(r *replica, p *process) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return !s.closing && r.proc == p
}

func (s *Supervisor) watchHAProxy(p *process) {
	<-p.done
	s.mu.Lock()
	closing := s.closing
	s.mu.Unlock()
	if !closing {
		s.event("exit", -1, "haproxy pid %d exited unexpectedly (%v); see %s", p.pid(), exitText(p.err), s.haLog)
	}
}

func exitText(err error) string {
	if err == nil {
		return "exit status 0"
	}
	return err.Error()
}

// Kill sends SIGKILL to replica i; the supervisor then restarts it like
// any replica that dies unexpectedly.
func (s *Supervisor) Kill(i int) error {
	s.ops.Lock()
	defer s.ops.Unlock()
	s.mu.Lock()
	if i < 0 || i >= len(s.replicas) || s.replicas[i].proc == nil {
		s.mu.Unlock()
		return fmt.Errorf("no replica %d (replicas are 0..%d)", i, len(s.replicas)-1)
	}
	p := s.replicas[i].proc
	s.mu.Unlock()
	if err := p.signal(syscall.SIGKILL); err != nil {
		return err
	}
	s.event("sigkill", i, "replica %d: SIGKILL pid %d", i, p.pid())
	return nil
}

// Rollout replaces every replica, one at a time: start the successor on
// the other port slot, wait until it is ready and HAProxy has it in
// rotation, then SIGTERM the old one and wait for it to exit. At no time
// are fewer than N replicas ready (maxUnavailable 0), and at most one more
// runs (maxSurge 1).
func (s *Supervisor) Rollout(ctx context.Context) error {
	s.ops.Lock()
	defer s.ops.Unlock()
	s.event("rollout", -1, "rollout: replacing %d replicas one at a time", len(s.replicas))
	for _, r := range s.replicas {
		if err := s.replace(ctx, r); err != nil {
			s.event("rollout", -1, "rollout failed: %v", err)
			return err
		}
	}
	s.event("rollout", -1, "rollout complete")
	return nil
}

func (s *Supervisor) replace(ctx context.Context, r *replica) error {
	s.mu.Lock()
	old, oldSlot := r.proc, r.slot
	newSlot := (r.slot + s.opts.Replicas) % s.opts.slots()
	gen := r.gen + 1
	s.mu.Unlock()

	np, err := s.startReplica(r, newSlot, gen)
	if err != nil {
		return err
	}
	go s.watch(r, np)
	if err := s.waitReady(ctx, r, np); err != nil {
		np.stop(s.opts.exitGrace())
		return err
	}
	wctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	err = waitServers(wctx, s.haproxy.StatsSocket, map[string]string{slotName(newSlot): "UP"})
	cancel()
	if err != nil {
		np.stop(s.opts.exitGrace())
		return err
	}
	s.event("rotation", r.index, "replica %d: pid %d in rotation on port %d", r.index, np.pid(), s.opts.slotPort(newSlot))

	s.mu.Lock()
	r.proc, r.slot, r.gen = np, newSlot, gen
	s.mu.Unlock()
	s.saveState()
	if old == nil || old.exited() {
		return nil
	}
	s.event("sigterm", r.index, "replica %d: SIGTERM pid %d", r.index, old.pid())
	if err := old.stop(s.opts.exitGrace()); err != nil {
		s.event("exit", r.index, "replica %d: %v", r.index, err)
		return err
	}
	s.event("exit", r.index, "replica %d: old pid %d exited (%s)", r.index, old.pid(), exitText(old.err))
	wctx, cancel = context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	return waitServers(wctx, s.haproxy.StatsSocket, map[string]string{slotName(oldSlot): "DOWN"})
}

// Backend stops or starts one of the cluster's private backends.
func (s *Supervisor) Backend(ctx context.Context, name, action string) error {
	s.ops.Lock()
	defer s.ops.Unlock()
	var b *backend
	for _, c := range s.backends {
		if c.name == name {
			b = c
		}
	}
	if b == nil {
		return fmt.Errorf("no private backend %q (start the cluster with --own-backends)", name)
	}
	switch action {
	case "stop":
		s.event("backend-stop", -1, "%s stopped", name)
		return b.stop()
	case "start":
		if err := b.start(ctx); err != nil {
			return err
		}
		s.event("backend-start", -1, "%s started again (pid %d)", name, b.current().pid())
		return nil
	}
	return fmt.Errorf("backend action %q: want stop or start", action)
}

// Down stops the replicas (SIGTERM, so they drain), then HAProxy and the
// private backends, and closes the control socket.
func (s *Supervisor) Down(ctx context.Context) error {
	s.ops.Lock()
	defer s.ops.Unlock()
	s.mu.Lock()
	if s.closing {
		s.mu.Unlock()
		<-s.stopped
		return nil
	}
	s.closing = true
	s.ready = false
	var procs []*process
	for _, r := range s.replicas {
		if r.proc != nil {
			procs = append(procs, r.proc)
		}
	}
	ha := s.ha
	s.mu.Unlock()
	s.event("down", -1, "stopping %d replicas", len(procs))
	var wg sync.WaitGroup
	for _, p := range procs {
		wg.Go(func() { p.stop(s.opts.exitGrace()) })
	}
	wg.Wait()
	if ha != nil {
		ha.stop(5 * time.Second)
	}
	for _, b := range s.backends {
		b.stop()
	}
	for _, f := range s.cleanup {
		f()
	}
	s.event("down", -1, "cluster stopped")
	if s.control != nil {
		go func() {
			sctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
			defer cancel()
			s.control.Shutdown(sctx)
			os.Remove(SocketPath(s.opts.Dir))
		}()
	}
	close(s.stopped)
	return nil
}

// Stopped is closed once Down has finished.
func (s *Supervisor) Stopped() <-chan struct{} { return s.stopped }

// Status reports the cluster's state, with HAProxy's view of each slot.
func (s *Supervisor) Status(ctx context.Context) Status {
	var lb map[string]string
	if s.haproxy.StatsSocket != "" {
		if states, err := QueryServers(ctx, s.haproxy.StatsSocket); err == nil {
			lb = map[string]string{}
			for _, st := range states {
				lb[st.Server] = st.Status
			}
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.statusLocked(lb)
}

func (s *Supervisor) statusLocked(lb map[string]string) Status {
	st := Status{
		Dir:           s.opts.Dir,
		Ready:         s.ready,
		URL:           "http://" + s.opts.Listen,
		SupervisorPID: os.Getpid(),
		HAProxy:       HAProxyStatus{Config: s.cfgPath, StatsSocket: s.haproxy.StatsSocket, Log: s.haLog},
		CheckInterval: Duration(s.opts.CheckInterval),
		DrainDelay:    Duration(s.opts.DrainDelay),
		Events:        append([]Event(nil), s.events...),
	}
	if s.ha != nil && !s.ha.exited() {
		st.HAProxy.PID = s.ha.pid()
	}
	for _, r := range s.replicas {
		port := s.opts.slotPort(r.slot)
		rs := ReplicaStatus{
			Index:      r.index,
			Port:       port,
			URL:        fmt.Sprintf("http://127.0.0.1:%d", port),
			InstanceID: fmt.Sprintf("replica-%d.%d", r.index, r.gen),
			Restarts:   r.restarts,
			Gen:        r.gen,
			Log:        s.replicaLog(r.index),
			LB:         lb[slotName(r.slot)],
		}
		if r.proc != nil && !r.proc.exited() {
			rs.PID = r.proc.pid()
		}
		st.Replicas = append(st.Replicas, rs)
	}
	for _, b := range s.backends {
		st.Backends = append(st.Backends, b.status())
	}
	return st
}

// event records a step, prints it as a progress line and saves the state.
func (s *Supervisor) event(kind string, replica int, format string, args ...any) {
	e := Event{Time: time.Now(), Kind: kind, Replica: replica, Message: fmt.Sprintf(format, args...)}
	s.mu.Lock()
	s.events = append(s.events, e)
	if len(s.events) > maxEvents {
		s.events = s.events[len(s.events)-maxEvents:]
	}
	for ch := range s.subscribers {
		select {
		case ch <- e:
		default:
		}
	}
	s.mu.Unlock()
	if s.progress != nil {
		s.progressMu.Lock()
		fmt.Fprintln(s.progress, e)
		s.progressMu.Unlock()
	}
	s.saveState()
}

// saveState writes state.json for people and for tools that cannot reach
// the socket; the socket remains the way to change anything.
func (s *Supervisor) saveState() {
	s.mu.Lock()
	st := s.statusLocked(nil)
	s.mu.Unlock()
	st.Events = nil
	b, err := json.MarshalIndent(st, "", "  ")
	if err != nil {
		return
	}
	s.saving.Lock()
	defer s.saving.Unlock()
	path := filepath.Join(s.opts.Dir, "state.json")
	tmp := path + ".tmp"
	if os.WriteFile(tmp, b, 0o644) == nil {
		os.Rename(tmp, path)
	}
}
