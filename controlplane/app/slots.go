package app

import (
	"context"

	"golang.org/x/sync/semaphore"
)

// minPushWeight is what a push holds of the budget at least: the fixed memory of a push (the parsed
// bundle, the verifier's buffers), so that many tiny pushes still count.
const minPushWeight = 64 << 10

// pushBudget bounds the bundle bytes verified and stored at once. A push holds its bundle's size
// (at least minPushWeight, at most the whole budget): small pushes run side by side, the largest
// take their turns, and the memory of pushes under way stays a small multiple of the budget.
type pushBudget struct {
	sem   *semaphore.Weighted
	total int64
}

func newPushBudget(total int64) *pushBudget {
	return &pushBudget{sem: semaphore.NewWeighted(total), total: total}
}

// weight is what a bundle of size bytes holds.
func (b *pushBudget) weight(size int) int64 {
	return min(max(int64(size), minPushWeight), b.total)
}

// acquire takes the weight of a bundle of size bytes, waiting until ctx ends; release gives it back.
func (b *pushBudget) acquire(ctx context.Context, size int) error {
	return b.sem.Acquire(ctx, b.weight(size))
}

func (b *pushBudget) release(size int) { b.sem.Release(b.weight(size)) }
