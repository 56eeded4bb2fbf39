// Package budget bounds how much of a resource (bytes held in memory, most often) the operations
// under way may hold at once: each holds its weight, clamped to [min, total] so a tiny one still
// counts and a huge one never waits forever.
package budget

import (
	"context"

	"golang.org/x/sync/semaphore"
)

// Budget is a total weight shared by the operations under way.
type Budget struct {
	sem        *semaphore.Weighted
	total, min int64
}

// New returns a budget of total; an operation holds at least min of it.
func New(total, min int64) *Budget {
	return &Budget{sem: semaphore.NewWeighted(total), total: total, min: min}
}

// Total is the budget's size.
func (b *Budget) Total() int64 { return b.total }

// weight is what an operation of weight n holds.
func (b *Budget) weight(n int64) int64 { return min(max(n, b.min), b.total) }

// Acquire takes weight n, waiting until ctx ends.
func (b *Budget) Acquire(ctx context.Context, n int64) error { return b.sem.Acquire(ctx, b.weight(n)) }

// TryAcquire takes weight n if it is free now.
func (b *Budget) TryAcquire(n int64) bool { return b.sem.TryAcquire(b.weight(n)) }

// Release gives back weight n, taken by Acquire or TryAcquire.
func (b *Budget) Release(n int64) { b.sem.Release(b.weight(n)) }
