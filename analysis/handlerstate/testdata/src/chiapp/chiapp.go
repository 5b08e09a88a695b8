// A chi-style app: a resource with its own router, mounted on the main one.
package chiapp

import (
	"fmt"
	"net/http"
	"sync"

	"github.com/go-chi/chi/v5"
)

type todo struct {
	ID    string
	Title string
}

type todosResource struct {
	mu    sync.Mutex
	todos map[string]todo
	order []string
	next  int
}

func (rs *todosResource) Routes() chi.Router {
	r := chi.NewRouter()
	r.Get("/", rs.list)
	r.Post("/", rs.create)
	r.Delete("/{id}", rs.remove)
	return r
}

func (rs *todosResource) list(w http.ResponseWriter, r *http.Request) {
	rs.mu.Lock()
	defer rs.mu.Unlock()
	for _, id := range rs.order {
		fmt.Fprintln(w, rs.todos[id].Title)
	}
}

func (rs *todosResource) create(w http.ResponseWriter, r *http.Request) {
	rs.mu.Lock()
	defer rs.mu.Unlock()
	rs.next++ // want `counter field todosResource.next is incremented while serving requests`
	id := fmt.Sprint(rs.next)
	rs.todos[id] = todo{ID: id, Title: r.FormValue("title")} // want `map field todosResource.todos is written while serving requests`
	rs.order = append(rs.order, id)                          // want `slice field todosResource.order is written while serving requests`
}

func (rs *todosResource) remove(w http.ResponseWriter, r *http.Request) {
	rs.mu.Lock()
	defer rs.mu.Unlock()
	rs.forget(chi.URLParam(r, "id"))
}

// forget is not a handler, but handlers call it.
func (rs *todosResource) forget(id string) {
	delete(rs.todos, id) // want `map field todosResource.todos is written while serving requests`
}

// requestID is middleware: its state is per request.
func requestID(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ids := []string{r.Header.Get("X-Request-ID")}
		ids = append(ids, "chi")
		w.Header().Set("X-Request-ID", ids[0])
		next.ServeHTTP(w, r)
	})
}

func Router() http.Handler {
	r := chi.NewRouter()
	r.Use(requestID)
	r.Mount("/todos", (&todosResource{todos: map[string]todo{}}).Routes())
	return r
}

// metrics is this replica's own view of its traffic, exposed per replica.
//
//statelint:ignore per-replica by design: scraped from each replica on its own
type metrics struct {
	requests int
	byRoute  map[string]int
}

func (m *metrics) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	m.requests++
	m.byRoute[r.URL.Path]++
	fmt.Fprintln(w, m.requests)
}
