package http

import (
	"crypto/ed25519"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/herdhq/herd/auth"
)

func TestAuthFlow(t *testing.T) {
	s := newTestServer(t)
	access, refresh, email := s.login(t)

	me := s.do(t, "GET", "/me", nil, bearer(access)...)
	if me.StatusCode != 200 || me.json(t)["email"] != email {
		t.Fatalf("/me: %d %s", me.StatusCode, me.body)
	}
	if roles := me.json(t)["roles"].([]any); len(roles) != 1 || roles[0] != "user" {
		t.Errorf("roles %v", roles)
	}

	// Register twice: 409. Wrong password: 401.
	wantProblem(t, s.do(t, "POST", "/auth/register", map[string]string{"email": email, "password": "another pass"}), 409)
	wantProblem(t, s.do(t, "POST", "/auth/login", map[string]string{"email": email, "password": "wrong pass"}), 401)
	wantProblem(t, s.do(t, "POST", "/auth/login", map[string]string{"email": "nobody@example.com", "password": "whatever1"}), 401)

	// Refresh rotates; the old refresh token is spent.
	r := s.do(t, "POST", "/auth/refresh", map[string]string{"refresh_token": refresh})
	if r.StatusCode != 200 {
		t.Fatalf("refresh: %d %s", r.StatusCode, r.body)
	}
	pair := r.json(t)
	if pair["token_type"] != "Bearer" || pair["expires_in"] != float64(3600) || pair["refresh_token"] == refresh {
		t.Errorf("refresh pair %v", pair)
	}
	access2 := pair["access_token"].(string)
	refresh2 := pair["refresh_token"].(string)
	if r := s.do(t, "GET", "/me", nil, bearer(access2)...); r.StatusCode != 200 {
		t.Fatalf("/me with refreshed token: %d", r.StatusCode)
	}

	// Presenting the spent one: 401, and every token of the login dies.
	wantProblem(t, s.do(t, "POST", "/auth/refresh", map[string]string{"refresh_token": refresh}), 401)
	wantProblem(t, s.do(t, "POST", "/auth/refresh", map[string]string{"refresh_token": refresh2}), 401)
	wantProblem(t, s.do(t, "GET", "/me", nil, bearer(access2)...), 401)
	wantProblem(t, s.do(t, "GET", "/me", nil, bearer(access)...), 401)
}

func TestLogoutRevokes(t *testing.T) {
	s := newTestServer(t)
	access, refresh, _ := s.login(t)
	other, _, _ := s.login(t)
	if r := s.do(t, "POST", "/auth/logout", nil, bearer(access)...); r.StatusCode != 204 {
		t.Fatalf("logout: %d %s", r.StatusCode, r.body)
	}
	wantProblem(t, s.do(t, "GET", "/me", nil, bearer(access)...), 401)
	wantProblem(t, s.do(t, "POST", "/auth/refresh", map[string]string{"refresh_token": refresh}), 401)
	if r := s.do(t, "GET", "/me", nil, bearer(other)...); r.StatusCode != 200 {
		t.Errorf("another user's token after logout: %d", r.StatusCode)
	}
}

