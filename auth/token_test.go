package auth

import (
	"crypto/ed25519"
	"encoding/base64"
	"encoding/json"
	"errors"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/herdhq/herd"
)

var (
	testConfig = Config{Issuer: "https://herd.test", Audience: "herd-api", AccessTTL: time.Hour, Leeway: 30 * time.Second}
	testNow    = time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)
	testUser   = AccessSubject{UserID: "u1", Email: "ada@example.com", Roles: []string{"user", "admin"}}
)

func newTestTokens(t testing.TB) (*Tokens, Key) {
	t.Helper()
	k := mustKey(t)
	return NewTokens(testConfig, k), k
}

func issue(t testing.TB, tokens *Tokens, now time.Time) (string, AccessClaims) {
	t.Helper()
	tok, claims, err := tokens.IssueAccess(testUser, "fam1", now)
	if err != nil {
		t.Fatal(err)
	}
	return tok, claims
}

// wantUnauthorized fails unless err is an *herd.Error with code
// EUNAUTHORIZED and the given client-safe message.
func wantUnauthorized(t *testing.T, err error, message string) {
	t.Helper()
	var e *herd.Error
	if !errors.As(err, &e) {
		t.Fatalf("error %v (%T) is not a *herd.Error", err, err)
	}
	if got, want := e.Code, herd.EUNAUTHORIZED; got != want {
		t.Fatalf("code %q, want %q (%v)", got, want, err)
	}
	if got, want := e.Message, message; got != want {
		t.Fatalf("message %q, want %q (%v)", got, want, err)
	}
}

func TestAccessRoundTrip(t *testing.T) {
	tokens, k := newTestTokens(t)
	tok, issued := issue(t, tokens, testNow)

	got, err := tokens.VerifyAccess(tok, testNow)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ name, got, want string }{
		{"sub", got.Subject, "u1"},
		{"email", got.Email, "ada@example.com"},
		{"fid", got.FamilyID, "fam1"},
		{"iss", got.Issuer, "https://herd.test"},
		{"jti", got.ID, issued.ID},
	} {
		if c.got != c.want {
			t.Fatalf("%s = %q, want %q", c.name, c.got, c.want)
		}
	}
	if !slices.Equal(got.Roles, testUser.Roles) {
		t.Fatalf("roles %v, want %v", got.Roles, testUser.Roles)
	}
	if !slices.Equal(got.Audience, jwt.ClaimStrings{"herd-api"}) {
		t.Fatalf("aud %v, want [herd-api]", got.Audience)
	}
	if !got.IssuedAt.Equal(testNow) || !got.NotBefore.Equal(testNow) {
		t.Fatalf("iat %v, nbf %v, want both %v", got.IssuedAt, got.NotBefore, testNow)
	}
	if !got.ExpiresAt.Equal(testNow.Add(time.Hour)) {
		t.Fatalf("exp %v, want %v", got.ExpiresAt, testNow.Add(time.Hour))
	}
	if !got.ExpiresAt.Equal(issued.ExpiresAt.Time) {
		t.Fatalf("verified exp %v differs from issued %v", got.ExpiresAt, issued.ExpiresAt)
	}
	jti, err := base64.RawURLEncoding.DecodeString(got.ID)
	if err != nil || len(jti) < 16 {
		t.Fatalf("jti %q is not ≥128 bits of base64url (%v)", got.ID, err)
	}

	header := decodeSegment(t, tok, 0)
	for name, want := range map[string]string{"alg": "EdDSA", "typ": "at+jwt", "kid": k.ID} {
		if got := header[name]; got != want {
			t.Fatalf("header %s = %v, want %q", name, got, want)
		}
	}
	if _, again := issue(t, tokens, testNow); again.ID == issued.ID {
		t.Fatal("two access tokens share a jti")
	}
}

