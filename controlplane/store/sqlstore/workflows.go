package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sort"
	"time"

	"github.com/custody-dev/custody/controlplane/store"
)

// CreateWorkflow stores w and, if first is not nil, its contract revision 1, in one transaction:
// ErrExists if the project has a workflow of that name, ErrNotFound if the project does not exist.
// first's WorkflowID and Revision are set (to w.ID and 1); a zero CreatedAt is w's.
func (s *DB) CreateWorkflow(ctx context.Context, w *store.Workflow, first *store.ContractRevision) error {
	fillID(&w.ID)
	s.stamp(&w.CreatedAt)
	latest := 0
	if first != nil {
		if first.WorkflowID != "" && first.WorkflowID != w.ID {
			return fmt.Errorf("create workflow %q: first revision belongs to workflow %s", w.Name, first.WorkflowID)
		}
		first.WorkflowID, first.Revision, latest = w.ID, 1, 1
		if first.CreatedAt.IsZero() {
			first.CreatedAt = w.CreatedAt
		}
		first.CreatedAt = norm(first.CreatedAt)
	}
	return s.inTx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, s.q(`INSERT INTO workflows (id, project_id, name, description, latest_revision, created_at)
			VALUES (?, ?, ?, ?, ?, ?)`), w.ID, w.ProjectID, w.Name, w.Description, latest, micros(w.CreatedAt))
		if err != nil {
			return s.fail(err, "create workflow %q in project %s", w.Name, w.ProjectID)
		}
		if first == nil {
			return nil
		}
		if err := s.insertRevision(ctx, tx, first); err != nil {
			return s.fail(err, "create workflow %q: contract revision 1", w.Name)
		}
		return nil
	})
}

func (s *DB) insertRevision(ctx context.Context, tx *sql.Tx, r *store.ContractRevision) error {
	_, err := tx.ExecContext(ctx, s.q(`INSERT INTO contract_revisions (workflow_id, revision, body, digest, created_at)
		VALUES (?, ?, ?, ?, ?)`), r.WorkflowID, r.Revision, blob(r.Body), r.Digest, micros(r.CreatedAt))
	return err
}

const workflowColumns = `id, project_id, name, description, created_at`

func scanWorkflow(sc scanner) (store.Workflow, error) {
	var w store.Workflow
	var created int64
	if err := sc.Scan(&w.ID, &w.ProjectID, &w.Name, &w.Description, &created); err != nil {
		return w, err
	}
	w.CreatedAt = fromMicros(created)
	return w, nil
}

// GetWorkflow returns the workflow named name in a project, or ErrNotFound.
func (s *DB) GetWorkflow(ctx context.Context, projectID, name string) (*store.Workflow, error) {
	w, err := scanWorkflow(s.r.QueryRowContext(ctx,
		s.q(`SELECT `+workflowColumns+` FROM workflows WHERE project_id = ? AND name = ?`), projectID, name))
	if err != nil {
		return nil, s.fail(err, "get workflow %q in project %s", name, projectID)
	}
	return &w, nil
}

// GetWorkflowByID returns the workflow, or ErrNotFound.
func (s *DB) GetWorkflowByID(ctx context.Context, id string) (*store.Workflow, error) {
	w, err := scanWorkflow(s.r.QueryRowContext(ctx, s.q(`SELECT `+workflowColumns+` FROM workflows WHERE id = ?`), id))
	if err != nil {
		return nil, s.fail(err, "get workflow %s", id)
	}
	return &w, nil
}

// ListWorkflows returns a project's workflows by name (byte order).
func (s *DB) ListWorkflows(ctx context.Context, projectID string) ([]store.Workflow, error) {
	rows, err := s.r.QueryContext(ctx, s.q(`SELECT `+workflowColumns+` FROM workflows WHERE project_id = ?`), projectID)
	if err != nil {
		return nil, s.fail(err, "list workflows of project %s", projectID)
	}
	ws, err := collect(rows, scanWorkflow)
	if err != nil {
		return nil, s.fail(err, "list workflows of project %s", projectID)
	}
	sort.Slice(ws, func(i, j int) bool { return ws[i].Name < ws[j].Name })
	return ws, nil
}

// LatestRevisions returns the latest contract revision of each of a project's workflows, without
// its body (GetContractRevision has it), in one query.
func (s *DB) LatestRevisions(ctx context.Context, projectID string) ([]store.ContractRevision, error) {
	rows, err := s.r.QueryContext(ctx, s.q(`SELECT cr.workflow_id, cr.revision, cr.digest, cr.created_at
		FROM workflows w JOIN contract_revisions cr ON cr.workflow_id = w.id AND cr.revision = w.latest_revision
		WHERE w.project_id = ?`), projectID)
	if err != nil {
		return nil, s.fail(err, "latest contract revisions of project %s", projectID)
	}
	rs, err := collect(rows, func(sc scanner) (store.ContractRevision, error) {
		var r store.ContractRevision
		var created int64
		err := sc.Scan(&r.WorkflowID, &r.Revision, &r.Digest, &created)
		r.CreatedAt = fromMicros(created)
		return r, err
	})
	if err != nil {
		return nil, s.fail(err, "latest contract revisions of project %s", projectID)
	}
	return rs, nil
}

