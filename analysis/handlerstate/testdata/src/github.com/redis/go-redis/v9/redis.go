// Package redis is a stub of github.com/redis/go-redis/v9: a client holding
// a pool of connections to an external store.
package redis

import "context"

type Options struct{ Addr string }

type Client struct {
	opts  *Options
	conns []any
	stats map[string]int
}

func NewClient(opts *Options) *Client { return &Client{opts: opts, stats: map[string]int{}} }

type IntCmd struct{ val int64 }

func (c *IntCmd) Val() int64 { return c.val }

func (c *Client) Incr(ctx context.Context, key string) *IntCmd {
	c.stats["incr"]++
	return &IntCmd{}
}
