// Package prometheus is a stub of the real client: a counter whose value
// lives in the process on purpose, since each replica is scraped on its own.
package prometheus

import "sync/atomic"

type Counter interface {
	Inc()
	Add(float64)
}

type CounterOpts struct{ Name, Help string }

type counter struct{ n atomic.Uint64 }

func (c *counter) Inc()          { c.n.Add(1) }
func (c *counter) Add(v float64) { c.n.Add(uint64(v)) }

func NewCounter(opts CounterOpts) Counter { return &counter{} }

type CounterVec struct{ m map[string]*counter }

func NewCounterVec(opts CounterOpts, labels []string) *CounterVec {
	return &CounterVec{m: map[string]*counter{}}
}

func (v *CounterVec) WithLabelValues(lvs ...string) Counter {
	c, ok := v.m[lvs[0]]
	if !ok {
		c = &counter{}
		v.m[lvs[0]] = c
	}
	return c
}

type Collector interface{}

func MustRegister(cs ...Collector) {}