func TestJWTNegatives(t *testing.T) {
	s := newTestServer(t)
	now := time.Now()
	subject := auth.AccessSubject{UserID: "u1", Email: "a@example.com", Roles: []string{"user"}}
	issue := func(tokens *auth.Tokens, at time.Time) string {
		tok, _, err := tokens.IssueAccess(subject, "fam1", at)
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}
	otherKey, _ := auth.GenerateKey()
	valid := issue(s.tokens, now)
	claims := jwt.MapClaims{"sub": "u1", "iss": "herd", "aud": "herd", "exp": now.Add(time.Hour).Unix(), "iat": now.Unix(), "jti": "j", "fid": "f"}

	none := jwt.NewWithClaims(jwt.SigningMethodNone, claims)
	none.Header["kid"] = s.key.ID
	none.Header["typ"] = "at+jwt"
	noneTok, _ := none.SignedString(jwt.UnsafeAllowNoneSignatureType)

	hs := jwt.NewWithClaims(jwt.SigningMethodHS256, claims)
	hs.Header["kid"] = s.key.ID
	hs.Header["typ"] = "at+jwt"
	// The key-confusion attack: the public key, which anyone can fetch from
	// the JWKS, used as an HMAC secret.
	hsTok, _ := hs.SignedString([]byte(s.key.Private.Public().(ed25519.PublicKey)))
	pubPEM, _ := s.key.Public().MarshalPEM()
	hsPEMTok, _ := hs.SignedString(pubPEM)

	badSig := []byte(valid)
	badSig[len(badSig)-5] ^= 1

	for name, tok := range map[string]string{
		"alg none":                  noneTok,
		"HS256 with the public key": hsTok,
		"HS256 with the public PEM": hsPEMTok,
		"unknown kid":               issue(auth.NewTokens(auth.Config{}, otherKey), now),
		"wrong iss":                 issue(auth.NewTokens(auth.Config{Issuer: "evil"}, s.key), now),
		"wrong aud":                 issue(auth.NewTokens(auth.Config{Audience: "evil"}, s.key), now),
		"expired":                   issue(s.tokens, now.Add(-2*time.Hour)),
		"nbf in the future":         issue(s.tokens, now.Add(time.Hour)),
		"bad signature":             string(badSig),
		"many dots":                 strings.Repeat(".", 60<<10),
		"garbage":                   "not-a-token",
	} {
		t.Run(name, func(t *testing.T) {
			wantProblem(t, s.do(t, "GET", "/me", nil, bearer(tok)...), 401)
		})
	}
	t.Run("refresh token as access token", func(t *testing.T) {
		_, refresh, _ := s.login(t)
		wantProblem(t, s.do(t, "GET", "/me", nil, bearer(refresh)...), 401)
	})
	t.Run("no token", func(t *testing.T) {
		wantProblem(t, s.do(t, "GET", "/me", nil), 401)
	})
}

func sidCookie(t *testing.T, r response) string {
	t.Helper()
	for _, c := range r.Cookies() {
		if c.Name == "sid" {
			return c.Value
		}
	}
	t.Fatalf("no sid cookie in %v", r.Header["Set-Cookie"])
	return ""
}

func TestSessions(t *testing.T) {
	s := newTestServer(t)
	_, _, email := s.login(t)
	wantProblem(t, s.do(t, "GET", "/session", nil), 401)

	r := s.do(t, "POST", "/session", map[string]string{"email": email, "password": "correct horse"})
	if r.StatusCode != 201 || r.json(t)["email"] != email {
		t.Fatalf("POST /session: %d %s", r.StatusCode, r.body)
	}
	setCookie := r.Header.Get("Set-Cookie")
	for _, attr := range []string{"Path=/", "HttpOnly", "SameSite=Lax"} {
		if !strings.Contains(setCookie, attr) {
			t.Errorf("Set-Cookie %q lacks %s", setCookie, attr)
		}
	}
	if strings.Contains(setCookie, "Secure") {
		t.Errorf("Set-Cookie %q is Secure though not configured", setCookie)
	}
	sid := sidCookie(t, r)
	if len(sid) < 43 {
		t.Errorf("session id %q has fewer than 256 bits", sid)
	}
	cookie := []string{"Cookie", "sid=" + sid}
	for want := 1; want <= 2; want++ {
		r := s.do(t, "GET", "/session", nil, cookie...)
		if r.StatusCode != 200 || r.json(t)["views"] != float64(want) {
			t.Fatalf("GET /session: %d %s, want views %d", r.StatusCode, r.body, want)
		}
	}

	// A second login gives a new id and ends the old session.
	r = s.do(t, "POST", "/session", map[string]string{"email": email, "password": "correct horse"}, cookie...)
	if sid2 := sidCookie(t, r); sid2 == sid {
		t.Error("login kept the session id")
	}
	wantProblem(t, s.do(t, "GET", "/session", nil, cookie...), 401)

	sid = sidCookie(t, r)
	cookie = []string{"Cookie", "sid=" + sid}
	if r := s.do(t, "DELETE", "/session", nil, cookie...); r.StatusCode != 204 {
		t.Fatalf("DELETE /session: %d", r.StatusCode)
	}
	wantProblem(t, s.do(t, "GET", "/session", nil, cookie...), 401)
}

