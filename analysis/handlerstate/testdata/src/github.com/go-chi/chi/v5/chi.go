// Package chi is a stub of github.com/go-chi/chi/v5 with the shape of its
// router: handlers registered by method and pattern, sub-routers mounted.
package chi

import "net/http"

type Router interface {
	http.Handler
	Use(middlewares ...func(http.Handler) http.Handler)
	Get(pattern string, h http.HandlerFunc)
	Post(pattern string, h http.HandlerFunc)
	Delete(pattern string, h http.HandlerFunc)
	Mount(pattern string, h http.Handler)
	Route(pattern string, fn func(r Router)) Router
}

type Mux struct{ routes map[string]http.Handler }

func NewRouter() *Mux { return &Mux{routes: map[string]http.Handler{}} }

func (m *Mux) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if h, ok := m.routes[r.Method+" "+r.URL.Path]; ok {
		h.ServeHTTP(w, r)
	}
}
func (m *Mux) Use(middlewares ...func(http.Handler) http.Handler) {}
func (m *Mux) Get(pattern string, h http.HandlerFunc)             { m.routes["GET "+pattern] = h }
func (m *Mux) Post(pattern string, h http.HandlerFunc)            { m.routes["POST "+pattern] = h }
func (m *Mux) Delete(pattern string, h http.HandlerFunc)          { m.routes["DELETE "+pattern] = h }
func (m *Mux) Mount(pattern string, h http.Handler)               { m.routes[pattern] = h }
func (m *Mux) Route(pattern string, fn func(r Router)) Router {
	sub := NewRouter()
	fn(sub)
	m.Mount(pattern, sub)
	return sub
}

func URLParam(r *http.Request, key string) string { return r.PathValue(key) }
