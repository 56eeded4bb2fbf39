package app

import (
	"context"
	"fmt"

	"github.com/custody-dev/custody/cas"
	"github.com/custody-dev/custody/controlplane/auth"
	"github.com/custody-dev/custody/controlplane/store"
	"github.com/custody-dev/custody/wire"
)

// Lists page by keyset: newest first, a page at most MaxListLimit rows, and the cursor of a page
// (Next) asks for the rows after its last one. A list reads its page's rows through one index range
// and answers them in one query: no bundle, no remote state, no query per row.

// MaxListLimit bounds the rows a page asks for; 0 asks for DefaultListLimit.
const (
	MaxListLimit     = 1000
	DefaultListLimit = 50
)

// RunQuery selects runs: empty fields do not filter. Workflow needs Project.
type RunQuery struct {
	Project    string
	Workflow   string
	State      string // a run state (initialized, succeeded, failed, cancelled, expired)
	RunnerType string // a runner type (GITHUB_ACTION, ...)
	Branch     string
	Cursor     string // a page's Next, "" for the first page
	Limit      int    // 0: DefaultListLimit; at most MaxListLimit
}

// RunPage is a page of runs, newest first. Next is the cursor of the following page, "" at the end.
type RunPage struct {
	Runs []wire.Run
	Next string
}

// ListRuns lists the runs the principal may read that q selects: a workflow token sees its
// workflow's runs only, a project token its project's, an org-wide token its org's. A project or
// workflow it may not see is not found, like one that does not exist.
func (a *App) ListRuns(ctx context.Context, p auth.Principal, q RunQuery) (RunPage, error) {
	f := store.RunFilter{State: store.RunState(q.State), RunnerType: q.RunnerType, Branch: q.Branch}
	switch f.State {
	case "", store.RunInitialized, store.RunSucceeded, store.RunFailed, store.RunCancelled, store.RunExpired:
	default:
		return RunPage{}, badRequest("state %s: want initialized, succeeded, failed, cancelled or expired", quoted(q.State))
	}
	if err := checkText("runner", q.RunnerType, maxRunnerType); err != nil {
		return RunPage{}, err
	}
	if err := checkText("branch", q.Branch, wire.MaxGitBranch); err != nil {
		return RunPage{}, err
	}
	limit, err := listLimit(q.Limit)
	if err != nil {
		return RunPage{}, err
	}
	if f.After, err = parseCursor(runCursor, q.Cursor); err != nil {
		return RunPage{}, err
	}
	org, project, workflow, err := a.listScope(ctx, p, q.Project, q.Workflow)
	if err != nil {
		return RunPage{}, err
	}
	f.OrgID, f.ProjectID, f.WorkflowID = narrowest(org, project, workflow)
	f.Limit = limit + 1 // one more tells whether a next page exists
	rs, err := a.store.ListRuns(ctx, f)
	if err != nil {
		return RunPage{}, fmt.Errorf("list runs: %w", err)
	}
	rs, next := pageOf(rs, limit, runCursor, func(r store.RunListing) store.Position {
		return store.Position{CreatedAt: r.CreatedAt, Key: r.ID}
	})
	page := RunPage{Runs: make([]wire.Run, 0, len(rs)), Next: next}
	for i := range rs {
		page.Runs = append(page.Runs, a.listedRun(&rs[i]))
	}
	return page, nil
}

// listScope returns the org, project and workflow a list of the principal covers: its token's scope,
// narrowed to the project and workflow named (which it must see).
func (a *App) listScope(ctx context.Context, p auth.Principal, project, workflow string) (orgID, projectID, workflowID string, err error) {
	orgID, projectID, workflowID = p.Token.OrgID, p.Token.ProjectID, p.Token.WorkflowID
	switch {
	case workflow != "" && project == "":
		return "", "", "", badRequest("workflow %s: name its project too", quoted(workflow))
	case workflow != "":
		pr, w, err := a.workflow(ctx, p, project, workflow)
		if err != nil {
			return "", "", "", err
		}
		return orgID, pr.ID, w.ID, nil
	case project != "":
		pr, err := a.project(ctx, p, project)
		if err != nil {
			return "", "", "", err
		}
		return orgID, pr.ID, workflowID, nil
	}
	return orgID, projectID, workflowID, nil
}

// pageOf cuts rows, asked for with a limit of one more than limit, to a page, and returns the
// cursor after its last row when more rows follow ("" at the end of the list).
func pageOf[T any](rows []T, limit int, k cursorKind, position func(T) store.Position) ([]T, string) {
	if len(rows) <= limit {
		return rows, ""
	}
	rows = rows[:limit]
	return rows, encodeCursor(k, position(rows[limit-1]))
}

