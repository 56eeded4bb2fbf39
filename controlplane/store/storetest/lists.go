package storetest

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/custody-dev/custody/controlplane/store"
	"github.com/custody-dev/custody/controlplane/store/sqlstore"
)

// seededRun is a run of the list tests, with what the filters select it by.
type seededRun struct {
	id, org, project, workflow string
	state                      store.RunState
	runner, branch             string
	sec                        int
}

// seedRuns creates 60 runs in two orgs: acme's "build-and-test" and "other" workflows, and umbrella's
// workflow; states, runners and branches vary, and runs share creation times in threes, so pages
// must break ties by id.
func seedRuns(t *testing.T, s store.Store) (acme, umbrella fixture, other *store.Workflow, runs []seededRun) {
	ctx := context.Background()
	acme, umbrella = newFixture(t, s, "acme"), newFixture(t, s, "umbrella")
	other = acme.otherWorkflow(t, s)
	runners := []string{"GITHUB_ACTION", "GITLAB_PIPELINE", ""}
	branches := []string{"main", "feature/keyset", ""}
	for i := range 60 {
		f, wf := acme, acme.workflow
		switch {
		case i%5 == 0:
			f, wf = umbrella, umbrella.workflow
		case i%3 == 0:
			wf = other
		}
		r := seededRun{id: fmt.Sprintf("run-%02d", i), org: f.org.ID, project: f.project.ID, workflow: wf.ID,
			state: store.RunInitialized, runner: runners[i%3], branch: branches[(i/2)%3], sec: 100 + i/3}
		must(t, s.CreateRun(ctx, &store.Run{ID: r.id, WorkflowID: wf.ID, ContractRevision: 1, RunnerType: r.runner,
			GitBranch: r.branch, CreatedAt: at(r.sec), ExpiresAt: at(r.sec + 3600)}))
		if i%4 == 1 {
			r.state = store.RunFailed
			must(t, s.FinishRun(ctx, r.id, store.RunFailed, "tests failed", at(500)))
		}
		runs = append(runs, r)
	}
	// Newest first: by time, then id, both descending.
	slices.SortFunc(runs, func(a, b seededRun) int {
		if a.sec != b.sec {
			return b.sec - a.sec
		}
		return strings.Compare(b.id, a.id)
	})
	return acme, umbrella, other, runs
}

