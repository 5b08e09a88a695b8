package main

import (
	"fmt"
	"net/http"
	"strings"
)

// fixture is what setup left in the stores for the routes to use: an
// account, its access token, a live session, a cached item and a file.
type fixture struct {
	email, password string
	accessToken     string
	sessionCookie   string
	cachedItemID    string
	fileKey         string
}

// route is one workload: the request wrk repeats, as data. A path with
// "%d" in it is filled with a rotating number, spreading writes over
// several rows so that one row lock is not all that is measured.
type route struct {
	name    string
	method  string
	path    string
	rotate  int // how many values %d takes; 0: the path is fixed
	headers map[string]string
	body    string
	// connections overrides the default concurrency: a login is a
	// 19 MiB argon2id hash, and queueing more of them than there are
	// cores measures only the queue.
	connections int
}

const itemBody = `{"name":"a value of a typical size","tags":["a","b","c"],"n":42}`

func routes(fx fixture) []route {
	bearer := map[string]string{"Authorization": "Bearer " + fx.accessToken}
	withJSON := func(h map[string]string) map[string]string {
		out := map[string]string{"Content-Type": "application/json"}
		for k, v := range h {
			out[k] = v
		}
		return out
	}
	return []route{
		{name: "GET /health/live", method: "GET", path: "/health/live"},
		{name: "GET /me", method: "GET", path: "/me", headers: bearer},
		{name: "GET /session", method: "GET", path: "/session",
			headers: map[string]string{"Cookie": "sid=" + fx.sessionCookie}},
		{name: "POST /counters/{name}/increment", method: "POST", path: "/counters/bench-%d/increment", rotate: 64, headers: bearer},
		{name: "GET /items/{id} (hit)", method: "GET", path: "/items/" + fx.cachedItemID, headers: bearer},
		{name: "PUT /items/{id}", method: "PUT", path: "/items/bench-put-%d", rotate: 64, headers: withJSON(bearer), body: itemBody},
		{name: "GET /files/{key} (64 KiB)", method: "GET", path: "/files/" + fx.fileKey, headers: bearer},
		{name: "POST /auth/login", method: "POST", path: "/auth/login", headers: withJSON(nil),
			body:        fmt.Sprintf(`{"email":%q,"password":%q}`, fx.email, fx.password),
			connections: 4},
	}
}

// request returns the route's n-th request, for the counting pass.
func (rt route) request(base string, n int) (*http.Request, error) {
	path := rt.path
	if rt.rotate > 0 {
		path = fmt.Sprintf(rt.path, n%rt.rotate)
	}
	req, err := http.NewRequest(rt.method, base+path, strings.NewReader(rt.body))
	if err != nil {
		return nil, err
	}
	for k, v := range rt.headers {
		req.Header.Set(k, v)
	}
	return req, nil
}
