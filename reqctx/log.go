package reqctx

import (
	"context"
	"log/slog"
)

// LogHandler adds request_id, trace_id and, once known, user_id to every
// record logged with a request's context.
type LogHandler struct {
	slog.Handler
}

func (h LogHandler) Handle(ctx context.Context, r slog.Record) error {
	if info := From(ctx); info != nil {
		r.AddAttrs(slog.String("request_id", info.RequestID), slog.String("trace_id", info.TraceID))
		if info.UserID != "" {
			r.AddAttrs(slog.String("user_id", info.UserID))
		}
	}
	return h.Handler.Handle(ctx, r)
}

func (h LogHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	return LogHandler{h.Handler.WithAttrs(attrs)}
}

func (h LogHandler) WithGroup(name string) slog.Handler {
	return LogHandler{h.Handler.WithGroup(name)}
}
