// Package tollbooth stubs github.com/didip/tollbooth/v7.
package tollbooth

import (
	"net/http"

	"github.com/didip/tollbooth/v7/limiter"
)

func NewLimiter(max float64, opts *limiter.ExpirableOptions) *limiter.Limiter {
	return limiter.New(opts)
}

func LimitHandler(lmt *limiter.Limiter, next http.Handler) http.Handler { return next }
