package http

import (
	"errors"
	"net/http"
	"net/mail"
	"strings"
	"time"

	"github.com/herdhq/herd"
	"github.com/herdhq/herd/auth"
)

type credentials struct {
	Email    string `json:"email"`
	Password string `json:"password"`
}

// Passwords longer than this are refused: hashing cost grows with length.
const maxPassword = 1024

func (c *credentials) validate() error {
	c.Email = strings.ToLower(strings.TrimSpace(c.Email))
	addr, err := mail.ParseAddress(c.Email)
	if err != nil || addr.Address != c.Email || len(c.Email) > 254 {
		return herd.Errorf(herd.EINVALID, "email must be a plain address such as ada@example.com")
	}
	if len(c.Password) < 8 {
		return herd.Errorf(herd.EINVALID, "password must have at least 8 characters")
	}
	if len(c.Password) > maxPassword {
		return herd.Errorf(herd.EINVALID, "password must have at most %d characters", maxPassword)
	}
	return nil
}

type userJSON struct {
	ID    string   `json:"id"`
	Email string   `json:"email"`
	Roles []string `json:"roles"`
}

type tokenPair struct {
	AccessToken  string `json:"access_token"`
	TokenType    string `json:"token_type"`
	ExpiresIn    int64  `json:"expires_in"`
	RefreshToken string `json:"refresh_token"`
}

func (s *server) handleRegister() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var in credentials
		if err := decodeJSON(w, r, maxAuthBody, &in); err != nil {
			Error(w, r, s.Log, err)
			return
		}
		if err := in.validate(); err != nil {
			Error(w, r, s.Log, err)
			return
		}
		hash, err := auth.HashPassword(in.Password)
		if err != nil {
			Error(w, r, s.Log, err)
			return
		}
		u := herd.User{ID: auth.NewID(), Email: in.Email, PasswordHash: hash, Roles: []string{"user"}, CreatedAt: s.now()}
		start := s.now()
		err = s.Users.CreateUser(r.Context(), u)
		s.Metrics.observeStore("user.create", start, err)
		if herd.ErrorCode(err) == herd.ECONFLICT {
			WriteProblem(w, r, http.StatusConflict, "this email is already registered")
			return
		}
		if err != nil {
			Error(w, r, s.Log, err)
			return
		}
		writeJSON(w, http.StatusCreated, userJSON{ID: u.ID, Email: u.Email, Roles: u.Roles})
	})
}

// logIn reads {"email","password"} and returns the user they belong to.
func (s *server) logIn(w http.ResponseWriter, r *http.Request) (herd.User, error) {
	var in credentials
	if err := decodeJSON(w, r, maxAuthBody, &in); err != nil {
		return herd.User{}, err
	}
	return s.checkCredentials(r, in)
}

// checkCredentials returns the user whose password matches, or
// EUNAUTHORIZED without saying which part was wrong. An unknown email costs
// as much as a wrong password, so timing does not reveal accounts.
func (s *server) checkCredentials(r *http.Request, in credentials) (herd.User, error) {
	unauthorized := herd.Errorf(herd.EUNAUTHORIZED, "wrong email or password")
	email := strings.ToLower(strings.TrimSpace(in.Email))
	if email == "" || in.Password == "" || len(in.Password) > maxPassword {
		return herd.User{}, unauthorized
	}
	start := s.now()
	u, err := s.Users.UserByEmail(r.Context(), email)
	s.Metrics.observeStore("user.by_email", start, err)
	switch {
	case herd.ErrorCode(err) == herd.ENOTFOUND:
		auth.DummyCheck(in.Password)
		return herd.User{}, unauthorized
	case err != nil:
		return herd.User{}, err
	}
	ok, err := auth.CheckPassword(u.PasswordHash, in.Password)
	if err != nil {
		return herd.User{}, err
	}
	if !ok {
		return herd.User{}, unauthorized
	}
	return u, nil
}

// issuePair issues an access token and a new refresh token of one family.
func (s *server) issuePair(r *http.Request, u herd.User, familyID string) (tokenPair, error) {
	now := s.now()
	access, _, err := s.Tokens.IssueAccess(auth.AccessSubject{UserID: u.ID, Email: u.Email, Roles: u.Roles}, familyID, now)
	if err != nil {
		return tokenPair{}, err
	}
	refresh, hash, err := auth.NewRefreshToken()
	if err != nil {
		return tokenPair{}, err
	}
	start := s.now()
	err = s.Refresh.CreateRefreshToken(r.Context(), herd.RefreshToken{
		Hash: hash, FamilyID: familyID, UserID: u.ID, ExpiresAt: now.Add(s.Limits.RefreshTTL),
	})
	s.Metrics.observeStore("refresh.create", start, err)
	if err != nil {
		return tokenPair{}, err
	}
	return tokenPair{
		AccessToken: access, TokenType: "Bearer",
		ExpiresIn: int64(s.Tokens.AccessTTL() / time.Second), RefreshToken: refresh,
	}, nil
}

