package crafting

import (
	"context"
	"fmt"

	"github.com/custody-dev/custody/attestation"
	"github.com/custody-dev/custody/contract"
)

// MaterialStatus is one row of the status table: a contract material, or a material added beyond it.
type MaterialStatus struct {
	Name     string                `json:"name"`
	Kind     contract.Kind         `json:"type"`
	Set      bool                  `json:"set"`
	Required bool                  `json:"required"`
	Output   bool                  `json:"output"`
	Material *attestation.Material `json:"material,omitempty"`
}

// Status is a run and every material it has or needs.
type Status struct {
	State     *State           `json:"state"`
	Materials []MaterialStatus `json:"materials"`
}

// Status reads the run in progress.
func (c *Crafter) Status(ctx context.Context) (*Status, error) {
	st, _, err := c.store.Load(ctx)
	if err != nil {
		return nil, fmt.Errorf("status: %w", err)
	}
	return statusOf(st), nil
}

// statusOf lists the contract's materials in contract order, then those added beyond it.
func statusOf(st *State) *Status {
	s := &Status{State: st}
	for _, spec := range st.Contract.Spec.Materials {
		m := st.Material(spec.Name)
		s.Materials = append(s.Materials, MaterialStatus{
			Name: spec.Name, Kind: spec.Type, Set: m != nil, Required: !spec.Optional, Output: spec.Output, Material: m,
		})
	}
	for i := range st.Materials {
		m := &st.Materials[i]
		if _, inContract := st.Contract.Material(m.Name); inContract {
			continue
		}
		s.Materials = append(s.Materials, MaterialStatus{Name: m.Name, Kind: m.Kind, Set: true, Output: m.Output, Material: m})
	}
	return s
}