// testRunPages: every filter, alone and together, lists what it selects, newest first; paging with
// the position of each page's last run walks the whole list once, whatever the page size.
func testRunPages(t *testing.T, b Backend) {
	ctx := context.Background()
	s := b.open(t)
	acme, umbrella, other, runs := seedRuns(t, s)
	tests := []struct {
		name   string
		filter store.RunFilter
	}{
		{"org", store.RunFilter{OrgID: acme.org.ID}},
		{"other org", store.RunFilter{OrgID: umbrella.org.ID}},
		{"project", store.RunFilter{ProjectID: acme.project.ID}},
		{"workflow", store.RunFilter{WorkflowID: acme.workflow.ID}},
		{"other workflow", store.RunFilter{OrgID: acme.org.ID, ProjectID: acme.project.ID, WorkflowID: other.ID}},
		{"state", store.RunFilter{OrgID: acme.org.ID, State: store.RunFailed}},
		{"runner", store.RunFilter{OrgID: acme.org.ID, RunnerType: "GITLAB_PIPELINE"}},
		{"no runner", store.RunFilter{OrgID: acme.org.ID, RunnerType: ""}},
		{"branch", store.RunFilter{OrgID: acme.org.ID, Branch: "feature/keyset"}},
		{"every filter", store.RunFilter{OrgID: acme.org.ID, ProjectID: acme.project.ID, WorkflowID: acme.workflow.ID,
			State: store.RunInitialized, RunnerType: "GITHUB_ACTION", Branch: "main"}},
		{"a workflow of another org", store.RunFilter{OrgID: acme.org.ID, WorkflowID: umbrella.workflow.ID}},
		{"unknown branch", store.RunFilter{OrgID: acme.org.ID, Branch: "gone"}},
		{"everything", store.RunFilter{}},
	}
	for _, tc := range tests {
		var want []string
		for _, r := range runs {
			f := tc.filter
			if (f.OrgID == "" || f.OrgID == r.org) && (f.ProjectID == "" || f.ProjectID == r.project) &&
				(f.WorkflowID == "" || f.WorkflowID == r.workflow) && (f.State == "" || f.State == r.state) &&
				(f.RunnerType == "" || f.RunnerType == r.runner) && (f.Branch == "" || f.Branch == r.branch) {
				want = append(want, r.id)
			}
		}
		for _, size := range []int{1, 4, 7, 100} {
			var got []string
			f := tc.filter
			f.Limit = size
			for pages := 0; ; pages++ {
				if pages > len(runs) {
					t.Fatalf("%s, pages of %d: no end", tc.name, size)
				}
				page, err := s.ListRuns(ctx, f)
				must(t, err)
				if len(page) > size {
					t.Fatalf("%s: a page of %d runs, asked for %d", tc.name, len(page), size)
				}
				for _, r := range page {
					got = append(got, r.ID)
				}
				if len(page) < size {
					break
				}
				last := page[len(page)-1]
				f.After = &store.Position{CreatedAt: last.CreatedAt, Key: last.ID}
			}
			equal(t, fmt.Sprintf("%s, pages of %d", tc.name, size), got, orEmpty(want))
		}
	}
	rs, err := s.ListRuns(ctx, store.RunFilter{WorkflowID: acme.workflow.ID, Limit: 1})
	must(t, err)
	r, err := s.GetRun(ctx, rs[0].ID)
	must(t, err)
	equal(t, "a listed run is the run without its remote state, with names", rs[0],
		store.RunListing{Run: *r, Workflow: acme.workflow.Name, ProjectID: acme.project.ID, Project: acme.project.Name})
}

func orEmpty(ids []string) []string {
	if ids == nil {
		return []string(nil)
	}
	return ids
}

// testRunGit: a run keeps the branch and commit it was created with; a push sets those its
// attestation records, and keeps the run's where it records none.
func testRunGit(t *testing.T, b Backend) {
	ctx := context.Background()
	s := b.open(t)
	f := newFixture(t, s, "acme")
	const c1, c2 = "0123456789abcdef0123456789abcdef01234567", "89abcdef0123456789abcdef0123456789abcdef"
	for _, tc := range []struct {
		name                   string
		branch, commit         string // at init
		pushBranch, pushCommit string
		wantBranch, wantCommit string
	}{
		{"init tells both, push none", "main", c1, "", "", "main", c1},
		{"init tells none, push both", "", "", "main", c1, "main", c1},
		{"push tells other ones", "main", c1, "release/1.x", c2, "release/1.x", c2},
		{"push tells the commit only", "main", "", "", c2, "main", c2},
		{"nobody tells", "", "", "", "", "", ""},
	} {
		id := strings.ReplaceAll(tc.name, " ", "-")
		r := &store.Run{ID: id, WorkflowID: f.workflow.ID, ContractRevision: 1, GitBranch: tc.branch, GitCommit: tc.commit, CreatedAt: at(10)}
		must(t, s.CreateRun(ctx, r))
		got, err := s.GetRun(ctx, id)
		must(t, err)
		equal(t, tc.name+": at init", [2]string{got.GitBranch, got.GitCommit}, [2]string{tc.branch, tc.commit})
		a := attestation("sha256:"+id, id)
		a.GitBranch, a.GitCommit = tc.pushBranch, tc.pushCommit
		_, err = s.PutAttestation(ctx, a)
		must(t, err)
		got, err = s.GetRun(ctx, id)
		must(t, err)
		equal(t, tc.name+": after push", [2]string{got.GitBranch, got.GitCommit}, [2]string{tc.wantBranch, tc.wantCommit})
		rs, err := s.ListRuns(ctx, store.RunFilter{Branch: tc.wantBranch, WorkflowID: f.workflow.ID, Limit: 100})
		must(t, err)
		equal(t, tc.name+": listed by its branch", slices.ContainsFunc(rs, func(l store.RunListing) bool { return l.ID == id }), true)
	}
}

