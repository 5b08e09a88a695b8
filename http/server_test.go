package http

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/herdhq/herd/auth"
	"github.com/herdhq/herd/blob"
	"github.com/herdhq/herd/health"
	"github.com/herdhq/herd/itemcache"
	"github.com/herdhq/herd/sqlite"
)

// testServer is herd's handler on the real embedded backends in a
// temporary data directory.
type testServer struct {
	*httptest.Server
	key    auth.Key
	tokens *auth.Tokens
	db     *sqlite.DB
	files  *blob.Store
}

func newTestServer(t *testing.T) *testServer {
	t.Helper()
	return newTestServerIn(t, t.TempDir())
}

func newTestServerIn(t *testing.T, dir string) *testServer {
	t.Helper()
	ctx := context.Background()
	db, err := sqlite.Open(ctx, filepath.Join(dir, "herd.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	files, err := blob.OpenDir(ctx, filepath.Join(dir, "blobs"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { files.Close() })
	key, err := auth.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	tokens := auth.NewTokens(auth.Config{}, key)
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	h := NewServer(Deps{
		Log: log, InstanceID: "test-1",
		Users: db, Counters: db, Refresh: db, Revocations: db, Sessions: db, Idempotency: db,
		Items:   &itemcache.Items{Store: db, TTL: time.Minute, HoldTTL: 10 * time.Second, LoadTimeout: time.Second, Log: log},
		Files:   files,
		Tokens:  tokens,
		Health:  health.New(time.Second, health.Check{Name: "database", Check: db.Ping}),
		Metrics: NewMetrics(),
		Limits: Limits{
			RequestTimeout: 5 * time.Second, MaxHeaderBytes: 64 << 10, MaxFileSize: 10 << 20, AccessTTL: time.Hour, RefreshTTL: 24 * time.Hour,
			SessionIdle: 30 * time.Minute, SessionLifetime: 24 * time.Hour,
			IdempotencyLockTTL: 10 * time.Second, IdempotencyRetained: time.Hour,
		},
	})
	srv := httptest.NewUnstartedServer(h)
	// As herd serve sets it.
	srv.Config.MaxHeaderBytes = 64<<10 + HeaderSlack
	srv.Start()
	t.Cleanup(srv.Close)
	return &testServer{Server: srv, key: key, tokens: tokens, db: db, files: files}
}

type response struct {
	*http.Response
	body []byte
}

func (r response) json(t *testing.T) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(r.body, &m); err != nil {
		t.Fatalf("body %q is not a JSON object: %v", r.body, err)
	}
	return m
}

// do sends a request; body may be nil, a string or any JSON-marshalable
// value (sent as application/json). Headers come in name, value pairs.
func (s *testServer) do(t *testing.T, method, path string, body any, header ...string) response {
	t.Helper()
	var rd io.Reader
	ctype := ""
	switch b := body.(type) {
	case nil:
	case string:
		rd, ctype = strings.NewReader(b), "application/json"
	case []byte:
		rd = bytes.NewReader(b)
	default:
		j, _ := json.Marshal(b)
		rd, ctype = bytes.NewReader(j), "application/json"
	}
	req, err := http.NewRequest(method, s.URL+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := s.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return response{resp, b}
}

// login registers a fresh user and returns its token pair.
func (s *testServer) login(t *testing.T) (access, refresh, email string) {
	t.Helper()
	email = "u" + strings.ToLower(auth.NewID()) + "@example.com"
	if r := s.do(t, "POST", "/auth/register", map[string]string{"email": email, "password": "correct horse"}); r.StatusCode != 201 {
		t.Fatalf("register: %d %s", r.StatusCode, r.body)
	}
	r := s.do(t, "POST", "/auth/login", map[string]string{"email": email, "password": "correct horse"})
	if r.StatusCode != 200 {
		t.Fatalf("login: %d %s", r.StatusCode, r.body)
	}
	m := r.json(t)
	return m["access_token"].(string), m["refresh_token"].(string), email
}

func bearer(token string) []string { return []string{"Authorization", "Bearer " + token} }

// wantProblem checks a problem document with the given status and the
// request id of the response.
func wantProblem(t *testing.T, r response, status int) {
	t.Helper()
	if r.StatusCode != status {
		t.Fatalf("status %d, want %d; body %s", r.StatusCode, status, r.body)
	}
	if ct := r.Header.Get("Content-Type"); ct != "application/problem+json" {
		t.Fatalf("Content-Type %q, want application/problem+json", ct)
	}
	p := r.json(t)
	if p["status"] != float64(status) || p["title"] == "" || p["type"] == nil || p["detail"] == nil {
		t.Errorf("problem %v lacks fields", p)
	}
	if id := r.Header.Get("X-Request-ID"); id == "" || p["request_id"] != id {
		t.Errorf("problem request_id %v, header %q", p["request_id"], id)
	}
}

func newTestLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func newHTTPTestServer(t *testing.T, h http.Handler) *httptest.Server {
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv
}
