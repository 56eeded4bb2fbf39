package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/custody-dev/custody/controlplane/store"
)

// CreateToken stores t: ErrExists if a token has the same hash, ErrNotFound if its org, project or
// workflow does not exist.
func (s *DB) CreateToken(ctx context.Context, t *store.Token) error {
	fillID(&t.ID)
	s.stamp(&t.CreatedAt)
	t.ExpiresAt, t.RevokedAt = norm(t.ExpiresAt), norm(t.RevokedAt)
	if len(t.Hash) == 0 {
		return fmt.Errorf("create token %q: the hash is empty", t.Name)
	}
	if err := s.insertToken(ctx, s.w, t); err != nil {
		return s.fail(err, "create token %q", t.Name)
	}
	return nil
}

// execer is a *sql.DB or a *sql.Tx.
type execer interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
}

func (s *DB) insertToken(ctx context.Context, db execer, t *store.Token) error {
	var claims any
	if t.WorkloadClaims != nil {
		claims = t.WorkloadClaims
	}
	_, err := db.ExecContext(ctx, s.q(`INSERT INTO tokens
		(id, name, hash, org_id, project_id, workflow_id, admin, expires_at, revoked_at, created_at, workload_issuer, workload_claims)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`),
		t.ID, t.Name, t.Hash, t.OrgID, nullString(t.ProjectID), nullString(t.WorkflowID), t.Admin,
		nullMicros(t.ExpiresAt), nullMicros(t.RevokedAt), micros(t.CreatedAt), t.WorkloadIssuer, claims)
	return err
}

const tokenColumns = `id, name, hash, org_id, project_id, workflow_id, admin, expires_at, revoked_at, created_at, workload_issuer, workload_claims`

func scanToken(sc scanner) (store.Token, error) {
	var t store.Token
	var project, workflow sql.NullString
	var expires, revoked sql.NullInt64
	var created int64
	if err := sc.Scan(&t.ID, &t.Name, &t.Hash, &t.OrgID, &project, &workflow, &t.Admin, &expires, &revoked, &created,
		&t.WorkloadIssuer, &t.WorkloadClaims); err != nil {
		return t, err
	}
	t.ProjectID, t.WorkflowID, t.WorkloadClaims = project.String, workflow.String, bytesOut(t.WorkloadClaims)
	t.ExpiresAt, t.RevokedAt, t.CreatedAt = fromNullMicros(expires), fromNullMicros(revoked), fromMicros(created)
	return t, nil
}

// GetTokenByHash returns the token whose secret hashes to hash (revoked and expired ones too: the
// caller decides), or ErrNotFound.
func (s *DB) GetTokenByHash(ctx context.Context, hash []byte) (*store.Token, error) {
	t, err := scanToken(s.r.QueryRowContext(ctx, s.q(`SELECT `+tokenColumns+` FROM tokens WHERE hash = ?`), blob(hash)))
	if err != nil {
		return nil, s.fail(err, "get token by hash")
	}
	return &t, nil
}

// RevokeToken marks the token revoked at at. Revoking a revoked token keeps the first time and is not
// an error; ErrNotFound if there is no such token.
func (s *DB) RevokeToken(ctx context.Context, id string, at time.Time) error {
	s.stamp(&at)
	res, err := s.w.ExecContext(ctx, s.q(`UPDATE tokens SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL`), micros(at), id)
	if err != nil {
		return s.fail(err, "revoke token %s", id)
	}
	if n, err := res.RowsAffected(); err != nil {
		return s.fail(err, "revoke token %s", id)
	} else if n == 1 {
		return nil
	}
	var one int
	if err := s.r.QueryRowContext(ctx, s.q(`SELECT 1 FROM tokens WHERE id = ?`), id).Scan(&one); err != nil {
		return s.fail(err, "revoke token %s", id)
	}
	return nil
}

// ListTokens returns an org's tokens (all scopes, revoked and expired included), oldest first.
func (s *DB) ListTokens(ctx context.Context, orgID string) ([]store.Token, error) {
	rows, err := s.r.QueryContext(ctx, s.q(`SELECT `+tokenColumns+` FROM tokens WHERE org_id = ? ORDER BY created_at, id`), orgID)
	if err != nil {
		return nil, s.fail(err, "list tokens of org %s", orgID)
	}
	ts, err := collect(rows, scanToken)
	if err != nil {
		return nil, s.fail(err, "list tokens of org %s", orgID)
	}
	return ts, nil
}
