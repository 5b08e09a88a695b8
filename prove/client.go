package prove

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"
)

// api speaks herd's HTTP contract (API.md) to one base URL: the load
// balancer or a single replica. It knows nothing else about herd.
type api struct {
	base    string
	hc      *http.Client
	timeout time.Duration
}

// answer is one HTTP exchange's outcome.
type answer struct {
	status   int
	header   http.Header
	body     []byte
	instance string // X-Instance-ID
}

func (a *answer) String() string {
	if a == nil {
		return "<no answer>"
	}
	return fmt.Sprintf("%d %s", a.status, truncate(string(a.body), 200))
}

func truncate(s string, n int) string {
	s = strings.TrimSpace(s)
	if len(s) > n {
		return s[:n] + "…"
	}
	return s
}

// request is what to send; the zero value is a bodiless GET.
type request struct {
	method      string
	path        string
	json        any    // marshalled as the body when set
	raw         []byte // the body otherwise
	contentType string
	token       string // Bearer token
	cookie      string // sid value
	idemKey     string // Idempotency-Key
}

func newTransport() *http.Transport {
	return &http.Transport{
		MaxIdleConns:        512,
		MaxIdleConnsPerHost: 256,
		IdleConnTimeout:     30 * time.Second,
	}
}

func newAPI(base string, hc *http.Client, timeout time.Duration) *api {
	return &api{base: strings.TrimRight(base, "/"), hc: hc, timeout: timeout}
}

// do sends r with a deadline of a.timeout. A non-nil error means no
// HTTP answer arrived (transport error or timeout).
func (a *api) do(ctx context.Context, r request) (*answer, error) {
	ctx, cancel := context.WithTimeout(ctx, a.timeout)
	defer cancel()
	var body io.Reader
	switch {
	case r.json != nil:
		b, err := json.Marshal(r.json)
		if err != nil {
			return nil, err
		}
		body = bytes.NewReader(b)
		r.contentType = "application/json"
	case r.raw != nil:
		body = bytes.NewReader(r.raw)
	}
	method := r.method
	if method == "" {
		method = http.MethodGet
	}
	req, err := http.NewRequestWithContext(ctx, method, a.base+r.path, body)
	if err != nil {
		return nil, err
	}
	if r.contentType != "" {
		req.Header.Set("Content-Type", r.contentType)
	}
	if r.token != "" {
		req.Header.Set("Authorization", "Bearer "+r.token)
	}
	if r.cookie != "" {
		req.AddCookie(&http.Cookie{Name: "sid", Value: r.cookie})
	}
	if r.idemKey != "" {
		req.Header.Set("Idempotency-Key", r.idemKey)
	}
	req.Header.Set("X-Request-ID", "prove-"+randomID(8))
	resp, err := a.hc.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return nil, err
	}
	return &answer{status: resp.StatusCode, header: resp.Header, body: b, instance: resp.Header.Get("X-Instance-ID")}, nil
}

// expect sends r and returns an error unless the answer has status want.
func (a *api) expect(ctx context.Context, r request, want int) (*answer, error) {
	ans, err := a.do(ctx, r)
	if err != nil {
		return nil, fmt.Errorf("%s %s on %s: %w", methodOf(r), r.path, a.base, err)
	}
	if ans.status != want {
		return ans, fmt.Errorf("%s %s on %s: got %s, want %d", methodOf(r), r.path, a.base, ans, want)
	}
	return ans, nil
}

func methodOf(r request) string {
	if r.method == "" {
		return http.MethodGet
	}
	return r.method
}

func decodeInto(ans *answer, v any) error {
	if err := json.Unmarshal(ans.body, v); err != nil {
		return fmt.Errorf("decode %s: %w", truncate(string(ans.body), 200), err)
	}
	return nil
}

func randomID(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// user is an account with a live login and session.
type user struct {
	email    string
	password string
	access   string
	refresh  string
	sid      string
}

type tokens struct {
	AccessToken  string `json:"access_token"`
	TokenType    string `json:"token_type"`
	RefreshToken string `json:"refresh_token"`
}

func (a *api) register(ctx context.Context, email, password string) error {
	_, err := a.expect(ctx, request{method: http.MethodPost, path: "/auth/register", json: map[string]string{"email": email, "password": password}}, http.StatusCreated)
	return err
}

func (a *api) login(ctx context.Context, email, password string) (tokens, error) {
	var t tokens
	ans, err := a.expect(ctx, request{method: http.MethodPost, path: "/auth/login", json: map[string]string{"email": email, "password": password}}, http.StatusOK)
	if err != nil {
		return t, err
	}
	if err := decodeInto(ans, &t); err != nil {
		return t, err
	}
	if t.AccessToken == "" || t.RefreshToken == "" {
		return t, fmt.Errorf("login on %s: no tokens in %s", a.base, ans)
	}
	return t, nil
}

// newSession opens a session and returns its sid cookie.
func (a *api) newSession(ctx context.Context, email, password string) (string, error) {
	ans, err := a.expect(ctx, request{method: http.MethodPost, path: "/session", json: map[string]string{"email": email, "password": password}}, http.StatusCreated)
	if err != nil {
		return "", err
	}
	for _, c := range (&http.Response{Header: ans.header}).Cookies() {
		if c.Name == "sid" && c.Value != "" {
			return c.Value, nil
		}
	}
	return "", fmt.Errorf("POST /session on %s: no sid cookie", a.base)
}

// newUser registers an account, logs it in and opens a session.
func (a *api) newUser(ctx context.Context, prefix string) (*user, error) {
	u := &user{email: fmt.Sprintf("%s-%s@prove.example", prefix, randomID(6)), password: "prove-" + randomID(8)}
	if err := a.register(ctx, u.email, u.password); err != nil {
		return nil, err
	}
	t, err := a.login(ctx, u.email, u.password)
	if err != nil {
		return nil, err
	}
	u.access, u.refresh = t.AccessToken, t.RefreshToken
	if u.sid, err = a.newSession(ctx, u.email, u.password); err != nil {
		return nil, err
	}
	return u, nil
}

type sessionView struct {
	UserID string `json:"user_id"`
	Email  string `json:"email"`
	Views  int64  `json:"views"`
}

type counterValue struct {
	Name  string `json:"name"`
	Value int64  `json:"value"`
}

type item struct {
	ID      string          `json:"id"`
	Data    json.RawMessage `json:"data"`
	Version int64           `json:"version"`
}

// isProblem reports whether ans is an RFC 9457 problem document with the
// given status.
func isProblem(ans *answer, status int) bool {
	if ans.status != status || !strings.HasPrefix(ans.header.Get("Content-Type"), "application/problem+json") {
		return false
	}
	var p struct {
		Title  string `json:"title"`
		Status int    `json:"status"`
	}
	return json.Unmarshal(ans.body, &p) == nil && p.Status == status && p.Title != ""
}