func TestIssueAccessRejects(t *testing.T) {
	tokens, _ := newTestTokens(t)
	if _, _, err := tokens.IssueAccess(AccessSubject{Email: "x@example.com"}, "fam1", testNow); err == nil {
		t.Fatal("issued a token without a user id")
	}
	if _, _, err := tokens.IssueAccess(testUser, "", testNow); err == nil {
		t.Fatal("issued a token without a family id")
	}
	if _, _, err := NewTokens(testConfig, Key{}).IssueAccess(testUser, "fam1", testNow); err == nil {
		t.Fatal("issued a token without a signing key")
	}
}

func TestVerifyAccessLeeway(t *testing.T) {
	tokens, _ := newTestTokens(t)
	tok, _ := issue(t, tokens, testNow)
	exp := testNow.Add(time.Hour)
	for _, tc := range []struct {
		name    string
		at      time.Time
		message string // "" for success
	}{
		{"just before exp", exp.Add(-time.Second), ""},
		{"expired within leeway", exp.Add(29 * time.Second), ""},
		{"expired beyond leeway", exp.Add(31 * time.Second), "token expired"},
		{"long expired", exp.Add(24 * time.Hour), "token expired"},
		{"before nbf within leeway", testNow.Add(-29 * time.Second), ""},
		{"before nbf beyond leeway", testNow.Add(-31 * time.Second), "invalid token"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := tokens.VerifyAccess(tok, tc.at)
			if tc.message == "" {
				if err != nil {
					t.Fatalf("VerifyAccess: %v", err)
				}
				return
			}
			wantUnauthorized(t, err, tc.message)
		})
	}
}

func TestVerifyAccessRejectsIssuerAndAudience(t *testing.T) {
	k := mustKey(t)
	tokens := NewTokens(testConfig, k)
	for name, cfg := range map[string]Config{
		"wrong iss": {Issuer: "https://evil.test", Audience: testConfig.Audience},
		"wrong aud": {Issuer: testConfig.Issuer, Audience: "other-api"},
	} {
		t.Run(name, func(t *testing.T) {
			tok, _ := issue(t, NewTokens(cfg, k), testNow)
			_, err := tokens.VerifyAccess(tok, testNow)
			wantUnauthorized(t, err, "invalid token")
		})
	}
}

