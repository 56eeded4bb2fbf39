package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sort"

	"github.com/custody-dev/custody/controlplane/store"
)

// PutAttestation stores a verified attestation, its material index, and marks its run succeeded with
// a.Digest, in one transaction. The same digest again returns created=false and changes nothing.
// The run must be initialized (or already succeeded with this digest): ErrStale otherwise, ErrNotFound
// if there is no such run. An empty a.WorkflowID is the run's; another one than the run's is an error.
func (s *DB) PutAttestation(ctx context.Context, a *store.Attestation) (created bool, err error) {
	if a.Digest == "" || a.RunID == "" {
		return false, errors.New("put attestation: digest and run id are required")
	}
	s.stamp(&a.CreatedAt)
	err = s.inTx(ctx, func(tx *sql.Tx) error {
		var one int
		err := tx.QueryRowContext(ctx, s.q(`SELECT 1 FROM attestations WHERE digest = ?`), a.Digest).Scan(&one)
		if err == nil {
			return nil // stored before: nothing to do
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return s.fail(err, "put attestation %s", a.Digest)
		}
		// Take the run (and, on PostgreSQL, its row lock) before writing anything. The branch and
		// commit the attestation records are the run's from now on.
		var workflowID string
		var sc scope
		err = tx.QueryRowContext(ctx, s.q(`UPDATE runs
			SET state = ?, attestation_digest = ?, finished_at = CASE WHEN state = ? THEN ? ELSE finished_at END,
				git_branch = CASE WHEN ? = '' THEN git_branch ELSE ? END, git_commit = CASE WHEN ? = '' THEN git_commit ELSE ? END
			WHERE id = ? AND (state = ? OR (state = ? AND attestation_digest = ?))
			RETURNING workflow_id, project_id, org_id`),
			string(store.RunSucceeded), a.Digest, string(store.RunInitialized), micros(a.CreatedAt),
			a.GitBranch, a.GitBranch, a.GitCommit, a.GitCommit,
			a.RunID, string(store.RunInitialized), string(store.RunSucceeded), a.Digest).Scan(&workflowID, &sc.project, &sc.org)
		if errors.Is(err, sql.ErrNoRows) {
			return s.runNotOpen(ctx, tx, a)
		}
		if err != nil {
			return s.fail(err, "put attestation %s: mark run %s succeeded", a.Digest, a.RunID)
		}
		if a.WorkflowID != "" && a.WorkflowID != workflowID {
			return fmt.Errorf("put attestation %s: workflow %s is not run %s's workflow %s", a.Digest, a.WorkflowID, a.RunID, workflowID)
		}
		a.WorkflowID = workflowID
		res, err := tx.ExecContext(ctx, s.q(`INSERT INTO attestations (digest, run_id, workflow_id, bundle, created_at, project_id, org_id)
			VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (digest) DO NOTHING`),
			a.Digest, a.RunID, a.WorkflowID, blob(a.Bundle), micros(a.CreatedAt), sc.project, sc.org)
		if err != nil {
			return s.fail(err, "put attestation %s", a.Digest)
		}
		if n, err := res.RowsAffected(); err != nil {
			return s.fail(err, "put attestation %s", a.Digest)
		} else if n == 0 {
			return errAlreadyStored // a concurrent put of the same digest won: undo the run update
		}
		if err := s.insertMaterials(ctx, tx, a, sc); err != nil {
			return err
		}
		created = true
		return nil
	})
	if errors.Is(err, errAlreadyStored) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	return created, nil
}

var errAlreadyStored = errors.New("attestation already stored")

// runNotOpen explains why the run update of a put matched nothing.
func (s *DB) runNotOpen(ctx context.Context, tx *sql.Tx, a *store.Attestation) error {
	var state, digest string
	err := tx.QueryRowContext(ctx, s.q(`SELECT state, attestation_digest FROM runs WHERE id = ?`), a.RunID).Scan(&state, &digest)
	if err != nil {
		return s.fail(err, "put attestation %s: run %s", a.Digest, a.RunID)
	}
	if digest != "" {
		return fmt.Errorf("put attestation %s: run %s is %s with attestation %s: %w", a.Digest, a.RunID, state, digest, store.ErrStale)
	}
	return fmt.Errorf("put attestation %s: run %s is %s: %w", a.Digest, a.RunID, state, store.ErrStale)
}

// scope is the project and org of a run, and of what belongs to it.
type scope struct{ project, org string }

