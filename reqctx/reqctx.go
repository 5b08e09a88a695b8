// Package reqctx carries a request's correlation data — its request id, its
// W3C trace context and, once known, its user — through context, into every
// log line and onto outgoing calls.
package reqctx

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/http"

	"github.com/herdhq/herd"
)

// Info is the correlation data of one request. The middleware stores a
// pointer in the context so that handlers deeper in the chain can name the
// user, and the access log written further out still sees it.
type Info struct {
	RequestID string
	TraceID   string // 32 hex digits
	SpanID    string // this server's span, the parent of outgoing calls
	Flags     string // 2 hex digits
	UserID    string
}

type ctxKey struct{}

// From returns the request's Info, or nil outside a request.
func From(ctx context.Context) *Info {
	info, _ := ctx.Value(ctxKey{}).(*Info)
	return info
}

// RequestID returns the request id, or "" outside a request.
func RequestID(ctx context.Context) string {
	if info := From(ctx); info != nil {
		return info.RequestID
	}
	return ""
}

// SetUser records the authenticated user for logs.
func SetUser(ctx context.Context, userID string) {
	if info := From(ctx); info != nil {
		info.UserID = userID
	}
}

// Traceparent returns the traceparent header for calls made on behalf of
// the request: its trace, with this server's span as the parent.
func (i *Info) Traceparent() string {
	return "00-" + i.TraceID + "-" + i.SpanID + "-" + i.Flags
}

// WithInfo returns ctx carrying info; for tests and background work that
// continues a request.
func WithInfo(ctx context.Context, info *Info) context.Context {
	return context.WithValue(ctx, ctxKey{}, info)
}

// Middleware accepts the caller's X-Request-ID when herd.ValidID allows it
// and makes one otherwise, continues the caller's trace or starts one, and
// names the request id and the answering replica on the response.
func Middleware(instanceID string) func(http.Handler) http.Handler {
	// Every response shares one value slice: header values are replaced,
	// never written in place.
	instance := []string{instanceID}
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			// One draw and one string for all the ids a request may need:
			// this runs on every request.
			var random [randomIDBytes]byte
			rand.Read(random[:])
			var digits [2 * randomIDBytes]byte
			hex.Encode(digits[:], random[:])
			ids := string(digits[:])
			// Header.Get would allocate the canonical form of each key.
			info := &Info{RequestID: first(r.Header, "X-Request-Id"), SpanID: ids[64:80]}
			if !herd.ValidID(info.RequestID) {
				info.RequestID = ids[0:32]
			}
			var ok bool
			if info.TraceID, info.Flags, ok = ParseTraceparent(first(r.Header, "Traceparent")); !ok {
				info.TraceID, info.Flags = ids[32:64], "00"
			}
			// Keys in canonical form, assigned directly, for the same reason.
			h := w.Header()
			h["X-Request-Id"] = []string{info.RequestID}
			h["X-Instance-Id"] = instance
			next.ServeHTTP(w, r.WithContext(WithInfo(r.Context(), info)))
		})
	}
}

// first is h.Get(key) for a key already in canonical form.
func first(h http.Header, key string) string {
	if vs := h[key]; len(vs) > 0 {
		return vs[0]
	}
	return ""
}

// randomIDBytes is the randomness of a request id (16 bytes), a trace id
// (16) and a span id (8).
const randomIDBytes = 16 + 16 + 8

// NewRequestID returns 128 random bits in hex.
func NewRequestID() string { return randomHex(16) }

func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// ParseTraceparent returns the trace id and flags of a version-00 W3C
// traceparent ("00-<32 hex>-<16 hex>-<2 hex>"), refusing the all-zero ids
// the specification forbids.
func ParseTraceparent(s string) (traceID, flags string, ok bool) {
	if len(s) != 55 || s[0:3] != "00-" || s[35] != '-' || s[52] != '-' {
		return "", "", false
	}
	traceID, parent, flags := s[3:35], s[36:52], s[53:55]
	if !lowerHex(traceID) || !lowerHex(parent) || !lowerHex(flags) ||
		allZero(traceID) || allZero(parent) {
		return "", "", false
	}
	return traceID, flags, true
}

func lowerHex(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return false
		}
	}
	return true
}

func allZero(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] != '0' {
			return false
		}
	}
	return true
}

// Transport sends the request id and trace context of the request in the
// outgoing request's context on every call it makes.
type Transport struct {
	Base http.RoundTripper // nil: http.DefaultTransport
}

func (t Transport) RoundTrip(r *http.Request) (*http.Response, error) {
	base := t.Base
	if base == nil {
		base = http.DefaultTransport
	}
	info := From(r.Context())
	if info == nil {
		return base.RoundTrip(r)
	}
	r = r.Clone(r.Context())
	r.Header.Set("X-Request-ID", info.RequestID)
	r.Header.Set("traceparent", info.Traceparent())
	return base.RoundTrip(r)
}