// forge signs a token of our shape whose header and claims the test edits;
// a nil value deletes the entry.
func forge(t *testing.T, method jwt.SigningMethod, key any, header map[string]any, claims map[string]any) string {
	t.Helper()
	c := jwt.MapClaims{
		"sub": "u1", "email": "ada@example.com", "roles": []string{"user"}, "fid": "fam1",
		"jti": NewID(), "iss": testConfig.Issuer, "aud": []string{testConfig.Audience},
		"iat": testNow.Unix(), "nbf": testNow.Unix(), "exp": testNow.Add(time.Hour).Unix(),
	}
	for name, v := range claims {
		if v == nil {
			delete(c, name)
		} else {
			c[name] = v
		}
	}
	tok := jwt.NewWithClaims(method, c)
	tok.Header["typ"] = AccessType
	for name, v := range header {
		if v == nil {
			delete(tok.Header, name)
		} else {
			tok.Header[name] = v
		}
	}
	s, err := tok.SignedString(key)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func b64JSON(t *testing.T, v any) string {
	t.Helper()
	data, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return base64.RawURLEncoding.EncodeToString(data)
}

func decodeSegment(t *testing.T, token string, i int) map[string]any {
	t.Helper()
	data, err := base64.RawURLEncoding.DecodeString(strings.Split(token, ".")[i])
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(data, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

func TestVerifyAccessRejects(t *testing.T) {
	tokens, k := newTestTokens(t)
	good, _ := issue(t, tokens, testNow)
	parts := strings.Split(good, ".")
	stranger := mustKey(t)
	kid := map[string]any{"kid": k.ID}

	// The signature's last character carries 4 spare bits (64 bytes in 86
	// characters); a lax decoder would accept a second spelling of it.
	last := parts[2][len(parts[2])-1]
	spare := strings.IndexByte("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_", last) ^ 1
	respelt := parts[0] + "." + parts[1] + "." + parts[2][:len(parts[2])-1] +
		string("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"[spare])

	flip := func(s string, i int) string {
		b := []byte(s)
		if b[i] == 'A' {
			b[i] = 'B'
		} else {
			b[i] = 'A'
		}
		return string(b)
	}

	for name, tok := range map[string]string{
		"empty":   "",
		"garbage": "not a token",
		"alg none": b64JSON(t, map[string]any{"alg": "none", "typ": AccessType, "kid": k.ID}) + "." +
			parts[1] + ".",
		"alg none, signature kept": b64JSON(t, map[string]any{"alg": "none", "typ": AccessType, "kid": k.ID}) + "." +
			parts[1] + "." + parts[2],
		// The key-confusion attack: HMAC keyed with the public key, which
		// anyone can read from the JWKS.
		"HS256 keyed with the public key": forge(t, jwt.SigningMethodHS256, []byte(k.Public().Key), kid, nil),
		"unknown kid":                     forge(t, jwt.SigningMethodEdDSA, stranger.Private, map[string]any{"kid": stranger.ID}, nil),
		"no kid":                          forge(t, jwt.SigningMethodEdDSA, k.Private, nil, nil),
		"our kid, another key":            forge(t, jwt.SigningMethodEdDSA, stranger.Private, kid, nil),
		"signature byte flipped":          parts[0] + "." + parts[1] + "." + flip(parts[2], 10),
		"claims byte flipped":             parts[0] + "." + flip(parts[1], 10) + "." + parts[2],
		"signature respelt":               respelt,
		"no signature":                    parts[0] + "." + parts[1] + ".",
		"typ JWT":                         forge(t, jwt.SigningMethodEdDSA, k.Private, map[string]any{"kid": k.ID, "typ": "JWT"}, nil),
		"typ refresh+jwt":                 forge(t, jwt.SigningMethodEdDSA, k.Private, map[string]any{"kid": k.ID, "typ": "refresh+jwt"}, nil),
		"no typ":                          forge(t, jwt.SigningMethodEdDSA, k.Private, map[string]any{"kid": k.ID, "typ": nil}, nil),
		"crit header":                     forge(t, jwt.SigningMethodEdDSA, k.Private, map[string]any{"kid": k.ID, "crit": []string{"exp"}}, nil),
		"no exp":                          forge(t, jwt.SigningMethodEdDSA, k.Private, kid, map[string]any{"exp": nil}),
		"no iss":                          forge(t, jwt.SigningMethodEdDSA, k.Private, kid, map[string]any{"iss": nil}),
		"no aud":                          forge(t, jwt.SigningMethodEdDSA, k.Private, kid, map[string]any{"aud": nil}),
		"iat in the future":               forge(t, jwt.SigningMethodEdDSA, k.Private, kid, map[string]any{"iat": testNow.Add(time.Hour).Unix()}),
		"no sub":                          forge(t, jwt.SigningMethodEdDSA, k.Private, kid, map[string]any{"sub": nil}),
		"no jti":                          forge(t, jwt.SigningMethodEdDSA, k.Private, kid, map[string]any{"jti": nil}),
		"no fid":                          forge(t, jwt.SigningMethodEdDSA, k.Private, kid, map[string]any{"fid": nil}),
		"two tokens":                      good + "." + good,
		"trailing dot":                    good + ".",
		"too long":                        forge(t, jwt.SigningMethodEdDSA, k.Private, kid, map[string]any{"email": strings.Repeat("a", MaxTokenLength)}),
	} {
		t.Run(name, func(t *testing.T) {
			_, err := tokens.VerifyAccess(tok, testNow)
			wantUnauthorized(t, err, "invalid token")
		})
	}

	// The forger is sound: with our key, kid and typ it makes tokens that
	// pass, so each rejection above is for the one thing changed.
	if _, err := tokens.VerifyAccess(forge(t, jwt.SigningMethodEdDSA, k.Private, kid, nil), testNow); err != nil {
		t.Fatalf("a forged token with nothing changed: %v", err)
	}
	if _, err := tokens.VerifyAccess(forge(t, jwt.SigningMethodEdDSA, k.Private, map[string]any{"kid": k.ID, "typ": "application/at+jwt"}, nil), testNow); err != nil {
		t.Fatalf("typ application/at+jwt (RFC 9068): %v", err)
	}
}

func TestVerifyAccessRotation(t *testing.T) {
	old, current, stranger := mustKey(t), mustKey(t), mustKey(t)
	oldTok, _ := issue(t, NewTokens(testConfig, old), testNow)
	strangerTok, _ := issue(t, NewTokens(testConfig, stranger), testNow)

	rotated := NewTokens(testConfig, current, old.Public())
	if _, err := rotated.VerifyAccess(oldTok, testNow); err != nil {
		t.Fatalf("token of the previous key: %v", err)
	}
	currentTok, _ := issue(t, rotated, testNow)
	if got, want := decodeSegment(t, currentTok, 0)["kid"], current.ID; got != want {
		t.Fatalf("rotated Tokens signs with kid %v, want the current %q", got, want)
	}
	if _, err := rotated.VerifyAccess(currentTok, testNow); err != nil {
		t.Fatalf("token of the current key: %v", err)
	}
	_, err := rotated.VerifyAccess(strangerTok, testNow)
	wantUnauthorized(t, err, "invalid token")

	_, err = NewTokens(testConfig, current).VerifyAccess(oldTok, testNow)
	wantUnauthorized(t, err, "invalid token")
}

// CVE-2025-30204: a header of dots once made the parser allocate 16 bytes
// per dot. Rejecting it must cost next to nothing; the bound is in bytes,
// not time, so that it holds on a loaded machine.
func TestVerifyAccessManyDots(t *testing.T) {
	tokens, _ := newTestTokens(t)
	for name, tok := range map[string]string{
		"1 MiB of dots":         strings.Repeat(".", 1<<20),
		"Bearer and dots":       "Bearer " + strings.Repeat(".", 1<<20),
		"dots under the limit":  strings.Repeat(".", MaxTokenLength),
		"segments and dots":     strings.Repeat("a.", MaxTokenLength/2),
		"1 MiB of one segment":  strings.Repeat("a", 1<<20),
		"three huge segments":   strings.Repeat("a", 1<<20) + "." + strings.Repeat("b", 1<<20) + "." + strings.Repeat("c", 1<<20),
		"dots after good parts": "eyJhbGciOiJFZERTQSJ9.e30." + strings.Repeat(".", 1<<20),
	} {
		t.Run(name, func(t *testing.T) {
			_, err := tokens.VerifyAccess(tok, testNow)
			wantUnauthorized(t, err, "invalid token")

			const runs = 100
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			for range runs {
				_, _ = tokens.VerifyAccess(tok, testNow)
			}
			runtime.ReadMemStats(&after)
			if got, limit := (after.TotalAlloc-before.TotalAlloc)/runs, uint64(64<<10); got >= limit {
				t.Fatalf("rejecting it allocates %d bytes a call, want under %d", got, limit)
			}
		})
	}
}

func TestJWKS(t *testing.T) {
	old, current := mustKey(t), mustKey(t)
	// The current key among the previous ones must not be listed twice.
	tokens := NewTokens(testConfig, current, old.Public(), current.Public())
	var set struct {
		Keys []map[string]string `json:"keys"`
	}
	if err := json.Unmarshal(tokens.JWKS(), &set); err != nil {
		t.Fatalf("JWKS %s: %v", tokens.JWKS(), err)
	}
	if got, want := len(set.Keys), 2; got != want {
		t.Fatalf("JWKS has %d keys, want %d: %s", got, want, tokens.JWKS())
	}
	for i, k := range []Key{current, old} {
		jwk := set.Keys[i]
		for name, want := range map[string]string{
			"kty": "OKP", "crv": "Ed25519", "alg": "EdDSA", "use": "sig", "kid": k.ID,
			"x": base64.RawURLEncoding.EncodeToString(k.Public().Key),
		} {
			if got := jwk[name]; got != want {
				t.Fatalf("key %d: %s = %q, want %q", i, name, got, want)
			}
		}
		// A verifier that only has the JWKS derives the same kid.
		x, err := base64.RawURLEncoding.DecodeString(jwk["x"])
		if err != nil {
			t.Fatal(err)
		}
		if got, want := Thumbprint(ed25519.PublicKey(x)), jwk["kid"]; got != want {
			t.Fatalf("key %d: thumbprint of x %q, kid %q", i, got, want)
		}
	}
}

func TestConfigDefaults(t *testing.T) {
	tokens := NewTokens(Config{}, mustKey(t))
	if got, want := tokens.AccessTTL(), DefaultAccessTTL; got != want {
		t.Fatalf("AccessTTL %v, want %v", got, want)
	}
	if got, want := tokens.Leeway(), DefaultLeeway; got != want {
		t.Fatalf("Leeway %v, want %v", got, want)
	}
	tok, claims := issue(t, tokens, testNow)
	if got, want := claims.Issuer, DefaultIssuer; got != want {
		t.Fatalf("iss %q, want %q", got, want)
	}
	if _, err := tokens.VerifyAccess(tok, testNow); err != nil {
		t.Fatal(err)
	}
	if got, want := NewTokens(Config{Leeway: -1}, mustKey(t)).Leeway(), time.Duration(0); got != want {
		t.Fatalf("negative Leeway gives %v, want %v", got, want)
	}
}

// FuzzVerifyAccess checks that no input panics and that none but the one
// token issued here verifies. The key is new in every process, so tokens
// of earlier runs left in the corpus do not verify either.
func FuzzVerifyAccess(f *testing.F) {
	tokens, k := newTestTokens(f)
	good, _ := issue(f, tokens, testNow)
	if _, err := tokens.VerifyAccess(good, testNow); err != nil {
		f.Fatalf("the seed token does not verify: %v", err)
	}
	parts := strings.Split(good, ".")
	none := base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"none","typ":"at+jwt","kid":"`+k.ID+`"}`)) + "." + parts[1] + "."
	for _, seed := range []string{
		good,
		none,
		parts[0] + "." + parts[1] + ".",
		strings.Repeat(".", 1<<12),
		"",
		"..",
		"garbage",
		"eyJhbGciOiJFZERTQSJ9.e30.AAAA",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, tok string) {
		claims, err := tokens.VerifyAccess(tok, testNow)
		if err == nil {
			if tok != good {
				t.Fatalf("VerifyAccess accepted %q, which it did not issue", tok)
			}
			if claims.Subject != testUser.UserID {
				t.Fatalf("sub %q, want %q", claims.Subject, testUser.UserID)
			}
			return
		}
		if got, want := herd.ErrorCode(err), herd.EUNAUTHORIZED; got != want {
			t.Fatalf("code %q, want %q (%v)", got, want, err)
		}
		if msg := herd.ErrorMessage(err); msg != "invalid token" && msg != "token expired" {
			t.Fatalf("message %q is not a plain one", msg)
		}
	})
}

func BenchmarkIssueAccess(b *testing.B) {
	tokens, _ := newTestTokens(b)
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := tokens.IssueAccess(testUser, "fam1", testNow); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkVerifyAccess(b *testing.B) {
	tokens, _ := newTestTokens(b)
	tok, _ := issue(b, tokens, testNow)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := tokens.VerifyAccess(tok, testNow); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkVerifyAccessManyDots(b *testing.B) {
	tokens, _ := newTestTokens(b)
	tok := strings.Repeat(".", 1<<20)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := tokens.VerifyAccess(tok, testNow); err == nil {
			b.Fatal("accepted")
		}
	}
}