func (s *DB) insertMaterials(ctx context.Context, tx *sql.Tx, a *store.Attestation, sc scope) error {
	if err := s.insertRows(ctx, tx, materialsInsert, mentionRows(nil, a, sc)); err != nil {
		return s.fail(err, "put attestation %s: index materials", a.Digest)
	}
	return nil
}

var materialsInsert = rowsInsert{
	prefix: `INSERT INTO attestation_materials (attestation_digest, digest, name, kind, claimed, output, first,
		project_id, org_id, created_at) VALUES `,
	columns: 10,
	suffix:  ` ON CONFLICT (attestation_digest, digest, name) DO NOTHING`,
}

// mentionRows appends the rows of a's materials to rows. The first mention of each digest, by name,
// is the one a digest search lists.
func mentionRows(rows [][]any, a *store.Attestation, sc scope) [][]any {
	first := map[string]string{}
	for _, m := range a.Materials {
		if name, ok := first[m.Digest]; !ok || m.Name < name {
			first[m.Digest] = m.Name
		}
	}
	for _, m := range a.Materials {
		rows = append(rows, []any{a.Digest, m.Digest, m.Name, m.Kind, m.Claimed, m.Output, first[m.Digest] == m.Name,
			sc.project, sc.org, micros(a.CreatedAt)})
	}
	return rows
}

const attestationColumns = `digest, run_id, workflow_id, bundle, created_at`

func scanAttestation(sc scanner) (store.Attestation, error) {
	var a store.Attestation
	var created int64
	if err := sc.Scan(&a.Digest, &a.RunID, &a.WorkflowID, &a.Bundle, &created); err != nil {
		return a, err
	}
	a.Bundle, a.CreatedAt = bytesOut(a.Bundle), fromMicros(created)
	return a, nil
}

// GetAttestation returns the attestation with its materials, or ErrNotFound.
func (s *DB) GetAttestation(ctx context.Context, digest string) (*store.Attestation, error) {
	a, err := scanAttestation(s.r.QueryRowContext(ctx, s.q(`SELECT `+attestationColumns+` FROM attestations WHERE digest = ?`), digest))
	if err != nil {
		return nil, s.fail(err, "get attestation %s", digest)
	}
	as := []store.Attestation{a}
	if err := s.loadMaterials(ctx, as); err != nil {
		return nil, err
	}
	return &as[0], nil
}

// attestationListColumns are attestationColumns without the bundle (up to 1.6 MiB), then the
// run's branch and commit and the names of the workflow and project.
const attestationListColumns = `a.digest, a.run_id, a.workflow_id, NULL, a.created_at, r.git_branch, r.git_commit,
	w.name, a.project_id, p.name`

func scanAttestationListing(sc scanner) (store.AttestationListing, error) {
	var l store.AttestationListing
	var created int64
	err := sc.Scan(&l.Digest, &l.RunID, &l.WorkflowID, &l.Bundle, &created, &l.GitBranch, &l.GitCommit,
		&l.Workflow, &l.ProjectID, &l.Project)
	l.Bundle, l.CreatedAt = nil, fromMicros(created)
	return l, err
}

// ListAttestations returns the attestations f selects, newest first (created_at, then digest,
// descending), at most f.Limit (default 50), after f.After, each without its bundle (up to 1.6 MiB;
// GetAttestation has it). A digest search reads the digest's mentions in list order, in an index of
// the org's or the project's (migration 0004), and gives each attestation the mentions of the digest.
func (s *DB) ListAttestations(ctx context.Context, f store.AttestationFilter) ([]store.AttestationListing, error) {
	query, args := AttestationsQuery(f)
	rows, err := s.r.QueryContext(ctx, s.d.Rebind(query), args...)
	if err != nil {
		return nil, s.fail(err, "list attestations")
	}
	as, err := collect(rows, scanAttestationListing)
	if err != nil {
		return nil, s.fail(err, "list attestations")
	}
	if f.Digest != "" {
		if err := s.loadMentions(ctx, as, f.Digest); err != nil {
			return nil, err
		}
	}
	return as, nil
}

