package auth

import (
	"cmp"
	"crypto/ed25519"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/herdhq/herd"
)

// AccessType is the "typ" header of an access token (RFC 9068), so that no
// other JWT signed with the same key can pass for one.
const AccessType = "at+jwt"

// MaxTokenLength bounds the access tokens VerifyAccess will parse. Ours are
// well under 1 KiB; the bound stops a hostile header from costing more than
// a length check (CVE-2025-30204 was a header of a million dots).
const MaxTokenLength = 8 << 10

// Defaults for Config's zero values.
const (
	DefaultAccessTTL = time.Hour
	DefaultLeeway    = 30 * time.Second
	DefaultIssuer    = "herd"
	DefaultAudience  = "herd"
)

// Config says how access tokens are issued and checked. Every replica must
// use the same one.
type Config struct {
	Issuer    string        // "iss"; DefaultIssuer when empty
	Audience  string        // "aud"; DefaultAudience when empty
	AccessTTL time.Duration // lifetime of an access token; DefaultAccessTTL when zero
	// Leeway is the clock skew tolerated between replicas when checking exp,
	// nbf and iat; DefaultLeeway when zero, none when negative.
	Leeway time.Duration
}

// AccessSubject is who an access token speaks for.
type AccessSubject struct {
	UserID string
	Email  string
	Roles  []string
}

// AccessClaims are the claims of an access token.
type AccessClaims struct {
	jwt.RegisteredClaims
	Email string   `json:"email"`
	Roles []string `json:"roles"`
	// FamilyID ("fid") names the login the token belongs to: every access
	// and refresh token of one login shares it, so that revoking the family
	// revokes them all.
	FamilyID string `json:"fid"`
}

// Tokens issues and verifies access tokens. It is safe for concurrent use.
type Tokens struct {
	issuer, audience string
	ttl, leeway      time.Duration
	signing          Key
	keys             map[string]ed25519.PublicKey // current and previous, by kid
	parser           *jwt.Parser
	jwks             []byte
}

// NewTokens returns a Tokens that signs with signing and verifies tokens
// signed by it or by any of previous, the keys of earlier rotations that
// tokens still alive may carry. Keep a previous key for at least AccessTTL
// plus Leeway after it stopped signing.
func NewTokens(cfg Config, signing Key, previous ...PublicKey) *Tokens {
	t := &Tokens{
		issuer:   cmp.Or(cfg.Issuer, DefaultIssuer),
		audience: cmp.Or(cfg.Audience, DefaultAudience),
		ttl:      cfg.AccessTTL,
		leeway:   cfg.Leeway,
		signing:  signing,
		keys:     make(map[string]ed25519.PublicKey),
	}
	if t.ttl <= 0 {
		t.ttl = DefaultAccessTTL
	}
	switch {
	case t.leeway == 0:
		t.leeway = DefaultLeeway
	case t.leeway < 0:
		t.leeway = 0
	}
	// Claims are validated apart (see VerifyAccess), because the parser's
	// clock is fixed when it is built and ours comes with each call.
	t.parser = jwt.NewParser(
		jwt.WithValidMethods([]string{Algorithm}),
		// Strict: the spare bits of a segment's last character must be
		// zero, so that one token has one spelling and no variant of it
		// verifies.
		jwt.WithStrictDecoding(),
		jwt.WithoutClaimsValidation(),
	)

	set := jwkSet{Keys: []jwk{}}
	for _, k := range append([]PublicKey{signingPublic(signing)}, previous...) {
		if _, dup := t.keys[k.ID]; dup || k.ID == "" || len(k.Key) != ed25519.PublicKeySize {
			continue
		}
		t.keys[k.ID] = k.Key
		set.Keys = append(set.Keys, jwk{
			Kty: "OKP", Crv: "Ed25519", X: base64.RawURLEncoding.EncodeToString(k.Key),
			Kid: k.ID, Alg: Algorithm, Use: "sig",
		})
	}
	t.jwks, _ = json.Marshal(set) // strings and slices only: cannot fail
	return t
}

// signingPublic returns the public half of k, or a PublicKey with no key when
// k has none, so that NewTokens need not fail: IssueAccess reports it.
func signingPublic(k Key) PublicKey {
	if len(k.Private) != ed25519.PrivateKeySize {
		return PublicKey{}
	}
	return k.Public()
}

type jwkSet struct {
	Keys []jwk `json:"keys"`
}

type jwk struct {
	Kty string `json:"kty"`
	Crv string `json:"crv"`
	X   string `json:"x"`
	Kid string `json:"kid"`
	Alg string `json:"alg"`
	Use string `json:"use"`
}

// JWKS returns the JSON Web Key Set (RFC 7517) of the current and previous
// verification keys, for /.well-known/jwks.json. The caller must not modify
// it.
func (t *Tokens) JWKS() []byte { return t.jwks }

