// Package lru stubs github.com/hashicorp/golang-lru (v1).
package lru

type Cache struct{ items map[any]any }

func New(size int) (*Cache, error)    { return &Cache{}, nil }
func NewARC(size int) (*Cache, error) { return &Cache{}, nil }
func (c *Cache) Add(k, v any) bool    { c.items[k] = v; return false }
