package cluster

import (
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/herdhq/herd/internal/testenv"
)

func TestHAProxyConfigRender(t *testing.T) {
	cfg := HAProxyConfig{
		Listen:        "127.0.0.1:9000",
		StatsSocket:   "/tmp/x.sock",
		Servers:       []HAProxyServer{{"slot0", "127.0.0.1:9001"}, {"slot1", "127.0.0.1:9002"}},
		CheckInterval: 500 * time.Millisecond,
	}
	out, err := cfg.Render()
	if err != nil {
		t.Fatal(err)
	}
	text := string(out)
	for _, want := range []string{
		"bind 127.0.0.1:9000",
		"balance roundrobin",
		"option httpchk GET /health/ready",
		"http-check expect status 200",
		"default-server inter 500ms fastinter 500ms downinter 500ms fall 2 rise 1",
		"option redispatch",
		"retry-on conn-failure empty-response\n",
		"http-request disable-l7-retry if unsafe_method !has_idempotency_key",
		"server slot0 127.0.0.1:9001 check",
		"server slot1 127.0.0.1:9002 check",
		"stats socket /tmp/x.sock",
		"timeout server",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("config lacks %q:\n%s", want, text)
		}
	}
	if _, err := (HAProxyConfig{Listen: "x:1"}).Render(); err == nil {
		t.Fatalf("Render with no servers: got nil error")
	}
}

func TestParseShowStat(t *testing.T) {
	out := "# pxname,svname,qcur,status,weight\nherd,FRONTEND,,OPEN,\nreplicas,slot0,0,UP,1\nreplicas,slot1,0,DOWN,1\nreplicas,BACKEND,0,UP,1\n\n"
	got, err := parseShowStat([]byte(out))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := len(got), 2; got != want {
		t.Fatalf("servers: got %d, want %d", got, want)
	}
	if got, want := got[1], (ServerState{"replicas", "slot1", "DOWN"}); got != want {
		t.Fatalf("slot1: got %+v, want %+v", got, want)
	}
	if _, err := parseShowStat([]byte("# a,b\n1,2\n")); err == nil {
		t.Fatal("a CSV without the status column was accepted")
	}
}

// haproxyBin returns the real HAProxy, or skips (fails under CI=true).
func haproxyBin(t *testing.T) string {
	t.Helper()
	bin, err := FindHAProxy("")
	if err != nil {
		if testenv.CI() {
			t.Fatal(err)
		}
		t.Skip(err)
	}
	return bin
}

// TestHAProxyRoutesOnlyToReadyServers runs the generated configuration in
// the real HAProxy: one slot answers ready, one is empty and one answers
// 503. Every request must reach the ready one, and the balancer's own
// errors must be problem documents.
func TestHAProxyRoutesOnlyToReadyServers(t *testing.T) {
	bin := haproxyBin(t)
	ready := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Instance-ID", "ready")
		io.WriteString(w, `{"status":"ok"}`)
	}))
	defer ready.Close()
	draining := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Instance-ID", "draining")
		if r.URL.Path == "/health/ready" {
			w.WriteHeader(http.StatusServiceUnavailable)
		}
	}))
	defer draining.Close()

	dir := t.TempDir()
	listen := freeAddr(t)
	cfg := HAProxyConfig{
		Listen:      listen,
		StatsSocket: filepath.Join(dir, "haproxy.sock"),
		Servers: []HAProxyServer{
			{"slot0", strings.TrimPrefix(ready.URL, "http://")},
			{"slot1", freeAddr(t)},
			{"slot2", strings.TrimPrefix(draining.URL, "http://")},
		},
	}
	text, err := cfg.Render()
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "haproxy.cfg")
	if err := os.WriteFile(path, text, 0o644); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if err := CheckHAProxyConfig(ctx, bin, path); err != nil {
		t.Fatal(err)
	}
	p, err := startHAProxy(ctx, bin, path, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	defer p.stop(5 * time.Second)
	if err := waitServers(ctx, cfg.StatsSocket, map[string]string{"slot0": "UP", "slot1": "DOWN", "slot2": "DOWN"}); err != nil {
		t.Fatal(err)
	}
	client := &http.Client{Timeout: 5 * time.Second}
	for range 20 {
		resp, err := client.Get("http://" + listen + "/x")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if got, want := resp.Header.Get("X-Instance-ID"), "ready"; got != want {
			t.Fatalf("answered by %q, want %q", got, want)
		}
	}

	if _, err := QueryBackend(ctx, cfg.StatsSocket); err != nil {
		t.Fatalf("backend counters: %v", err)
	}

	ready.Close()
	if err := waitServers(ctx, cfg.StatsSocket, map[string]string{"slot0": "DOWN"}); err != nil {
		t.Fatal(err)
	}
	resp, err := client.Get("http://" + listen + "/x")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if got, want := resp.StatusCode, http.StatusServiceUnavailable; got != want {
		t.Fatalf("status with no ready server: got %d, want %d", got, want)
	}
	if got, want := resp.Header.Get("Content-Type"), "application/problem+json"; got != want {
		t.Fatalf("content type: got %q, want %q", got, want)
	}
	if !strings.Contains(string(body), `"status":503`) {
		t.Fatalf("body is no problem document: %s", body)
	}
}

func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

func TestMissingHAProxySaysHowToInstall(t *testing.T) {
	_, err := FindHAProxy("haproxy-that-is-not-installed")
	if err == nil || !strings.Contains(err.Error(), "apt-get install haproxy") {
		t.Fatalf("got %v, want an error that says how to install HAProxy", err)
	}
}
