package app

import (
	"encoding/json"
	"time"

	"github.com/custody-dev/custody/contract"
	"github.com/custody-dev/custody/controlplane/store"
	"github.com/custody-dev/custody/wire"
)

func jsonMarshal(v any) ([]byte, error) { return json.MarshalIndent(v, "", "  ") }

func toProject(p *store.Project) *wire.Project {
	return &wire.Project{ID: p.ID, Name: p.Name, CreatedAt: p.CreatedAt}
}

func toWorkflow(p *store.Project, w *store.Workflow, c *contract.Contract, rev *store.ContractRevision) *wire.Workflow {
	return &wire.Workflow{ID: w.ID, Project: p.Name, Name: w.Name, Description: w.Description,
		ContractName: c.Metadata.Name, LatestRevision: rev.Revision, CreatedAt: w.CreatedAt}
}

func toRevision(r *store.ContractRevision) *wire.ContractRevision {
	return &wire.ContractRevision{Revision: r.Revision, Digest: r.Digest, Contract: string(r.Body), CreatedAt: r.CreatedAt}
}

func toKey(k *store.PublicKey) *wire.PublicKey {
	return &wire.PublicKey{ID: k.ID, Hint: k.Hint, PEM: string(k.PEM), CreatedAt: k.CreatedAt}
}

func optTime(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}
