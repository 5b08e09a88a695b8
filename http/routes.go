package http

import "net/http"

// routes is the whole API. Idempotency-Key is honoured where a retry could
// act twice: registration and increments. Login, refresh and session
// creation answer with credentials, which herd stores only as hashes, so
// there is no answer to replay; a retried logout finds its token revoked.
func (s *server) routes(mux *http.ServeMux) {
	mux.Handle("GET /health/live", s.Health.Live())
	mux.Handle("GET /health/ready", s.Health.Ready())
	mux.Handle("GET /health", s.Health.Ready("database"))
	mux.Handle("GET /metrics", s.Metrics.Handler())

	mux.Handle("POST /auth/register", s.timeout(s.idempotent(s.handleRegister())))
	mux.Handle("POST /auth/login", s.timeout(s.handleLogin()))
	mux.Handle("POST /auth/refresh", s.timeout(s.handleRefresh()))
	mux.Handle("POST /auth/logout", s.timeout(s.authenticated(s.handleLogout())))
	mux.Handle("GET /me", s.timeout(s.authenticated(s.handleMe())))
	mux.Handle("GET /.well-known/jwks.json", s.handleJWKS())

	mux.Handle("POST /session", s.timeout(s.cookieRoute(s.handleSessionCreate())))
	mux.Handle("GET /session", s.timeout(s.cookieRoute(s.handleSessionGet())))
	mux.Handle("DELETE /session", s.timeout(s.cookieRoute(s.handleSessionDelete())))

	mux.Handle("POST /counters/{name}/increment", s.timeout(s.authenticated(s.idempotent(s.handleIncrement()))))
	mux.Handle("GET /counters/{name}", s.timeout(s.authenticated(s.handleCounter())))
	mux.Handle("PUT /items/{id}", s.timeout(s.authenticated(s.handleItemPut())))
	mux.Handle("GET /items/{id}", s.timeout(s.authenticated(s.handleItemGet())))
	mux.Handle("PUT /files/{key}", s.timeout(s.authenticated(s.handleFilePut())))
	mux.Handle("GET /files/{key}", s.timeout(s.authenticated(s.handleFileGet())))

}
