package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/custody-dev/custody/controlplane/store"
)

// AddTrustPolicy stores a workflow's trust policy (its claims as a JSON object): ErrNotFound if the
// workflow does not exist.
func (s *DB) AddTrustPolicy(ctx context.Context, p *store.TrustPolicy) error {
	fillID(&p.ID)
	s.stamp(&p.CreatedAt)
	claims, err := json.Marshal(p.Claims)
	if err != nil {
		return fmt.Errorf("add trust policy to workflow %s: %w", p.WorkflowID, err)
	}
	_, err = s.w.ExecContext(ctx, s.q(`INSERT INTO trust_policies (id, workflow_id, issuer, claims, created_at) VALUES (?, ?, ?, ?, ?)`),
		p.ID, p.WorkflowID, p.Issuer, string(claims), micros(p.CreatedAt))
	if err != nil {
		return s.fail(err, "add trust policy to workflow %s", p.WorkflowID)
	}
	return nil
}

const trustPolicyColumns = `id, workflow_id, issuer, claims, created_at`

func scanTrustPolicy(sc scanner) (store.TrustPolicy, error) {
	var p store.TrustPolicy
	var claims string
	var created int64
	if err := sc.Scan(&p.ID, &p.WorkflowID, &p.Issuer, &claims, &created); err != nil {
		return p, err
	}
	p.CreatedAt = fromMicros(created)
	if err := json.Unmarshal([]byte(claims), &p.Claims); err != nil {
		return p, fmt.Errorf("trust policy %s: claims: %w", p.ID, err)
	}
	return p, nil
}

// ListTrustPolicies returns a workflow's trust policies, oldest first.
func (s *DB) ListTrustPolicies(ctx context.Context, workflowID string) ([]store.TrustPolicy, error) {
	rows, err := s.r.QueryContext(ctx, s.q(`SELECT `+trustPolicyColumns+` FROM trust_policies WHERE workflow_id = ? ORDER BY created_at, id`), workflowID)
	if err != nil {
		return nil, s.fail(err, "list trust policies of workflow %s", workflowID)
	}
	ps, err := collect(rows, scanTrustPolicy)
	if err != nil {
		return nil, s.fail(err, "list trust policies of workflow %s", workflowID)
	}
	return ps, nil
}

// RemoveTrustPolicy deletes a workflow's trust policy and returns it: from then on, the ID tokens
// only it matched are exchanged no more. Credentials exchanged before keep their (short) lives.
func (s *DB) RemoveTrustPolicy(ctx context.Context, workflowID, id string) (*store.TrustPolicy, error) {
	p, err := scanTrustPolicy(s.w.QueryRowContext(ctx, s.q(`DELETE FROM trust_policies WHERE workflow_id = ? AND id = ?
		RETURNING `+trustPolicyColumns), workflowID, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, store.ErrNotFound
	}
	if err != nil {
		return nil, s.fail(err, "remove trust policy %s of workflow %s", id, workflowID)
	}
	return &p, nil
}

// CreateExchangedToken records the ID token's use and stores the credential it was exchanged for, in
// one transaction: a replayed ID token (its issuer and jti recorded) is ErrExists and stores nothing.
func (s *DB) CreateExchangedToken(ctx context.Context, t *store.Token, use *store.IDTokenUse) error {
	fillID(&t.ID)
	s.stamp(&t.CreatedAt)
	t.ExpiresAt, t.RevokedAt = norm(t.ExpiresAt), norm(t.RevokedAt)
	use.ExpiresAt = norm(use.ExpiresAt)
	switch {
	case len(t.Hash) == 0:
		return fmt.Errorf("create exchanged token %q: the hash is empty", t.Name)
	case use.Issuer == "" || use.ID == "":
		return fmt.Errorf("create exchanged token %q: the ID token's issuer and ID are required", t.Name)
	}
	return s.inTx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, s.q(`INSERT INTO id_token_uses (issuer, jti, expires_at) VALUES (?, ?, ?)`),
			use.Issuer, use.ID, micros(use.ExpiresAt))
		if err != nil {
			return s.fail(err, "record the use of ID token %s of %s", use.ID, use.Issuer)
		}
		if err := s.insertToken(ctx, tx, t); err != nil {
			return s.fail(err, "create exchanged token %q", t.Name)
		}
		return nil
	})
}

// PruneIDTokenUses deletes the uses of ID tokens that expired before now.
func (s *DB) PruneIDTokenUses(ctx context.Context, now time.Time) (int, error) {
	res, err := s.w.ExecContext(ctx, s.q(`DELETE FROM id_token_uses WHERE expires_at < ?`), micros(now))
	if err != nil {
		return 0, s.fail(err, "prune ID token uses")
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, s.fail(err, "prune ID token uses")
	}
	return int(n), nil
}
