package faultproxy_test

import (
	"bufio"
	"errors"
	"io"
	"net"
	"syscall"
	"testing"
	"time"

	"github.com/herdhq/herd/internal/faultproxy"
)

// echoServer answers every line with the same line, until the test ends.
func echoServer(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				io.Copy(c, c)
			}()
		}
	}()
	return ln.Addr().String()
}

func startProxy(t *testing.T) *faultproxy.Proxy {
	t.Helper()
	p, err := faultproxy.New(echoServer(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	return p
}

// conn is a client connection through the proxy.
type conn struct {
	net.Conn
	r *bufio.Reader
}

func dial(t *testing.T, addr string) *conn {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, 2*time.Second)
	if err != nil {
		t.Fatalf("dial %s: %v", addr, err)
	}
	t.Cleanup(func() { c.Close() })
	return &conn{c, bufio.NewReader(c)}
}

// echo sends a line and returns what comes back within wait.
func (c *conn) echo(line string, wait time.Duration) (string, error) {
	c.SetDeadline(time.Now().Add(wait))
	if _, err := io.WriteString(c, line+"\n"); err != nil {
		return "", err
	}
	got, err := c.r.ReadString('\n')
	if err != nil {
		return "", err
	}
	return got[:len(got)-1], nil
}

func wantEcho(t *testing.T, c *conn, line string) {
	t.Helper()
	got, err := c.echo(line, 5*time.Second)
	if err != nil {
		t.Fatalf("echo %q: %v", line, err)
	}
	if got != line {
		t.Fatalf("echo %q came back as %q", line, got)
	}
}

func TestForwards(t *testing.T) {
	p := startProxy(t)
	c := dial(t, p.Addr())
	wantEcho(t, c, "hello")
	if got, want := p.Conns(), 1; got != want {
		t.Fatalf("Conns() = %d, want %d", got, want)
	}
}

// TestRefuseThenResume: while refusing, a dial is refused outright (not
// timed out) and an established connection keeps working; after Resume the
// same address accepts again.
func TestRefuseThenResume(t *testing.T) {
	p := startProxy(t)
	established := dial(t, p.Addr())
	wantEcho(t, established, "before")

	p.Refuse()
	_, err := net.DialTimeout("tcp", p.Addr(), 2*time.Second)
	if !errors.Is(err, syscall.ECONNREFUSED) {
		t.Fatalf("dial while refusing: %v, want connection refused", err)
	}
	wantEcho(t, established, "still")

	if err := p.Resume(); err != nil {
		t.Fatal(err)
	}
	wantEcho(t, dial(t, p.Addr()), "after")
}

// TestDrop: every established connection ends; new ones still work.
func TestDrop(t *testing.T) {
	p := startProxy(t)
	a, b := dial(t, p.Addr()), dial(t, p.Addr())
	wantEcho(t, a, "a")
	wantEcho(t, b, "b")

	if got, want := p.Drop(), 2; got != want {
		t.Fatalf("Drop() = %d, want %d", got, want)
	}
	for _, c := range []*conn{a, b} {
		if _, err := c.echo("gone?", 5*time.Second); err == nil || isTimeout(err) {
			t.Fatalf("a dropped connection answered or hung: %v", err)
		}
	}
	wantEcho(t, dial(t, p.Addr()), "new")
}

// TestStall: bytes stop in both directions without the connection ending,
// and what was held arrives after Resume.
func TestStall(t *testing.T) {
	p := startProxy(t)
	c := dial(t, p.Addr())
	wantEcho(t, c, "before")

	p.Stall()
	if _, err := c.echo("held", 300*time.Millisecond); !isTimeout(err) {
		t.Fatalf("echo while stalled: %v, want a timeout", err)
	}
	// A connection made while stalled is accepted but hears nothing either.
	late := dial(t, p.Addr())
	if _, err := late.echo("late", 300*time.Millisecond); !isTimeout(err) {
		t.Fatalf("echo on a connection made while stalled: %v, want a timeout", err)
	}

	if err := p.Resume(); err != nil {
		t.Fatal(err)
	}
	c.SetDeadline(time.Now().Add(5 * time.Second))
	if got, err := c.r.ReadString('\n'); err != nil || got != "held\n" {
		t.Fatalf("after Resume, the held line came back as %q, %v", got, err)
	}
	wantEcho(t, c, "after")
}

// TestCloseEndsEverything: Close returns even with a stalled connection
// open, and the port refuses afterwards.
func TestCloseEndsEverything(t *testing.T) {
	p, err := faultproxy.New(echoServer(t))
	if err != nil {
		t.Fatal(err)
	}
	c := dial(t, p.Addr())
	wantEcho(t, c, "x")
	p.Stall()
	io.WriteString(c, "held\n")

	closed := make(chan struct{})
	go func() { p.Close(); close(closed) }()
	select {
	case <-closed:
	case <-time.After(10 * time.Second):
		t.Fatal("Close did not return with a stalled connection open")
	}
	if _, err := net.DialTimeout("tcp", p.Addr(), 2*time.Second); !errors.Is(err, syscall.ECONNREFUSED) {
		t.Fatalf("dial after Close: %v, want connection refused", err)
	}
	if err := p.Resume(); err == nil {
		t.Fatal("Resume after Close succeeded")
	}
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}
