package http

import (
	"io"
	"mime"
	"net/http"
	"strconv"

	"github.com/herdhq/herd"
)

func (s *server) handleFilePut() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		key, err := pathID(r, "key")
		if err != nil {
			Error(w, r, s.Log, err)
			return
		}
		if r.ContentLength > s.Limits.MaxFileSize {
			WriteProblem(w, r, http.StatusRequestEntityTooLarge, "a file is at most "+strconv.FormatInt(s.Limits.MaxFileSize, 10)+" bytes")
			return
		}
		contentType := r.Header.Get("Content-Type")
		if contentType == "" {
			contentType = "application/octet-stream"
		} else if _, _, err := mime.ParseMediaType(contentType); err != nil {
			WriteProblem(w, r, http.StatusBadRequest, "Content-Type is not a valid media type")
			return
		}
		start := s.now()
		// Put streams the body to the store and commits nothing unless the
		// whole body arrived within the limit.
		obj, err := s.Files.Put(r.Context(), key, contentType, r.Body, s.Limits.MaxFileSize)
		s.Metrics.observeStore("file.put", start, err)
		if err != nil {
			if herd.ErrorCode(err) == herd.ETOOLARGE {
				WriteProblem(w, r, http.StatusRequestEntityTooLarge, "a file is at most "+strconv.FormatInt(s.Limits.MaxFileSize, 10)+" bytes")
				return
			}
			Error(w, r, s.Log, err)
			return
		}
		writeJSON(w, http.StatusCreated, struct {
			Key  string `json:"key"`
			Size int64  `json:"size"`
			ETag string `json:"etag"`
		}{obj.Key, obj.Size, obj.ETag})
	})
}

func (s *server) handleFileGet() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		key, err := pathID(r, "key")
		if err != nil {
			Error(w, r, s.Log, err)
			return
		}
		start := s.now()
		body, obj, err := s.Files.Get(r.Context(), key)
		s.Metrics.observeStore("file.get", start, err)
		if err != nil {
			Error(w, r, s.Log, err)
			return
		}
		defer body.Close()
		h := w.Header()
		h.Set("Content-Type", obj.ContentType)
		h.Set("Content-Length", strconv.FormatInt(obj.Size, 10))
		if obj.ETag != "" {
			h.Set("ETag", `"`+obj.ETag+`"`)
		}
		h.Set("X-Content-Type-Options", "nosniff")
		w.WriteHeader(http.StatusOK)
		if _, err := io.Copy(w, body); err != nil {
			// The status is sent; all that is left is to say why the body
			// is short.
			s.Log.WarnContext(r.Context(), "file body cut short", "err", err)
		}
	})
}