func TestParallelSessionViewsAreExact(t *testing.T) {
	s := newTestServer(t)
	_, _, email := s.login(t)
	r := s.do(t, "POST", "/session", map[string]string{"email": email, "password": "correct horse"})
	cookie := []string{"Cookie", "sid=" + sidCookie(t, r)}
	var wg sync.WaitGroup
	for range 100 {
		wg.Go(func() {
			if r := s.do(t, "GET", "/session", nil, cookie...); r.StatusCode != 200 {
				t.Errorf("GET /session: %d %s", r.StatusCode, r.body)
			}
		})
	}
	wg.Wait()
	if got := s.do(t, "GET", "/session", nil, cookie...).json(t)["views"]; got != float64(101) {
		t.Fatalf("views = %v after 100 parallel calls and one more, want 101", got)
	}
}

func TestCrossOriginSessionPostRefused(t *testing.T) {
	s := newTestServer(t)
	r := s.do(t, "POST", "/session", map[string]string{"email": "a@example.com", "password": "12345678"},
		"Sec-Fetch-Site", "cross-site")
	wantProblem(t, r, 403)
}

func TestCounters(t *testing.T) {
	s := newTestServer(t)
	access, _, _ := s.login(t)
	wantProblem(t, s.do(t, "GET", "/counters/hits", nil, bearer(access)...), 404)
	for want := 1; want <= 3; want++ {
		r := s.do(t, "POST", "/counters/hits/increment", nil, bearer(access)...)
		if m := r.json(t); r.StatusCode != 200 || m["value"] != float64(want) || m["name"] != "hits" {
			t.Fatalf("increment: %d %s", r.StatusCode, r.body)
		}
	}
	if m := s.do(t, "GET", "/counters/hits", nil, bearer(access)...).json(t); m["value"] != float64(3) {
		t.Errorf("GET counter = %v", m)
	}
	wantProblem(t, s.do(t, "POST", "/counters/hits/increment", nil), 401)
}

func TestIdempotencyKey(t *testing.T) {
	s := newTestServer(t)
	access, _, _ := s.login(t)
	key := []string{"Idempotency-Key", "k-" + auth.NewID()}
	hdr := append(bearer(access), key...)
	first := s.do(t, "POST", "/counters/idem/increment", nil, hdr...)
	again := s.do(t, "POST", "/counters/idem/increment", nil, hdr...)
	if first.StatusCode != 200 || again.StatusCode != 200 || string(first.body) != string(again.body) {
		t.Fatalf("replay differs: %d %s / %d %s", first.StatusCode, first.body, again.StatusCode, again.body)
	}
	if again.Header.Get("Idempotent-Replayed") != "true" {
		t.Error("replay not marked Idempotent-Replayed")
	}
	if m := s.do(t, "GET", "/counters/idem", nil, bearer(access)...).json(t); m["value"] != float64(1) {
		t.Fatalf("counter = %v after a replayed increment, want 1", m["value"])
	}
	// The same key on another route is another request: 422.
	wantProblem(t, s.do(t, "POST", "/counters/other/increment", nil, hdr...), 422)
	// Another user's identical key is theirs alone.
	access2, _, _ := s.login(t)
	if r := s.do(t, "POST", "/counters/idem/increment", nil, append(bearer(access2), key...)...); r.json(t)["value"] != float64(2) {
		t.Errorf("another user's request with the same key: %s", r.body)
	}
}

func TestIdempotencyKeyInFlight(t *testing.T) {
	s := newTestServer(t)
	email := "inflight-" + strings.ToLower(auth.NewID()) + "@example.com"
	body := map[string]string{"email": email, "password": "correct horse"}
	// Hold the claim the way a replica serving the first request does.
	fp := "whatever"
	if _, err := s.db.BeginIdempotent(t.Context(), "anonymous:held", fp, time.Minute); err != nil {
		t.Fatal(err)
	}
	r := s.do(t, "POST", "/auth/register", body, "Idempotency-Key", "held")
	if r.StatusCode != 409 && r.StatusCode != 422 {
		t.Fatalf("register while the key is held: %d %s", r.StatusCode, r.body)
	}
	// Nothing was written: the email is still free.
	if r := s.do(t, "POST", "/auth/register", body); r.StatusCode != 201 {
		t.Fatalf("register after a refused duplicate: %d %s", r.StatusCode, r.body)
	}
}

