// The "stateful service" of the stateless design lesson, in Go: a service
// with a cache and a counter that its methods update, served over HTTP.
package stateful

import (
	"encoding/json"
	"net/http"
)

type StatefulService struct {
	cache   map[string]any
	counter int
}

func NewStatefulService() *StatefulService {
	s := &StatefulService{cache: map[string]any{}}
	s.counter = 1 // construction is setup
	return s
}

func (s *StatefulService) Get(key string) (any, bool) {
	v, ok := s.cache[key]
	return v, ok
}

func (s *StatefulService) Set(key string, v any) {
	s.cache[key] = v // want `map field StatefulService.cache is written while serving requests: each replica keeps its own copy`
}

func (s *StatefulService) Increment() int {
	s.counter++ // want `counter field StatefulService.counter is incremented while serving requests: each replica keeps its own count and a restart resets it; use a database counter`
	return s.counter
}

type Handler struct {
	svc *StatefulService
}

func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	key := r.URL.Query().Get("key")
	if r.Method == http.MethodPut {
		var v any
		json.NewDecoder(r.Body).Decode(&v)
		h.svc.Set(key, v)
	}
	v, _ := h.svc.Get(key)
	json.NewEncoder(w).Encode(map[string]any{"value": v, "n": h.svc.Increment()})
}
