// Package memory stubs github.com/ulule/limiter/v3/drivers/store/memory.
package memory

type Store struct{ counts map[string]int }

func NewStore() *Store { return &Store{} }
