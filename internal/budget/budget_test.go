package budget

import (
	"context"
	"errors"
	"testing"
)

// TestBudget: operations hold their weight, at least min and at most the total. Small ones share
// the budget, a large one waits its turn and runs alone however large, and a waiter gives up when
// its context ends.
func TestBudget(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	gone, cancel := context.WithCancel(ctx)
	cancel()
	b := New(400, 100)

	for i := range 4 { // each tiny one counts 100
		if !b.TryAcquire(1) {
			t.Fatalf("tiny %d of 4 refused", i+1)
		}
	}
	if b.TryAcquire(1) {
		t.Fatal("a fifth tiny one fits in a spent budget")
	}
	if err := b.Acquire(gone, 1); !errors.Is(err, context.Canceled) {
		t.Fatalf("waiting in a spent budget with a cancelled context = %v", err)
	}
	for range 4 {
		b.Release(1)
	}

	if err := b.Acquire(ctx, 10_000); err != nil { // more than the total: holds all of it
		t.Fatalf("one larger than the budget: %v", err)
	}
	if b.TryAcquire(1) {
		t.Fatal("a tiny one fits beside one holding the whole budget")
	}
	waiting := make(chan error, 1)
	go func() { waiting <- b.Acquire(ctx, 300) }()
	b.Release(10_000)
	if err := <-waiting; err != nil {
		t.Fatalf("after the large one: %v", err)
	}
	if !b.TryAcquire(100) || b.TryAcquire(1) {
		t.Fatal("the last 100 of 400 with 300 held: want exactly one more of 100")
	}
	if b.Total() != 400 {
		t.Fatalf("Total = %d", b.Total())
	}
}
