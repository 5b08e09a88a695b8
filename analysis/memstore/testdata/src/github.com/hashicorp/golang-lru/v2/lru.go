// Package lru stubs github.com/hashicorp/golang-lru/v2.
package lru

type Cache[K comparable, V any] struct{ items map[K]V }

func New[K comparable, V any](size int) (*Cache[K, V], error) { return &Cache[K, V]{}, nil }
func (c *Cache[K, V]) Add(k K, v V) bool                      { c.items[k] = v; return false }
