package crafting

import (
	"context"
	"errors"
)

// ErrNoState is returned by a Store that holds no run.
var ErrNoState = errors.New("no attestation in progress: run `custody attestation init` first")

// ErrStale is returned by Store.Save and Store.Delete when the stored state changed since it was
// loaded: the caller re-reads and tries again.
var ErrStale = errors.New("state changed since it was read")

// Store keeps the state of one run between pipeline steps. Every write names the digest of the state
// it was based on ("" for none), so concurrent writers never lose each other's work.
type Store interface {
	// Load returns the state and the digest of its stored form, or ErrNoState.
	Load(ctx context.Context) (*State, string, error)
	// Save stores s if the stored state's digest is still base, and returns the new digest.
	Save(ctx context.Context, s *State, base string) (string, error)
	// Delete removes the state if its digest is still base.
	Delete(ctx context.Context, base string) error
	// Location says where the state is kept, for messages.
	Location() string
}
