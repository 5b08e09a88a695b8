// Package cache stubs github.com/patrickmn/go-cache.
package cache

import "time"

type Cache struct{ items map[string]any }

func New(defaultExpiration, cleanupInterval time.Duration) *Cache { return &Cache{} }
func (c *Cache) Set(k string, x any, d time.Duration)             { c.items[k] = x }
