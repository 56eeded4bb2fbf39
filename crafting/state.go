// Package crafting is the attestation lifecycle (init, add, status, push, reset) over a state Store.
package crafting

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"time"

	"github.com/custody-dev/custody/attestation"
	"github.com/custody-dev/custody/contract"
)

// StateVersion is the version of the state file's schema.
const StateVersion = 1

// State is a run in progress, as kept between pipeline steps.
type State struct {
	Version          int                    `json:"version"`
	RunID            string                 `json:"runID"`
	Workflow         string                 `json:"workflow"`
	Project          string                 `json:"project"`
	Contract         contract.Contract      `json:"contract"`
	ContractRevision int                    `json:"contractRevision"`
	DryRun           bool                   `json:"dryRun"`
	InitializedAt    time.Time              `json:"initializedAt"`
	Runner           *attestation.Runner    `json:"runner,omitempty"`
	Git              *attestation.Git       `json:"git,omitempty"`
	Env              map[string]string      `json:"env,omitempty"`
	Materials        []attestation.Material `json:"materials,omitempty"`
	CLIVersion       string                 `json:"cliVersion"`
}

// Material returns the recorded material called name, or nil.
func (s *State) Material(name string) *attestation.Material {
	for i := range s.Materials {
		if s.Materials[i].Name == name {
			return &s.Materials[i]
		}
	}
	return nil
}

// encodeState renders the state as the bytes stored, and their digest.
func encodeState(s *State) ([]byte, string, error) {
	b, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return nil, "", fmt.Errorf("encode state: %w", err)
	}
	b = append(b, '\n')
	return b, digestOf(b), nil
}

// decodeState parses stored state bytes strictly.
func decodeState(b []byte) (*State, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	var s State
	if err := dec.Decode(&s); err != nil {
		return nil, fmt.Errorf("decode state: %w", err)
	}
	if s.Version != StateVersion {
		return nil, fmt.Errorf("state version %d: this custody reads version %d", s.Version, StateVersion)
	}
	return &s, nil
}

func digestOf(b []byte) string {
	sum := sha256.Sum256(b)
	return "sha256:" + hex.EncodeToString(sum[:])
}
