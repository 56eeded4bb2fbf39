package sqlstore

import (
	"context"
	"database/sql"
	"sort"

	"github.com/custody-dev/custody/controlplane/store"
)

// CreateOrg stores o (an empty ID is generated, a zero CreatedAt taken from the clock); ErrExists if
// the name is taken.
func (s *DB) CreateOrg(ctx context.Context, o *store.Org) error {
	fillID(&o.ID)
	s.stamp(&o.CreatedAt)
	_, err := s.w.ExecContext(ctx, s.q(`INSERT INTO orgs (id, name, created_at) VALUES (?, ?, ?)`),
		o.ID, o.Name, micros(o.CreatedAt))
	if err != nil {
		return s.fail(err, "create org %q", o.Name)
	}
	return nil
}

// GetOrgByName returns the org named name, or ErrNotFound.
func (s *DB) GetOrgByName(ctx context.Context, name string) (*store.Org, error) {
	var o store.Org
	var created int64
	err := s.r.QueryRowContext(ctx, s.q(`SELECT id, name, created_at FROM orgs WHERE name = ?`), name).
		Scan(&o.ID, &o.Name, &created)
	if err != nil {
		return nil, s.fail(err, "get org %q", name)
	}
	o.CreatedAt = fromMicros(created)
	return &o, nil
}

// CreateProject stores p; ErrExists if its org has a project of that name, ErrNotFound if the org
// does not exist.
func (s *DB) CreateProject(ctx context.Context, p *store.Project) error {
	fillID(&p.ID)
	s.stamp(&p.CreatedAt)
	_, err := s.w.ExecContext(ctx, s.q(`INSERT INTO projects (id, org_id, name, created_at) VALUES (?, ?, ?, ?)`),
		p.ID, p.OrgID, p.Name, micros(p.CreatedAt))
	if err != nil {
		return s.fail(err, "create project %q in org %s", p.Name, p.OrgID)
	}
	return nil
}

const projectColumns = `id, org_id, name, created_at`

func scanProject(sc scanner) (store.Project, error) {
	var p store.Project
	var created int64
	if err := sc.Scan(&p.ID, &p.OrgID, &p.Name, &created); err != nil {
		return p, err
	}
	p.CreatedAt = fromMicros(created)
	return p, nil
}

// GetProject returns the project named name in an org, or ErrNotFound.
func (s *DB) GetProject(ctx context.Context, orgID, name string) (*store.Project, error) {
	p, err := scanProject(s.r.QueryRowContext(ctx,
		s.q(`SELECT `+projectColumns+` FROM projects WHERE org_id = ? AND name = ?`), orgID, name))
	if err != nil {
		return nil, s.fail(err, "get project %q in org %s", name, orgID)
	}
	return &p, nil
}

// GetProjectByID returns the project, or ErrNotFound.
func (s *DB) GetProjectByID(ctx context.Context, id string) (*store.Project, error) {
	p, err := scanProject(s.r.QueryRowContext(ctx, s.q(`SELECT `+projectColumns+` FROM projects WHERE id = ?`), id))
	if err != nil {
		return nil, s.fail(err, "get project %s", id)
	}
	return &p, nil
}

// ListProjects returns an org's projects by name (byte order); none is an empty list.
func (s *DB) ListProjects(ctx context.Context, orgID string) ([]store.Project, error) {
	rows, err := s.r.QueryContext(ctx, s.q(`SELECT `+projectColumns+` FROM projects WHERE org_id = ?`), orgID)
	if err != nil {
		return nil, s.fail(err, "list projects of org %s", orgID)
	}
	ps, err := collect(rows, scanProject)
	if err != nil {
		return nil, s.fail(err, "list projects of org %s", orgID)
	}
	sort.Slice(ps, func(i, j int) bool { return ps[i].Name < ps[j].Name })
	return ps, nil
}

// collect scans every row with scan and closes rows.
func collect[T any](rows *sql.Rows, scan func(scanner) (T, error)) ([]T, error) {
	defer rows.Close()
	out := []T{}
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	return out, nil
}
