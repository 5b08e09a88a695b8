package http

import (
	"log/slog"
	"net/http"
	"strconv"
	"time"
)

// responseWriter records what the access log and metrics need, and turns
// the mux's own plain-text 404 and 405 into problem documents.
type responseWriter struct {
	http.ResponseWriter
	r       *http.Request
	status  int
	written int64
	// swallow drops the mux's plain-text body after a problem replaced it.
	swallow bool
}

func (w *responseWriter) WriteHeader(code int) {
	if w.status != 0 {
		return
	}
	w.status = code
	// An unmatched request is the only one the mux answers itself; r.Pattern
	// is empty for it. Allow, set by the mux for 405, is kept.
	if w.r.Pattern == "" && (code == http.StatusNotFound || code == http.StatusMethodNotAllowed) {
		w.swallow = true
		detail := "no route matches " + w.r.URL.Path
		if code == http.StatusMethodNotAllowed {
			detail = "method " + w.r.Method + " is not allowed here"
		}
		WriteProblem(w.ResponseWriter, w.r, code, detail)
		return
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *responseWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.WriteHeader(http.StatusOK)
	}
	if w.swallow {
		return len(b), nil
	}
	n, err := w.ResponseWriter.Write(b)
	w.written += int64(n)
	return n, err
}

// Unwrap lets http.ResponseController reach the connection's writer.
func (w *responseWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// accessLog writes one line per request and records its metrics.
func (s *server) accessLog(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		s.Metrics.inFlight.Inc()
		rw := &responseWriter{ResponseWriter: w, r: r}
		defer func() {
			s.Metrics.inFlight.Dec()
			if rw.status == 0 {
				rw.status = http.StatusOK
			}
			end := time.Now()
			elapsed := end.Sub(start)
			route := r.Pattern
			if route == "" {
				route = "unmatched"
			}
			s.Metrics.observeRequest(route, rw.status, elapsed)
			s.logRequest(r, route, rw, end, elapsed)
		}()
		next.ServeHTTP(rw, r)
	})
}

// logRequest writes the access log line. It goes to the handler directly,
// as slog.Logger.LogAttrs would, minus what a line per request should not
// pay for: the caller's program counter (the source of this line is always
// this function) and another reading of the clock. The attributes are
// typed, so no value is boxed.
func (s *server) logRequest(r *http.Request, route string, rw *responseWriter, end time.Time, elapsed time.Duration) {
	ctx := r.Context()
	h := s.Log.Handler()
	if !h.Enabled(ctx, slog.LevelInfo) {
		return
	}
	rec := slog.NewRecord(end, slog.LevelInfo, "request", 0)
	rec.AddAttrs(
		slog.String("method", r.Method),
		slog.String("route", route),
		slog.Int("status", rw.status),
		slog.Int64("bytes", rw.written),
		slog.Float64("duration_ms", float64(elapsed.Microseconds())/1000))
	h.Handle(ctx, rec)
}

// statusLabel avoids strconv for the statuses herd answers most.
func statusLabel(code int) string {
	switch code {
	case 200:
		return "200"
	case 201:
		return "201"
	case 204:
		return "204"
	case 401:
		return "401"
	case 404:
		return "404"
	}
	return strconv.Itoa(code)
}