// testAttestationPages: a workflow's attestations and a digest search page like runs; a search
// lists an attestation once however many of its materials name the digest, with every such mention,
// and only within the org or project it is scoped to.
func testAttestationPages(t *testing.T, b Backend) {
	ctx := context.Background()
	s := b.open(t)
	acme, umbrella, other, runs := seedRuns(t, s)
	type seeded struct {
		digest, run, org, project, workflow string
	}
	var atts []seeded // newest first, as runs
	for i, r := range runs {
		if r.state != store.RunInitialized || i%2 == 1 {
			continue
		}
		digest := fmt.Sprintf("sha256:%064d", 1000-i) // descending with time: ties of time broken like runs
		materials := []store.MaterialRef{{Digest: "sha256:base", Name: "base-image", Kind: "CONTAINER_IMAGE"},
			{Digest: "sha256:app-" + r.id, Name: "app", Kind: "ARTIFACT", Output: true}}
		if i%3 == 0 { // the base image named twice
			materials = append(materials, store.MaterialRef{Digest: "sha256:base", Name: "another-base", Kind: "CONTAINER_IMAGE", Output: true})
		}
		_, err := s.PutAttestation(ctx, &store.Attestation{Digest: digest, RunID: r.id, Bundle: []byte("{}"), CreatedAt: at(r.sec), Materials: materials})
		must(t, err)
		atts = append(atts, seeded{digest, r.id, r.org, r.project, r.workflow})
	}
	tests := []struct {
		name   string
		filter store.AttestationFilter
	}{
		{"workflow", store.AttestationFilter{OrgID: acme.org.ID, ProjectID: acme.project.ID, WorkflowID: acme.workflow.ID}},
		{"org", store.AttestationFilter{OrgID: acme.org.ID}},
		{"digest in org", store.AttestationFilter{OrgID: acme.org.ID, Digest: "sha256:base"}},
		{"digest in other org", store.AttestationFilter{OrgID: umbrella.org.ID, Digest: "sha256:base"}},
		{"digest in project", store.AttestationFilter{OrgID: acme.org.ID, ProjectID: acme.project.ID, Digest: "sha256:base"}},
		{"digest in workflow", store.AttestationFilter{OrgID: acme.org.ID, ProjectID: acme.project.ID, WorkflowID: other.ID, Digest: "sha256:base"}},
		{"digest everywhere", store.AttestationFilter{Digest: "sha256:base"}},
		{"unknown digest", store.AttestationFilter{OrgID: acme.org.ID, Digest: "sha256:none"}},
	}
	for _, tc := range tests {
		var want []string
		for _, a := range atts {
			f := tc.filter
			if (f.OrgID == "" || f.OrgID == a.org) && (f.ProjectID == "" || f.ProjectID == a.project) &&
				(f.WorkflowID == "" || f.WorkflowID == a.workflow) && f.Digest != "sha256:none" {
				want = append(want, a.digest)
			}
		}
		for _, size := range []int{1, 3, 100} {
			var got []string
			f := tc.filter
			f.Limit = size
			for pages := 0; ; pages++ {
				if pages > len(atts) {
					t.Fatalf("%s, pages of %d: no end", tc.name, size)
				}
				page, err := s.ListAttestations(ctx, f)
				must(t, err)
				for _, a := range page {
					got = append(got, a.Digest)
				}
				if len(page) < size {
					break
				}
				last := page[len(page)-1]
				f.After = &store.Position{CreatedAt: last.CreatedAt, Key: last.Digest}
			}
			equal(t, fmt.Sprintf("%s, pages of %d", tc.name, size), got, orEmpty(want))
		}
	}
	page, err := s.ListAttestations(ctx, store.AttestationFilter{OrgID: acme.org.ID, Digest: "sha256:base", Limit: 100})
	must(t, err)
	for _, a := range page {
		names := names(a.Materials, func(m store.MaterialRef) string { return fmt.Sprint(m.Name, " output=", m.Output) })
		want := []string{"base-image output=false"}
		if len(a.Materials) == 2 {
			want = []string{"another-base output=true", "base-image output=false"}
		}
		equal(t, "mentions of the digest in "+a.Digest, names, want)
	}
	newest := atts[0]
	page, err = s.ListAttestations(ctx, store.AttestationFilter{OrgID: newest.org, Digest: "sha256:app-" + newest.run, Limit: 100})
	must(t, err)
	equal(t, "a subject's digest", names(page, func(a store.AttestationListing) string {
		return fmt.Sprint(a.Digest, " ", a.RunID, " ", a.WorkflowID, " ", a.Materials[0].Name, " output=", a.Materials[0].Output)
	}), []string{fmt.Sprint(newest.digest, " ", newest.run, " ", newest.workflow, " app output=true")})
}

