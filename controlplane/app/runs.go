package app

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"

	"github.com/custody-dev/custody/controlplane/auth"
	"github.com/custody-dev/custody/controlplane/store"
	"github.com/custody-dev/custody/wire"
)

// InitRun starts a run of a workflow at a contract revision (latest unless pinned). With a contract,
// a workflow that does not exist is created (by a token allowed to act on the project). A dry run
// checks everything and stores nothing.
func (a *App) InitRun(ctx context.Context, p auth.Principal, req wire.InitRun) (*wire.InitializedRun, error) {
	if err := checkText("runner.type", req.Runner.Type, maxRunnerType); err != nil {
		return nil, err
	}
	if err := checkText("runner.url", req.Runner.URL, maxRunnerURL); err != nil {
		return nil, err
	}
	git, err := checkGit(req.Git)
	if err != nil {
		return nil, err
	}
	pr, w, err := a.workflow(ctx, p, req.Project, req.Workflow)
	var e *Error
	switch {
	case err == nil:
	case errors.As(err, &e) && e.Code == wire.CodeNotFound && pr != nil && req.Contract != "":
		// Whether the workflow does not exist or is another one's, the answer is the same.
		if !p.Project(pr.OrgID, pr.ID) {
			return nil, forbidden("this token may run only its own workflow: it may not create workflow %s in project %s", req.Workflow, req.Project)
		}
		if req.DryRun {
			return a.dryRunNewWorkflow(pr, req)
		}
		if _, err := a.createWorkflow(ctx, pr, wire.CreateWorkflow{Name: req.Workflow, Contract: req.Contract}); err != nil &&
			!isCode(err, wire.CodeConflict) { // created meanwhile by a parallel init: use it
			return nil, err
		}
		if pr, w, err = a.workflow(ctx, p, req.Project, req.Workflow); err != nil {
			return nil, err
		}
	default:
		return nil, err
	}
	rev, _, err := a.revision(ctx, w, req.Revision)
	if err != nil {
		return nil, err
	}
	keys, err := a.store.ListPublicKeys(ctx, w.ID)
	if err != nil {
		return nil, fmt.Errorf("init: %w", err)
	}
	now := a.now().UTC()
	run := &store.Run{ID: newID(), WorkflowID: w.ID, ContractRevision: rev.Revision, State: store.RunInitialized,
		RunnerType: req.Runner.Type, RunnerURL: req.Runner.URL, GitBranch: git.Branch, GitCommit: git.Commit,
		CreatedAt: now, ExpiresAt: now.Add(a.runTTL)}
	if req.DryRun {
		run.ID = ""
	} else if err := a.store.CreateRun(ctx, run); err != nil {
		return nil, fmt.Errorf("init: create run: %w", err)
	}
	out := &wire.InitializedRun{Run: a.toRun(pr, w, run), Contract: string(rev.Body), DryRun: req.DryRun, Signing: wire.Signing{KeyHints: []string{}}}
	for _, k := range keys {
		out.Signing.KeyHints = append(out.Signing.KeyHints, k.Hint)
	}
	return out, nil
}

func (a *App) dryRunNewWorkflow(pr *store.Project, req wire.InitRun) (*wire.InitializedRun, error) {
	if err := checkName("workflow", req.Workflow); err != nil {
		return nil, err
	}
	if _, err := parseContract([]byte(req.Contract)); err != nil {
		return nil, err
	}
	now := a.now().UTC()
	return &wire.InitializedRun{
		Run:      wire.Run{Project: pr.Name, Workflow: req.Workflow, ContractRevision: 1, State: string(store.RunInitialized), CreatedAt: now, ExpiresAt: now.Add(a.runTTL), Runner: req.Runner},
		Contract: req.Contract, DryRun: true, Signing: wire.Signing{KeyHints: []string{}},
	}, nil
}

func isCode(err error, code string) bool {
	e, ok := AsError(err)
	return ok && e.Code == code
}

// run loads a run the principal may act on, with its workflow and project; another workflow's run
// is not found, like one that does not exist.
func (a *App) run(ctx context.Context, p auth.Principal, id string) (*store.Run, *store.Workflow, *store.Project, error) {
	if !isID(id) {
		return nil, nil, nil, badRequest("run id %q: want a UUID such as %s", id, "0b5e6c4e-8f0a-4c1e-9d7b-2a3c4d5e6f70")
	}
	r, err := a.store.GetRun(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil, nil, notFound("run %s not found", id)
	}
	if err != nil {
		return nil, nil, nil, fmt.Errorf("get run %s: %w", id, err)
	}
	w, err := a.store.GetWorkflowByID(ctx, r.WorkflowID)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("get run %s: workflow: %w", id, err)
	}
	pr, err := a.store.GetProjectByID(ctx, w.ProjectID)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("get run %s: project: %w", id, err)
	}
	if !p.Workflow(pr.OrgID, pr.ID, w.ID) {
		return nil, nil, nil, notFound("run %s not found", id)
	}
	if r.State == store.RunInitialized && !a.now().Before(r.ExpiresAt) {
		r.State = store.RunExpired // the expiry sweep will record it
	}
	return r, w, pr, nil
}

