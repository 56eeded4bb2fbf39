package sqlstore

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"slices"
	"strings"

	"github.com/custody-dev/custody/controlplane/store"
)

// inBatch is how many values one IN (...) list binds: PostgreSQL takes at most 65535 parameters.
const inBatch = 500

// inList returns "(?, ?, ...)" for n values.
func inList(n int) string { return "(?" + strings.Repeat(", ?", n-1) + ")" }

// AddBlobUpload records that a credential of u's scope uploaded u.Digest; the first upload of a scope
// is kept.
func (s *DB) AddBlobUpload(ctx context.Context, u *store.BlobUpload) error {
	if u.Digest == "" || u.OrgID == "" {
		return errors.New("add blob upload: digest and org are required")
	}
	s.stamp(&u.CreatedAt)
	_, err := s.w.ExecContext(ctx, s.q(`INSERT INTO blob_uploads (digest, org_id, project_id, workflow_id, created_at)
		VALUES (?, ?, ?, ?, ?) ON CONFLICT (digest, org_id, project_id, workflow_id) DO NOTHING`),
		u.Digest, u.OrgID, u.ProjectID, u.WorkflowID, micros(u.CreatedAt))
	if err != nil {
		return s.fail(err, "add blob upload %s", u.Digest)
	}
	return nil
}

// ListBlobUploads lists the org's uploads of digests, by digest, project, then workflow.
func (s *DB) ListBlobUploads(ctx context.Context, orgID string, digests []string) ([]store.BlobUpload, error) {
	out := []store.BlobUpload{}
	for start := 0; start < len(digests); start += inBatch {
		part := digests[start:min(start+inBatch, len(digests))]
		args := []any{orgID}
		for _, d := range part {
			args = append(args, d)
		}
		rows, err := s.r.QueryContext(ctx, s.d.Rebind(`SELECT digest, org_id, project_id, workflow_id, created_at FROM blob_uploads
			WHERE org_id = ? AND digest IN `+inList(len(part))), args...)
		if err != nil {
			return nil, s.fail(err, "list blob uploads")
		}
		ups, err := collect(rows, func(sc scanner) (store.BlobUpload, error) {
			var u store.BlobUpload
			var created int64
			err := sc.Scan(&u.Digest, &u.OrgID, &u.ProjectID, &u.WorkflowID, &created)
			u.CreatedAt = fromMicros(created)
			return u, err
		})
		if err != nil {
			return nil, s.fail(err, "list blob uploads")
		}
		out = append(out, ups...)
	}
	// Sorted here, not in SQL: the two databases collate text differently; duplicates in digests
	// list an upload once.
	slices.SortFunc(out, func(a, b store.BlobUpload) int {
		return cmp.Or(strings.Compare(a.Digest, b.Digest), strings.Compare(a.ProjectID, b.ProjectID), strings.Compare(a.WorkflowID, b.WorkflowID))
	})
	return slices.CompactFunc(out, func(a, b store.BlobUpload) bool { return a == b }), nil
}

// BlobClaimed reports whether an attestation of one of the workflows claims digest.
func (s *DB) BlobClaimed(ctx context.Context, digest string, workflowIDs []string) (bool, error) {
	for start := 0; start < len(workflowIDs); start += inBatch {
		part := workflowIDs[start:min(start+inBatch, len(workflowIDs))]
		args := []any{digest}
		for _, id := range part {
			args = append(args, id)
		}
		var one int
		err := s.r.QueryRowContext(ctx, s.d.Rebind(`SELECT 1 FROM attestation_materials m
			JOIN attestations a ON a.digest = m.attestation_digest
			WHERE m.digest = ? AND m.claimed = TRUE AND a.workflow_id IN `+inList(len(part))+` LIMIT 1`), args...).Scan(&one)
		if err == nil {
			return true, nil
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return false, s.fail(err, "blob %s claimed", digest)
		}
	}
	return false, nil
}