// AccessTTL is the lifetime of the access tokens t issues.
func (t *Tokens) AccessTTL() time.Duration { return t.ttl }

// Leeway is how long past its exp t still accepts an access token: a
// revocation must last until exp plus Leeway.
func (t *Tokens) Leeway() time.Duration { return t.leeway }

// IssueAccess returns a signed access token for u in the login familyID,
// valid from now for AccessTTL, and its claims. Its jti is 128 random bits.
func (t *Tokens) IssueAccess(u AccessSubject, familyID string, now time.Time) (string, AccessClaims, error) {
	if u.UserID == "" || familyID == "" {
		return "", AccessClaims{}, errors.New("auth: an access token needs a user id and a family id")
	}
	if len(t.signing.Private) != ed25519.PrivateKeySize || t.signing.ID == "" {
		return "", AccessClaims{}, errors.New("auth: no signing key")
	}
	roles := slices.Clone(u.Roles)
	if roles == nil {
		roles = []string{} // "roles": [] rather than null
	}
	claims := AccessClaims{
		RegisteredClaims: jwt.RegisteredClaims{
			Issuer:    t.issuer,
			Subject:   u.UserID,
			Audience:  jwt.ClaimStrings{t.audience},
			ExpiresAt: jwt.NewNumericDate(now.Add(t.ttl)),
			NotBefore: jwt.NewNumericDate(now),
			IssuedAt:  jwt.NewNumericDate(now),
			ID:        NewID(),
		},
		Email:    u.Email,
		Roles:    roles,
		FamilyID: familyID,
	}
	tok := jwt.NewWithClaims(jwt.SigningMethodEdDSA, claims)
	tok.Header["typ"] = AccessType
	tok.Header["kid"] = t.signing.ID
	s, err := tok.SignedString(t.signing.Private)
	if err != nil {
		return "", AccessClaims{}, fmt.Errorf("auth: sign access token: %w", err)
	}
	return s, claims, nil
}

// VerifyAccess returns the claims of token if it is an access token signed
// by one of t's keys (chosen by its kid), of type at+jwt, for t's issuer and
// audience, and current at now give or take the leeway. Any other token
// yields an *herd.Error with code EUNAUTHORIZED and the message "token
// expired" or "invalid token"; the reason is in its Err, for logs.
//
// It does not consult revocations: the caller checks the jti and family
// against a herd.RevocationStore.
func (t *Tokens) VerifyAccess(token string, now time.Time) (AccessClaims, error) {
	// Checked before the parser sees the token, so that a hostile one costs
	// a length check and one pass over at most MaxTokenLength bytes.
	if len(token) > MaxTokenLength {
		return AccessClaims{}, invalid(errors.New("token too long"))
	}
	if strings.Count(token, ".") != 2 {
		return AccessClaims{}, invalid(errors.New("token is not three segments"))
	}
	var claims AccessClaims
	if _, err := t.parser.ParseWithClaims(token, &claims, t.key); err != nil {
		return AccessClaims{}, invalid(err)
	}
	v := jwt.NewValidator(
		jwt.WithTimeFunc(func() time.Time { return now }),
		jwt.WithLeeway(t.leeway),
		jwt.WithExpirationRequired(),
		jwt.WithIssuedAt(),
		jwt.WithIssuer(t.issuer),
		jwt.WithAudience(t.audience),
	)
	if err := v.Validate(&claims); err != nil {
		if errors.Is(err, jwt.ErrTokenExpired) {
			return AccessClaims{}, &herd.Error{Code: herd.EUNAUTHORIZED, Message: "token expired", Err: err}
		}
		return AccessClaims{}, invalid(err)
	}
	// Revocation and the user lookup depend on these; a token we issued
	// always has them.
	if claims.Subject == "" || claims.ID == "" || claims.FamilyID == "" {
		return AccessClaims{}, invalid(errors.New("token lacks sub, jti or fid"))
	}
	return claims, nil
}

// key is the parser's keyfunc: it checks the header and picks the key the
// kid names among the current and previous ones.
func (t *Tokens) key(tok *jwt.Token) (any, error) {
	if typ, _ := tok.Header["typ"].(string); !strings.EqualFold(typ, AccessType) && !strings.EqualFold(typ, "application/"+AccessType) {
		return nil, fmt.Errorf("typ is %q, not %s", typ, AccessType)
	}
	// RFC 7515 §4.1.11: extensions we do not understand must be refused,
	// and we understand none.
	if _, ok := tok.Header["crit"]; ok {
		return nil, errors.New("crit header")
	}
	kid, _ := tok.Header["kid"].(string)
	k, ok := t.keys[kid]
	if !ok {
		return nil, fmt.Errorf("unknown kid %q", kid)
	}
	return k, nil
}

func invalid(err error) error {
	return &herd.Error{Code: herd.EUNAUTHORIZED, Message: "invalid token", Err: err}
}