// GetRun returns a run.
func (a *App) GetRun(ctx context.Context, p auth.Principal, id string) (*wire.Run, error) {
	r, w, pr, err := a.run(ctx, p, id)
	if err != nil {
		return nil, err
	}
	out := a.toRun(pr, w, r)
	return &out, nil
}

// ResetRun marks an initialized run failed (default) or cancelled, with a reason.
func (a *App) ResetRun(ctx context.Context, p auth.Principal, id string, req wire.FinishRun) (*wire.Run, error) {
	state := store.RunState(req.State)
	switch state {
	case "":
		state = store.RunFailed
	case store.RunFailed, store.RunCancelled:
	default:
		return nil, badRequest("state %q: want failed or cancelled", req.State)
	}
	if err := checkText("reason", req.Reason, maxReason); err != nil {
		return nil, err
	}
	r, w, pr, err := a.run(ctx, p, id)
	if err != nil {
		return nil, err
	}
	if r.State != store.RunInitialized {
		return nil, conflict(wire.CodeRunFinished, "run %s is %s already", id, r.State)
	}
	if err := a.store.FinishRun(ctx, id, state, req.Reason, a.now().UTC()); err != nil {
		if errors.Is(err, store.ErrStale) {
			return nil, conflict(wire.CodeRunFinished, "run %s finished meanwhile", id)
		}
		return nil, fmt.Errorf("reset run: %w", err)
	}
	if r, err = a.store.GetRun(ctx, id); err != nil {
		return nil, fmt.Errorf("reset run: %w", err)
	}
	out := a.toRun(pr, w, r)
	return &out, nil
}

// GetState returns a run's remote crafting state.
func (a *App) GetState(ctx context.Context, p auth.Principal, id string) (*wire.RemoteState, error) {
	r, _, _, err := a.run(ctx, p, id)
	if err != nil {
		return nil, err
	}
	return &wire.RemoteState{Digest: r.RemoteStateDigest, State: r.RemoteState}, nil
}

// PutState replaces a run's remote state if it is still at base: a stale write is refused (409) and
// the client re-reads and retries.
func (a *App) PutState(ctx context.Context, p auth.Principal, id string, req wire.PutRemoteState) (*wire.RemoteState, error) {
	r, _, _, err := a.run(ctx, p, id)
	if err != nil {
		return nil, err
	}
	if r.State != store.RunInitialized {
		return nil, conflict(wire.CodeRunFinished, "run %s is %s: its state can no longer change", id, r.State)
	}
	if len(req.State) == 0 {
		return nil, badRequest("empty state")
	}
	sum := sha256.Sum256(req.State)
	digest := "sha256:" + hex.EncodeToString(sum[:])
	if err := a.store.SetRemoteState(ctx, id, req.Base, req.State, digest); err != nil {
		if errors.Is(err, store.ErrStale) {
			return nil, conflict(wire.CodeStaleState, "the state of run %s changed since %q: read it again", id, req.Base)
		}
		return nil, fmt.Errorf("put state: %w", err)
	}
	return &wire.RemoteState{Digest: digest}, nil
}

// isID reports whether s has the form newID gives: a lowercase UUID.
func isID(s string) bool {
	if len(s) != 36 {
		return false
	}
	for i, c := range []byte(s) {
		switch i {
		case 8, 13, 18, 23:
			if c != '-' {
				return false
			}
		default:
			if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
				return false
			}
		}
	}
	return true
}

func (a *App) runURL(id string) string { return a.baseURL + "/v1/runs/" + id }

// pageURL is the run's page in the web UI (controlplane/ui).
func (a *App) pageURL(id string) string { return a.baseURL + "/ui/runs/" + id }

func (a *App) toRun(pr *store.Project, w *store.Workflow, r *store.Run) wire.Run {
	out := wire.Run{ID: r.ID, Project: pr.Name, Workflow: w.Name, WorkflowID: w.ID, ContractRevision: r.ContractRevision,
		State: string(r.State), Reason: r.Reason, Runner: wire.Runner{Type: r.RunnerType, URL: r.RunnerURL},
		CreatedAt: r.CreatedAt, ExpiresAt: r.ExpiresAt, FinishedAt: optTime(r.FinishedAt), AttestationDigest: r.AttestationDigest,
		Git: gitRef(r.GitBranch, r.GitCommit)}
	if r.ID != "" {
		out.URL = a.runURL(r.ID)
	}
	return out
}

// checkGit checks the branch and commit an init reports.
func checkGit(g *wire.GitRef) (wire.GitRef, error) {
	if g == nil {
		return wire.GitRef{}, nil
	}
	for _, err := range []error{g.CheckBranch(), g.CheckCommit()} {
		if err != nil {
			return wire.GitRef{}, badRequest("%v", err)
		}
	}
	return *g, nil
}
