// Package ristretto stubs github.com/dgraph-io/ristretto/v2.
package ristretto

type Config[K any, V any] struct{ NumCounters, MaxCost, BufferItems int64 }

type Cache[K any, V any] struct{}

func NewCache[K any, V any](config *Config[K, V]) (*Cache[K, V], error) { return &Cache[K, V]{}, nil }
