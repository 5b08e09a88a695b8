package http

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/herdhq/herd/health"
	"github.com/herdhq/herd/reqctx"
)

// benchServer is NewServer as herd serve builds it, for the routes that
// need no store: the JSON access log (to io.Discard) at the given level,
// request ids, metrics and panic recovery included.
func benchServer(level slog.Level) http.Handler {
	log := slog.New(reqctx.LogHandler{Handler: slog.NewJSONHandler(io.Discard, &slog.HandlerOptions{Level: level})}).
		With("instance_id", "bench-1")
	return NewServer(Deps{
		Log: log, InstanceID: "bench-1",
		Health:  health.New(time.Second),
		Metrics: NewMetrics(),
		Limits:  Limits{RequestTimeout: 10 * time.Second, MaxHeaderBytes: 64 << 10},
	})
}

func serveLoop(b *testing.B, h http.Handler, r *http.Request) {
	b.Helper()
	b.ReportAllocs()
	for b.Loop() {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		if w.Code != http.StatusOK {
			b.Fatalf("status %d", w.Code)
		}
	}
}

// BenchmarkChainHealthLive is GET /health/live through herd's whole
// chain: request id and trace context, access log, metrics, panic
// recovery, path check and the mux. Compare BenchmarkPlainHealthLive.
func BenchmarkChainHealthLive(b *testing.B) {
	serveLoop(b, benchServer(slog.LevelInfo), httptest.NewRequest("GET", "/health/live", nil))
}

// BenchmarkChainHealthLiveNoAccessLog is the same chain at
// HERD_LOG_LEVEL=warn, which drops the access log line: its cost is the
// difference.
func BenchmarkChainHealthLiveNoAccessLog(b *testing.B) {
	serveLoop(b, benchServer(slog.LevelWarn), httptest.NewRequest("GET", "/health/live", nil))
}

// BenchmarkChainHealthLiveCallerID brings its own X-Request-ID and
// traceparent, as a request behind a proxy or from another service does.
func BenchmarkChainHealthLiveCallerID(b *testing.B) {
	r := httptest.NewRequest("GET", "/health/live", nil)
	r.Header.Set("X-Request-ID", "caller-chosen-id-0123456789")
	r.Header.Set("traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")
	serveLoop(b, benchServer(slog.LevelInfo), r)
}

// BenchmarkPlainHealthLive is the floor: the same handler on a plain
// ServeMux.
func BenchmarkPlainHealthLive(b *testing.B) {
	mux := http.NewServeMux()
	mux.Handle("GET /health/live", health.New(time.Second).Live())
	serveLoop(b, mux, httptest.NewRequest("GET", "/health/live", nil))
}

// BenchmarkWriteProblem renders one problem document.
func BenchmarkWriteProblem(b *testing.B) {
	r := httptest.NewRequest("GET", "/items/x", nil)
	r = r.WithContext(reqctx.WithInfo(r.Context(), &reqctx.Info{RequestID: "0123456789abcdef0123456789abcdef"}))
	b.ReportAllocs()
	for b.Loop() {
		WriteProblem(httptest.NewRecorder(), r, http.StatusNotFound, "item not found")
	}
}