// narrowest keeps the narrowest of a scope's org, project and workflow: a workflow implies its
// project and org (listScope found it in them), and a query that names all three misleads the
// database, which takes them for independent filters and so expects a few rows where the workflow
// has thousands (PostgreSQL then sorts them all rather than read its index in order).
func narrowest(org, project, workflow string) (string, string, string) {
	switch {
	case workflow != "":
		return "", "", workflow
	case project != "":
		return "", project, ""
	}
	return org, "", ""
}

func listLimit(n int) (int, error) {
	switch {
	case n < 0 || n > MaxListLimit:
		return 0, badRequest("limit %d: want 1 to %d, or 0 for %d", n, MaxListLimit, DefaultListLimit)
	case n == 0:
		return DefaultListLimit, nil
	}
	return n, nil
}

func (a *App) listedRun(l *store.RunListing) wire.Run {
	r := l.Run
	if r.State == store.RunInitialized && !r.ExpiresAt.IsZero() && !a.now().Before(r.ExpiresAt) {
		r.State = store.RunExpired // as GetRun shows it; the expiry sweep will record it
	}
	return a.toRun(&store.Project{ID: l.ProjectID, Name: l.Project}, &store.Workflow{ID: r.WorkflowID, Name: l.Workflow}, &r)
}

// AttestationQuery selects attestations: a workflow's (Project and Workflow), or those mentioning a
// digest (Digest, in the Project or Workflow named, if any).
type AttestationQuery struct {
	Project  string
	Workflow string
	Digest   string // sha256:<hex> of a material or a subject
	Cursor   string // a page's Next, "" for the first page
	Limit    int    // 0: DefaultListLimit; at most MaxListLimit
}

// AttestationPage is a page of attestations, newest first. Next is the cursor of the following
// page, "" at the end.
type AttestationPage struct {
	Attestations []wire.Attestation
	Next         string
}

// FindByDigest lists the attestations the principal may read that mention digest, as a material or
// a subject, newest first, each with its mentions of the digest and its run's branch and commit. A
// scoped token searches its scope only, so what it may read is found whatever the rest of the org
// holds, and finding an attestation opens nothing.
func (a *App) FindByDigest(ctx context.Context, p auth.Principal, digest, cursor string, limit int) (AttestationPage, error) {
	return a.ListAttestations(ctx, p, AttestationQuery{Digest: digest, Cursor: cursor, Limit: limit})
}

// ListAttestations lists a workflow's attestations, or those mentioning a digest (FindByDigest), in
// the project or workflow named if any.
func (a *App) ListAttestations(ctx context.Context, p auth.Principal, q AttestationQuery) (AttestationPage, error) {
	if q.Workflow == "" && q.Digest == "" {
		return AttestationPage{}, badRequest("list attestations of a workflow (project and workflow) or of a material digest")
	}
	if q.Digest != "" {
		if _, err := cas.ParseDigest(q.Digest); err != nil {
			return AttestationPage{}, badRequest("digest: %v", err)
		}
	}
	limit, err := listLimit(q.Limit)
	if err != nil {
		return AttestationPage{}, err
	}
	f := store.AttestationFilter{Digest: q.Digest, Limit: limit + 1}
	if f.After, err = parseCursor(attestationCursor, q.Cursor); err != nil {
		return AttestationPage{}, err
	}
	org, project, workflow, err := a.listScope(ctx, p, q.Project, q.Workflow)
	if err != nil {
		return AttestationPage{}, err
	}
	f.OrgID, f.ProjectID, f.WorkflowID = narrowest(org, project, workflow)
	if f.Digest != "" { // a digest's mentions are indexed by org and by project, not by workflow
		f.OrgID, f.ProjectID, _ = narrowest(org, project, "")
	}
	as, err := a.store.ListAttestations(ctx, f)
	if err != nil {
		return AttestationPage{}, fmt.Errorf("list attestations: %w", err)
	}
	as, next := pageOf(as, limit, attestationCursor, func(a store.AttestationListing) store.Position {
		return store.Position{CreatedAt: a.CreatedAt, Key: a.Digest}
	})
	page := AttestationPage{Attestations: make([]wire.Attestation, 0, len(as)), Next: next}
	for i := range as {
		l := &as[i]
		out := toAttestation(&l.Attestation, &store.Project{Name: l.Project}, &store.Workflow{Name: l.Workflow})
		out.Git = gitRef(l.GitBranch, l.GitCommit)
		for _, m := range l.Materials {
			out.Mentions = append(out.Mentions, wire.Mention{Name: m.Name, Kind: m.Kind, Subject: m.Output})
		}
		page.Attestations = append(page.Attestations, *out)
	}
	return page, nil
}

func gitRef(branch, commit string) *wire.GitRef {
	if branch == "" && commit == "" {
		return nil
	}
	return &wire.GitRef{Branch: branch, Commit: commit}
}
