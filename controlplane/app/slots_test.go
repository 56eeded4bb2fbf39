package app

import (
	"context"
	"errors"
	"testing"
)

// TestPushBudget: pushes hold their bundle's size of the budget (at least minPushWeight, at most all
// of it). Small ones share it, a large one waits its turn, and a waiter gives up when its context
// ends (a client that went away).
func TestPushBudget(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := newPushBudget(4 * minPushWeight)
	gone, cancel := context.WithCancel(ctx)
	cancel()

	// Four tiny pushes fit side by side (each counts minPushWeight); a fifth does not.
	for i := range 4 {
		if err := b.acquire(ctx, 10); err != nil {
			t.Fatalf("tiny push %d of 4: %v", i+1, err)
		}
	}
	if err := b.acquire(gone, 10); !errors.Is(err, context.Canceled) {
		t.Fatalf("a fifth tiny push with the budget spent = %v, want it to wait (and give up)", err)
	}
	for range 4 {
		b.release(10)
	}

	// A push larger than the whole budget holds all of it: it runs alone, it never waits forever.
	if err := b.acquire(ctx, 100*minPushWeight); err != nil {
		t.Fatalf("a push larger than the budget: %v", err)
	}
	if err := b.acquire(gone, 10); !errors.Is(err, context.Canceled) {
		t.Fatalf("a tiny push beside one holding the whole budget = %v, want it to wait", err)
	}
	waiting := make(chan error, 1)
	go func() { waiting <- b.acquire(ctx, 3*minPushWeight) }()
	b.release(100 * minPushWeight)
	if err := <-waiting; err != nil {
		t.Fatalf("a push after the large one finished: %v", err)
	}
	if err := b.acquire(ctx, minPushWeight); err != nil {
		t.Fatalf("the budget's last quarter: %v", err)
	}
}
