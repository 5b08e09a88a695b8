package caches

import (
	"context"
	"time"

	"github.com/allegro/bigcache/v3"
	"github.com/coocood/freecache"
	"github.com/dgraph-io/ristretto/v2"
	lruv1 "github.com/hashicorp/golang-lru"
	"github.com/hashicorp/golang-lru/v2"
	"github.com/hashicorp/golang-lru/v2/expirable"
	gocache "github.com/patrickmn/go-cache"
)

type Catalog struct {
	products *gocache.Cache
	prices   *lru.Cache[string, int]
}

func NewCatalog() *Catalog {
	return &Catalog{
		products: gocache.New(5*time.Minute, 10*time.Minute), // want `cache.New \(patrickmn/go-cache\) keeps the cache in this process: each replica has its own copy.*use a shared cache`
		prices:   must(lru.New[string, int](128)),            // want `lru.New \(hashicorp/golang-lru\) keeps the cache`
	}
}

func must[T any](v T, err error) T { return v }

var (
	old, _   = lruv1.NewARC(64)                                                        // want `lru.NewARC \(hashicorp/golang-lru\) keeps the cache`
	recent   = expirable.NewLRU[string, string](64, nil, time.Minute)                  // want `expirable.NewLRU \(hashicorp/golang-lru\) keeps the cache`
	hot, _   = ristretto.NewCache(&ristretto.Config[string, []byte]{MaxCost: 1})       // want `ristretto.NewCache \(dgraph-io/ristretto\) keeps the cache`
	big, _   = bigcache.New(context.Background(), bigcache.DefaultConfig(time.Minute)) // want `bigcache.New \(allegro/bigcache\) keeps the cache`
	free     = freecache.NewCache(1 << 20)                                             // want `freecache.NewCache \(coocood/freecache\) keeps the cache`
	settings = bigcache.DefaultConfig(time.Minute)                                     // a config, not a cache

	//statelint:ignore holds compiled templates, identical on every replica
	templates, _ = lruv1.New(16)
)
