// Package rate stubs golang.org/x/time/rate.
package rate

type Limit float64

type Limiter struct{ tokens float64 }

func NewLimiter(r Limit, b int) *Limiter { return &Limiter{} }
func (l *Limiter) Allow() bool           { return true }
