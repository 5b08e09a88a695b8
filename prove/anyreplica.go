package prove

import (
	"bytes"
	"context"
	"crypto/rand"
	"fmt"
	"maps"
	"net/http"
	"slices"
)

// anyReplica checks that no request depends on which replica served an
// earlier one: state written through one replica is read through every
// other.
func anyReplica(ctx context.Context, e *env, res *Result) {
	reps := e.endpoints()
	n := len(reps)
	at := func(i int) *api { return reps[i%n] }
	checks := 0
	check := func(err error) bool {
		checks++
		if err != nil {
			res.fail("%v", err)
			return false
		}
		return true
	}
	seen := map[string]bool{}
	see := func(ans *answer) {
		if ans != nil && ans.instance != "" {
			seen[ans.instance] = true
		}
	}
	defer func() {
		res.figure("replicas addressed directly", len(e.replicas))
		res.figure("instances seen", len(seen))
		res.figure("checks", checks)
		if res.Verdict == Pass {
			res.Summary = fmt.Sprintf("%d checks across %d endpoints, %d instances", checks, n, len(seen))
		}
	}()
	if len(e.replicas) == 0 {
		res.figure("note", "replica URLs unknown (--replicas): checked through the load balancer only")
	}

	// A token issued by one replica is accepted by every replica.
	email, password := fmt.Sprintf("%s-any-%s@prove.example", e.run, randomID(4)), "prove-"+randomID(8)
	if !check(at(0).register(ctx, email, password)) {
		return
	}
	tok, err := at(1).login(ctx, email, password)
	if !check(err) {
		return
	}
	for i, r := range reps {
		ans, err := r.expect(ctx, request{path: "/me", token: tok.AccessToken}, http.StatusOK)
		see(ans)
		if check(err) && !bytes.Contains(ans.body, []byte(email)) {
			res.fail("GET /me on endpoint %d: %s does not name %s", i, ans, email)
		}
	}

	// A session opened on one replica is read and updated on every
	// replica; its view count grows by exactly one per read.
	sid, err := at(0).newSession(ctx, email, password)
	if !check(err) {
		return
	}
	var last int64 = -1
	for k := range 2 * n {
		ans, err := at(k).expect(ctx, request{path: "/session", cookie: sid}, http.StatusOK)
		see(ans)
		if !check(err) {
			continue
		}
		var v sessionView
		if !check(decodeInto(ans, &v)) {
			continue
		}
		if last >= 0 && v.Views != last+1 {
			res.fail("GET /session on endpoint %d: views %d after %d", k%n, v.Views, last)
		}
		last = v.Views
	}

	// A file stored through one replica is read back whole from every one.
	key := fmt.Sprintf("%s-file-%s.bin", e.run, randomID(4))
	data := make([]byte, 4096)
	rand.Read(data)
	_, err = at(0).expect(ctx, request{method: http.MethodPut, path: "/files/" + key, raw: data, contentType: "application/octet-stream", token: tok.AccessToken}, http.StatusCreated)
	if check(err) {
		for i, r := range reps {
			ans, err := r.expect(ctx, request{path: "/files/" + key, token: tok.AccessToken}, http.StatusOK)
			see(ans)
			if check(err) && !bytes.Equal(ans.body, data) {
				res.fail("GET /files/%s on endpoint %d: %d bytes differ from the %d written", key, i, len(ans.body), len(data))
			}
		}
	}

	// An item written through any replica is never read older anywhere,
	// even though reads go through the shared cache.
	id := fmt.Sprintf("%s-item-%s", e.run, randomID(4))
	for round := range n + 1 {
		nonce := randomID(6)
		ans, err := at(round).expect(ctx, request{method: http.MethodPut, path: "/items/" + id, token: tok.AccessToken, json: map[string]any{"round": round, "nonce": nonce}}, http.StatusOK)
		if !check(err) {
			continue
		}
		var written item
		if !check(decodeInto(ans, &written)) {
			continue
		}
		for i, r := range reps {
			ans, err := r.expect(ctx, request{path: "/items/" + id, token: tok.AccessToken}, http.StatusOK)
			see(ans)
			if !check(err) {
				continue
			}
			var got item
			if !check(decodeInto(ans, &got)) {
				continue
			}
			if got.Version != written.Version || !bytes.Contains(got.Data, []byte(nonce)) {
				res.fail("GET /items/%s on endpoint %d after a write on endpoint %d: version %d (X-Cache %s), want %d", id, i, round%n, got.Version, ans.header.Get("X-Cache"), written.Version)
			}
		}
	}

	// A spent refresh token presented to another replica is refused and
	// revokes the login's tokens everywhere.
	fresh, err := at(0).login(ctx, email, password)
	if check(err) {
		ans, err := at(1).expect(ctx, request{method: http.MethodPost, path: "/auth/refresh", json: map[string]string{"refresh_token": fresh.RefreshToken}}, http.StatusOK)
		if check(err) {
			var next tokens
			if check(decodeInto(ans, &next)) {
				_, err := at(2).expect(ctx, request{method: http.MethodPost, path: "/auth/refresh", json: map[string]string{"refresh_token": fresh.RefreshToken}}, http.StatusUnauthorized)
				if check(err) {
					for i, r := range reps {
						if _, err := r.expect(ctx, request{path: "/me", token: next.AccessToken}, http.StatusUnauthorized); err != nil {
							res.fail("after a spent refresh token, the login's new access token still works on endpoint %d: %v", i, err)
						}
						checks++
					}
				}
			}
		}
	}

	// A logout on one replica holds on every replica.
	out, err := at(0).login(ctx, email, password)
	if check(err) {
		_, err := at(1).expect(ctx, request{method: http.MethodPost, path: "/auth/logout", token: out.AccessToken, json: map[string]string{"refresh_token": out.RefreshToken}}, http.StatusNoContent)
		if check(err) {
			for _, r := range reps {
				_, err := r.expect(ctx, request{path: "/me", token: out.AccessToken}, http.StatusUnauthorized)
				check(err)
			}
		}
	}
	// The first token is untouched by the other logins' fates.
	for _, r := range reps {
		_, err := r.expect(ctx, request{path: "/me", token: tok.AccessToken}, http.StatusOK)
		check(err)
	}

	// A session ended on one replica is gone on every replica.
	if _, err := at(1).expect(ctx, request{method: http.MethodDelete, path: "/session", cookie: sid}, http.StatusNoContent); check(err) {
		for _, r := range reps {
			_, err := r.expect(ctx, request{path: "/session", cookie: sid}, http.StatusUnauthorized)
			check(err)
		}
	}

	if len(e.replicas) > 1 && len(seen) < len(e.replicas) {
		res.fail("only %d distinct X-Instance-ID values (%v) from %d replicas", len(seen), slices.Sorted(maps.Keys(seen)), len(e.replicas))
	}
}
