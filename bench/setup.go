package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"time"
)

// setUp creates, through herd's own API, the account, token, session, item
// and file the routes use.
func setUp(ctx context.Context, base, run string) (fixture, error) {
	fx := fixture{
		email: "bench-" + run + "@example.test", password: "correct horse battery staple",
		cachedItemID: "bench-hit", fileKey: "bench-64k",
	}
	client := &http.Client{Timeout: 10 * time.Second}
	send := func(method, path string, header http.Header, body []byte, want int) (*http.Response, []byte, error) {
		req, err := http.NewRequestWithContext(ctx, method, base+path, bytes.NewReader(body))
		if err != nil {
			return nil, nil, err
		}
		for k, v := range header {
			req.Header[k] = v
		}
		resp, err := client.Do(req)
		if err != nil {
			return nil, nil, err
		}
		defer resp.Body.Close()
		got, err := io.ReadAll(resp.Body)
		if err != nil {
			return nil, nil, err
		}
		if resp.StatusCode != want {
			return nil, nil, fmt.Errorf("%s %s: %s, want %d: %s", method, path, resp.Status, want, got)
		}
		return resp, got, nil
	}
	jsonHeader := http.Header{"Content-Type": {"application/json"}}
	creds, _ := json.Marshal(map[string]string{"email": fx.email, "password": fx.password})

	if _, _, err := send("POST", "/auth/register", jsonHeader, creds, http.StatusCreated); err != nil {
		return fx, err
	}
	_, body, err := send("POST", "/auth/login", jsonHeader, creds, http.StatusOK)
	if err != nil {
		return fx, err
	}
	var pair struct {
		AccessToken string `json:"access_token"`
	}
	if err := json.Unmarshal(body, &pair); err != nil {
		return fx, err
	}
	fx.accessToken = pair.AccessToken

	resp, _, err := send("POST", "/session", jsonHeader, creds, http.StatusCreated)
	if err != nil {
		return fx, err
	}
	for _, c := range resp.Cookies() {
		if c.Name == "sid" {
			fx.sessionCookie = c.Value
		}
	}
	if fx.sessionCookie == "" {
		return fx, fmt.Errorf("POST /session set no sid cookie")
	}

	bearer := http.Header{"Authorization": {"Bearer " + fx.accessToken}}
	bearerJSON := bearer.Clone()
	bearerJSON.Set("Content-Type", "application/json")
	if _, _, err := send("PUT", "/items/"+fx.cachedItemID, bearerJSON, []byte(itemBody), http.StatusOK); err != nil {
		return fx, err
	}
	// A write goes through the cache, so the item is cached from here on.
	resp, _, err = send("GET", "/items/"+fx.cachedItemID, bearer, nil, http.StatusOK)
	if err != nil {
		return fx, err
	}
	if got := resp.Header.Get("X-Cache"); got != "hit" {
		return fx, fmt.Errorf("GET /items/%s after PUT: X-Cache %q, want hit", fx.cachedItemID, got)
	}

	file := make([]byte, 64<<10)
	rand.Read(file)
	fileHeader := bearer.Clone()
	fileHeader.Set("Content-Type", "application/octet-stream")
	if _, _, err := send("PUT", "/files/"+fx.fileKey, fileHeader, file, http.StatusCreated); err != nil {
		return fx, err
	}
	return fx, nil
}
