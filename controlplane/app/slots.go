package app

import "context"

// slots bounds how many of an operation run at once: a token per one under way.
type slots chan struct{}

// acquire takes a slot, waiting for one until ctx ends.
func (s slots) acquire(ctx context.Context) error {
	select {
	case s <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// release gives back a slot acquire took.
func (s slots) release() { <-s }
