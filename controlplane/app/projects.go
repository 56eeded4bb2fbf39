package app

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/custody-dev/custody/attestation"
	"github.com/custody-dev/custody/contract"
	"github.com/custody-dev/custody/controlplane/auth"
	"github.com/custody-dev/custody/controlplane/store"
	"github.com/custody-dev/custody/wire"
	"github.com/sigstore/sigstore/pkg/cryptoutils"
)

func requireAdmin(p auth.Principal) error {
	if !p.Admin() {
		return forbidden("this needs an admin token")
	}
	return nil
}

func checkName(what, name string) error {
	if !contract.IsDNS1123Label(name) {
		return badRequest("%s name %q: must be a DNS-1123 label (lowercase letters, digits and '-', at most 63)", what, name)
	}
	return nil
}

// checkText checks free text a client gives (a token's name, a description, a reason): valid UTF-8,
// no NUL (PostgreSQL's text cannot hold one, SQLite's can: refused on both alike) and at most max
// bytes.
func checkText(field, s string, max int) error {
	switch {
	case len(s) > max:
		return badRequest("%s: %d bytes, at most %d", field, len(s), max)
	case !utf8.ValidString(s):
		return badRequest("%s: not valid UTF-8", field)
	case strings.IndexByte(s, 0) >= 0:
		return badRequest("%s %q: holds a NUL byte", field, s)
	}
	return nil
}

// Bounds of the free text fields.
const (
	maxTokenName   = 256
	maxDescription = 4096
	maxRunnerType  = 256
	maxRunnerURL   = 4096
	maxReason      = 64 << 10
)

// CreateProject creates a project in the principal's org.
func (a *App) CreateProject(ctx context.Context, p auth.Principal, req wire.CreateProject) (*wire.Project, error) {
	if err := requireAdmin(p); err != nil {
		return nil, err
	}
	if err := checkName("project", req.Name); err != nil {
		return nil, err
	}
	pr := &store.Project{ID: newID(), OrgID: p.Token.OrgID, Name: req.Name, CreatedAt: a.now().UTC()}
	if err := a.store.CreateProject(ctx, pr); err != nil {
		if errors.Is(err, store.ErrExists) {
			return nil, conflict(wire.CodeConflict, "project %s already exists", req.Name)
		}
		return nil, fmt.Errorf("create project: %w", err)
	}
	return toProject(pr), nil
}

// ListProjects lists the projects the principal can see.
func (a *App) ListProjects(ctx context.Context, p auth.Principal) ([]wire.Project, error) {
	ps, err := a.store.ListProjects(ctx, p.Token.OrgID)
	if err != nil {
		return nil, fmt.Errorf("list projects: %w", err)
	}
	out := []wire.Project{}
	for i := range ps {
		if p.Project(ps[i].OrgID, ps[i].ID) {
			out = append(out, *toProject(&ps[i]))
		}
	}
	return out, nil
}

// Visibility. What a token may not see is answered exactly like what does not exist (404): a scoped
// token learns nothing of other projects and workflows. 403 is for what it sees but may not do: a
// workflow token listing its project's workflows, a non-admin token managing.

// project finds a project of the principal's org, by name, that the principal sees.
func (a *App) project(ctx context.Context, p auth.Principal, name string) (*store.Project, error) {
	if err := checkName("project", name); err != nil {
		return nil, err
	}
	pr, err := a.store.GetProject(ctx, p.Token.OrgID, name)
	if errors.Is(err, store.ErrNotFound) || err == nil && !p.SeesProject(pr.OrgID, pr.ID) {
		return nil, notFound("project %s not found", name)
	}
	if err != nil {
		return nil, fmt.Errorf("get project %s: %w", name, err)
	}
	return pr, nil
}

// workflow finds a workflow the principal may see (and run), by project and name. When the project
// is seen but the workflow is not found, the project is returned with the error.
func (a *App) workflow(ctx context.Context, p auth.Principal, project, name string) (*store.Project, *store.Workflow, error) {
	pr, err := a.project(ctx, p, project)
	if err != nil {
		return nil, nil, err
	}
	if err := checkName("workflow", name); err != nil {
		return nil, nil, err
	}
	w, err := a.store.GetWorkflow(ctx, pr.ID, name)
	if errors.Is(err, store.ErrNotFound) || err == nil && !p.Workflow(pr.OrgID, pr.ID, w.ID) {
		return pr, nil, notFound("workflow %s not found in project %s", name, project)
	}
	if err != nil {
		return nil, nil, fmt.Errorf("get workflow %s: %w", name, err)
	}
	return pr, w, nil
}

