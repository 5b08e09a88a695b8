// Package faultproxy stands a TCP proxy between a program and a real
// server, so that a test can make the server look refused, cut off or hung
// without touching the server itself, and then bring it back on the same
// address, as a restarted server or a healed network would be.
package faultproxy

import (
	"errors"
	"fmt"
	"net"
	"sync"
	"syscall"
	"time"
)

// dialTimeout bounds the proxy's own connection to the target, so that a
// target that went away cannot hold an accepted client forever.
const dialTimeout = 5 * time.Second

// Proxy forwards every connection made to Addr to the target. Its methods
// may be called from any goroutine.
type Proxy struct {
	addr   string
	target string

	mu      sync.Mutex
	ln      net.Listener // nil while refusing
	links   map[*link]struct{}
	stalled chan struct{} // non-nil while stalled; closed to let bytes flow
	closed  bool
	wg      sync.WaitGroup
}

// link is one proxied connection: the client's side and the target's.
type link struct {
	client, server net.Conn
	once           sync.Once
	done           chan struct{}
}

func (l *link) close() {
	l.once.Do(func() {
		close(l.done)
		l.client.Close()
		l.server.Close()
	})
}

// New starts a proxy to target (host:port) on a free loopback port.
func New(target string) (*Proxy, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("faultproxy: %w", err)
	}
	p := &Proxy{addr: ln.Addr().String(), target: target, ln: ln, links: map[*link]struct{}{}}
	p.wg.Go(func() { p.accept(ln) })
	return p, nil
}

// Addr is the proxy's host:port. It stays the same across Refuse and Resume.
func (p *Proxy) Addr() string { return p.addr }

// Conns returns the number of connections being proxied now.
func (p *Proxy) Conns() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.links)
}

// Refuse closes the port: a new connection is refused, as by a server that
// is not running. Established connections keep working; Drop ends them.
func (p *Proxy) Refuse() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.ln != nil {
		p.ln.Close()
		p.ln = nil
	}
}

// Drop closes every established connection on both sides, as a server that
// died or a network that reset them would. It returns how many it closed.
func (p *Proxy) Drop() int {
	p.mu.Lock()
	links := p.links
	p.links = map[*link]struct{}{}
	p.mu.Unlock()
	for l := range links {
		l.close()
	}
	return len(links)
}

// Stall stops bytes flowing in both directions, on established connections
// and on those accepted from now on, while keeping every connection open:
// a server that accepts and then never answers, or a network that silently
// loses everything. The bytes held are delivered after Resume, as TCP
// retransmission would deliver them once a partition heals.
func (p *Proxy) Stall() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.stalled == nil {
		p.stalled = make(chan struct{})
	}
}

// Resume undoes Refuse and Stall: the proxy accepts again on the same
// address and bytes flow again.
func (p *Proxy) Resume() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return errors.New("faultproxy: resume after close")
	}
	if p.stalled != nil {
		close(p.stalled)
		p.stalled = nil
	}
	if p.ln != nil {
		return nil
	}
	// The port was ours a moment ago; another socket rarely takes it, and
	// if one does it is gone again shortly, so retry briefly.
	var ln net.Listener
	var err error
	for range 50 {
		if ln, err = net.Listen("tcp", p.addr); !errors.Is(err, syscall.EADDRINUSE) {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err != nil {
		return fmt.Errorf("faultproxy: listen on %s again: %w", p.addr, err)
	}
	p.ln = ln
	p.wg.Go(func() { p.accept(ln) })
	return nil
}

// Close stops the proxy: it refuses, drops every connection and waits for
// its goroutines to end.
func (p *Proxy) Close() error {
	p.mu.Lock()
	p.closed = true
	if p.stalled != nil {
		close(p.stalled)
		p.stalled = nil
	}
	p.mu.Unlock()
	p.Refuse()
	p.Drop()
	p.wg.Wait()
	return nil
}

func (p *Proxy) accept(ln net.Listener) {
	for {
		client, err := ln.Accept()
		if err != nil {
			// Refuse or Close closed ln.
			return
		}
		server, err := net.DialTimeout("tcp", p.target, dialTimeout)
		if err != nil {
			// The client sees the target's absence as a closed connection.
			client.Close()
			continue
		}
		l := &link{client: client, server: server, done: make(chan struct{})}
		p.mu.Lock()
		if p.closed {
			p.mu.Unlock()
			l.close()
			return
		}
		p.links[l] = struct{}{}
		p.mu.Unlock()
		p.wg.Go(func() { p.copy(l, l.server, l.client) })
		p.wg.Go(func() { p.copy(l, l.client, l.server) })
	}
}

// copy forwards src to dst until either side ends, holding each chunk
// while the proxy is stalled.
func (p *Proxy) copy(l *link, dst, src net.Conn) {
	defer p.forget(l)
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		if n > 0 {
			if !p.wait(l) {
				return
			}
			if _, werr := dst.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			// EOF, a reset or Drop: ending both sides tells the other party,
			// which is what a real connection's end does too.
			return
		}
	}
}

// wait blocks while the proxy is stalled; false means the link ended.
func (p *Proxy) wait(l *link) bool {
	p.mu.Lock()
	stalled := p.stalled
	p.mu.Unlock()
	if stalled == nil {
		return true
	}
	select {
	case <-stalled:
		return true
	case <-l.done:
		return false
	}
}

func (p *Proxy) forget(l *link) {
	l.close()
	p.mu.Lock()
	delete(p.links, l)
	p.mu.Unlock()
}