// testListsAfterUpgrade: runs, attestations and mentions stored before migration 4 are listed and
// found by scope after it, an attestation naming a digest twice once.
func testListsAfterUpgrade(t *testing.T, b Backend) {
	ctx := context.Background()
	addr := b.New(t)
	raw := b.Raw(t, addr)
	defer raw.Close()
	ms, err := sqlstore.Migrations()
	must(t, err)
	_, err = sqlstore.Migrate(ctx, raw, b.Dialect, ms[:3], t0)
	must(t, err)
	for _, q := range []string{
		`INSERT INTO orgs (id, name, created_at) VALUES ('o', 'acme', 0)`,
		`INSERT INTO projects (id, org_id, name, created_at) VALUES ('p', 'o', 'skynet', 0)`,
		`INSERT INTO workflows (id, project_id, name, latest_revision, created_at) VALUES ('w', 'p', 'build', 1, 0)`,
		`INSERT INTO contract_revisions (workflow_id, revision, body, digest, created_at) VALUES ('w', 1, '', 'sha256:c', 0)`,
		`INSERT INTO runs (id, workflow_id, contract_revision, state, created_at, attestation_digest) VALUES ('r1', 'w', 1, 'succeeded', 1, 'sha256:a')`,
		`INSERT INTO runs (id, workflow_id, contract_revision, state, created_at) VALUES ('r2', 'w', 1, 'failed', 2)`,
		`INSERT INTO attestations (digest, run_id, workflow_id, bundle, created_at) VALUES ('sha256:a', 'r1', 'w', '', 1)`,
		`INSERT INTO attestation_materials (attestation_digest, digest, name, kind) VALUES ('sha256:a', 'sha256:base', 'base', 'CONTAINER_IMAGE')`,
		`INSERT INTO attestation_materials (attestation_digest, digest, name, kind) VALUES ('sha256:a', 'sha256:base', 'another', 'CONTAINER_IMAGE')`,
	} {
		_, err := raw.ExecContext(ctx, q)
		must(t, err)
	}
	s := b.openAt(t, addr)
	rs, err := s.ListRuns(ctx, store.RunFilter{OrgID: "o", ProjectID: "p"})
	must(t, err)
	equal(t, "runs of the project", names(rs, func(r store.RunListing) string { return r.ID + " " + r.Project + "/" + r.Workflow }),
		[]string{"r2 skynet/build", "r1 skynet/build"})
	for _, f := range []store.AttestationFilter{{OrgID: "o", Digest: "sha256:base"}, {OrgID: "o", ProjectID: "p", Digest: "sha256:base"}, {OrgID: "o", ProjectID: "p"}} {
		as, err := s.ListAttestations(ctx, f)
		must(t, err)
		equal(t, fmt.Sprintf("attestations by %+v", f), names(as, func(a store.AttestationListing) string {
			return fmt.Sprint(a.Digest, " ", len(a.Materials))
		}), []string{fmt.Sprint("sha256:a ", map[bool]int{true: 2, false: 0}[f.Digest != ""])})
	}
}

