package crafting

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/custody-dev/custody/attestation"
	"github.com/custody-dev/custody/client"
	"github.com/custody-dev/custody/contract"
	"github.com/custody-dev/custody/wire"
)

// OnlineInit is an init against the control plane.
type OnlineInit struct {
	InitOptions
	// ContractBody, when set, creates the workflow with it if it does not exist yet.
	ContractBody string
	// RemoteState keeps the state in the control plane instead of the workspace: from then on the
	// crafter works on the run's remote state.
	RemoteState bool
}

// InitOnline tells the control plane a run starts, takes the contract revision it answers (the
// latest, or the one pinned), and records the run like Init. A dry run asks the control plane to
// check everything and store nothing.
//
// The state in progress is checked first, so a refused init leaves no run behind; a run discarded
// with Replace is marked cancelled in the control plane, with the run that replaced it as reason.
func (c *Crafter) InitOnline(ctx context.Context, cp *client.Client, opts OnlineInit) (*State, error) {
	var replaced *State
	if !opts.RemoteState { // a run with remote state does not touch the workspace's
		var err error
		if replaced, _, err = c.runInProgress(ctx, opts.Replace); err != nil {
			return nil, err
		}
	}
	run, err := cp.InitRun(ctx, wire.InitRun{
		Project: opts.Project, Workflow: opts.Workflow, Revision: opts.Revision, Contract: opts.ContractBody,
		DryRun: opts.DryRun, RemoteState: opts.RemoteState, Runner: wire.Runner{Type: string(c.runner.Type), URL: c.runner.URL},
		Git: c.runnerGit(),
	})
	if err != nil {
		return nil, fmt.Errorf("init: %w", err)
	}
	ct, err := contract.Parse([]byte(run.Contract))
	if err != nil {
		return nil, fmt.Errorf("init: the control plane's contract revision %d: %w", run.Run.ContractRevision, err)
	}
	opts.Contract, opts.Revision, opts.RunID = ct, run.Run.ContractRevision, run.Run.ID
	if opts.RemoteState && run.Run.ID != "" {
		c.store = NewRemoteStore(cp, run.Run.ID)
	}
	st, err := c.Init(ctx, opts.InitOptions)
	if err != nil && run.Run.ID != "" {
		// The run will never get an attestation: say so now rather than let it expire.
		if _, rerr := cp.ResetRun(ctx, run.Run.ID, wire.FinishRun{State: "failed", Reason: err.Error()}); rerr != nil {
			err = errors.Join(err, fmt.Errorf("mark run %s failed: %w", run.Run.ID, rerr))
		}
	}
	if err == nil && replaced != nil {
		c.cancelReplaced(ctx, cp, replaced, st)
	}
	return st, err
}

// runnerGit is the branch and commit the runner context names, for the control plane's runs list;
// what is not a branch or a commit is left out (the attestation records the context as it is).
func (c *Crafter) runnerGit() *wire.GitRef {
	rc := &attestation.Runner{Type: string(c.runner.Type), Environment: c.runner.Environment}
	g := wire.GitRef{Branch: rc.Branch(), Commit: rc.Commit()}
	if g.CheckBranch() != nil {
		g.Branch = ""
	}
	if g.CheckCommit() != nil {
		g.Commit = ""
	}
	if g == (wire.GitRef{}) {
		return nil
	}
	return &g
}

// cancelReplaced marks the run a replacing init discarded as cancelled. The new run is started
// whatever the answer: a failure is a warning, the old run then expires as it would have.
func (c *Crafter) cancelReplaced(ctx context.Context, cp *client.Client, old, st *State) {
	if old.RunID == "" || old.DryRun || old.RunID == st.RunID {
		return
	}
	reason := fmt.Sprintf("replaced by run %s (attestation init --replace)", st.RunID)
	_, err := cp.ResetRun(ctx, old.RunID, wire.FinishRun{State: "cancelled", Reason: reason})
	switch {
	case err == nil, client.Code(err) == wire.CodeRunFinished:
	case client.Status(err) == http.StatusNotFound:
		// A run started offline: the control plane never knew it.
	default:
		c.warn(fmt.Sprintf("the replaced run %s could not be marked cancelled, it stays initialized until it expires: %v", old.RunID, err))
	}
}

// ResetOnline tells the control plane the run failed (or was cancelled), then clears the state.
func (c *Crafter) ResetOnline(ctx context.Context, cp *client.Client, state, reason string) (*State, error) {
	st, _, err := c.store.Load(ctx)
	if err != nil {
		return nil, fmt.Errorf("reset: %w", err)
	}
	if st.RunID != "" && !st.DryRun {
		_, err := cp.ResetRun(ctx, st.RunID, wire.FinishRun{State: state, Reason: reason})
		if err != nil && client.Code(err) != wire.CodeRunFinished {
			return nil, fmt.Errorf("reset: %w", err)
		}
	}
	return c.Reset(ctx)
}

// ControlPlaneDestination stores a pushed attestation in the control plane.
type ControlPlaneDestination struct {
	Client *client.Client
	// Result is the control plane's answer once stored.
	Result *wire.Pushed
}

// Store pushes the bundle for the run; pushing the same bundle again is safe.
func (d *ControlPlaneDestination) Store(ctx context.Context, p *Pushed) error {
	if p.State.DryRun {
		return errors.New("a dry run stores nothing in the control plane: push it with --bundle FILE")
	}
	res, err := d.Client.Push(ctx, p.State.RunID, p.Bundle)
	if err != nil {
		return err
	}
	d.Result = res
	return nil
}
