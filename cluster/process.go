package cluster

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"sort"
	"strings"
	"syscall"
	"time"
)

// process is a child the supervisor started and waits for.
type process struct {
	cmd     *exec.Cmd
	started time.Time
	done    chan struct{} // closed once the process has exited
	err     error         // Wait's answer, valid after done
}

// startProcess starts cmd in its own process group, so that a Ctrl-C in
// the terminal reaches the supervisor alone and it stops the children in
// order. Pdeathsig stops a child whose supervisor was killed.
func startProcess(cmd *exec.Cmd) (*process, error) {
	if cmd.SysProcAttr == nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{}
	}
	cmd.SysProcAttr.Setpgid = true
	cmd.SysProcAttr.Pdeathsig = syscall.SIGKILL
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	p := &process{cmd: cmd, started: time.Now(), done: make(chan struct{})}
	go func() {
		p.err = cmd.Wait()
		close(p.done)
	}()
	return p, nil
}

func (p *process) pid() int { return p.cmd.Process.Pid }

func (p *process) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

func (p *process) signal(sig os.Signal) error { return p.cmd.Process.Signal(sig) }

// stop sends SIGTERM and waits up to grace for the exit, then SIGKILLs.
func (p *process) stop(grace time.Duration) error {
	return p.stopWith(syscall.SIGTERM, grace)
}

func (p *process) stopWith(sig os.Signal, grace time.Duration) error {
	if p.exited() {
		return nil
	}
	p.signal(sig)
	select {
	case <-p.done:
		return nil
	case <-time.After(grace):
		p.signal(syscall.SIGKILL)
		<-p.done
		return fmt.Errorf("pid %d did not exit within %s of %v; killed", p.pid(), grace, sig)
	}
}

// startHAProxy runs HAProxy in the foreground (-db) so that the
// supervisor owns it; its log goes to logw.
func startHAProxy(ctx context.Context, bin, config string, logw io.Writer) (*process, error) {
	cmd := exec.Command(bin, "-db", "-f", config)
	cmd.Stdout, cmd.Stderr = logw, logw
	p, err := startProcess(cmd)
	if err != nil {
		return nil, fmt.Errorf("start haproxy: %w", err)
	}
	// HAProxy has bound its sockets once its admin socket answers.
	socket := statsSocketOf(config)
	for {
		if socket == "" {
			return p, nil
		}
		if _, err := QueryServers(ctx, socket); err == nil {
			return p, nil
		}
		select {
		case <-p.done:
			return nil, fmt.Errorf("haproxy exited at start: %v (see its log)", p.err)
		case <-ctx.Done():
			p.stop(time.Second)
			return nil, fmt.Errorf("haproxy did not start: %w", ctx.Err())
		case <-time.After(50 * time.Millisecond):
		}
	}
}

func statsSocketOf(config string) string {
	b, err := os.ReadFile(config)
	if err != nil {
		return ""
	}
	for _, line := range strings.Split(string(b), "\n") {
		f := strings.Fields(line)
		if len(f) >= 3 && f[0] == "stats" && f[1] == "socket" {
			return f[2]
		}
	}
	return ""
}

// waitServers polls HAProxy until each named server has the wanted
// status (its first word: UP or DOWN), or ctx ends.
func waitServers(ctx context.Context, socket string, want map[string]string) error {
	var last []ServerState
	for {
		states, err := QueryServers(ctx, socket)
		if err == nil {
			last = states
			ok := 0
			for _, s := range states {
				if w, found := want[s.Server]; found && strings.HasPrefix(s.Status, w) && !strings.Contains(s.Status, " ") {
					ok++
				}
			}
			if ok == len(want) {
				return nil
			}
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("haproxy servers not %v: %v (%w)", sortedMap(want), last, ctx.Err())
		case <-time.After(50 * time.Millisecond):
		}
	}
}

func sortedMap(m map[string]string) string {
	var parts []string
	for k, v := range m {
		parts = append(parts, k+"="+v)
	}
	sort.Strings(parts)
	return strings.Join(parts, " ")
}
