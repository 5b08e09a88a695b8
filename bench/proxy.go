package main

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"strconv"
	"sync"
	"sync/atomic"
)

// A countingProxy forwards TCP connections to a backend unchanged and
// counts, by reading the protocol as it passes, what the server in front
// of it asks of the backend. Only the counting instances of herd and the
// baseline connect through one: the servers under load talk to the
// backends directly, so the proxy's cost is never in the timings.
//
// Counting on the wire, rather than from the backends' statistics, is
// exact and attributable: Redis's INFO commandstats also counts the
// commands a Lua script runs and every other client of that Redis, and
// PostgreSQL publishes pg_stat_database up to ten seconds late.
type countingProxy struct {
	ln      net.Listener
	backend string
	// count reads one direction of one connection and counts on the
	// proxy's counters; it must consume everything it is given.
	countClient, countServer func(*bufio.Reader, *proxyCounts) error
	counts                   proxyCounts
	wg                       sync.WaitGroup
}

// proxyCounts are a proxy's counters. For Redis, requests is commands
// sent (an EVALSHA is one, whatever its script runs). For PostgreSQL,
// requests is round trips (ReadyForQuery messages, one per Sync or simple
// Query) and transactions is how many of them left the session idle,
// i.e. ended a transaction: what xact_commit counts.
type proxyCounts struct {
	requests, transactions atomic.Int64
}

func (c *proxyCounts) snapshot() (requests, transactions int64) {
	return c.requests.Load(), c.transactions.Load()
}

func startProxy(backend string, countClient, countServer func(*bufio.Reader, *proxyCounts) error) (*countingProxy, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	p := &countingProxy{ln: ln, backend: backend, countClient: countClient, countServer: countServer}
	p.wg.Go(p.serve)
	return p, nil
}

func (p *countingProxy) addr() string { return p.ln.Addr().String() }

func (p *countingProxy) close() {
	p.ln.Close()
	p.wg.Wait()
}

func (p *countingProxy) serve() {
	for {
		client, err := p.ln.Accept()
		if err != nil {
			return
		}
		go p.forward(client)
	}
}

func (p *countingProxy) forward(client net.Conn) {
	defer client.Close()
	server, err := net.Dial("tcp", p.backend)
	if err != nil {
		return
	}
	defer server.Close()
	done := make(chan struct{}, 2)
	pipe := func(from, to net.Conn, count func(*bufio.Reader, *proxyCounts) error) {
		defer func() { done <- struct{}{} }()
		// What is read is forwarded before it is parsed, so counting adds
		// no wait; once the parser gives up, the rest is only copied.
		r := bufio.NewReader(io.TeeReader(from, to))
		if count != nil {
			if count(r, &p.counts) != nil {
				io.Copy(io.Discard, r)
				return
			}
		}
		io.Copy(io.Discard, r)
	}
	go pipe(client, server, p.countClient)
	go pipe(server, client, p.countServer)
	<-done
}

// countRESPCommands counts the commands a Redis client sends: each is an
// array of bulk strings.
func countRESPCommands(r *bufio.Reader, c *proxyCounts) error {
	for {
		n, err := respLength(r, '*')
		if err != nil {
			return err
		}
		for range n {
			size, err := respLength(r, '$')
			if err != nil {
				return err
			}
			if _, err := r.Discard(size + 2); err != nil {
				return err
			}
		}
		c.requests.Add(1)
	}
}

// respLength reads a header line such as "*3\r\n" or "$5\r\n".
func respLength(r *bufio.Reader, kind byte) (int, error) {
	line, err := r.ReadSlice('\n')
	if err != nil {
		return 0, err
	}
	if len(line) < 4 || line[0] != kind || line[len(line)-2] != '\r' {
		return 0, fmt.Errorf("unexpected RESP line %q", line)
	}
	return strconv.Atoi(string(line[1 : len(line)-2]))
}

// countReadyForQuery counts a PostgreSQL server's ReadyForQuery messages.
// Every message the server sends is a type byte and a length, from the
// very first (the proxied URL disables TLS, so no SSLRequest is answered
// with its single untyped byte).
func countReadyForQuery(r *bufio.Reader, c *proxyCounts) error {
	var header [5]byte
	for {
		if _, err := io.ReadFull(r, header[:]); err != nil {
			return err
		}
		size := int(binary.BigEndian.Uint32(header[1:])) - 4
		if size < 0 {
			return fmt.Errorf("bad message length")
		}
		if header[0] != 'Z' {
			if _, err := r.Discard(size); err != nil {
				return err
			}
			continue
		}
		status, err := r.ReadByte()
		if err != nil {
			return err
		}
		c.requests.Add(1)
		if status == 'I' {
			c.transactions.Add(1)
		}
	}
}
