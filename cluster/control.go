//statelint:ignore the cluster supervisor is one process per machine that owns the replicas; it is not a replica and keeps no request state
package cluster

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"
)

// The control protocol is HTTP over the unix socket in the state
// directory, so only local users with access to the directory can drive
// the cluster:
//
//	GET  /status                         Status as JSON
//	POST /kill?replica=I                 SIGKILL replica I
//	POST /rollout                        NDJSON stream of Events, then a rolloutResult
//	POST /backend?name=N&action=A        stop or start a private backend
//	POST /down                           stop everything; answers when done

func (s *Supervisor) serveControl(sock string) error {
	os.Remove(sock) // a socket left by a supervisor that was killed
	l, err := net.Listen("unix", sock)
	if err != nil {
		return fmt.Errorf("control socket: %w", err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /status", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(s.Status(r.Context()))
	})
	mux.HandleFunc("POST /kill", func(w http.ResponseWriter, r *http.Request) {
		i, err := strconv.Atoi(r.URL.Query().Get("replica"))
		if err != nil {
			http.Error(w, "replica: want an index", http.StatusBadRequest)
			return
		}
		if err := s.Kill(i); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
		}
	})
	mux.HandleFunc("POST /rollout", func(w http.ResponseWriter, r *http.Request) {
		events, cancel := s.subscribe()
		defer cancel()
		done := make(chan error, 1)
		go func() { done <- s.Rollout(r.Context()) }()
		w.Header().Set("Content-Type", "application/x-ndjson")
		enc := json.NewEncoder(w)
		flush := func() {
			if f, ok := w.(http.Flusher); ok {
				f.Flush()
			}
		}
		for {
			select {
			case e := <-events:
				enc.Encode(e)
				flush()
			case err := <-done:
				for drained := false; !drained; {
					select {
					case e := <-events:
						enc.Encode(e)
					default:
						drained = true
					}
				}
				res := rolloutResult{Done: true}
				if err != nil {
					res.Error = err.Error()
				}
				enc.Encode(res)
				return
			}
		}
	})
	mux.HandleFunc("POST /backend", func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		if err := s.Backend(r.Context(), q.Get("name"), q.Get("action")); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
		}
	})
	mux.HandleFunc("POST /down", func(w http.ResponseWriter, r *http.Request) {
		s.Down(context.WithoutCancel(r.Context()))
	})
	s.control = &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go s.control.Serve(l)
	return nil
}

type rolloutResult struct {
	Done  bool   `json:"done"`
	Error string `json:"error,omitempty"`
}

// subscribe returns a channel receiving every event from now on, until
// cancel is called.
func (s *Supervisor) subscribe() (<-chan Event, func()) {
	ch := make(chan Event, 256)
	s.mu.Lock()
	if s.subscribers == nil {
		s.subscribers = map[chan Event]bool{}
	}
	s.subscribers[ch] = true
	s.mu.Unlock()
	return ch, func() {
		s.mu.Lock()
		delete(s.subscribers, ch)
		s.mu.Unlock()
	}
}

// Client drives a running supervisor through its control socket.
type Client struct {
	dir string
	hc  *http.Client
}

// Dial returns a client of the supervisor of the cluster in dir. It does
// not connect until a method is called.
func Dial(dir string) *Client {
	sock := SocketPath(dir)
	return &Client{dir: dir, hc: &http.Client{Transport: &http.Transport{
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, "unix", sock)
		},
	}}}
}

// ErrNotRunning is returned when no supervisor answers in the directory.
var ErrNotRunning = errors.New("no herd cluster is running there")

func (c *Client) do(ctx context.Context, method, path string) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, method, "http://herd-cluster"+path, nil)
	if err != nil {
		return nil, err
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		var op *net.OpError
		if errors.As(err, &op) && op.Op == "dial" {
			return nil, fmt.Errorf("%w (%s): %v", ErrNotRunning, c.dir, err)
		}
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		defer resp.Body.Close()
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
		return nil, fmt.Errorf("%s %s: %s", method, path, strings.TrimSpace(string(b)))
	}
	return resp, nil
}

func (c *Client) call(ctx context.Context, path string, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	resp, err := c.do(ctx, http.MethodPost, path)
	if err != nil {
		return err
	}
	resp.Body.Close()
	return nil
}

// Status asks for the cluster's status.
func (c *Client) Status(ctx context.Context) (Status, error) {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	var st Status
	resp, err := c.do(ctx, http.MethodGet, "/status")
	if err != nil {
		return st, err
	}
	defer resp.Body.Close()
	err = json.NewDecoder(resp.Body).Decode(&st)
	return st, err
}

// Kill sends SIGKILL to replica i.
func (c *Client) Kill(ctx context.Context, i int) error {
	return c.call(ctx, "/kill?replica="+strconv.Itoa(i), 5*time.Second)
}

// Backend stops or starts a private backend ("redis", "postgres").
func (c *Client) Backend(ctx context.Context, name, action string) error {
	return c.call(ctx, "/backend?name="+name+"&action="+action, 60*time.Second)
}

// Down stops the cluster and returns once it has stopped.
func (c *Client) Down(ctx context.Context) error {
	return c.call(ctx, "/down", 5*time.Minute)
}

// Rollout replaces every replica, calling progress for each event, and
// returns when the rollout has finished. ctx bounds the whole rollout.
func (c *Client) Rollout(ctx context.Context, progress func(Event)) error {
	resp, err := c.do(ctx, http.MethodPost, "/rollout")
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		line := sc.Bytes()
		var res rolloutResult
		if json.Unmarshal(line, &res) == nil && res.Done {
			if res.Error != "" {
				return errors.New(res.Error)
			}
			return nil
		}
		var e Event
		if err := json.Unmarshal(line, &e); err == nil && progress != nil {
			progress(e)
		}
	}
	if err := sc.Err(); err != nil {
		return err
	}
	return errors.New("rollout: the supervisor closed the stream before the end")
}
