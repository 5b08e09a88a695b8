package main

// Fault tests: a replica on the real PostgreSQL, Redis and S3 loses one
// dependency while it runs. Each test shows that readiness names the lost
// dependency and no other, that routes needing it answer a 503 problem
// document within their timeout instead of hanging, that routes not needing
// it keep working, and that once the dependency is back the replica serves
// again by itself, without a restart.

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/herdhq/herd/internal/faultproxy"
	"github.com/herdhq/herd/internal/testenv"
)

const (
	// faultRequestTimeout is HERD_REQUEST_TIMEOUT in these tests.
	faultRequestTimeout = 3 * time.Second
	// answerSlack is how long past its timeout a request may take before
	// the test calls it hung: generous, so that a slow machine is not
	// mistaken for a hang.
	answerSlack = 3 * time.Second
	// probeInterval is how often the load balancer probes readiness
	// (deploy/haproxy/haproxy.cfg: inter 500ms); a lost dependency must
	// show by the second probe.
	probeInterval = 500 * time.Millisecond
	// recoveryWithin is how soon after the dependency is back the replica
	// must serve again on its own.
	recoveryWithin = 5 * time.Second
)

// faultEnv is productionEnv with timeouts short enough that a lost
// dependency costs a test seconds, not minutes.
func faultEnv(t *testing.T) map[string]string {
	t.Helper()
	env := productionEnv(t)
	env["HERD_REQUEST_TIMEOUT"] = faultRequestTimeout.String()
	env["HERD_CHECK_TIMEOUT"] = "1s"
	env["HERD_REDIS_TIMEOUT"] = "500ms"
	env["HERD_DB_CONNECT_TIMEOUT"] = "1s"
	env["HERD_DB_QUERY_TIMEOUT"] = "1s"
	return env
}

