package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/custody-dev/custody/controlplane/store"
)

// CreateRun stores r (State "" means initialized), in its workflow's project and org: ErrExists if
// the ID is taken, ErrNotFound if the workflow or its contract revision does not exist.
func (s *DB) CreateRun(ctx context.Context, r *store.Run) error {
	fillID(&r.ID)
	s.stamp(&r.CreatedAt)
	r.ExpiresAt, r.FinishedAt = norm(r.ExpiresAt), norm(r.FinishedAt)
	if r.State == "" {
		r.State = store.RunInitialized
	}
	var remote any
	if r.RemoteState != nil {
		remote = r.RemoteState
	}
	res, err := s.w.ExecContext(ctx, s.q(`INSERT INTO runs (id, workflow_id, contract_revision, state, reason, runner_type,
		runner_url, created_at, expires_at, finished_at, attestation_digest, remote_state, remote_state_digest,
		git_branch, git_commit, project_id, org_id)
		SELECT ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, w.project_id, p.org_id
		FROM workflows w JOIN projects p ON p.id = w.project_id WHERE w.id = ?`),
		r.ID, r.WorkflowID, r.ContractRevision, string(r.State), r.Reason, r.RunnerType, r.RunnerURL,
		micros(r.CreatedAt), nullMicros(r.ExpiresAt), nullMicros(r.FinishedAt), r.AttestationDigest, remote, r.RemoteStateDigest,
		r.GitBranch, r.GitCommit, r.WorkflowID)
	if err == nil {
		var n int64
		if n, err = res.RowsAffected(); err == nil && n == 0 {
			err = fmt.Errorf("no workflow %s: %w", r.WorkflowID, store.ErrNotFound)
		}
	}
	if err != nil {
		return s.fail(err, "create run of workflow %s (contract revision %d)", r.WorkflowID, r.ContractRevision)
	}
	return nil
}

const runColumns = `id, workflow_id, contract_revision, state, reason, runner_type, runner_url, created_at,
	expires_at, finished_at, attestation_digest, remote_state, remote_state_digest, git_branch, git_commit`

// runListColumns are runColumns without the remote state (up to 8 MiB a run), which a list does not
// carry: a page of runs costs its rows, not their states. Then the names of the run's workflow and
// project.
const runListColumns = `r.id, r.workflow_id, r.contract_revision, r.state, r.reason, r.runner_type, r.runner_url, r.created_at,
	r.expires_at, r.finished_at, r.attestation_digest, NULL, r.remote_state_digest, r.git_branch, r.git_commit,
	w.name, r.project_id, p.name`

func scanRun(sc scanner) (store.Run, error) {
	var r store.Run
	return r, scanRunInto(sc, &r)
}

func scanRunListing(sc scanner) (store.RunListing, error) {
	var l store.RunListing
	return l, scanRunInto(sc, &l.Run, &l.Workflow, &l.ProjectID, &l.Project)
}

// scanRunInto scans runColumns into r, then the columns after them into more.
func scanRunInto(sc scanner, r *store.Run, more ...any) error {
	var state string
	var created int64
	var expires, finished sql.NullInt64
	err := sc.Scan(append([]any{&r.ID, &r.WorkflowID, &r.ContractRevision, &state, &r.Reason, &r.RunnerType, &r.RunnerURL,
		&created, &expires, &finished, &r.AttestationDigest, &r.RemoteState, &r.RemoteStateDigest, &r.GitBranch, &r.GitCommit}, more...)...)
	if err != nil {
		return err
	}
	r.State = store.RunState(state)
	r.CreatedAt, r.ExpiresAt, r.FinishedAt = fromMicros(created), fromNullMicros(expires), fromNullMicros(finished)
	r.RemoteState = bytesOut(r.RemoteState)
	return nil
}

// GetRun returns the run, or ErrNotFound.
func (s *DB) GetRun(ctx context.Context, id string) (*store.Run, error) {
	r, err := scanRun(s.r.QueryRowContext(ctx, s.q(`SELECT `+runColumns+` FROM runs WHERE id = ?`), id))
	if err != nil {
		return nil, s.fail(err, "get run %s", id)
	}
	return &r, nil
}