// parseContract validates an uploaded contract with the same parser the CLI uses.
func parseContract(body []byte) (*contract.Contract, error) {
	c, err := contract.Parse(body)
	if err != nil {
		return nil, unprocessable(wire.CodeInvalidContract, "invalid contract: %v", err)
	}
	return c, nil
}

func (a *App) newRevision(body []byte) *store.ContractRevision {
	sum := sha256.Sum256(body)
	return &store.ContractRevision{Revision: 1, Body: body, Digest: "sha256:" + hex.EncodeToString(sum[:]), CreatedAt: a.now().UTC()}
}

// CreateWorkflow creates a workflow with its first contract revision (the default contract if none).
func (a *App) CreateWorkflow(ctx context.Context, p auth.Principal, project string, req wire.CreateWorkflow) (*wire.Workflow, error) {
	pr, err := a.project(ctx, p, project)
	if err != nil {
		return nil, err
	}
	if err := requireAdmin(p); err != nil {
		return nil, err
	}
	return a.createWorkflow(ctx, pr, req)
}

func (a *App) createWorkflow(ctx context.Context, pr *store.Project, req wire.CreateWorkflow) (*wire.Workflow, error) {
	if err := checkName("workflow", req.Name); err != nil {
		return nil, err
	}
	if err := checkText("description", req.Description, maxDescription); err != nil {
		return nil, err
	}
	body := []byte(req.Contract)
	if len(body) == 0 {
		var err error
		if body, err = defaultContract(req.Name); err != nil {
			return nil, err
		}
	}
	c, err := parseContract(body)
	if err != nil {
		return nil, err
	}
	w := &store.Workflow{ID: newID(), ProjectID: pr.ID, Name: req.Name, Description: req.Description, CreatedAt: a.now().UTC()}
	rev := a.newRevision(body)
	rev.WorkflowID = w.ID
	if err := a.store.CreateWorkflow(ctx, w, rev); err != nil {
		if errors.Is(err, store.ErrExists) {
			return nil, conflict(wire.CodeConflict, "workflow %s already exists in project %s", req.Name, pr.Name)
		}
		return nil, fmt.Errorf("create workflow: %w", err)
	}
	return toWorkflow(pr, w, c, rev), nil
}

func defaultContract(name string) ([]byte, error) {
	c := contract.Default(name)
	b, err := jsonMarshal(c)
	if err != nil {
		return nil, fmt.Errorf("default contract: %w", err)
	}
	return b, nil
}

// GetWorkflow returns a workflow and its latest revision.
func (a *App) GetWorkflow(ctx context.Context, p auth.Principal, project, name string) (*wire.Workflow, error) {
	pr, w, err := a.workflow(ctx, p, project, name)
	if err != nil {
		return nil, err
	}
	rev, c, err := a.revision(ctx, w, 0)
	if err != nil {
		return nil, err
	}
	return toWorkflow(pr, w, c, rev), nil
}

// ListWorkflows lists a project's workflows.
func (a *App) ListWorkflows(ctx context.Context, p auth.Principal, project string) ([]wire.Workflow, error) {
	pr, err := a.project(ctx, p, project)
	if err != nil {
		return nil, err
	}
	if !p.Project(pr.OrgID, pr.ID) {
		return nil, forbidden("this token may not list the workflows of project %s", project)
	}
	ws, err := a.store.ListWorkflows(ctx, pr.ID)
	if err != nil {
		return nil, fmt.Errorf("list workflows: %w", err)
	}
	revs, err := a.store.LatestRevisions(ctx, pr.ID)
	if err != nil {
		return nil, fmt.Errorf("list workflows: %w", err)
	}
	latest := make(map[string]*store.ContractRevision, len(revs))
	for i := range revs {
		latest[revs[i].WorkflowID] = &revs[i]
	}
	out := []wire.Workflow{}
	for i := range ws {
		rev := latest[ws[i].ID]
		if rev == nil { // created since the list was read
			continue
		}
		// The contract's name is parsed once per control plane and contract digest: a list costs
		// its two queries, not one a workflow.
		c, err := a.contracts.get(rev.Digest, func() (*contract.Contract, error) {
			full, err := a.store.GetContractRevision(ctx, ws[i].ID, rev.Revision)
			if err != nil {
				return nil, err
			}
			return contract.Parse(full.Body)
		})
		if err != nil {
			return nil, fmt.Errorf("contract revision %d of %s: %w", rev.Revision, ws[i].Name, err)
		}
		out = append(out, *toWorkflow(pr, &ws[i], c, rev))
	}
	return out, nil
}

