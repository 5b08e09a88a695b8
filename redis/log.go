package redis

import (
	"context"
	"fmt"
	"log/slog"

	goredis "github.com/redis/go-redis/v9"
)

// SetLogger sends go-redis's own log lines (dial failures, pool trouble)
// to log at debug level, with the request's correlation when the context
// has one. It is process-wide, as go-redis's logger is. herd logs the
// failures it answers for itself; these lines are only detail.
func SetLogger(log *slog.Logger) { goredis.SetLogger(slogPrinter{log}) }

type slogPrinter struct{ log *slog.Logger }

func (p slogPrinter) Printf(ctx context.Context, format string, v ...any) {
	p.log.DebugContext(ctx, "go-redis: "+fmt.Sprintf(format, v...))
}
