// Package expirable stubs github.com/hashicorp/golang-lru/v2/expirable.
package expirable

import "time"

type LRU[K comparable, V any] struct{ items map[K]V }

func NewLRU[K comparable, V any](size int, onEvict func(K, V), ttl time.Duration) *LRU[K, V] {
	return &LRU[K, V]{}
}
