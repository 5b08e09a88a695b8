package http

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net"
	"net/http"

	"github.com/herdhq/herd"
	"github.com/herdhq/herd/reqctx"
)

// Problem is an RFC 9457 problem document.
type Problem struct {
	Type      string `json:"type"`
	Title     string `json:"title"`
	Status    int    `json:"status"`
	Detail    string `json:"detail"`
	RequestID string `json:"request_id"`
}

var statusOf = map[string]int{
	herd.ECONFLICT:     http.StatusConflict,
	herd.EINTERNAL:     http.StatusInternalServerError,
	herd.EINVALID:      http.StatusBadRequest,
	herd.EMISMATCH:     http.StatusUnprocessableEntity,
	herd.ENOTFOUND:     http.StatusNotFound,
	herd.ETOOLARGE:     http.StatusRequestEntityTooLarge,
	herd.EUNAUTHORIZED: http.StatusUnauthorized,
	herd.EUNAVAILABLE:  http.StatusServiceUnavailable,
	herd.EUNSUPPORTED:  http.StatusUnsupportedMediaType,
}

// ErrorStatus is the HTTP status of err. Errors no backend classified are
// 500, except the deadline of the request itself, which means a dependency
// was too slow: 503, so that clients retry elsewhere.
func ErrorStatus(err error) int {
	code := herd.ErrorCode(err)
	if code == herd.EINTERNAL && (errors.Is(err, context.DeadlineExceeded) || isNetError(err)) {
		return http.StatusServiceUnavailable
	}
	return statusOf[code]
}

func isNetError(err error) bool {
	var ne net.Error
	return errors.As(err, &ne)
}

// Error writes err as a problem document. The client sees only the error's
// safe message; the log gets the cause when the server is at fault.
func Error(w http.ResponseWriter, r *http.Request, log *slog.Logger, err error) {
	status := ErrorStatus(err)
	detail := herd.ErrorMessage(err)
	switch {
	case status >= 500 && status != http.StatusServiceUnavailable:
		log.ErrorContext(r.Context(), "request failed", "err", err)
	case status == http.StatusServiceUnavailable:
		if herd.ErrorCode(err) != herd.EUNAVAILABLE {
			detail = "a dependency did not answer in time"
		}
		log.WarnContext(r.Context(), "dependency unavailable", "err", err)
	}
	if status == http.StatusServiceUnavailable {
		w.Header().Set("Retry-After", "1")
	}
	WriteProblem(w, r, status, detail)
}

// WriteProblem writes a problem document with the given status and detail.
func WriteProblem(w http.ResponseWriter, r *http.Request, status int, detail string) {
	p := Problem{
		Type:      "about:blank",
		Title:     http.StatusText(status),
		Status:    status,
		Detail:    detail,
		RequestID: reqctx.RequestID(r.Context()),
	}
	h := w.Header()
	h.Set("Content-Type", "application/problem+json")
	h.Set("Cache-Control", "no-store")
	h.Del("Content-Length")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(p)
}
