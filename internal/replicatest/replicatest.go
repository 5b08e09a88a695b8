// Package replicatest checks, over real HTTP, that two replicas of herd
// serve behave as one service: whatever one replica does, the other sees.
// It speaks only the contract of API.md, so it runs unchanged against the
// embedded default and the production backends.
package replicatest

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"net/http/cookiejar"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// Run checks replicas a and b (base URLs) against each other.
func Run(t *testing.T, a, b string) {
	c := &client{http: &http.Client{Timeout: 15 * time.Second}}
	c.http.Jar, _ = cookiejar.New(nil)
	t.Run("TokenAndLogout", func(t *testing.T) { tokenAndLogout(t, c, a, b) })
	t.Run("Session", func(t *testing.T) { session(t, c, a, b) })
	t.Run("ParallelSessionViews", func(t *testing.T) { parallelSessionViews(t, c, a, b) })
	t.Run("ExactIncrements", func(t *testing.T) { exactIncrements(t, c, a, b) })
	t.Run("ItemNeverStale", func(t *testing.T) { itemNeverStale(t, c, a, b) })
	t.Run("File", func(t *testing.T) { file(t, c, a, b) })
	t.Run("IdempotencyKeyActsOnce", func(t *testing.T) { idempotencyOnce(t, c, a, b) })
}

type client struct{ http *http.Client }

type result struct {
	status int
	header http.Header
	body   []byte
}

func (r result) field(t *testing.T, name string) any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(r.body, &m); err != nil {
		t.Fatalf("body %q: %v", r.body, err)
	}
	return m[name]
}

func (c *client) do(t testing.TB, method, url string, body any, header ...string) result {
	t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case []byte:
		rd = bytes.NewReader(b)
	default:
		j, _ := json.Marshal(b)
		rd = bytes.NewReader(j)
	}
	req, err := http.NewRequest(method, url, rd)
	if err != nil {
		t.Fatal(err)
	}
	if _, raw := body.([]byte); body != nil && !raw {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := c.http.Do(req)
	if err != nil {
		t.Errorf("%s %s: %v", method, url, err)
		return result{}
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return result{resp.StatusCode, resp.Header, b}
}

func randomID() string {
	b := make([]byte, 8)
	rand.Read(b)
	return hex.EncodeToString(b)
}

const password = "correct horse battery"

func register(t *testing.T, c *client, base string) string {
	t.Helper()
	email := "replica-" + randomID() + "@example.com"
	if r := c.do(t, "POST", base+"/auth/register", map[string]string{"email": email, "password": password}); r.status != 201 {
		t.Fatalf("register: %d %s", r.status, r.body)
	}
	return email
}

func login(t *testing.T, c *client, base, email string) string {
	t.Helper()
	r := c.do(t, "POST", base+"/auth/login", map[string]string{"email": email, "password": password})
	if r.status != 200 {
		t.Fatalf("login: %d %s", r.status, r.body)
	}
	return r.field(t, "access_token").(string)
}

func bearer(tok string) []string { return []string{"Authorization", "Bearer " + tok} }

func tokenAndLogout(t *testing.T, c *client, a, b string) {
	email := register(t, c, a)
	tok := login(t, c, a, email)
	if r := c.do(t, "GET", b+"/me", nil, bearer(tok)...); r.status != 200 || r.field(t, "email") != email {
		t.Fatalf("token from A on B: %d %s", r.status, r.body)
	}
	if r := c.do(t, "POST", b+"/auth/logout", nil, bearer(tok)...); r.status != 204 {
		t.Fatalf("logout on B: %d %s", r.status, r.body)
	}
	if r := c.do(t, "GET", a+"/me", nil, bearer(tok)...); r.status != 401 {
		t.Fatalf("A accepted a token logged out on B: %d", r.status)
	}
}

// sessionOn logs in a session on base and returns its cookie header.
func sessionOn(t *testing.T, c *client, base string) []string {
	t.Helper()
	email := register(t, c, base)
	r := c.do(t, "POST", base+"/session", map[string]string{"email": email, "password": password})
	if r.status != 201 {
		t.Fatalf("POST /session: %d %s", r.status, r.body)
	}
	for _, line := range r.header.Values("Set-Cookie") {
		if v, ok := strings.CutPrefix(line, "sid="); ok {
			return []string{"Cookie", "sid=" + strings.SplitN(v, ";", 2)[0]}
		}
	}
	t.Fatal("no sid cookie")
	return nil
}

func session(t *testing.T, c *client, a, b string) {
	cookie := sessionOn(t, c, a)
	for i, base := range []string{b, a, b} {
		r := c.do(t, "GET", base+"/session", nil, cookie...)
		if r.status != 200 || r.field(t, "views") != float64(i+1) {
			t.Fatalf("GET /session #%d on %s: %d %s", i+1, base, r.status, r.body)
		}
	}
	if r := c.do(t, "DELETE", b+"/session", nil, cookie...); r.status != 204 {
		t.Fatalf("DELETE /session on B: %d", r.status)
	}
	if r := c.do(t, "GET", a+"/session", nil, cookie...); r.status != 401 {
		t.Fatalf("A still has a session deleted on B: %d", r.status)
	}
}

func parallelSessionViews(t *testing.T, c *client, a, b string) {
	cookie := sessionOn(t, c, a)
	var wg sync.WaitGroup
	for i := range 100 {
		base := []string{a, b}[i%2]
		wg.Go(func() {
			if r := c.do(t, "GET", base+"/session", nil, cookie...); r.status != 200 {
				t.Errorf("GET /session: %d %s", r.status, r.body)
			}
		})
	}
	wg.Wait()
	if r := c.do(t, "GET", b+"/session", nil, cookie...); r.field(t, "views") != float64(101) {
		t.Fatalf("views = %v after 100 parallel calls over A and B and one more, want 101", r.field(t, "views"))
	}
}

func exactIncrements(t *testing.T, c *client, a, b string) {
	tok := login(t, c, a, register(t, c, a))
	name := "exact-" + randomID()
	const workers, each = 64, 50
	var acked atomic.Int64
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for i := range each {
				base := []string{a, b}[(w+i)%2]
				if r := c.do(t, "POST", base+"/counters/"+name+"/increment", nil, bearer(tok)...); r.status == 200 {
					acked.Add(1)
				} else {
					t.Errorf("increment: %d %s", r.status, r.body)
				}
			}
		})
	}
	wg.Wait()
	r := c.do(t, "GET", b+"/counters/"+name, nil, bearer(tok)...)
	if got := r.field(t, "value"); got != float64(workers*each) || acked.Load() != workers*each {
		t.Fatalf("counter = %v with %d acknowledged, want exactly %d", got, acked.Load(), workers*each)
	}
}

