package reqctx

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func serve(t *testing.T, header http.Header) (*httptest.ResponseRecorder, *Info) {
	t.Helper()
	var seen *Info
	h := Middleware("replica-1")(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		seen = From(r.Context())
	}))
	req := httptest.NewRequest("GET", "/", nil)
	for k, v := range header {
		req.Header[k] = v
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec, seen
}

func TestRequestIDAcceptedOrGenerated(t *testing.T) {
	for _, tc := range []struct {
		in     string
		accept bool
	}{
		{"abc-123_x.y", true},
		{strings.Repeat("a", 128), true},
		{strings.Repeat("a", 129), false},
		{"", false},
		{"has space", false},
		{"semi;colon", false},
		{"..", false},
	} {
		rec, info := serve(t, http.Header{"X-Request-Id": {tc.in}})
		got := rec.Header().Get("X-Request-ID")
		if tc.accept && got != tc.in {
			t.Errorf("X-Request-ID %q: answered %q, want it echoed", tc.in, got)
		}
		if !tc.accept && (got == tc.in || len(got) != 32) {
			t.Errorf("X-Request-ID %q: answered %q, want a fresh 32-digit id", tc.in, got)
		}
		if info.RequestID != got {
			t.Errorf("context id %q differs from header %q", info.RequestID, got)
		}
		if got := rec.Header().Get("X-Instance-ID"); got != "replica-1" {
			t.Errorf("X-Instance-ID = %q", got)
		}
	}
}

func TestTraceparentContinued(t *testing.T) {
	const in = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
	_, info := serve(t, http.Header{"Traceparent": {in}})
	if got, want := info.TraceID, "4bf92f3577b34da6a3ce929d0e0e4736"; got != want {
		t.Fatalf("TraceID = %q, want %q", got, want)
	}
	out := info.Traceparent()
	if !strings.HasPrefix(out, "00-4bf92f3577b34da6a3ce929d0e0e4736-") || strings.Contains(out, "00f067aa0ba902b7") || !strings.HasSuffix(out, "-01") {
		t.Errorf("outgoing traceparent %q should keep the trace and flags with a new parent", out)
	}
	for _, bad := range []string{
		"00-00000000000000000000000000000000-00f067aa0ba902b7-01",
		"00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",
		"01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
		"00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",
		"garbage",
	} {
		if _, _, ok := ParseTraceparent(bad); ok {
			t.Errorf("ParseTraceparent(%q) accepted", bad)
		}
	}
}

func TestTransportPropagates(t *testing.T) {
	var got http.Header
	backend := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { got = r.Header.Clone() }))
	defer backend.Close()
	info := &Info{RequestID: "req-1", TraceID: "4bf92f3577b34da6a3ce929d0e0e4736", SpanID: "1111111111111111", Flags: "01"}
	req, _ := http.NewRequestWithContext(WithInfo(t.Context(), info), "GET", backend.URL, nil)
	resp, err := (&http.Client{Transport: Transport{}}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if got.Get("X-Request-ID") != "req-1" || got.Get("Traceparent") != info.Traceparent() {
		t.Errorf("outgoing headers %v", got)
	}
}

func TestLogHandlerAddsCorrelation(t *testing.T) {
	var buf bytes.Buffer
	log := slog.New(LogHandler{slog.NewJSONHandler(&buf, nil)})
	info := &Info{RequestID: "req-9", TraceID: "t"}
	ctx := WithInfo(t.Context(), info)
	SetUser(ctx, "u-1")
	log.InfoContext(ctx, "hello")
	var line map[string]any
	if err := json.Unmarshal(buf.Bytes(), &line); err != nil {
		t.Fatal(err)
	}
	if line["request_id"] != "req-9" || line["user_id"] != "u-1" {
		t.Errorf("log line %v lacks request_id or user_id", line)
	}
}

func FuzzParseTraceparent(f *testing.F) {
	f.Add("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")
	f.Add("")
	f.Add("00-" + strings.Repeat("-", 52))
	f.Fuzz(func(t *testing.T, s string) {
		trace, flags, ok := ParseTraceparent(s)
		if ok && (len(trace) != 32 || len(flags) != 2 || !strings.Contains(s, trace)) {
			t.Fatalf("ParseTraceparent(%q) = %q, %q", s, trace, flags)
		}
	})
}