// AddContractRevision stores body as the workflow's next revision. The number comes from the
// workflow row, incremented under its lock in the same transaction, so concurrent calls get distinct,
// gap-free numbers. ErrNotFound if the workflow does not exist; a zero at is the clock's now.
func (s *DB) AddContractRevision(ctx context.Context, workflowID string, body []byte, digest string, at time.Time) (*store.ContractRevision, error) {
	r := &store.ContractRevision{WorkflowID: workflowID, Body: body, Digest: digest, CreatedAt: at}
	s.stamp(&r.CreatedAt)
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		err := tx.QueryRowContext(ctx, s.q(`UPDATE workflows SET latest_revision = latest_revision + 1 WHERE id = ?
			RETURNING latest_revision`), workflowID).Scan(&r.Revision)
		if err != nil {
			return s.fail(err, "add contract revision to workflow %s", workflowID)
		}
		if err := s.insertRevision(ctx, tx, r); err != nil {
			return s.fail(err, "add contract revision %d to workflow %s", r.Revision, workflowID)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return r, nil
}

// GetContractRevision returns revision n of the workflow's contract, the latest for n == 0;
// ErrNotFound if there is no such revision (or workflow).
func (s *DB) GetContractRevision(ctx context.Context, workflowID string, n int) (*store.ContractRevision, error) {
	if n < 0 {
		return nil, fmt.Errorf("get contract revision %d of workflow %s: %w", n, workflowID, store.ErrNotFound)
	}
	query := `SELECT workflow_id, revision, body, digest, created_at FROM contract_revisions WHERE workflow_id = ? AND revision = ?`
	args := []any{workflowID, n}
	if n == 0 {
		query = `SELECT workflow_id, revision, body, digest, created_at FROM contract_revisions WHERE workflow_id = ?
			ORDER BY revision DESC LIMIT 1`
		args = args[:1]
	}
	var r store.ContractRevision
	var created int64
	err := s.r.QueryRowContext(ctx, s.q(query), args...).Scan(&r.WorkflowID, &r.Revision, &r.Body, &r.Digest, &created)
	if err != nil {
		if n == 0 {
			return nil, s.fail(err, "get latest contract revision of workflow %s", workflowID)
		}
		return nil, s.fail(err, "get contract revision %d of workflow %s", n, workflowID)
	}
	r.Body = bytesOut(r.Body)
	r.CreatedAt = fromMicros(created)
	return &r, nil
}

// AddPublicKey stores a key trusted for a workflow's pushes: ErrExists if the workflow already trusts
// a key with the same hint (the same key), ErrNotFound if the workflow does not exist.
func (s *DB) AddPublicKey(ctx context.Context, k *store.PublicKey) error {
	fillID(&k.ID)
	s.stamp(&k.CreatedAt)
	if k.Hint == "" {
		return errors.New("add public key: the key hint is empty")
	}
	_, err := s.w.ExecContext(ctx, s.q(`INSERT INTO public_keys (id, workflow_id, pem, hint, created_at) VALUES (?, ?, ?, ?, ?)`),
		k.ID, k.WorkflowID, blob(k.PEM), k.Hint, micros(k.CreatedAt))
	if err != nil {
		return s.fail(err, "add public key %s to workflow %s", k.Hint, k.WorkflowID)
	}
	return nil
}

// ListPublicKeys returns a workflow's keys, oldest first.
func (s *DB) ListPublicKeys(ctx context.Context, workflowID string) ([]store.PublicKey, error) {
	rows, err := s.r.QueryContext(ctx, s.q(`SELECT id, workflow_id, pem, hint, created_at FROM public_keys
		WHERE workflow_id = ? ORDER BY created_at, id`), workflowID)
	if err != nil {
		return nil, s.fail(err, "list public keys of workflow %s", workflowID)
	}
	ks, err := collect(rows, func(sc scanner) (store.PublicKey, error) {
		var k store.PublicKey
		var created int64
		err := sc.Scan(&k.ID, &k.WorkflowID, &k.PEM, &k.Hint, &created)
		k.PEM, k.CreatedAt = bytesOut(k.PEM), fromMicros(created)
		return k, err
	})
	if err != nil {
		return nil, s.fail(err, "list public keys of workflow %s", workflowID)
	}
	return ks, nil
}

// RemovePublicKey deletes a workflow's key and returns it. Attestations it verified stay stored: they
// were verified when pushed.
func (s *DB) RemovePublicKey(ctx context.Context, workflowID, id string) (*store.PublicKey, error) {
	var k store.PublicKey
	var created int64
	err := s.w.QueryRowContext(ctx, s.q(`DELETE FROM public_keys WHERE workflow_id = ? AND id = ?
		RETURNING id, workflow_id, pem, hint, created_at`), workflowID, id).Scan(&k.ID, &k.WorkflowID, &k.PEM, &k.Hint, &created)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, store.ErrNotFound
	}
	if err != nil {
		return nil, s.fail(err, "remove public key %s of workflow %s", id, workflowID)
	}
	k.PEM, k.CreatedAt = bytesOut(k.PEM), fromMicros(created)
	return &k, nil
}
