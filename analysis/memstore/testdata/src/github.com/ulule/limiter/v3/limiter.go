// Package limiter stubs github.com/ulule/limiter/v3.
package limiter

type Store interface{}

type Rate struct{ Limit int64 }

type Limiter struct{ Store Store }

func New(store Store, rate Rate) *Limiter { return &Limiter{Store: store} }