// ListRuns returns the runs f selects, newest first (created_at, then id, descending), at most
// f.Limit (default 50), after f.After, without their remote state (GetRun has it). Every filter has
// an index in list order (migration 0004): the database reads one range from the position on.
func (s *DB) ListRuns(ctx context.Context, f store.RunFilter) ([]store.RunListing, error) {
	query, args := RunsQuery(f)
	rows, err := s.r.QueryContext(ctx, s.d.Rebind(query), args...)
	if err != nil {
		return nil, s.fail(err, "list runs")
	}
	rs, err := collect(rows, scanRunListing)
	if err != nil {
		return nil, s.fail(err, "list runs")
	}
	return rs, nil
}

// RunsQuery is the query ListRuns runs for f, with "?" placeholders, and its arguments (exported
// for the tests that check its plan).
func RunsQuery(f store.RunFilter) (string, []any) {
	var c conditions
	c.equal("r.org_id", f.OrgID)
	c.equal("r.project_id", f.ProjectID)
	c.equal("r.workflow_id", f.WorkflowID)
	c.equal("r.state", string(f.State))
	c.equal("r.runner_type", f.RunnerType)
	c.equal("r.git_branch", f.Branch)
	c.after("r.created_at", "r.id", f.After)
	query := `SELECT ` + runListColumns + ` FROM runs r
		JOIN workflows w ON w.id = r.workflow_id JOIN projects p ON p.id = r.project_id` + c.where() +
		` ORDER BY r.created_at DESC, r.id DESC LIMIT ?`
	return query, append(c.args, limitOr(f.Limit, defaultLimit))
}

// FinishRun moves an initialized run to failed or cancelled: ErrNotFound if there is no such run,
// ErrStale if it is no longer initialized (pushed, reset, expired).
func (s *DB) FinishRun(ctx context.Context, id string, state store.RunState, reason string, at time.Time) error {
	if state != store.RunFailed && state != store.RunCancelled {
		return fmt.Errorf("finish run %s: state %q: a run is finished as %q or %q", id, state, store.RunFailed, store.RunCancelled)
	}
	s.stamp(&at)
	res, err := s.w.ExecContext(ctx, s.q(`UPDATE runs SET state = ?, reason = ?, finished_at = ? WHERE id = ? AND state = ?`),
		string(state), reason, micros(at), id, string(store.RunInitialized))
	if err != nil {
		return s.fail(err, "finish run %s", id)
	}
	return s.casResult(ctx, res, id, "finish run %s", id)
}

// ExpireRuns marks initialized runs whose ExpiresAt is before now as expired (finished at now).
func (s *DB) ExpireRuns(ctx context.Context, now time.Time) (int, error) {
	now = norm(now)
	res, err := s.w.ExecContext(ctx, s.q(`UPDATE runs SET state = ?, finished_at = ?
		WHERE state = ? AND expires_at IS NOT NULL AND expires_at < ?`),
		string(store.RunExpired), micros(now), string(store.RunInitialized), micros(now))
	if err != nil {
		return 0, s.fail(err, "expire runs")
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, s.fail(err, "expire runs")
	}
	return int(n), nil
}

// SetRemoteState replaces the run's remote state and digest if its digest is still base ("" for
// none): ErrStale if another write came first, ErrNotFound if there is no such run. The check and the
// write are one statement, so of N writers racing from the same base exactly one wins.
func (s *DB) SetRemoteState(ctx context.Context, runID, base string, state []byte, digest string) error {
	var remote any
	if state != nil {
		remote = state
	}
	res, err := s.w.ExecContext(ctx, s.q(`UPDATE runs SET remote_state = ?, remote_state_digest = ?
		WHERE id = ? AND remote_state_digest = ?`), remote, digest, runID, base)
	if err != nil {
		return s.fail(err, "set remote state of run %s", runID)
	}
	return s.casResult(ctx, res, runID, "set remote state of run %s", runID)
}

// casResult turns a conditional update of one run into nil (updated), ErrNotFound (no such run) or
// ErrStale (the run is there, the condition no longer holds).
func (s *DB) casResult(ctx context.Context, res interface{ RowsAffected() (int64, error) }, id, format string, args ...any) error {
	n, err := res.RowsAffected()
	if err != nil {
		return s.fail(err, format, args...)
	}
	if n > 0 {
		return nil
	}
	var one int
	if err := s.r.QueryRowContext(ctx, s.q(`SELECT 1 FROM runs WHERE id = ?`), id).Scan(&one); err != nil {
		return s.fail(err, format, args...)
	}
	return fmt.Errorf("%s: %w", fmt.Sprintf(format, args...), store.ErrStale)
}
