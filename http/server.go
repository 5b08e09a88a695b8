// Package http serves herd's HTTP contract (../shared/API.md) on the
// standard ServeMux. routes.go lists the whole API; each resource has a file
// of handler makers; each middleware is a func(http.Handler) http.Handler.
package http

import (
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/herdhq/herd"
	"github.com/herdhq/herd/auth"
	"github.com/herdhq/herd/blob"
	"github.com/herdhq/herd/health"
	"github.com/herdhq/herd/itemcache"
	"github.com/herdhq/herd/reqctx"
)

// Deps is everything the handlers use. Every store may be shared with
// other replicas; nothing here holds state of its own that a request
// depends on.
type Deps struct {
	Log        *slog.Logger
	InstanceID string

	Users       herd.UserStore
	Counters    herd.CounterStore
	Items       *itemcache.Items
	Refresh     herd.RefreshTokenStore
	Revocations herd.RevocationStore
	Sessions    herd.SessionStore
	Idempotency herd.IdempotencyStore
	Files       *blob.Store
	Tokens      *auth.Tokens
	Health      *health.Checker
	Metrics     *Metrics

	Limits Limits
}

// Limits are the knobs of the handlers, from configuration.
type Limits struct {
	RequestTimeout      time.Duration
	MaxHeaderBytes      int
	MaxFileSize         int64
	AccessTTL           time.Duration
	RefreshTTL          time.Duration
	SessionIdle         time.Duration
	SessionLifetime     time.Duration
	CookieSecure        bool
	RevocationFailOpen  bool
	IdempotencyLockTTL  time.Duration
	IdempotencyRetained time.Duration
}

// Body size limits per route kind.
const (
	maxAuthBody = 4 << 10
	maxItemBody = herd.MaxItemSize
)

type server struct {
	Deps
	now func() time.Time
}

// NewServer returns the whole service as one handler.
func NewServer(d Deps) http.Handler {
	s := &server{Deps: d, now: time.Now}
	mux := http.NewServeMux()
	s.routes(mux)
	// The mux must see the same *Request as the access log, which reads the
	// matched pattern from it afterwards: no middleware in between may copy
	// the request.
	return reqctx.Middleware(d.InstanceID)(s.accessLog(s.recoverPanics(s.limitHeaders(requireCleanPath(mux)))))
}

// requireCleanPath refuses paths with dot segments or empty segments. The
// mux would redirect them to their clean form, turning "/items/.." into a
// redirect to "/"; an id of ".." is bad input and gets a 400.
func requireCleanPath(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p := r.URL.Path
		if strings.Contains(p, "//") || strings.Contains(p, "/./") || strings.Contains(p, "/../") ||
			strings.HasSuffix(p, "/.") || strings.HasSuffix(p, "/..") {
			WriteProblem(w, r, http.StatusBadRequest, "the path must not hold empty, . or .. segments")
			return
		}
		next.ServeHTTP(w, r)
	})
}

// HeaderSlack is how much larger than Limits.MaxHeaderBytes the
// http.Server's own MaxHeaderBytes should be. net/http answers a header
// beyond its limit itself, in plain text; within the slack herd answers it
// with a problem document like every other refusal.
const HeaderSlack = 1 << 20

// limitHeaders refuses requests whose headers exceed Limits.MaxHeaderBytes.
func (s *server) limitHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		size := len(r.Method) + len(r.RequestURI)
		for k, vs := range r.Header {
			for _, v := range vs {
				size += len(k) + len(v) + 4
			}
		}
		if size > s.Limits.MaxHeaderBytes {
			WriteProblem(w, r, http.StatusRequestHeaderFieldsTooLarge, "the request headers are too large")
			return
		}
		next.ServeHTTP(w, r)
	})
}
