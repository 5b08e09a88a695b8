package main

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"testing"
	"time"
)

// replica is one herd serve started through run, as main would.
type replica struct {
	URL    string
	cancel context.CancelFunc // what SIGTERM does to main
	done   chan error
}

// startReplica runs herd serve on a free port with env (plus defaults fit
// for tests) and waits until it is ready.
func startReplica(t *testing.T, env map[string]string) *replica {
	t.Helper()
	vars := map[string]string{"HERD_ADDR": "127.0.0.1:0", "HERD_DRAIN_DELAY": "200ms", "HERD_LOG_LEVEL": "info"}
	for k, v := range env {
		vars[k] = v
	}
	getenv := func(k string) string { return vars[k] }
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	rep := &replica{cancel: cancel, done: make(chan error, 1)}
	go func() {
		err := run(ctx, []string{"herd", "serve"}, getenv, pw, io.Discard)
		pw.Close()
		rep.done <- err
	}()
	addr := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(pr)
		for sc.Scan() {
			var line struct{ Msg, Addr string }
			if json.Unmarshal(sc.Bytes(), &line) == nil && line.Msg == "listening" {
				addr <- line.Addr
			}
		}
	}()
	select {
	case a := <-addr:
		rep.URL = "http://" + a
	case err := <-rep.done:
		t.Fatalf("herd serve exited at start: %v", err)
	case <-time.After(30 * time.Second):
		cancel()
		t.Fatal("herd serve did not start within 30 s")
	}
	t.Cleanup(func() { rep.stop(t) })
	waitReady(t, rep.URL)
	return rep
}

func (r *replica) stop(t *testing.T) {
	r.cancel()
	select {
	case err, ok := <-r.done:
		if ok && err != nil {
			t.Errorf("herd serve exited with %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Error("herd serve did not stop within 30 s")
	}
}

func waitReady(t *testing.T, base string) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		resp, err := http.Get(base + "/health/ready")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("%s never became ready", base)
}
