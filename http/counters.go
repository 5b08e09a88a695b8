package http

import (
	"net/http"
)

type counterJSON struct {
	Name  string `json:"name"`
	Value int64  `json:"value"`
}

func (s *server) handleIncrement() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		name, err := pathID(r, "name")
		if err != nil {
			Error(w, r, s.Log, err)
			return
		}
		start := s.now()
		// The Idempotency-Key goes to the store too, so that the increment
		// and its record commit together: a retry after a crash between the
		// two cannot count twice.
		v, err := s.Counters.Increment(r.Context(), name, opID(r.Context()))
		s.Metrics.observeStore("counter.increment", start, err)
		if err != nil {
			Error(w, r, s.Log, err)
			return
		}
		writeJSON(w, http.StatusOK, counterJSON{name, v})
	})
}

func (s *server) handleCounter() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		name, err := pathID(r, "name")
		if err != nil {
			Error(w, r, s.Log, err)
			return
		}
		start := s.now()
		v, err := s.Counters.Counter(r.Context(), name)
		s.Metrics.observeStore("counter.get", start, err)
		if err != nil {
			Error(w, r, s.Log, err)
			return
		}
		writeJSON(w, http.StatusOK, counterJSON{name, v})
	})
}