func TestItems(t *testing.T) {
	s := newTestServer(t)
	access, _, _ := s.login(t)
	wantProblem(t, s.do(t, "GET", "/items/a1", nil, bearer(access)...), 404)
	for v := 1; v <= 2; v++ {
		r := s.do(t, "PUT", "/items/a1", fmt.Sprintf(`{"v":%d}`, v), bearer(access)...)
		if m := r.json(t); r.StatusCode != 200 || m["version"] != float64(v) || m["id"] != "a1" || m["updated_at"] == nil {
			t.Fatalf("PUT: %d %s", r.StatusCode, r.body)
		}
	}
	r := s.do(t, "GET", "/items/a1", nil, bearer(access)...)
	if m := r.json(t); r.StatusCode != 200 || m["version"] != float64(2) || m["data"].(map[string]any)["v"] != float64(2) {
		t.Fatalf("GET: %d %s", r.StatusCode, r.body)
	}
	if xc := r.Header.Get("X-Cache"); xc != "miss" && xc != "hit" {
		t.Errorf("X-Cache = %q", xc)
	}
}

func TestFiles(t *testing.T) {
	s := newTestServer(t)
	access, _, _ := s.login(t)
	wantProblem(t, s.do(t, "GET", "/files/report.txt", nil, bearer(access)...), 404)
	r := s.do(t, "PUT", "/files/report.txt", []byte("hello, herd"), append(bearer(access), "Content-Type", "text/plain; charset=utf-8")...)
	if m := r.json(t); r.StatusCode != 201 || m["size"] != float64(11) || m["key"] != "report.txt" || m["etag"] == "" {
		t.Fatalf("PUT file: %d %s", r.StatusCode, r.body)
	}
	r = s.do(t, "GET", "/files/report.txt", nil, bearer(access)...)
	if r.StatusCode != 200 || string(r.body) != "hello, herd" || r.Header.Get("Content-Type") != "text/plain; charset=utf-8" {
		t.Fatalf("GET file: %d %q %q", r.StatusCode, r.body, r.Header.Get("Content-Type"))
	}
}

func TestUnknownRouteAndMethod(t *testing.T) {
	s := newTestServer(t)
	wantProblem(t, s.do(t, "GET", "/nope", nil), 404)
	r := s.do(t, "DELETE", "/health/live", nil)
	wantProblem(t, r, 405)
	if allow := r.Header.Get("Allow"); !strings.Contains(allow, "GET") {
		t.Errorf("Allow = %q", allow)
	}
}

func TestCorrelationHeaders(t *testing.T) {
	s := newTestServer(t)
	r := s.do(t, "GET", "/health/live", nil, "X-Request-ID", "trace-me.1")
	if r.Header.Get("X-Request-ID") != "trace-me.1" || r.Header.Get("X-Instance-ID") != "test-1" {
		t.Errorf("headers %v", r.Header)
	}
	if r.StatusCode != 200 || string(r.body) != "{\"status\":\"ok\"}\n" {
		t.Errorf("live: %d %q", r.StatusCode, r.body)
	}
}

func TestMetrics(t *testing.T) {
	s := newTestServer(t)
	s.do(t, "GET", "/health/live", nil)
	r := s.do(t, "GET", "/metrics", nil)
	for _, want := range []string{
		`herd_http_requests_total{route="GET /health/live",status="200"} 1`,
		"herd_http_request_duration_seconds_bucket",
		"herd_http_requests_in_flight",
		"go_goroutines",
	} {
		if !strings.Contains(string(r.body), want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
}

func TestPanicBecomesProblem(t *testing.T) {
	s := &server{Deps: Deps{Log: newTestLogger(), Metrics: NewMetrics()}, now: time.Now}
	h := s.recoverPanics(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { panic("boom") }))
	srv := &testServer{Server: newHTTPTestServer(t, h)}
	r := srv.do(t, "GET", "/", nil)
	if r.StatusCode != 500 || strings.Contains(string(r.body), "boom") {
		t.Fatalf("panic answer: %d %s", r.StatusCode, r.body)
	}
}