// AttestationsQuery is the query ListAttestations runs for f, with "?" placeholders, and its
// arguments (exported for the tests that check its plan).
func AttestationsQuery(f store.AttestationFilter) (string, []any) {
	var c conditions
	from, order := ` FROM attestations a`, ` ORDER BY a.created_at DESC, a.digest DESC LIMIT ?`
	if f.Digest != "" {
		// One row per attestation: its first mention of the digest.
		from, order = ` FROM attestation_materials m JOIN attestations a ON a.digest = m.attestation_digest`,
			` ORDER BY m.created_at DESC, m.attestation_digest DESC LIMIT ?`
		c.add(`m.digest = ?`, f.Digest)
		c.equal("m.org_id", f.OrgID)
		c.equal("m.project_id", f.ProjectID)
		c.add(`m.first = TRUE`)
		c.after("m.created_at", "m.attestation_digest", f.After)
	} else {
		c.equal("a.org_id", f.OrgID)
		c.equal("a.project_id", f.ProjectID)
		c.after("a.created_at", "a.digest", f.After)
	}
	c.equal("a.workflow_id", f.WorkflowID)
	query := `SELECT ` + attestationListColumns + from + `
		JOIN runs r ON r.id = a.run_id JOIN workflows w ON w.id = a.workflow_id JOIN projects p ON p.id = a.project_id` +
		c.where() + order
	return query, append(c.args, limitOr(f.Limit, defaultLimit))
}

// loadMentions gives each listed attestation its mentions of digest, by name, in one query a page.
func (s *DB) loadMentions(ctx context.Context, as []store.AttestationListing, digest string) error {
	if len(as) == 0 {
		return nil
	}
	index := make(map[string]int, len(as))
	args := make([]any, 0, len(as)+1)
	args = append(args, digest)
	for i := range as {
		index[as[i].Digest] = i
		args = append(args, as[i].Digest)
	}
	rows, err := s.r.QueryContext(ctx, s.d.Rebind(`SELECT attestation_digest, digest, name, kind, claimed, output
		FROM attestation_materials WHERE digest = ? AND attestation_digest IN `+inList(len(as))), args...)
	if err != nil {
		return s.fail(err, "list attestations: mentions of %s", digest)
	}
	defer rows.Close()
	for rows.Next() {
		var owner string
		var m store.MaterialRef
		if err := rows.Scan(&owner, &m.Digest, &m.Name, &m.Kind, &m.Claimed, &m.Output); err != nil {
			return s.fail(err, "list attestations: mentions of %s", digest)
		}
		l := &as[index[owner]]
		l.Materials = append(l.Materials, m)
	}
	if err := rows.Err(); err != nil {
		return s.fail(err, "list attestations: mentions of %s", digest)
	}
	for i := range as {
		sort.Slice(as[i].Materials, func(x, y int) bool { return as[i].Materials[x].Name < as[i].Materials[y].Name })
	}
	return nil
}

// loadMaterials fills the Materials of as, sorted by name then digest, a few hundred attestations per
// query (PostgreSQL takes at most 65535 parameters).
func (s *DB) loadMaterials(ctx context.Context, as []store.Attestation) error {
	index := make(map[string]int, len(as))
	for i := range as {
		index[as[i].Digest] = i
		as[i].Materials = []store.MaterialRef{}
	}
	for start := 0; start < len(as); start += inBatch {
		part := as[start:min(start+inBatch, len(as))]
		args := make([]any, len(part))
		for i := range part {
			args[i] = part[i].Digest
		}
		query := `SELECT attestation_digest, digest, name, kind, claimed, output FROM attestation_materials WHERE attestation_digest IN ` + inList(len(part))
		if err := s.scanMaterials(ctx, s.d.Rebind(query), args, as, index); err != nil {
			return err
		}
	}
	for i := range as {
		ms := as[i].Materials
		sort.Slice(ms, func(x, y int) bool {
			if ms[x].Name != ms[y].Name {
				return ms[x].Name < ms[y].Name
			}
			return ms[x].Digest < ms[y].Digest
		})
	}
	return nil
}

func (s *DB) scanMaterials(ctx context.Context, query string, args []any, as []store.Attestation, index map[string]int) error {
	rows, err := s.r.QueryContext(ctx, query, args...)
	if err != nil {
		return s.fail(err, "load materials")
	}
	defer rows.Close()
	for rows.Next() {
		var owner string
		var m store.MaterialRef
		if err := rows.Scan(&owner, &m.Digest, &m.Name, &m.Kind, &m.Claimed, &m.Output); err != nil {
			return s.fail(err, "load materials")
		}
		i := index[owner]
		as[i].Materials = append(as[i].Materials, m)
	}
	if err := rows.Err(); err != nil {
		return s.fail(err, "load materials")
	}
	return nil
}
