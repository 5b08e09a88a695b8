package http

import (
	"net/http"

	"github.com/herdhq/herd"
	"github.com/herdhq/herd/auth"
	"github.com/herdhq/herd/reqctx"
)

const sessionCookie = "sid"

func (s *server) setSessionCookie(w http.ResponseWriter, value string, maxAge int) {
	http.SetCookie(w, &http.Cookie{
		Name: sessionCookie, Value: value, Path: "/", MaxAge: maxAge,
		HttpOnly: true, SameSite: http.SameSiteLaxMode, Secure: s.Limits.CookieSecure,
	})
}

func (s *server) handleSessionCreate() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u, err := s.logIn(w, r)
		if err != nil {
			Error(w, r, s.Log, err)
			return
		}
		ctx := r.Context()
		// A new id on every login, and the old session ends: an id planted
		// before login (session fixation) is worth nothing after it.
		if old, err := r.Cookie(sessionCookie); err == nil {
			if err := s.Sessions.DeleteSession(ctx, old.Value); err != nil {
				Error(w, r, s.Log, err)
				return
			}
		}
		now := s.now()
		sess := herd.Session{
			ID: auth.NewSessionID(), UserID: u.ID, Email: u.Email,
			CreatedAt: now, ExpiresAt: now.Add(s.Limits.SessionLifetime),
		}
		start := s.now()
		err = s.Sessions.CreateSession(ctx, sess, s.Limits.SessionIdle)
		s.Metrics.observeStore("session.create", start, err)
		if err != nil {
			Error(w, r, s.Log, err)
			return
		}
		reqctx.SetUser(ctx, u.ID)
		s.setSessionCookie(w, sess.ID, int(s.Limits.SessionLifetime.Seconds()))
		writeJSON(w, http.StatusCreated, struct {
			ID    string `json:"id"`
			Email string `json:"email"`
		}{u.ID, u.Email})
	})
}

func (s *server) handleSessionGet() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := r.Cookie(sessionCookie)
		if err != nil || len(c.Value) > 128 {
			WriteProblem(w, r, http.StatusUnauthorized, "no live session")
			return
		}
		ctx := r.Context()
		start := s.now()
		sess, err := s.Sessions.TouchSession(ctx, c.Value, s.Limits.SessionIdle)
		s.Metrics.observeStore("session.touch", start, err)
		if herd.ErrorCode(err) == herd.ENOTFOUND {
			s.setSessionCookie(w, "", -1)
			WriteProblem(w, r, http.StatusUnauthorized, "no live session")
			return
		}
		if err != nil {
			Error(w, r, s.Log, err)
			return
		}
		reqctx.SetUser(ctx, sess.UserID)
		w.Header().Set("Cache-Control", "no-store")
		writeJSON(w, http.StatusOK, struct {
			UserID string `json:"user_id"`
			Email  string `json:"email"`
			Views  int64  `json:"views"`
		}{sess.UserID, sess.Email, sess.Views})
	})
}

func (s *server) handleSessionDelete() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if c, err := r.Cookie(sessionCookie); err == nil && len(c.Value) <= 128 {
			start := s.now()
			err := s.Sessions.DeleteSession(r.Context(), c.Value)
			s.Metrics.observeStore("session.delete", start, err)
			if err != nil {
				Error(w, r, s.Log, err)
				return
			}
		}
		s.setSessionCookie(w, "", -1)
		w.WriteHeader(http.StatusNoContent)
	})
}
