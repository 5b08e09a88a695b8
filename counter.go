package herd

import "context"

// CounterStore keeps named integer counters.
type CounterStore interface {
	// Increment adds one to the named counter, creating it at 1, and returns
	// the value after this increment. It is one atomic statement: N
	// concurrent calls from any number of processes raise the value by
	// exactly N.
	//
	// When opID is not empty the increment is recorded under it in the same
	// statement or transaction, and a later call with the same opID returns
	// the value recorded the first time without incrementing again. This is
	// what keeps a client's retry exact when the replica that served the
	// first attempt died after committing but before answering. Records of
	// operations may be forgotten after a day.
	Increment(ctx context.Context, name, opID string) (int64, error)
	// Counter returns the current value, or ENOTFOUND when the counter was
	// never incremented.
	Counter(ctx context.Context, name string) (int64, error)
}
