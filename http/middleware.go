package http

import (
	"context"
	"net/http"
	"strings"

	"github.com/herdhq/herd"
	"github.com/herdhq/herd/auth"
	"github.com/herdhq/herd/reqctx"
)

// timeout bounds all the work of a request, backend calls included, so a
// dependency that hangs gives a 503 within the deadline, never a hang.
func (s *server) timeout(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), s.Limits.RequestTimeout)
		defer cancel()
		next.ServeHTTP(w, r.WithContext(ctx))
	})
}

type claimsKey struct{}

// claims returns the verified access token claims of an authenticated
// request.
func claims(ctx context.Context) auth.AccessClaims {
	c, _ := ctx.Value(claimsKey{}).(auth.AccessClaims)
	return c
}

// authenticated requires a valid, unrevoked bearer access token. While the
// revocation store is down it answers 503 (fail closed) unless configured
// to fail open, which trades a logged-out token's last minutes of life for
// availability.
func (s *server) authenticated(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		token, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		if !ok {
			w.Header().Set("WWW-Authenticate", `Bearer`)
			WriteProblem(w, r, http.StatusUnauthorized, "a bearer access token is required")
			return
		}
		c, err := s.Tokens.VerifyAccess(token, s.now())
		if err != nil {
			w.Header().Set("WWW-Authenticate", `Bearer error="invalid_token"`)
			Error(w, r, s.Log, err)
			return
		}
		ctx := r.Context()
		start := s.now()
		revoked, err := s.Revocations.IsRevoked(ctx, c.FamilyID, c.ID)
		s.Metrics.observeStore("revocation.check", start, err)
		switch {
		case err != nil && s.Limits.RevocationFailOpen:
			s.Log.WarnContext(ctx, "revocation check failed; accepting the token (fail open)", "err", err)
		case err != nil:
			Error(w, r, s.Log, err)
			return
		case revoked:
			w.Header().Set("WWW-Authenticate", `Bearer error="invalid_token"`)
			WriteProblem(w, r, http.StatusUnauthorized, "the token was revoked")
			return
		}
		reqctx.SetUser(ctx, c.Subject)
		next.ServeHTTP(w, r.WithContext(context.WithValue(ctx, claimsKey{}, c)))
	})
}

// cookieRoute guards a cookie-authenticated route against cross-site
// requests: a browser sends the cookie along with a forged form post, so
// unsafe methods must come from this origin.
func (s *server) cookieRoute(next http.Handler) http.Handler {
	cop := http.NewCrossOriginProtection()
	cop.SetDenyHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		WriteProblem(w, r, http.StatusForbidden, "cross-origin request refused")
	}))
	return cop.Handler(next)
}

// pathID returns the named path value when herd.ValidID accepts it.
func pathID(r *http.Request, name string) (string, error) {
	v := r.PathValue(name)
	if !herd.ValidID(v) {
		return "", herd.Errorf(herd.EINVALID, "{%s} must be 1-128 characters of [A-Za-z0-9._-]", name)
	}
	return v, nil
}
