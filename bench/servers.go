package main

import (
	"bytes"
	"context"
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
	"sync/atomic"
	"syscall"
	"time"
)

// build compiles pkg of the module at root into dir.
func build(ctx context.Context, root, dir, pkg, name string) (string, error) {
	bin := filepath.Join(dir, name)
	cmd := exec.CommandContext(ctx, "go", "build", "-o", bin, pkg)
	cmd.Dir = root
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build %s: %w\n%s", pkg, err, out)
	}
	return bin, nil
}

// moduleRoot is the folder of the go.mod this runner belongs to, so that
// `go run ./bench` works from anywhere inside the module.
func moduleRoot(ctx context.Context) (string, error) {
	out, err := exec.CommandContext(ctx, "go", "env", "GOMOD").Output()
	if err != nil {
		return "", fmt.Errorf("go env GOMOD: %w", err)
	}
	mod := strings.TrimSpace(string(out))
	if mod == "" || mod == os.DevNull {
		return "", errors.New("run the benchmark from inside herd's module")
	}
	return filepath.Dir(mod), nil
}

func freeAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

// process is a server the runner started.
type process struct {
	name string
	base string // http://127.0.0.1:port
	cmd  *exec.Cmd
	done chan struct{}
	// What the process wrote to stdout: herd's access log, mostly.
	stdoutBytes, stdoutLines atomic.Int64
	stderr                   tail
}

// start runs bin with args and env, listening on addr. Its stdout is read
// and thrown away as it comes, the way a container runtime drains a log
// pipe: writing the access log stays part of what the server pays.
func start(name, bin string, args, env []string, addr string) (*process, error) {
	p := &process{name: name, base: "http://" + addr, done: make(chan struct{})}
	p.cmd = exec.Command(bin, args...)
	p.cmd.Env = append(os.Environ(), env...)
	p.cmd.Stderr = &p.stderr
	out, err := p.cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := p.cmd.Start(); err != nil {
		return nil, err
	}
	go func() {
		buf := make([]byte, 64<<10)
		for {
			n, err := out.Read(buf)
			p.stdoutBytes.Add(int64(n))
			p.stdoutLines.Add(int64(bytes.Count(buf[:n], []byte{'\n'})))
			if err != nil {
				break
			}
		}
		p.cmd.Wait()
		close(p.done)
	}()
	return p, nil
}

// waitReady polls path until it answers 200, the process exits, or
// timeout passes, and returns how long it took since the process started.
func (p *process) waitReady(path string, started time.Time, timeout time.Duration) (time.Duration, error) {
	client := &http.Client{Timeout: time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	deadline := started.Add(timeout)
	for time.Now().Before(deadline) {
		select {
		case <-p.done:
			return 0, fmt.Errorf("%s exited before it was ready: %s", p.name, p.stderr.String())
		default:
		}
		resp, err := client.Get(p.base + path)
		if err == nil {
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return time.Since(started), nil
			}
		}
		time.Sleep(time.Millisecond)
	}
	return 0, fmt.Errorf("%s not ready within %v: %s", p.name, timeout, p.stderr.String())
}

// stop sends SIGTERM and waits; SIGKILL after grace.
func (p *process) stop(grace time.Duration) {
	p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(grace):
		p.cmd.Process.Kill()
		<-p.done
	}
}

// peakRSS is the process's high-water resident set, from VmHWM.
func (p *process) peakRSS() (int64, error) {
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", p.cmd.Process.Pid))
	if err != nil {
		return 0, err
	}
	for line := range strings.Lines(string(status)) {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			return kb << 10, err
		}
	}
	return 0, errors.New("no VmHWM in /proc status")
}

// tail keeps the last few KiB written to it: a server's complaints, for
// the error message when it dies.
type tail struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (t *tail) Write(b []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.buf.Write(b)
	if t.buf.Len() > 8<<10 {
		keep := append([]byte(nil), t.buf.Bytes()[t.buf.Len()-4<<10:]...)
		t.buf.Reset()
		t.buf.Write(keep)
	}
	return len(b), nil
}

func (t *tail) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.buf.String()
}