// revision loads and parses revision n (0: latest) of a workflow's contract.
func (a *App) revision(ctx context.Context, w *store.Workflow, n int) (*store.ContractRevision, *contract.Contract, error) {
	if n < 0 {
		return nil, nil, badRequest("revision %d: want a revision number, or 0 for the latest", n)
	}
	rev, err := a.store.GetContractRevision(ctx, w.ID, n)
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil, notFound("workflow %s has no contract revision %d", w.Name, n)
	}
	if err != nil {
		return nil, nil, fmt.Errorf("get contract revision: %w", err)
	}
	c, err := a.contracts.get(rev.Digest, func() (*contract.Contract, error) { return contract.Parse(rev.Body) })
	if err != nil {
		return nil, nil, fmt.Errorf("stored contract revision %d of %s: %w", rev.Revision, w.Name, err)
	}
	return rev, c, nil
}

// UpdateContract stores the next revision of a workflow's contract; earlier revisions are kept.
func (a *App) UpdateContract(ctx context.Context, p auth.Principal, project, name string, req wire.UpdateContract) (*wire.ContractRevision, error) {
	_, w, err := a.workflow(ctx, p, project, name)
	if err != nil {
		return nil, err
	}
	if err := requireAdmin(p); err != nil {
		return nil, err
	}
	body := []byte(req.Contract)
	if _, err := parseContract(body); err != nil {
		return nil, err
	}
	draft := a.newRevision(body)
	rev, err := a.store.AddContractRevision(ctx, w.ID, body, draft.Digest, draft.CreatedAt)
	if err != nil {
		return nil, fmt.Errorf("add contract revision: %w", err)
	}
	return toRevision(rev), nil
}

// GetContract returns revision n (0: latest) of a workflow's contract.
func (a *App) GetContract(ctx context.Context, p auth.Principal, project, name string, n int) (*wire.ContractRevision, error) {
	_, w, err := a.workflow(ctx, p, project, name)
	if err != nil {
		return nil, err
	}
	rev, _, err := a.revision(ctx, w, n)
	if err != nil {
		return nil, err
	}
	return toRevision(rev), nil
}

// AddKey trusts a public key for key-signed pushes of a workflow.
func (a *App) AddKey(ctx context.Context, p auth.Principal, project, name string, req wire.AddPublicKey) (*wire.PublicKey, error) {
	_, w, err := a.workflow(ctx, p, project, name)
	if err != nil {
		return nil, err
	}
	if err := requireAdmin(p); err != nil {
		return nil, err
	}
	pub, err := cryptoutils.UnmarshalPEMToPublicKey([]byte(req.PEM))
	if err != nil {
		return nil, badRequest("public key: not a PEM public key: %v", err)
	}
	hint, err := attestation.KeyHint(pub)
	if err != nil {
		return nil, badRequest("public key: %v", err)
	}
	k := &store.PublicKey{ID: newID(), WorkflowID: w.ID, PEM: []byte(req.PEM), Hint: hint, CreatedAt: a.now().UTC()}
	if err := a.store.AddPublicKey(ctx, k); err != nil {
		if errors.Is(err, store.ErrExists) {
			return nil, conflict(wire.CodeConflict, "workflow %s already trusts this key", name)
		}
		return nil, fmt.Errorf("add key: %w", err)
	}
	return toKey(k), nil
}

// RemoveKey stops trusting a workflow's key, named by its ID: pushes signed with it are refused from
// now on. Attestations it verified stay stored with the verdict they had when pushed.
func (a *App) RemoveKey(ctx context.Context, p auth.Principal, project, name, id string) (*wire.PublicKey, error) {
	_, w, err := a.workflow(ctx, p, project, name)
	if err != nil {
		return nil, err
	}
	if err := requireAdmin(p); err != nil {
		return nil, err
	}
	k, err := a.store.RemovePublicKey(ctx, w.ID, id)
	if errors.Is(err, store.ErrNotFound) {
		return nil, notFound("workflow %s/%s trusts no key %s: `custody workflow key list` shows its keys", project, name, id)
	}
	if err != nil {
		return nil, fmt.Errorf("remove key: %w", err)
	}
	a.log.Info("public key removed", "workflow", name, "project", project, "key", k.Hint, "id", k.ID)
	return toKey(k), nil
}

// ListKeys lists the keys trusted for a workflow.
func (a *App) ListKeys(ctx context.Context, p auth.Principal, project, name string) ([]wire.PublicKey, error) {
	_, w, err := a.workflow(ctx, p, project, name)
	if err != nil {
		return nil, err
	}
	ks, err := a.store.ListPublicKeys(ctx, w.ID)
	if err != nil {
		return nil, fmt.Errorf("list keys: %w", err)
	}
	out := []wire.PublicKey{}
	for i := range ks {
		out = append(out, *toKey(&ks[i]))
	}
	return out, nil
}
