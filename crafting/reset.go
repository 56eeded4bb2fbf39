package crafting

import (
	"context"
	"errors"
	"fmt"
)

// Reset discards the run in progress and returns it.
func (c *Crafter) Reset(ctx context.Context) (*State, error) {
	st, base, err := c.store.Load(ctx)
	if errors.Is(err, ErrNoState) {
		return nil, fmt.Errorf("reset: %w", err)
	}
	if err != nil {
		// A state this custody cannot read (corrupt, or from another version) can still be discarded.
		if base, err = c.rawDigest(ctx); err != nil {
			return nil, fmt.Errorf("reset: %w", err)
		}
		st = &State{}
	}
	if err := c.store.Delete(ctx, base); err != nil {
		return nil, fmt.Errorf("reset: clear state in %s: %w", c.store.Location(), err)
	}
	return st, nil
}
