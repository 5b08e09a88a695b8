//statelint:ignore the cluster supervisor is one process per machine that owns the replicas; it is not a replica and keeps no request state
package cluster

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"sync"
	"syscall"
	"time"
)

// backend is a dependency the cluster runs itself, so that it can be
// stopped and started again for real without touching shared servers.
type backend struct {
	name    string
	url     string
	port    int
	command func() *exec.Cmd
	ready   func(ctx context.Context) error
	stopSig os.Signal
	logPath string

	mu   sync.Mutex // guards proc, which Status reads while start and stop change it
	proc *process
}

func (b *backend) current() *process {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.proc
}

func (b *backend) running() bool {
	p := b.current()
	return p != nil && !p.exited()
}

func (b *backend) start(ctx context.Context) error {
	if b.running() {
		return nil
	}
	logf, err := os.OpenFile(b.logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	defer logf.Close()
	cmd := b.command()
	cmd.Stdout, cmd.Stderr = logf, logf
	p, err := startProcess(cmd)
	if err != nil {
		return fmt.Errorf("start %s: %w", b.name, err)
	}
	b.mu.Lock()
	b.proc = p
	b.mu.Unlock()
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	for {
		if err := b.ready(ctx); err == nil {
			return nil
		}
		select {
		case <-p.done:
			return fmt.Errorf("%s exited at start: %v (see %s)", b.name, p.err, b.logPath)
		case <-ctx.Done():
			p.stop(5 * time.Second)
			return fmt.Errorf("%s not ready: %w (see %s)", b.name, ctx.Err(), b.logPath)
		case <-time.After(100 * time.Millisecond):
		}
	}
}

func (b *backend) stop() error {
	p := b.current()
	if p == nil || p.exited() {
		return nil
	}
	return p.stopWith(b.stopSig, 15*time.Second)
}

func (b *backend) status() BackendStatus {
	s := BackendStatus{Name: b.name, URL: b.url}
	if p := b.current(); p != nil && !p.exited() {
		s.Running, s.PID = true, p.pid()
	}
	return s
}

func newRedis(dir string) (*backend, error) {
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		return nil, errors.New("redis-server not found; install it with `apt-get install redis-server`")
	}
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	return &backend{
		name: "redis",
		url:  "redis://" + addr + "/0",
		port: port,
		command: func() *exec.Cmd {
			return exec.Command(bin, "--port", strconv.Itoa(port), "--bind", "127.0.0.1",
				"--save", "", "--appendonly", "no", "--dir", dir)
		},
		ready:   func(ctx context.Context) error { return redisPing(ctx, addr) },
		stopSig: syscall.SIGTERM,
		logPath: filepath.Join(dir, "redis.log"),
	}, nil
}

func redisPing(ctx context.Context, addr string) error {
	var d net.Dialer
	ctx, cancel := context.WithTimeout(ctx, time.Second)
	defer cancel()
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return err
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(time.Second))
	if _, err := conn.Write([]byte("PING\r\n")); err != nil {
		return err
	}
	buf := make([]byte, 16)
	n, err := conn.Read(buf)
	if err != nil {
		return err
	}
	if string(buf[:n]) != "+PONG\r\n" {
		return fmt.Errorf("redis answered %q", buf[:n])
	}
	return nil
}

// newPostgres initialises a throwaway PostgreSQL cluster in a new
// temporary directory. PostgreSQL refuses to run as root, so under root
// it runs as the postgres OS user, in a directory that user owns.
func newPostgres(ctx context.Context, logDir string) (*backend, func(), error) {
	binDir, err := postgresBinDir()
	if err != nil {
		return nil, nil, err
	}
	var cred *syscall.Credential
	uid, gid := -1, -1
	if os.Geteuid() == 0 {
		u, err := user.Lookup("postgres")
		if err != nil {
			return nil, nil, errors.New("running as root and there is no postgres user to run PostgreSQL as")
		}
		uid, _ = strconv.Atoi(u.Uid)
		gid, _ = strconv.Atoi(u.Gid)
		cred = &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}
	}
	tmp, err := os.MkdirTemp("", "herd-postgres-")
	if err != nil {
		return nil, nil, err
	}
	cleanup := func() { os.RemoveAll(tmp) }
	if uid >= 0 {
		if err := os.Chown(tmp, uid, gid); err != nil {
			cleanup()
			return nil, nil, err
		}
	}
	data := filepath.Join(tmp, "data")
	ictx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	initdb := exec.CommandContext(ictx, filepath.Join(binDir, "initdb"), "-D", data, "-A", "trust", "-U", "postgres", "--no-sync")
	initdb.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
	if out, err := initdb.CombinedOutput(); err != nil {
		cleanup()
		return nil, nil, fmt.Errorf("initdb: %v: %s", err, out)
	}
	port, err := freePort()
	if err != nil {
		cleanup()
		return nil, nil, err
	}
	p := strconv.Itoa(port)
	return &backend{
		name: "postgres",
		url:  "postgres://postgres@127.0.0.1:" + p + "/postgres?sslmode=disable",
		port: port,
		command: func() *exec.Cmd {
			cmd := exec.Command(filepath.Join(binDir, "postgres"), "-D", data, "-p", p, "-k", tmp,
				"-c", "listen_addresses=127.0.0.1", "-c", "fsync=off", "-c", "max_connections=200")
			cmd.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
			return cmd
		},
		ready: func(ctx context.Context) error {
			ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
			defer cancel()
			return exec.CommandContext(ctx, filepath.Join(binDir, "pg_isready"), "-q", "-h", "127.0.0.1", "-p", p).Run()
		},
		// SIGINT is PostgreSQL's fast shutdown: it ends client sessions
		// instead of waiting for the replicas' pools to close.
		stopSig: syscall.SIGINT,
		logPath: filepath.Join(logDir, "postgres.log"),
	}, cleanup, nil
}

// postgresBinDir finds the directory holding initdb and postgres: the
// newest /usr/lib/postgresql/<version>/bin (Debian), else PATH.
func postgresBinDir() (string, error) {
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	sort.Slice(dirs, func(i, j int) bool { return versionOf(dirs[i]) > versionOf(dirs[j]) })
	for _, d := range dirs {
		if _, err := os.Stat(filepath.Join(d, "initdb")); err == nil {
			return d, nil
		}
	}
	if p, err := exec.LookPath("initdb"); err == nil {
		return filepath.Dir(p), nil
	}
	return "", errors.New("initdb not found; install PostgreSQL with `apt-get install postgresql`")
}

func versionOf(binDir string) int {
	v, _ := strconv.Atoi(filepath.Base(filepath.Dir(binDir)))
	return v
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

func portFree(port int) bool {
	l, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
	if err != nil {
		return false
	}
	l.Close()
	return true
}
