package app

import (
	"context"
	"errors"
	"testing"
)

// TestSlots: at most cap(slots) holders at once; a waiter gives up when its context ends (a client
// that went away), and a released slot is taken again.
func TestSlots(t *testing.T) {
	t.Parallel()
	s := make(slots, 2)
	ctx := context.Background()
	for i := range 2 {
		if err := s.acquire(ctx); err != nil {
			t.Fatalf("acquire %d of 2: %v", i+1, err)
		}
	}
	gone, cancel := context.WithCancel(ctx)
	cancel()
	if err := s.acquire(gone); !errors.Is(err, context.Canceled) {
		t.Fatalf("third acquire with both slots held = %v, want context.Canceled", err)
	}
	waiting := make(chan error, 1)
	go func() { waiting <- s.acquire(ctx) }()
	s.release()
	if err := <-waiting; err != nil {
		t.Fatalf("acquire after a release = %v", err)
	}
	if len(s) != 2 {
		t.Fatalf("%d slots held, want 2", len(s))
	}
}
