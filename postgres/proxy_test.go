package postgres_test

import (
	"net"
	"sync"
	"testing"
)

// faultProxy stands between herd and the real PostgreSQL to inject the
// faults a network and a server can produce: a refused port (down), and a
// server that accepts and then never answers (stall).
type faultProxy struct {
	t      testing.TB
	addr   string // 127.0.0.1:port, the same across down and up
	target string

	mu      sync.Mutex
	ln      net.Listener
	conns   []net.Conn
	stalled chan struct{} // non-nil while stalled; closed to resume
	wg      sync.WaitGroup
}

// newFaultProxy returns a proxy to target that is down: its port refuses
// connections until up is called.
func newFaultProxy(t testing.TB, target string) *faultProxy {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &faultProxy{t: t, addr: ln.Addr().String(), target: target}
	ln.Close()
	t.Cleanup(func() {
		p.resume()
		p.down()
		p.wg.Wait()
	})
	return p
}

// up listens on the proxy's port and forwards connections to the target.
func (p *faultProxy) up() {
	p.mu.Lock()
	defer p.mu.Unlock()
	ln, err := net.Listen("tcp", p.addr)
	if err != nil {
		p.t.Fatalf("proxy listen on %s again: %v", p.addr, err)
	}
	p.ln = ln
	p.wg.Go(func() { p.accept(ln) })
}

// down closes the port and every proxied connection: new connections are
// refused and established ones break.
func (p *faultProxy) down() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.ln != nil {
		p.ln.Close()
		p.ln = nil
	}
	for _, c := range p.conns {
		c.Close()
	}
	p.conns = nil
}

// stall stops forwarding bytes, in both directions and on established
// connections too, while keeping every connection open: a hung server.
func (p *faultProxy) stall() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.stalled == nil {
		p.stalled = make(chan struct{})
	}
}

// resume undoes stall.
func (p *faultProxy) resume() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.stalled != nil {
		close(p.stalled)
		p.stalled = nil
	}
}

func (p *faultProxy) accept(ln net.Listener) {
	for {
		client, err := ln.Accept()
		if err != nil {
			return
		}
		server, err := net.Dial("tcp", p.target)
		if err != nil {
			client.Close()
			continue
		}
		p.mu.Lock()
		p.conns = append(p.conns, client, server)
		p.mu.Unlock()
		p.wg.Go(func() { p.copy(server, client) })
		p.wg.Go(func() { p.copy(client, server) })
	}
}

// copy forwards src to dst, holding each chunk while the proxy is stalled.
func (p *faultProxy) copy(dst, src net.Conn) {
	defer dst.Close()
	defer src.Close()
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		if n > 0 {
			p.mu.Lock()
			stalled := p.stalled
			p.mu.Unlock()
			if stalled != nil {
				<-stalled
			}
			if _, werr := dst.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			// EOF, a reset, or down closing it: the other side learns of
			// it through the deferred closes.
			return
		}
	}
}
