package storetest

import (
	"context"
	"testing"

	"github.com/custody-dev/custody/controlplane/store"
)

func testOrgs(t *testing.T, b Backend) {
	ctx := context.Background()
	s := b.open(t)
	o := &store.Org{ID: "o1", Name: "acme", CreatedAt: at(0)}
	must(t, s.CreateOrg(ctx, o))
	equal(t, "created org (normalized in place)", *o, store.Org{ID: "o1", Name: "acme", CreatedAt: utc(at(0))})
	got, err := s.GetOrgByName(ctx, "acme")
	must(t, err)
	equal(t, "org read back", *got, *o)

	wantErr(t, "same name again", s.CreateOrg(ctx, &store.Org{ID: "o2", Name: "acme", CreatedAt: at(1)}), store.ErrExists)
	wantErr(t, "same id again", s.CreateOrg(ctx, &store.Org{ID: "o1", Name: "other", CreatedAt: at(1)}), store.ErrExists)
	_, err = s.GetOrgByName(ctx, "Acme")
	wantErr(t, "name differing in case", err, store.ErrNotFound)
	_, err = s.GetOrgByName(ctx, "nope")
	wantErr(t, "unknown org", err, store.ErrNotFound)

	// An empty ID and a zero time are filled in.
	o3 := &store.Org{Name: "generated"}
	must(t, s.CreateOrg(ctx, o3))
	if o3.ID == "" || o3.CreatedAt.IsZero() || o3.CreatedAt.Location() != time0UTC().Location() {
		t.Fatalf("generated org: %+v, want an ID and a UTC creation time", o3)
	}
	got, err = s.GetOrgByName(ctx, "generated")
	must(t, err)
	equal(t, "generated org read back", *got, *o3)
}

func testProjects(t *testing.T, b Backend) {
	ctx := context.Background()
	s := b.open(t)
	for _, name := range []string{"acme", "globex"} {
		must(t, s.CreateOrg(ctx, &store.Org{ID: name, Name: name, CreatedAt: at(0)}))
	}
	// Created out of order, listed by name.
	for i, name := range []string{"zeta", "alpha", "Mid"} {
		must(t, s.CreateProject(ctx, &store.Project{ID: "acme-" + name, OrgID: "acme", Name: name, CreatedAt: at(i)}))
	}
	must(t, s.CreateProject(ctx, &store.Project{ID: "globex-alpha", OrgID: "globex", Name: "alpha", CreatedAt: at(9)}))

	tests := []struct {
		name    string
		project store.Project
		want    error
	}{
		{"same name in the org", store.Project{ID: "x1", OrgID: "acme", Name: "alpha"}, store.ErrExists},
		{"same id", store.Project{ID: "acme-zeta", OrgID: "globex", Name: "new"}, store.ErrExists},
		{"unknown org", store.Project{ID: "x2", OrgID: "initech", Name: "alpha"}, store.ErrNotFound},
		{"same name in another org", store.Project{ID: "x3", OrgID: "globex", Name: "zeta"}, nil},
	}
	for _, tc := range tests {
		p := tc.project
		wantErr(t, "create project: "+tc.name, s.CreateProject(ctx, &p), tc.want)
	}

	p, err := s.GetProject(ctx, "acme", "alpha")
	must(t, err)
	equal(t, "project by name", *p, store.Project{ID: "acme-alpha", OrgID: "acme", Name: "alpha", CreatedAt: utc(at(1))})
	byID, err := s.GetProjectByID(ctx, "acme-alpha")
	must(t, err)
	equal(t, "project by id", *byID, *p)
	_, err = s.GetProject(ctx, "globex", "Mid")
	wantErr(t, "project of another org", err, store.ErrNotFound)
	_, err = s.GetProjectByID(ctx, "nope")
	wantErr(t, "unknown project id", err, store.ErrNotFound)

	ps, err := s.ListProjects(ctx, "acme")
	must(t, err)
	equal(t, "acme's projects", names(ps, func(p store.Project) string { return p.Name }), []string{"Mid", "alpha", "zeta"})
	ps, err = s.ListProjects(ctx, "initech")
	must(t, err)
	equal(t, "projects of an unknown org", len(ps), 0)
}

