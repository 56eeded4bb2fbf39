package crafting

import (
	"context"
	"fmt"
)

// Reset discards the run in progress and returns it.
func (c *Crafter) Reset(ctx context.Context) (*State, error) {
	st, base, err := c.store.Load(ctx)
	if err != nil {
		return nil, fmt.Errorf("reset: %w", err)
	}
	if err := c.store.Delete(ctx, base); err != nil {
		return nil, fmt.Errorf("reset: clear state in %s: %w", c.store.Location(), err)
	}
	return st, nil
}