func randomHex() string {
	b := make([]byte, 6)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// faultClient speaks to one replica.
type faultClient struct {
	t    *testing.T
	base string
	http *http.Client
}

func newFaultClient(t *testing.T, base string) *faultClient {
	// The client's deadline is where "slow" ends and "hung" begins: every
	// answer, 503s included, must come before it.
	return &faultClient{t: t, base: base, http: &http.Client{Timeout: faultRequestTimeout + answerSlack}}
}

type answer struct {
	status int
	header http.Header
	body   []byte
}

func (a answer) String() string {
	return fmt.Sprintf("%d %s", a.status, strings.TrimSpace(string(a.body)))
}

// try sends a request; its error is a hang (the client's deadline) or a
// broken connection, never an HTTP status.
func (c *faultClient) try(method, path, body string, header ...string) (answer, error) {
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, c.base+path, rd)
	if err != nil {
		return answer{}, err
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := c.http.Do(req)
	if err != nil {
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			return answer{}, fmt.Errorf("%s %s got no answer within %v: herd hung", method, path, c.http.Timeout)
		}
		return answer{}, fmt.Errorf("%s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return answer{}, fmt.Errorf("%s %s: reading the body: %w", method, path, err)
	}
	return answer{resp.StatusCode, resp.Header, b}, nil
}

func (c *faultClient) do(method, path, body string, header ...string) answer {
	c.t.Helper()
	a, err := c.try(method, path, body, header...)
	if err != nil {
		c.t.Fatal(err)
	}
	return a
}

// want sends a request and fails unless it answers status.
func (c *faultClient) want(status int, method, path, body string, header ...string) answer {
	c.t.Helper()
	a := c.do(method, path, body, header...)
	if a.status != status {
		c.t.Fatalf("%s %s: %s, want %d", method, path, a, status)
	}
	return a
}

// want503 sends a request and fails unless it answers a 503 problem
// document that gives away nothing of the driver's error.
func (c *faultClient) want503(method, path, body string, header ...string) {
	c.t.Helper()
	wantProblem503(c.t, fmt.Sprintf("%s %s", method, path), c.do(method, path, body, header...))
}

func wantProblem503(t *testing.T, what string, a answer) {
	t.Helper()
	if got, want := a.status, http.StatusServiceUnavailable; got != want {
		t.Fatalf("%s: %s, want %d", what, a, want)
	}
	if got, want := a.header.Get("Content-Type"), "application/problem+json"; got != want {
		t.Fatalf("%s: Content-Type %q, want %q", what, got, want)
	}
	var p struct {
		Status    int    `json:"status"`
		Detail    string `json:"detail"`
		RequestID string `json:"request_id"`
	}
	if err := json.Unmarshal(a.body, &p); err != nil {
		t.Fatalf("%s: problem document %q: %v", what, a.body, err)
	}
	if p.Status != http.StatusServiceUnavailable || p.Detail == "" || p.RequestID == "" {
		t.Fatalf("%s: incomplete problem document %s", what, a.body)
	}
	// A driver's error names the address it failed to reach.
	for _, leak := range []string{"127.0.0.1", "dial tcp", "i/o timeout", "pgx", "redis:"} {
		if strings.Contains(string(a.body), leak) {
			t.Fatalf("%s: the problem document leaks a driver error (%q): %s", what, leak, a.body)
		}
	}
}

func bearerHeader(tok string) []string { return []string{"Authorization", "Bearer " + tok} }

const faultPassword = "correct horse battery"

// user registers and logs in a new user.
func (c *faultClient) user() (email, token string) {
	c.t.Helper()
	email = "fault-" + randomHex() + "@example.com"
	creds := fmt.Sprintf(`{"email":%q,"password":%q}`, email, faultPassword)
	c.want(http.StatusCreated, "POST", "/auth/register", creds)
	return email, c.login(email)
}

func (c *faultClient) login(email string) string {
	c.t.Helper()
	a := c.want(http.StatusOK, "POST", "/auth/login", fmt.Sprintf(`{"email":%q,"password":%q}`, email, faultPassword))
	var out struct {
		AccessToken string `json:"access_token"`
	}
	if err := json.Unmarshal(a.body, &out); err != nil || out.AccessToken == "" {
		c.t.Fatalf("login: %s", a)
	}
	return out.AccessToken
}

// session logs email in with a cookie session and returns the cookie
// header.
func (c *faultClient) session(email string) []string {
	c.t.Helper()
	a := c.want(http.StatusCreated, "POST", "/session", fmt.Sprintf(`{"email":%q,"password":%q}`, email, faultPassword))
	for _, line := range a.header.Values("Set-Cookie") {
		if v, ok := strings.CutPrefix(line, "sid="); ok {
			sid, _, _ := strings.Cut(v, ";")
			return []string{"Cookie", "sid=" + sid}
		}
	}
	c.t.Fatalf("POST /session: no sid cookie in %v", a.header)
	return nil
}

// jsonField decodes one field of a JSON answer.
func jsonField[T any](t *testing.T, a answer, name string) T {
	t.Helper()
	var m map[string]json.RawMessage
	if err := json.Unmarshal(a.body, &m); err != nil {
		t.Fatalf("answer %s: %v", a, err)
	}
	var v T
	if err := json.Unmarshal(m[name], &v); err != nil {
		t.Fatalf("field %q of %s: %v", name, a, err)
	}
	return v
}

// readiness is the body of /health/ready.
type readiness struct {
	Status string `json:"status"`
	Info   map[string]struct {
		Status string `json:"status"`
	} `json:"info"`
	Error map[string]struct {
		Status  string `json:"status"`
		Message string `json:"message"`
	} `json:"error"`
}

var dependencies = []string{"database", "cache", "storage"}

// wantDown probes readiness as the load balancer does and fails unless, by
// the second probe, it answers 503 with dep down and every other
// dependency up: a replica that blamed the wrong dependency, or all of
// them, would mislead whoever is paged.
func (c *faultClient) wantDown(dep string) {
	c.t.Helper()
	var last answer
	for probe := 1; probe <= 2; probe++ {
		if probe > 1 {
			time.Sleep(probeInterval)
		}
		last = c.do("GET", "/health/ready", "")
		if last.status == http.StatusServiceUnavailable {
			break
		}
	}
	wantReport(c.t, "/health/ready by the second probe", last, dep, dependencies)
}

// wantReport fails unless a is a 503 readiness report with dep down and
// each of checked other than dep up.
func wantReport(t *testing.T, what string, a answer, dep string, checked []string) {
	t.Helper()
	if got, want := a.status, http.StatusServiceUnavailable; got != want {
		t.Fatalf("with %s lost, %s answered %s, want %d", dep, what, a, want)
	}
	var r readiness
	if err := json.Unmarshal(a.body, &r); err != nil {
		t.Fatalf("%s: body %s: %v", what, a, err)
	}
	if got, want := r.Status, "error"; got != want {
		t.Fatalf("%s: status %q, want %q: %s", what, got, want, a)
	}
	for _, d := range checked {
		if d == dep {
			if got, want := r.Error[d].Status, "down"; got != want {
				t.Fatalf("%s: error.%s.status = %q, want %q: %s", what, d, got, want, a)
			}
			continue
		}
		if got, want := r.Info[d].Status, "up"; got != want {
			t.Fatalf("with only %s lost, %s: info.%s.status = %q, want %q: %s", dep, what, d, got, want, a)
		}
	}
}

// probe is a request that must answer want once the replica has recovered.
type probe struct {
	c      *faultClient
	method string
	path   string
	body   string
	header []string
	want   int
}

func readyProbe(c *faultClient) probe {
	return probe{c: c, method: "GET", path: "/health/ready", want: http.StatusOK}
}

// waitRecovered polls, without restarting anything, until every probe
// answers as it should, and fails if that takes longer than recoveryWithin.
func waitRecovered(t *testing.T, probes ...probe) {
	t.Helper()
	deadline := time.Now().Add(recoveryWithin)
	for {
		failed := ""
		for _, p := range probes {
			a, err := p.c.try(p.method, p.path, p.body, p.header...)
			if err != nil {
				t.Fatal(err)
			}
			if a.status != p.want {
				failed = fmt.Sprintf("%s %s%s: %s, want %d", p.method, p.c.base, p.path, a, p.want)
				break
			}
		}
		if failed == "" {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("not recovered %v after the dependency came back: %s", recoveryWithin, failed)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// redisFixture is two replicas on one Redis of the test's own, one
// failing closed on revocation checks (the default) and one failing open,
// and what a user did on them before Redis was lost.
type redisFixture struct {
	redis        *testenv.RedisServer
	closed, open *faultClient
	email, token string
	cookie       []string
	itemID       string
	itemVersion  int64
}

func newRedisFixture(t *testing.T) *redisFixture {
	t.Helper()
	f := &redisFixture{redis: testenv.StartRedisServer(t)}
	env := faultEnv(t)
	env["REDIS_URL"] = f.redis.URL()
	openEnv := map[string]string{"HERD_REVOCATION_FAIL_OPEN": "true"}
	for k, v := range env {
		openEnv[k] = v
	}
	f.closed = newFaultClient(t, startReplica(t, env).URL)
	f.open = newFaultClient(t, startReplica(t, openEnv).URL)

	// What works before the fault, so that a failure later is the fault's.
	f.email, f.token = f.closed.user()
	auth := bearerHeader(f.token)
	f.closed.want(http.StatusOK, "GET", "/me", "", auth...)
	f.open.want(http.StatusOK, "GET", "/me", "", auth...)
	f.cookie = f.closed.session(f.email)
	f.open.want(http.StatusOK, "GET", "/session", "", f.cookie...)
	f.itemID = "fault-item-" + randomHex()
	a := f.closed.want(http.StatusOK, "PUT", "/items/"+f.itemID, `{"v":1}`, auth...)
	f.itemVersion = jsonField[int64](t, a, "version")
	if got, want := f.open.want(http.StatusOK, "GET", "/items/"+f.itemID, "", auth...).header.Get("X-Cache"), "hit"; got != want {
		t.Fatalf("before the fault, X-Cache = %q, want %q (writes go through the cache)", got, want)
	}
	return f
}

// whileRedisDown checks both replicas while their Redis is lost.
func (f *redisFixture) whileRedisDown(t *testing.T) {
	t.Helper()
	auth := bearerHeader(f.token)
	f.closed.wantDown("cache")
	f.open.wantDown("cache")

	// Failing closed, no bearer token can be checked against revocations,
	// so every authenticated route is 503, item reads included.
	f.closed.want503("GET", "/me", "", auth...)
	f.closed.want503("GET", "/items/"+f.itemID, "", auth...)

	// Failing open, tokens are accepted unchecked, and item reads fall
	// through to PostgreSQL.
	f.open.want(http.StatusOK, "GET", "/me", "", auth...)
	a := f.open.want(http.StatusOK, "GET", "/items/"+f.itemID, "", auth...)
	if got, want := a.header.Get("X-Cache"), "miss"; got != want {
		t.Fatalf("an item read with the cache down: X-Cache = %q, want %q", got, want)
	}
	if got, want := jsonField[int64](t, a, "version"), f.itemVersion; got != want {
		t.Fatalf("an item read with the cache down: version %d, want %d", got, want)
	}
	f.open.want(http.StatusOK, "POST", "/counters/fault-"+randomHex()+"/increment", "", auth...)
	// A logout that cannot be recorded must not claim success, even when
	// failing open: the client would believe the token dead.
	spare := f.open.login(f.email)
	f.open.want503("POST", "/auth/logout", "", bearerHeader(spare)...)

	// Sessions live in Redis alone.
	creds := fmt.Sprintf(`{"email":%q,"password":%q}`, f.email, faultPassword)
	for _, c := range []*faultClient{f.closed, f.open} {
		c.want503("GET", "/session", "", f.cookie...)
		c.want503("POST", "/session", creds)
		// What needs no Redis goes on.
		c.want(http.StatusOK, "GET", "/health/live", "")
		c.want(http.StatusOK, "POST", "/auth/login", creds)
	}
}

// recovered waits until both replicas serve again, then checks that what
// Redis holds works end to end.
func (f *redisFixture) recovered(t *testing.T) {
	t.Helper()
	auth := bearerHeader(f.token)
	creds := fmt.Sprintf(`{"email":%q,"password":%q}`, f.email, faultPassword)
	waitRecovered(t,
		readyProbe(f.closed), readyProbe(f.open),
		probe{c: f.closed, method: "GET", path: "/me", header: auth, want: http.StatusOK},
		probe{c: f.closed, method: "GET", path: "/items/" + f.itemID, header: auth, want: http.StatusOK},
		probe{c: f.open, method: "POST", path: "/session", body: creds, want: http.StatusCreated},
	)
	cookie := f.closed.session(f.email)
	for _, c := range []*faultClient{f.open, f.closed} {
		c.want(http.StatusOK, "GET", "/session", "", cookie...)
	}
	// Logout is recorded again, and both replicas honour it.
	tok := f.open.login(f.email)
	f.open.want(http.StatusNoContent, "POST", "/auth/logout", "", bearerHeader(tok)...)
	f.closed.want(http.StatusUnauthorized, "GET", "/me", "", bearerHeader(tok)...)
	f.open.want(http.StatusUnauthorized, "GET", "/me", "", bearerHeader(tok)...)
}

// TestFaultRedisKilled: Redis dies (connections reset, then refused) and
// later starts again, empty, on the same address.
func TestFaultRedisKilled(t *testing.T) {
	f := newRedisFixture(t)
	f.redis.Kill()
	f.whileRedisDown(t)
	f.redis.Start()
	f.recovered(t)
}

// TestFaultRedisPaused: Redis keeps its connections but answers nothing
// for a while, then carries on by itself: requests must not wait for it.
func TestFaultRedisPaused(t *testing.T) {
	f := newRedisFixture(t)
	// Far longer than HERD_REDIS_TIMEOUT and the request timeout: a request
	// that waited for Redis would outlast its own deadline, and a replica
	// that ignored both would answer 200 once the pause ended.
	const pause = 15 * time.Second
	start := time.Now()
	f.redis.Do("CLIENT", "PAUSE", pause.Milliseconds(), "ALL")
	f.whileRedisDown(t)
	t.Logf("the checks while paused took %v", time.Since(start).Round(time.Millisecond))
	if left := time.Until(start.Add(pause)); left > 0 {
		time.Sleep(left)
	} else {
		t.Fatalf("the checks took %v, longer than the %v pause: they did not all run while Redis was paused", time.Since(start), pause)
	}
	f.recovered(t)
}

// TestFaultRedisPausedWriteNotStale: an item written while Redis does not
// answer must not be read back older once Redis answers again. API.md: "A
// read after a write on any replica never returns the older version".
func TestFaultRedisPausedWriteNotStale(t *testing.T) {
	f := newRedisFixture(t)
	auth := bearerHeader(f.token)
	const pause = 4 * time.Second
	start := time.Now()
	f.redis.Do("CLIENT", "PAUSE", pause.Milliseconds(), "ALL")
	a := f.open.do("PUT", "/items/"+f.itemID, `{"v":2}`, auth...)
	if time.Since(start) >= pause {
		t.Fatalf("the write took longer than the %v pause: it did not run while Redis was paused", pause)
	}
	time.Sleep(time.Until(start.Add(pause)))
	waitRecovered(t, readyProbe(f.open), readyProbe(f.closed))
	switch a.status {
	case http.StatusOK:
	case http.StatusServiceUnavailable:
		// Refusing the write is a correct answer too: then there is no
		// newer version to miss.
		wantProblem503(t, "a write while Redis was paused", a)
		return
	default:
		t.Fatalf("a write while Redis was paused: %s, want 200 or 503", a)
	}
	written := jsonField[int64](t, a, "version")
	for _, c := range []*faultClient{f.open, f.closed} {
		r := c.want(http.StatusOK, "GET", "/items/"+f.itemID, "", auth...)
		if got := jsonField[int64](t, r, "version"); got < written {
			t.Fatalf("%s: after Redis came back, the item reads version %d (X-Cache: %s), older than version %d acknowledged while it was paused",
				c.base, got, r.header.Get("X-Cache"), written)
		}
	}
}

// postgresAt returns DATABASE_URL aimed at addr with query parameters set.
func postgresAt(t *testing.T, rawURL, addr string, params map[string]string) string {
	t.Helper()
	u, err := url.Parse(rawURL)
	if err != nil {
		t.Fatal(err)
	}
	if addr != "" {
		u.Host = addr
	}
	q := u.Query()
	for k, v := range params {
		q.Set(k, v)
	}
	u.RawQuery = q.Encode()
	return u.String()
}

// adminQueryInt runs a query on the test database, outside herd.
func adminQueryInt(t *testing.T, sql string, args ...any) int64 {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, testenv.PostgresURL(t))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	var n int64
	if err := conn.QueryRow(ctx, sql, args...).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// TestFaultPostgresConnectionsKilled: every connection of the replica's
// pool is terminated on the server, as a restart, a failover or an
// operator does. A request may be handed a dead connection once; its
// retry, and every request after, succeeds.
func TestFaultPostgresConnectionsKilled(t *testing.T) {
	env := faultEnv(t)
	// A name of its own, so that only this replica's connections die.
	appName := "herd-fault-" + randomHex()
	env["DATABASE_URL"] = postgresAt(t, env["DATABASE_URL"], "", map[string]string{"application_name": appName})
	c := newFaultClient(t, startReplica(t, env).URL)
	_, tok := c.user()
	auth := bearerHeader(tok)
	counter := "/counters/fault-" + randomHex()

	// Several concurrent requests, so that several connections sit in the
	// pool when they are killed.
	const parallel = 8
	retried := 0
	incrementAll := func() (ok int) {
		var wg sync.WaitGroup
		answers := make([][]answer, parallel)
		errs := make([]error, parallel)
		for i := range parallel {
			wg.Go(func() {
				// A 503 is retried once, as a client honouring Retry-After
				// would; the retry must succeed.
				for range 2 {
					a, err := c.try("POST", counter+"/increment", "", auth...)
					if err != nil {
						errs[i] = err
						return
					}
					answers[i] = append(answers[i], a)
					if a.status != http.StatusServiceUnavailable {
						return
					}
				}
			})
		}
		wg.Wait()
		for i := range parallel {
			if errs[i] != nil {
				t.Fatal(errs[i])
			}
			as := answers[i]
			for _, a := range as[:len(as)-1] {
				wantProblem503(t, "an increment after the kill", a)
				retried++
			}
			if got, want := as[len(as)-1].status, http.StatusOK; got != want {
				t.Fatalf("increment %d after the kill: answers %v, want at most one 503 then %d", i, as, want)
			}
			ok++
		}
		return ok
	}
	counted := incrementAll()

	killed := adminQueryInt(t, `
		SELECT count(*) FILTER (WHERE pg_terminate_backend(pid, 10000))
		FROM pg_stat_activity WHERE application_name = $1`, appName)
	if killed == 0 {
		t.Fatalf("no connection with application_name %q to terminate", appName)
	}
	retried = 0
	counted += incrementAll()

	// From now on nothing may fail: the pool has healed.
	for range 3 {
		c.want(http.StatusOK, "POST", counter+"/increment", "", auth...)
		counted++
	}
	c.want(http.StatusOK, "GET", "/health/ready", "")
	// A 503 was not counted: its statement never reached the server.
	a := c.want(http.StatusOK, "GET", counter, "", auth...)
	if got, want := jsonField[int64](t, a, "value"), int64(counted); got != want {
		t.Fatalf("counter = %d after %d answered increments, want %d", got, counted, want)
	}
	t.Logf("%d connections terminated; %d of %d requests right after needed their one retry", killed, retried, parallel)
}

// proxiedPostgres starts a replica whose DATABASE_URL goes through a fault
// proxy in front of the real PostgreSQL.
func proxiedPostgres(t *testing.T) (*faultClient, *faultproxy.Proxy) {
	t.Helper()
	env := faultEnv(t)
	u, err := url.Parse(env["DATABASE_URL"])
	if err != nil {
		t.Fatal(err)
	}
	target := u.Host
	if u.Port() == "" {
		target = net.JoinHostPort(u.Hostname(), "5432")
	}
	p, err := faultproxy.New(target)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	env["DATABASE_URL"] = postgresAt(t, env["DATABASE_URL"], p.Addr(), nil)
	return newFaultClient(t, startReplica(t, env).URL), p
}

// TestFaultPostgresRefused: PostgreSQL goes away (established connections
// break, new ones are refused), then comes back on the same address.
func TestFaultPostgresRefused(t *testing.T) {
	c, proxy := proxiedPostgres(t)
	email, tok := c.user()
	auth := bearerHeader(tok)
	counter := "/counters/fault-" + randomHex()
	c.want(http.StatusOK, "POST", counter+"/increment", "", auth...)
	item := "/items/fault-" + randomHex()
	c.want(http.StatusOK, "PUT", item, `{"v":1}`, auth...)

	proxy.Refuse()
	if proxy.Drop() == 0 {
		t.Fatal("the replica had no connection to PostgreSQL to lose")
	}
	c.wantDown("database")
	// The database-only probe says the same.
	wantReport(t, "/health", c.do("GET", "/health", ""), "database", []string{"database"})

	c.want503("POST", counter+"/increment", "", auth...)
	c.want503("GET", counter, "", auth...)
	c.want503("POST", "/auth/login", fmt.Sprintf(`{"email":%q,"password":%q}`, email, faultPassword))

	// What needs no PostgreSQL goes on: tokens are checked against Redis,
	// items already cached are served from it, files live in S3.
	c.want(http.StatusOK, "GET", "/health/live", "")
	c.want(http.StatusOK, "GET", "/me", "", auth...)
	if got, want := c.want(http.StatusOK, "GET", item, "", auth...).header.Get("X-Cache"), "hit"; got != want {
		t.Fatalf("a cached item with the database down: X-Cache = %q, want %q", got, want)
	}
	// A write that fails may still have committed, so it leaves the cached
	// copy dropped: reads of the item wait for the database.
	c.want503("PUT", item, `{"v":2}`, auth...)
	c.want503("GET", item, "", auth...)
	file := "/files/fault-" + randomHex()
	c.want(http.StatusCreated, "PUT", file, "bytes", auth...)
	if got, want := string(c.want(http.StatusOK, "GET", file, "", auth...).body), "bytes"; got != want {
		t.Fatalf("GET %s = %q, want %q", file, got, want)
	}

	if err := proxy.Resume(); err != nil {
		t.Fatal(err)
	}
	waitRecovered(t, readyProbe(c), probe{c: c, method: "GET", path: counter, header: auth, want: http.StatusOK})
	a := c.want(http.StatusOK, "POST", counter+"/increment", "", auth...)
	// The increment refused while the database was away did not count.
	if got, want := jsonField[int64](t, a, "value"), int64(2); got != want {
		t.Fatalf("counter = %d, want %d", got, want)
	}
	c.login(email)
}

// TestFaultPostgresStalled: PostgreSQL keeps its connections open but
// answers nothing, as a hung server or a silent network partition does;
// requests must end at their timeouts, not wait for it.
func TestFaultPostgresStalled(t *testing.T) {
	c, proxy := proxiedPostgres(t)
	_, tok := c.user()
	auth := bearerHeader(tok)
	counter := "/counters/fault-" + randomHex()
	c.want(http.StatusOK, "POST", counter+"/increment", "", auth...)

	proxy.Stall()
	c.wantDown("database")
	c.want503("POST", counter+"/increment", "", auth...)
	c.want503("GET", counter, "", auth...)
	c.want(http.StatusOK, "GET", "/me", "", auth...)
	c.want(http.StatusOK, "GET", "/health/live", "")

	if err := proxy.Resume(); err != nil {
		t.Fatal(err)
	}
	waitRecovered(t, readyProbe(c), probe{c: c, method: "GET", path: counter, header: auth, want: http.StatusOK})
	a := c.want(http.StatusOK, "POST", counter+"/increment", "", auth...)
	// The increment that timed out was held, not lost: it may have reached
	// the server when the stall ended. A 503 on a timeout cannot say; that
	// is what Idempotency-Key is for.
	if got := jsonField[int64](t, a, "value"); got != 2 && got != 3 {
		t.Fatalf("counter = %d, want 2, or 3 if the timed-out increment landed late", got)
	}
}