func testWorkflows(t *testing.T, b Backend) {
	ctx := context.Background()
	s := b.open(t)
	f := newFixture(t, s, "acme")
	must(t, s.CreateProject(ctx, &store.Project{ID: "other", OrgID: f.org.ID, Name: "other", CreatedAt: at(3)}))

	w, err := s.GetWorkflow(ctx, f.project.ID, "build-and-test")
	must(t, err)
	equal(t, "workflow by name", *w, store.Workflow{ID: "wf-acme", ProjectID: "prj-acme", Name: "build-and-test", CreatedAt: utc(at(2))})
	byID, err := s.GetWorkflowByID(ctx, "wf-acme")
	must(t, err)
	equal(t, "workflow by id", *byID, *w)

	rev, err := s.GetContractRevision(ctx, w.ID, 0)
	must(t, err)
	want := revision(1)
	equal(t, "first revision", *rev, store.ContractRevision{WorkflowID: w.ID, Revision: 1, Body: want.Body, Digest: want.Digest, CreatedAt: utc(at(2))})

	// A failed create stores nothing: the duplicate's contract revision is not there either.
	dup := &store.Workflow{ID: "wf-dup", ProjectID: f.project.ID, Name: "build-and-test", CreatedAt: at(4)}
	wantErr(t, "same name in the project", s.CreateWorkflow(ctx, dup, revision(7)), store.ErrExists)
	_, err = s.GetContractRevision(ctx, "wf-dup", 0)
	wantErr(t, "revision of the refused workflow", err, store.ErrNotFound)
	wantErr(t, "unknown project", s.CreateWorkflow(ctx, &store.Workflow{ID: "wf-x", ProjectID: "nope", Name: "x"}, revision(1)), store.ErrNotFound)

	// Same name in another project is fine; listed by name, with description.
	must(t, s.CreateWorkflow(ctx, &store.Workflow{ID: "wf-o", ProjectID: "other", Name: "build-and-test", CreatedAt: at(5)}, revision(1)))
	must(t, s.CreateWorkflow(ctx, &store.Workflow{ID: "wf-a", ProjectID: f.project.ID, Name: "a-release", Description: "ships it", CreatedAt: at(6)}, revision(1)))
	ws, err := s.ListWorkflows(ctx, f.project.ID)
	must(t, err)
	equal(t, "workflows of the project", names(ws, func(w store.Workflow) string { return w.Name + "|" + w.Description }),
		[]string{"a-release|ships it", "build-and-test|"})
	_, err = s.GetWorkflow(ctx, f.project.ID, "nope")
	wantErr(t, "unknown workflow", err, store.ErrNotFound)
	_, err = s.GetWorkflowByID(ctx, "nope")
	wantErr(t, "unknown workflow id", err, store.ErrNotFound)
}

func testWorkflowWithoutContract(t *testing.T, b Backend) {
	ctx := context.Background()
	s := b.open(t)
	f := newFixture(t, s, "acme")
	w := &store.Workflow{ID: "bare", ProjectID: f.project.ID, Name: "bare", CreatedAt: at(3)}
	must(t, s.CreateWorkflow(ctx, w, nil))
	_, err := s.GetContractRevision(ctx, "bare", 0)
	wantErr(t, "latest revision of a workflow without contract", err, store.ErrNotFound)
	rev, err := s.AddContractRevision(ctx, "bare", []byte("x"), "sha256:x", at(4))
	must(t, err)
	equal(t, "first added revision", rev.Revision, 1)
}

func names[T any](xs []T, name func(T) string) []string {
	out := []string{}
	for _, x := range xs {
		out = append(out, name(x))
	}
	return out
}
