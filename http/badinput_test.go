package http

import (
	"bytes"
	"net/http"
	"strings"
	"testing"
)

// TestBadInput sends each malformed request and checks it gets its 4xx
// problem document with the request id, never a 5xx, and that nothing was
// written.
func TestBadInput(t *testing.T) {
	s := newTestServer(t)
	access, _, _ := s.login(t)
	auth := bearer(access)
	long := strings.Repeat("a", 200)
	bigItem := `{"x":"` + strings.Repeat("a", 65<<10) + `"}`
	bigFile := bytes.Repeat([]byte("f"), 11<<20)

	for _, tc := range []struct {
		name   string
		method string
		path   string
		body   any
		header []string
		status int
	}{
		{"invalid JSON", "POST", "/auth/register", `{"email":`, nil, 400},
		{"trailing JSON", "POST", "/auth/register", `{"email":"t1@example.com","password":"12345678"}{}`, nil, 400},
		{"unknown field", "POST", "/auth/register", `{"email":"t2@example.com","password":"12345678","admin":true}`, nil, 400},
		{"wrong type", "POST", "/auth/register", `{"email":"t3@example.com","password":12345678}`, nil, 400},
		{"empty body", "POST", "/auth/register", ``, nil, 400},
		{"JSON array", "POST", "/auth/register", `[]`, nil, 400},
		{"invalid email", "POST", "/auth/register", `{"email":"not an email","password":"12345678"}`, nil, 400},
		{"short password", "POST", "/auth/register", `{"email":"t4@example.com","password":"1234567"}`, nil, 400},
		{"wrong content type", "POST", "/auth/register", []byte(`{"email":"t5@example.com","password":"12345678"}`), []string{"Content-Type", "text/plain"}, 415},
		{"huge auth body", "POST", "/auth/login", `{"email":"` + strings.Repeat("a", 8<<10) + `","password":"x"}`, nil, 413},
		{"65 KiB item", "PUT", "/items/big", bigItem, auth, 413},
		{"item not JSON", "PUT", "/items/nojson", `{oops`, auth, 400},
		{"item wrong content type", "PUT", "/items/ctype", []byte(`{}`), append([]string{"Content-Type", "text/plain"}, auth...), 415},
		{"11 MiB file", "PUT", "/files/big.bin", bigFile, auth, 413},
		{"id with ..", "PUT", "/items/..", `{}`, auth, 400},
		{"id with encoded slash", "PUT", "/items/a%2Fb", `{}`, auth, 400},
		{"200-character id", "PUT", "/items/" + long, `{}`, auth, 400},
		{"200-character counter", "POST", "/counters/" + long + "/increment", nil, auth, 400},
		{"200-character file key", "PUT", "/files/" + long, []byte("x"), auth, 400},
		{"counter name with space", "POST", "/counters/a%20b/increment", nil, auth, 400},
		{"wrong method", "PATCH", "/items/x", nil, auth, 405},
		{"idempotency key too long", "POST", "/counters/k/increment", nil, append([]string{"Idempotency-Key", long + long}, auth...), 400},
	} {
		t.Run(tc.name, func(t *testing.T) {
			wantProblem(t, s.do(t, tc.method, tc.path, tc.body, tc.header...), tc.status)
		})
	}

	// Nothing was written by the refused requests.
	for _, email := range []string{"t1@example.com", "t2@example.com", "t3@example.com", "t5@example.com"} {
		if r := s.do(t, "POST", "/auth/register", map[string]string{"email": email, "password": "12345678"}); r.StatusCode != 201 {
			t.Errorf("%s was written by a refused request: %d", email, r.StatusCode)
		}
	}
	for _, path := range []string{"/items/big", "/items/nojson", "/items/ctype"} {
		wantProblem(t, s.do(t, "GET", path, nil, auth...), 404)
	}
	wantProblem(t, s.do(t, "GET", "/files/big.bin", nil, auth...), 404)
	wantProblem(t, s.do(t, "GET", "/counters/k", nil, auth...), 404)
}

func TestHugeHeadersRefused(t *testing.T) {
	s := newTestServer(t)
	wantProblem(t, s.do(t, "GET", "/health/live", nil, "X-Big", strings.Repeat("h", 200<<10)), 431)

	// Beyond the server's own limit net/http answers before any handler.
	req, _ := http.NewRequest("GET", s.URL+"/health/live", nil)
	req.Header.Set("X-Big", strings.Repeat("h", 2<<20))
	resp, err := s.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusRequestHeaderFieldsTooLarge {
		t.Fatalf("2 MiB header: %d, want 431", resp.StatusCode)
	}
}
