package reqctx

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

var noop = http.HandlerFunc(func(http.ResponseWriter, *http.Request) {})

// BenchmarkMiddlewareNewID is a request that brings no id: the middleware
// makes a request id, a trace id and a span id.
func BenchmarkMiddlewareNewID(b *testing.B) {
	h := Middleware("bench-1")(noop)
	r := httptest.NewRequest("GET", "/", nil)
	b.ReportAllocs()
	for b.Loop() {
		h.ServeHTTP(httptest.NewRecorder(), r)
	}
}

// BenchmarkMiddlewareCallerID is a request that brings its X-Request-ID
// and traceparent: only the span id is new.
func BenchmarkMiddlewareCallerID(b *testing.B) {
	h := Middleware("bench-1")(noop)
	r := httptest.NewRequest("GET", "/", nil)
	r.Header.Set("X-Request-ID", "caller-chosen-id-0123456789")
	r.Header.Set("traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")
	b.ReportAllocs()
	for b.Loop() {
		h.ServeHTTP(httptest.NewRecorder(), r)
	}
}

func BenchmarkNewRequestID(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		NewRequestID()
	}
}

// BenchmarkLogHandler is one access-log-sized record through LogHandler
// and the JSON handler herd serve uses.
func BenchmarkLogHandler(b *testing.B) {
	log := slog.New(LogHandler{Handler: slog.NewJSONHandler(io.Discard, nil)}).With("instance_id", "bench-1")
	ctx := WithInfo(context.Background(), &Info{RequestID: "0123456789abcdef0123456789abcdef",
		TraceID: "4bf92f3577b34da6a3ce929d0e0e4736", UserID: "user-1"})
	b.ReportAllocs()
	for b.Loop() {
		log.InfoContext(ctx, "request", "method", "GET", "route", "GET /health/live", "status", 200,
			"bytes", int64(16), "duration_ms", float64(time.Millisecond.Microseconds())/1000)
	}
}
