// A net/http app in the NewServer/routes shape: a server struct with its
// dependencies, handler methods and handler makers.
package netapp

import (
	"database/sql"
	"fmt"
	"html/template"
	"log/slog"
	"net/http"
	"sync"
	"sync/atomic"

	"github.com/redis/go-redis/v9"
)

type config struct {
	origins []string
	limits  map[string]int
}

type server struct {
	mux    *http.ServeMux
	db     *sql.DB       // a pool to an external store
	rdb    *redis.Client // another
	log    *slog.Logger
	mu     sync.RWMutex // guards cfg, which is only read after start
	cfg    config
	hits   map[string]int
	served atomic.Int64
	ready  atomic.Bool
	routes []string
	// inflight lets this replica drain its own requests on shutdown.
	//statelint:ignore per-replica by design: it counts this process's requests
	inflight atomic.Int64

	tmplOnce sync.Once
	tmpl     *template.Template
	names    map[string]string
}

func NewServer(db *sql.DB, rdb *redis.Client, log *slog.Logger) *server {
	s := &server{mux: http.NewServeMux(), db: db, rdb: rdb, log: log, hits: map[string]int{}}
	s.cfg.limits = map[string]int{"default": 10}
	s.register()
	return s
}

// register runs from NewServer only: building the routes is setup.
func (s *server) register() {
	s.mux.HandleFunc("GET /hits", s.handleHits)
	s.mux.HandleFunc("GET /count", s.handleCount)
	s.mux.HandleFunc("GET /list", s.handleList)
	s.mux.Handle("GET /page", s.handlePage())
	s.routes = append(s.routes, "/hits", "/count", "/list", "/page")
}

func (s *server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.served.Add(1) // want `atomic field server.served is incremented while serving requests`
	s.inflight.Add(1)
	defer s.inflight.Add(-1)
	s.mux.ServeHTTP(w, r)
}

func (s *server) handleHits(w http.ResponseWriter, r *http.Request) {
	s.mu.RLock()
	limit := s.cfg.limits["default"]
	s.mu.RUnlock()
	s.hits[r.URL.Path]++ // want `map field server.hits is incremented while serving requests`
	fmt.Fprintln(w, limit)
}

// handleCount keeps its count where it belongs.
func (s *server) handleCount(w http.ResponseWriter, r *http.Request) {
	n := s.rdb.Incr(r.Context(), "count").Val()
	if _, err := s.db.ExecContext(r.Context(), "UPDATE counters SET n = n + 1"); err != nil {
		s.log.Error("count", "err", err)
	}
	fmt.Fprintln(w, n)
}

// page is built per request: its state ends with the request.
type page struct {
	rows  []string
	count int
	seen  map[string]bool
}

func (p *page) add(row string) {
	if p.seen[row] {
		return
	}
	p.seen[row] = true
	p.rows = append(p.rows, row)
	p.count++
}

func (s *server) handleList(w http.ResponseWriter, r *http.Request) {
	p := &page{seen: map[string]bool{}}
	for _, o := range s.cfg.origins {
		p.add(o)
	}
	buf := make([]string, 0, p.count)
	buf = append(buf, p.rows...)
	fmt.Fprintln(w, buf)
}

func (s *server) handlePage() http.HandlerFunc {
	var views int
	seen := map[string]bool{}
	return func(w http.ResponseWriter, r *http.Request) {
		s.tmplOnce.Do(func() {
			s.tmpl = template.Must(template.New("page").Parse("{{.}}"))
			s.names = map[string]string{}
		})
		views++                 // want `counter variable views captured by a handler is incremented while serving requests`
		seen[r.URL.Path] = true // want `map variable seen captured by a handler is written while serving requests`
		s.tmpl.Execute(w, views)
	}
}

// MarkReady flips this replica's own readiness, which is per process by nature.
func (s *server) MarkReady() {
	s.ready.Store(true) //statelint:ignore readiness belongs to this replica alone
}