// testImportRuns: imported runs and attestations read back, list and are found by digest as created
// and pushed ones; an import that refers to what does not exist, or takes an ID, stores nothing.
func testImportRuns(t *testing.T, b Backend) {
	ctx := context.Background()
	s := b.open(t)
	f := newFixture(t, s, "acme")
	var runs []store.Run
	var atts []store.Attestation
	for i := range 700 { // past one statement's rows
		r := store.Run{ID: fmt.Sprintf("run-%03d", i), WorkflowID: f.workflow.ID, ContractRevision: 1, State: store.RunFailed,
			Reason: "tests failed", RunnerType: "GITHUB_ACTION", CreatedAt: at(i), FinishedAt: at(i + 60), GitBranch: "main"}
		if i%2 == 0 {
			r.State, r.Reason, r.AttestationDigest = store.RunSucceeded, "", fmt.Sprintf("sha256:%064d", i)
			atts = append(atts, *attestation(r.AttestationDigest, r.ID, "sha256:base", fmt.Sprintf("sha256:app-%d", i)))
			atts[len(atts)-1].CreatedAt = at(i + 60)
		}
		runs = append(runs, r)
	}
	must(t, s.ImportRuns(ctx, runs, atts))
	got, err := s.GetRun(ctx, "run-698")
	must(t, err)
	equal(t, "an imported run", *got, store.Run{ID: "run-698", WorkflowID: f.workflow.ID, ContractRevision: 1, State: store.RunSucceeded,
		RunnerType: "GITHUB_ACTION", CreatedAt: utc(at(698)), FinishedAt: utc(at(758)), AttestationDigest: fmt.Sprintf("sha256:%064d", 698), GitBranch: "main"})
	a, err := s.GetAttestation(ctx, got.AttestationDigest)
	must(t, err)
	equal(t, "its attestation", []any{a.RunID, a.WorkflowID, len(a.Bundle) > 0, len(a.Materials)}, []any{"run-698", f.workflow.ID, true, 2})
	rs, err := s.ListRuns(ctx, store.RunFilter{OrgID: f.org.ID, State: store.RunFailed, Limit: 1000})
	must(t, err)
	equal(t, "imported failed runs of the org", len(rs), 350)
	as, err := s.ListAttestations(ctx, store.AttestationFilter{OrgID: f.org.ID, ProjectID: f.project.ID, Digest: "sha256:base", Limit: 1000})
	must(t, err)
	equal(t, "imported attestations found by digest", len(as), 350)

	for _, tc := range []struct {
		name string
		runs []store.Run
		atts []store.Attestation
		want error
	}{
		{"a taken id", []store.Run{{ID: "new-1", WorkflowID: f.workflow.ID, ContractRevision: 1}, {ID: "run-001", WorkflowID: f.workflow.ID, ContractRevision: 1}}, nil, store.ErrExists},
		{"an unknown workflow", []store.Run{{ID: "new-2", WorkflowID: f.workflow.ID, ContractRevision: 1}, {ID: "new-3", WorkflowID: "nope", ContractRevision: 1}}, nil, store.ErrNotFound},
		{"an unknown revision", []store.Run{{ID: "new-4", WorkflowID: f.workflow.ID, ContractRevision: 9}}, nil, store.ErrNotFound},
		{"an attestation of another run", []store.Run{{ID: "new-5", WorkflowID: f.workflow.ID, ContractRevision: 1}},
			[]store.Attestation{*attestation("sha256:new", "run-001")}, store.ErrNotFound},
	} {
		wantErr(t, tc.name, s.ImportRuns(ctx, tc.runs, tc.atts), tc.want)
		for _, r := range tc.runs {
			if r.ID != "run-001" {
				_, err := s.GetRun(ctx, r.ID)
				wantErr(t, tc.name+": nothing stored", err, store.ErrNotFound)
			}
		}
	}
}
