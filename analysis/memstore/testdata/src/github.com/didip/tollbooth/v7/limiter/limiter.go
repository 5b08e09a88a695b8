// Package limiter stubs github.com/didip/tollbooth/v7/limiter.
package limiter

type ExpirableOptions struct{}

type Limiter struct{ counts map[string]int }

func New(opts *ExpirableOptions) *Limiter { return &Limiter{} }
