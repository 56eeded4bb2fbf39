package sqlstore

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/custody-dev/custody/controlplane/store"
)

var runsInsert = rowsInsert{
	prefix: `INSERT INTO runs (id, workflow_id, contract_revision, state, reason, runner_type, runner_url, created_at,
		expires_at, finished_at, attestation_digest, remote_state, remote_state_digest, git_branch, git_commit, project_id, org_id) VALUES `,
	columns: 17,
}

var attestationsInsert = rowsInsert{
	prefix:  `INSERT INTO attestations (digest, run_id, workflow_id, bundle, created_at, project_id, org_id) VALUES `,
	columns: 7,
}

// ImportRuns stores runs as they are given (state, times, branch, attestation digest) and atts, the
// attestations of those that succeeded, with their materials indexed as PutAttestation indexes them,
// in one transaction of a few statements per thousand rows. IDs and times are filled and normalized
// as CreateRun does; ErrExists if an ID or digest is taken, ErrNotFound if a workflow or contract
// revision (or an attestation's run) does not exist, and nothing is stored then.
func (s *DB) ImportRuns(ctx context.Context, runs []store.Run, atts []store.Attestation) error {
	return s.inTx(ctx, func(tx *sql.Tx) error {
		scopes, err := s.workflowScopes(ctx, tx, runs)
		if err != nil {
			return err
		}
		rows := make([][]any, 0, len(runs))
		workflowOf := make(map[string]string, len(runs))
		for i := range runs {
			r := &runs[i]
			fillID(&r.ID)
			s.stamp(&r.CreatedAt)
			r.ExpiresAt, r.FinishedAt = norm(r.ExpiresAt), norm(r.FinishedAt)
			if r.State == "" {
				r.State = store.RunInitialized
			}
			sc, ok := scopes[r.WorkflowID]
			if !ok {
				return fmt.Errorf("import runs: run %s: no workflow %s: %w", r.ID, r.WorkflowID, store.ErrNotFound)
			}
			var remote any
			if r.RemoteState != nil {
				remote = r.RemoteState
			}
			rows = append(rows, []any{r.ID, r.WorkflowID, r.ContractRevision, string(r.State), r.Reason, r.RunnerType, r.RunnerURL,
				micros(r.CreatedAt), nullMicros(r.ExpiresAt), nullMicros(r.FinishedAt), r.AttestationDigest, remote, r.RemoteStateDigest,
				r.GitBranch, r.GitCommit, sc.project, sc.org})
			workflowOf[r.ID] = r.WorkflowID
		}
		if err := s.insertRows(ctx, tx, runsInsert, rows); err != nil {
			return s.fail(err, "import %d runs", len(runs))
		}
		rows, mentions := rows[:0], [][]any(nil)
		for i := range atts {
			a := &atts[i]
			s.stamp(&a.CreatedAt)
			wf, ok := workflowOf[a.RunID]
			if !ok {
				return fmt.Errorf("import runs: attestation %s: run %s is not among the runs imported: %w", a.Digest, a.RunID, store.ErrNotFound)
			}
			a.WorkflowID = wf
			sc := scopes[wf]
			rows = append(rows, []any{a.Digest, a.RunID, a.WorkflowID, blob(a.Bundle), micros(a.CreatedAt), sc.project, sc.org})
			mentions = mentionRows(mentions, a, sc)
		}
		if err := s.insertRows(ctx, tx, attestationsInsert, rows); err != nil {
			return s.fail(err, "import %d attestations", len(atts))
		}
		if err := s.insertRows(ctx, tx, materialsInsert, mentions); err != nil {
			return s.fail(err, "import %d attestations: index materials", len(atts))
		}
		return nil
	})
}

// workflowScopes returns the project and org of the workflows of runs, by workflow ID.
func (s *DB) workflowScopes(ctx context.Context, tx *sql.Tx, runs []store.Run) (map[string]scope, error) {
	scopes := map[string]scope{}
	var ids []any
	for _, r := range runs {
		if _, ok := scopes[r.WorkflowID]; !ok {
			scopes[r.WorkflowID] = scope{}
			ids = append(ids, r.WorkflowID)
		}
	}
	clear(scopes)
	for start := 0; start < len(ids); start += inBatch {
		part := ids[start:min(start+inBatch, len(ids))]
		rows, err := tx.QueryContext(ctx, s.d.Rebind(`SELECT w.id, w.project_id, p.org_id FROM workflows w
			JOIN projects p ON p.id = w.project_id WHERE w.id IN `+inList(len(part))), part...)
		if err != nil {
			return nil, s.fail(err, "import runs: workflows")
		}
		for rows.Next() {
			var id string
			var sc scope
			if err := rows.Scan(&id, &sc.project, &sc.org); err != nil {
				rows.Close()
				return nil, s.fail(err, "import runs: workflows")
			}
			scopes[id] = sc
		}
		err = rows.Err()
		rows.Close()
		if err != nil {
			return nil, s.fail(err, "import runs: workflows")
		}
	}
	return scopes, nil
}