func (s *server) handleLogin() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u, err := s.logIn(w, r)
		if err != nil {
			Error(w, r, s.Log, err)
			return
		}
		pair, err := s.issuePair(r, u, auth.NewID())
		if err != nil {
			Error(w, r, s.Log, err)
			return
		}
		w.Header().Set("Cache-Control", "no-store")
		writeJSON(w, http.StatusOK, pair)
	})
}

type refreshRequest struct {
	RefreshToken string `json:"refresh_token"`
}

func (s *server) handleRefresh() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var in refreshRequest
		if err := decodeJSON(w, r, maxAuthBody, &in); err != nil {
			Error(w, r, s.Log, err)
			return
		}
		if in.RefreshToken == "" || len(in.RefreshToken) > 512 {
			WriteProblem(w, r, http.StatusUnauthorized, "invalid refresh token")
			return
		}
		ctx := r.Context()
		start := s.now()
		spent, err := s.Refresh.SpendRefreshToken(ctx, auth.HashRefreshToken(in.RefreshToken))
		s.Metrics.observeStore("refresh.spend", start, err)
		if errors.Is(err, herd.ErrRefreshReused) {
			// Someone replayed a spent token: the thief or the owner holds
			// the newer one, and there is no telling which. End the login.
			if rerr := s.Revocations.RevokeFamily(ctx, spent.FamilyID, s.now().Add(s.Tokens.AccessTTL()+s.Tokens.Leeway())); rerr != nil {
				s.Log.ErrorContext(ctx, "refresh reuse: access tokens of the family not revoked", "err", rerr)
			}
			s.Log.WarnContext(ctx, "refresh token reused; login revoked", "family_id", spent.FamilyID, "user_id", spent.UserID)
			WriteProblem(w, r, http.StatusUnauthorized, "refresh token reused; every token of this login is revoked")
			return
		}
		if err != nil {
			Error(w, r, s.Log, err)
			return
		}
		u, err := s.Users.UserByID(ctx, spent.UserID)
		if err != nil {
			if herd.ErrorCode(err) == herd.ENOTFOUND {
				err = herd.Errorf(herd.EUNAUTHORIZED, "invalid refresh token")
			}
			Error(w, r, s.Log, err)
			return
		}
		pair, err := s.issuePair(r, u, spent.FamilyID)
		if err != nil {
			Error(w, r, s.Log, err)
			return
		}
		w.Header().Set("Cache-Control", "no-store")
		writeJSON(w, http.StatusOK, pair)
	})
}

func (s *server) handleLogout() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var in refreshRequest
		if r.ContentLength != 0 {
			if err := decodeJSON(w, r, maxAuthBody, &in); err != nil {
				Error(w, r, s.Log, err)
				return
			}
		}
		ctx := r.Context()
		c := claims(ctx)
		until := s.now().Add(s.Tokens.AccessTTL() + s.Tokens.Leeway())
		if err := s.Revocations.RevokeAccessToken(ctx, c.FamilyID, c.ID, c.ExpiresAt.Add(s.Tokens.Leeway())); err != nil {
			Error(w, r, s.Log, err)
			return
		}
		if err := s.Revocations.RevokeFamily(ctx, c.FamilyID, until); err != nil {
			Error(w, r, s.Log, err)
			return
		}
		if err := s.Refresh.RevokeRefreshFamily(ctx, c.FamilyID); err != nil {
			Error(w, r, s.Log, err)
			return
		}
		if in.RefreshToken != "" {
			// A refresh token of another login of the same user ends that
			// login too; another user's token is left alone.
			spent, err := s.Refresh.SpendRefreshToken(ctx, auth.HashRefreshToken(in.RefreshToken))
			if err == nil && spent.UserID == c.Subject && spent.FamilyID != c.FamilyID {
				if err := s.Refresh.RevokeRefreshFamily(ctx, spent.FamilyID); err != nil {
					Error(w, r, s.Log, err)
					return
				}
			}
		}
		w.WriteHeader(http.StatusNoContent)
	})
}

func (s *server) handleMe() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// The token is all a replica needs: no store is read.
		c := claims(r.Context())
		roles := c.Roles
		if roles == nil {
			roles = []string{}
		}
		writeJSON(w, http.StatusOK, userJSON{ID: c.Subject, Email: c.Email, Roles: roles})
	})
}

func (s *server) handleJWKS() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/jwk-set+json")
		w.Header().Set("Cache-Control", "public, max-age=300")
		w.Write(s.Tokens.JWKS())
	})
}
