package http

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"time"

	"github.com/herdhq/herd"
)

type itemJSON struct {
	ID        string          `json:"id"`
	Data      json.RawMessage `json:"data"`
	Version   int64           `json:"version"`
	UpdatedAt time.Time       `json:"updated_at"`
}

func toItemJSON(it herd.Item) itemJSON {
	return itemJSON{ID: it.ID, Data: it.Data, Version: it.Version, UpdatedAt: it.UpdatedAt.UTC()}
}

func (s *server) handleItemPut() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id, err := pathID(r, "id")
		if err != nil {
			Error(w, r, s.Log, err)
			return
		}
		if err := requireJSON(r); err != nil {
			Error(w, r, s.Log, err)
			return
		}
		data, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxItemBody))
		var tooBig *http.MaxBytesError
		switch {
		case errors.As(err, &tooBig):
			WriteProblem(w, r, http.StatusRequestEntityTooLarge, "an item is at most 64 KiB")
			return
		case err != nil:
			WriteProblem(w, r, http.StatusBadRequest, "the body could not be read")
			return
		case !json.Valid(data):
			WriteProblem(w, r, http.StatusBadRequest, "the body must be one valid JSON value")
			return
		}
		start := s.now()
		item, err := s.Items.Put(r.Context(), id, data)
		s.Metrics.observeStore("item.put", start, err)
		if err != nil {
			Error(w, r, s.Log, err)
			return
		}
		writeJSON(w, http.StatusOK, toItemJSON(item))
	})
}

func (s *server) handleItemGet() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id, err := pathID(r, "id")
		if err != nil {
			Error(w, r, s.Log, err)
			return
		}
		start := s.now()
		item, hit, err := s.Items.Get(r.Context(), id)
		s.Metrics.observeStore("item.get", start, err)
		if err != nil {
			Error(w, r, s.Log, err)
			return
		}
		if hit {
			w.Header().Set("X-Cache", "hit")
		} else {
			w.Header().Set("X-Cache", "miss")
		}
		writeJSON(w, http.StatusOK, toItemJSON(item))
	})
}