func itemNeverStale(t *testing.T, c *client, a, b string) {
	tok := login(t, c, a, register(t, c, a))
	id := "item-" + randomID()
	for v := 1; v <= 30; v++ {
		writer, reader := a, b
		if v%3 == 0 {
			writer, reader = b, a
		}
		w := c.do(t, "PUT", writer+"/items/"+id, map[string]int{"v": v}, bearer(tok)...)
		if w.status != 200 {
			t.Fatalf("PUT v%d: %d %s", v, w.status, w.body)
		}
		for range 2 { // the second read may be a cache hit
			r := c.do(t, "GET", reader+"/items/"+id, nil, bearer(tok)...)
			if r.status != 200 || r.field(t, "version") != w.field(t, "version") {
				t.Fatalf("read after write %d on the other replica: %d %s (X-Cache %s)", v, r.status, r.body, r.header.Get("X-Cache"))
			}
		}
	}
}

func file(t *testing.T, c *client, a, b string) {
	tok := login(t, c, a, register(t, c, a))
	key := "file-" + randomID() + ".bin"
	content := bytes.Repeat([]byte("herd "), 50000)
	r := c.do(t, "PUT", a+"/files/"+key, content, append(bearer(tok), "Content-Type", "application/x-herd")...)
	if r.status != 201 || r.field(t, "size") != float64(len(content)) {
		t.Fatalf("PUT file on A: %d %s", r.status, r.body)
	}
	g := c.do(t, "GET", b+"/files/"+key, nil, bearer(tok)...)
	if g.status != 200 || !bytes.Equal(g.body, content) || g.header.Get("Content-Type") != "application/x-herd" {
		t.Fatalf("GET file on B: %d, %d bytes, %q", g.status, len(g.body), g.header.Get("Content-Type"))
	}
}

func idempotencyOnce(t *testing.T, c *client, a, b string) {
	tok := login(t, c, a, register(t, c, a))
	name := "idem-" + randomID()
	hdr := append(bearer(tok), "Idempotency-Key", "key-"+randomID())
	first := c.do(t, "POST", a+"/counters/"+name+"/increment", nil, hdr...)
	second := c.do(t, "POST", b+"/counters/"+name+"/increment", nil, hdr...)
	if first.status != 200 || second.status != 200 || !bytes.Equal(first.body, second.body) {
		t.Fatalf("A: %d %s; B: %d %s", first.status, first.body, second.status, second.body)
	}
	if r := c.do(t, "GET", b+"/counters/"+name, nil, bearer(tok)...); r.field(t, "value") != float64(1) {
		t.Fatalf("counter = %v after one key sent to A and B, want 1", r.field(t, "value"))
	}
}
