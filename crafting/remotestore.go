package crafting

import (
	"context"
	"fmt"

	"github.com/custody-dev/custody/client"
	"github.com/custody-dev/custody/wire"
)

// RemoteStore keeps a run's state in the control plane, keyed by run id, so jobs on different
// runners add to one attestation. Every write names the digest it was based on: a stale one is
// refused and the crafter re-reads and retries.
type RemoteStore struct {
	cp    *client.Client
	runID string
}

// NewRemoteStore returns the remote state of run runID.
func NewRemoteStore(cp *client.Client, runID string) *RemoteStore {
	return &RemoteStore{cp: cp, runID: runID}
}

// Location names the run.
func (s *RemoteStore) Location() string { return "the control plane's state of run " + s.runID }

// Load reads the run's state.
func (s *RemoteStore) Load(ctx context.Context) (*State, string, error) {
	rs, err := s.cp.GetState(ctx, s.runID)
	if err != nil {
		if client.Status(err) == 404 {
			return nil, "", fmt.Errorf("run %s: %w", s.runID, ErrNoState)
		}
		return nil, "", fmt.Errorf("read remote state: %w", err)
	}
	if rs.Digest == "" {
		return nil, "", ErrNoState
	}
	st, err := decodeState(rs.State)
	if err != nil {
		return nil, "", fmt.Errorf("remote state of run %s: %w", s.runID, err)
	}
	return st, rs.Digest, nil
}

// Save writes st if the remote state is still at base.
func (s *RemoteStore) Save(ctx context.Context, st *State, base string) (string, error) {
	b, digest, err := encodeState(st)
	if err != nil {
		return "", err
	}
	rs, err := s.cp.PutState(ctx, s.runID, base, b)
	switch {
	case client.Code(err) == wire.CodeStaleState:
		return "", ErrStale
	case err != nil:
		return "", fmt.Errorf("write remote state: %w", err)
	case rs.Digest != digest:
		return "", fmt.Errorf("write remote state: the control plane kept %s, this state is %s", rs.Digest, digest)
	}
	return digest, nil
}

// Delete does nothing: a finished run's state stays with the run, frozen.
func (s *RemoteStore) Delete(_ context.Context, _ string) error { return nil }

var _ Store = (*RemoteStore)(nil)
