package postgres_test

import (
	"context"
	"testing"
)

// BenchmarkIncrement measures one increment without an operation id: one
// statement, one round trip, from one goroutine.
func BenchmarkIncrement(b *testing.B) {
	db := mustOpen(b, testConfig(b))
	ctx, cancel := context.WithTimeout(b.Context(), 10*setupTimeout)
	defer cancel()
	name := randomName("counter-")
	b.ReportAllocs()
	for b.Loop() {
		if _, err := db.Increment(ctx, name, ""); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkIncrementParallel measures increments of one counter from many
// goroutines over the whole pool, where the row lock is the bottleneck.
func BenchmarkIncrementParallel(b *testing.B) {
	db := mustOpen(b, testConfig(b))
	ctx, cancel := context.WithTimeout(b.Context(), 10*setupTimeout)
	defer cancel()
	name := randomName("counter-")
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := db.Increment(ctx, name, ""); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

// BenchmarkIncrementOnce measures increments each with a new operation id.
func BenchmarkIncrementOnce(b *testing.B) {
	db := mustOpen(b, testConfig(b))
	ctx, cancel := context.WithTimeout(b.Context(), 10*setupTimeout)
	defer cancel()
	name := randomName("counter-")
	b.ReportAllocs()
	for b.Loop() {
		if _, err := db.Increment(ctx, name, randomName("op-")); err != nil {
			b.Fatal(err)
		}
	}
}
