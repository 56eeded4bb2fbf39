package app_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/custody-dev/custody/controlplane/app"
	"github.com/custody-dev/custody/controlplane/auth"
	"github.com/custody-dev/custody/wire"
)

// TestListRunsScope: the runs list shows each token its scope's runs only, narrowed by the project
// and workflow named; what a token may not see is not found.
func TestListRunsScope(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e := newEnv(t)
	for _, wf := range []string{"alpha/build", "alpha/test", "beta/build"} {
		p, w, _ := strings.Cut(wf, "/")
		e.workflow(t, p, w)
		for range 3 {
			if _, err := e.app.InitRun(ctx, e.admin, wire.InitRun{Project: p, Workflow: w}); err != nil {
				t.Fatal(err)
			}
			e.clock.Advance(time.Second)
		}
	}
	alpha, _ := e.token(t, wire.CreateToken{Project: "alpha"})
	alphaBuild, _ := e.token(t, wire.CreateToken{Project: "alpha", Workflow: "build"})
	for _, tc := range []struct {
		name              string
		p                 auth.Principal
		project, workflow string
		want              []string // project/workflow of each run listed
		status            int
	}{
		{"admin", e.admin, "", "", []string{"beta/build", "alpha/test", "alpha/build"}, 200},
		{"admin in alpha", e.admin, "alpha", "", []string{"alpha/test", "alpha/build"}, 200},
		{"admin in beta/build", e.admin, "beta", "build", []string{"beta/build"}, 200},
		{"alpha's token", alpha, "", "", []string{"alpha/test", "alpha/build"}, 200},
		{"alpha's token in alpha/test", alpha, "alpha", "test", []string{"alpha/test"}, 200},
		{"alpha/build's token", alphaBuild, "", "", []string{"alpha/build"}, 200},
		{"alpha/build's token in alpha", alphaBuild, "alpha", "", []string{"alpha/build"}, 200},
		{"alpha's token in beta", alpha, "beta", "", nil, 404},
		{"alpha/build's token in alpha/test", alphaBuild, "alpha", "test", nil, 404},
		{"an unknown workflow", e.admin, "alpha", "deploy", nil, 404},
		{"a workflow without its project", e.admin, "", "build", nil, 400},
		{"a malformed project", e.admin, "Alpha!", "", nil, 400},
	} {
		page, err := e.app.ListRuns(ctx, tc.p, app.RunQuery{Project: tc.project, Workflow: tc.workflow})
		if tc.status != 200 {
			if e, ok := app.AsError(err); !ok || e.Status != tc.status {
				t.Errorf("%s: %v, want %d", tc.name, err, tc.status)
			}
			continue
		}
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		var got []string
		for i, r := range page.Runs {
			if i%3 == 0 {
				got = append(got, r.Project+"/"+r.Workflow)
			} else if got[len(got)-1] != r.Project+"/"+r.Workflow {
				t.Errorf("%s: runs out of order: %+v", tc.name, page.Runs)
			}
		}
		if strings.Join(got, " ") != strings.Join(tc.want, " ") || page.Next != "" {
			t.Errorf("%s: runs of %v (next %q), want %v", tc.name, got, page.Next, tc.want)
		}
	}
}

// TestListRunsRefusals: a filter, a page size or a cursor the list cannot take is a 400 naming it.
func TestListRunsRefusals(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e := newEnv(t)
	e.workflow(t, "alpha", "build")
	for _, tc := range []struct {
		name string
		q    app.RunQuery
		want string
	}{
		{"unknown state", app.RunQuery{State: "running"}, `state "running"`},
		{"runner past its bound", app.RunQuery{RunnerType: strings.Repeat("x", 257)}, "runner: 257 bytes, at most 256"},
		{"runner with NUL", app.RunQuery{RunnerType: "GITHUB\x00"}, "runner"},
		{"branch past its bound", app.RunQuery{Branch: strings.Repeat("b", 1025)}, "branch: 1025 bytes, at most 1024"},
		{"branch not UTF-8", app.RunQuery{Branch: "\xff"}, "branch: not valid UTF-8"},
		{"negative limit", app.RunQuery{Limit: -1}, "limit -1"},
		{"limit past its bound", app.RunQuery{Limit: app.MaxListLimit + 1}, "limit 1001"},
		{"cursor not base64url", app.RunQuery{Cursor: "%%"}, `cursor "%%"`},
		{"cursor of no list", app.RunQuery{Cursor: "eHl6"}, `cursor "eHl6"`},
		{"cursor past its bound", app.RunQuery{Cursor: strings.Repeat("A", 257)}, "257 characters, at most 256"},
	} {
		_, err := e.app.ListRuns(ctx, e.admin, tc.q)
		wantCode(t, err, 400, wire.CodeBadRequest)
		if !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %q, want it to say %q", tc.name, err, tc.want)
		}
	}
}

// TestListRunsFilters: state, runner and branch filter; the branch is the one init reported; an
// initialized run past its expiry is listed as expired, as GetRun shows it.
func TestListRunsFilters(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e := newEnv(t)
	e.workflow(t, "alpha", "build")
	const commit = "0123456789abcdef0123456789abcdef01234567"
	var ids []string
	for i, r := range []struct {
		runner, branch string
	}{{"GITHUB_ACTION", "main"}, {"GITLAB_PIPELINE", "main"}, {"GITHUB_ACTION", "feature/x"}, {"", ""}} {
		run, err := e.app.InitRun(ctx, e.admin, wire.InitRun{Project: "alpha", Workflow: "build",
			Runner: wire.Runner{Type: r.runner}, Git: &wire.GitRef{Branch: r.branch, Commit: commit}})
		if err != nil {
			t.Fatal(err)
		}
		if i == 1 {
			if _, err := e.app.ResetRun(ctx, e.admin, run.Run.ID, wire.FinishRun{Reason: "tests failed"}); err != nil {
				t.Fatal(err)
			}
		}
		ids = append(ids, run.Run.ID)
		e.clock.Advance(time.Minute)
	}
	list := func(q app.RunQuery) []string {
		t.Helper()
		page, err := e.app.ListRuns(ctx, e.admin, q)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, r := range page.Runs {
			got = append(got, r.ID)
		}
		return got
	}
	for _, tc := range []struct {
		name string
		q    app.RunQuery
		want []string
	}{
		{"all", app.RunQuery{}, []string{ids[3], ids[2], ids[1], ids[0]}},
		{"failed", app.RunQuery{State: "failed"}, []string{ids[1]}},
		{"initialized", app.RunQuery{State: "initialized"}, []string{ids[3], ids[2], ids[0]}},
		{"GitHub", app.RunQuery{RunnerType: "GITHUB_ACTION"}, []string{ids[2], ids[0]}},
		{"main", app.RunQuery{Branch: "main"}, []string{ids[1], ids[0]}},
		{"GitHub on main", app.RunQuery{RunnerType: "GITHUB_ACTION", Branch: "main"}, []string{ids[0]}},
		{"succeeded", app.RunQuery{State: "succeeded"}, nil},
	} {
		if got := list(tc.q); strings.Join(got, " ") != strings.Join(tc.want, " ") {
			t.Errorf("%s: %v, want %v", tc.name, got, tc.want)
		}
	}
	page, err := e.app.ListRuns(ctx, e.admin, app.RunQuery{Branch: "feature/x"})
	if err != nil || len(page.Runs) != 1 || page.Runs[0].Git == nil || *page.Runs[0].Git != (wire.GitRef{Branch: "feature/x", Commit: commit}) {
		t.Fatalf("the run on feature/x: %+v, %v", page.Runs, err)
	}
	e.clock.Advance(25 * time.Hour)
	page, err = e.app.ListRuns(ctx, e.admin, app.RunQuery{Limit: 1})
	if err != nil || page.Runs[0].State != "expired" || page.Next == "" {
		t.Fatalf("an initialized run past its expiry: %+v, %v; want it expired, and a next page", page, err)
	}
	got, err := e.app.GetRun(ctx, e.admin, page.Runs[0].ID)
	if err != nil || got.State != page.Runs[0].State {
		t.Fatalf("GetRun: %v, %v; the list says %s", got.State, err, page.Runs[0].State)
	}
}

// TestInitRunGit: init records the branch and commit the runner reports, within bounds.
func TestInitRunGit(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e := newEnv(t)
	e.workflow(t, "alpha", "build")
	for _, tc := range []struct {
		name string
		git  wire.GitRef
		want string // "" when taken
	}{
		{"SHA-1 commit and branch", wire.GitRef{Branch: "main", Commit: strings.Repeat("a", 40)}, ""},
		{"SHA-256 commit", wire.GitRef{Commit: strings.Repeat("0", 64)}, ""},
		{"branch at its bound", wire.GitRef{Branch: strings.Repeat("b", 1024)}, ""},
		{"branch past its bound", wire.GitRef{Branch: strings.Repeat("b", 1025)}, "git.branch: 1025 bytes, at most 1024"},
		{"branch with NUL", wire.GitRef{Branch: "ma\x00in"}, "git.branch"},
		{"short commit", wire.GitRef{Commit: "abc123"}, `git.commit "abc123": want 40 or 64 lowercase hex digits`},
		{"upper-case commit", wire.GitRef{Commit: strings.Repeat("A", 40)}, "git.commit"},
		{"commit of 41", wire.GitRef{Commit: strings.Repeat("a", 41)}, "git.commit"},
	} {
		run, err := e.app.InitRun(ctx, e.admin, wire.InitRun{Project: "alpha", Workflow: "build", Git: &tc.git})
		if tc.want != "" {
			wantCode(t, err, 400, wire.CodeBadRequest)
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("%s: %q, want it to say %q", tc.name, err, tc.want)
			}
			continue
		}
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		got, err := e.app.GetRun(ctx, e.admin, run.Run.ID)
		if err != nil || got.Git == nil || *got.Git != tc.git {
			t.Errorf("%s: run's git %+v, %v; want %+v", tc.name, got.Git, err, tc.git)
		}
	}
}

// TestFindByDigestPages: a digest search pages through every attestation the token may read,
// newest first, each once, with its mention of the digest.
func TestFindByDigestPages(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e := newEnv(t)
	e.workflow(t, "alpha", "build")
	e.workflow(t, "beta", "build")
	const shared = "sha256:5ba8ed0f0fb8a5b0f1f6f8c0e55b3bd9b3bfe1d2f3b4c5d6e7f8091a2b3c4d5e"
	t0 := e.clock.Now()
	for i := range 25 {
		project := []string{"alpha", "beta"}[i%2]
		e.storeAttestation(t, project, "build", shared, i, t0.Add(time.Duration(i/2)*time.Minute)) // times shared by twos
	}
	beta, _ := e.token(t, wire.CreateToken{Project: "beta"})
	for _, tc := range []struct {
		name string
		p    auth.Principal
		want int
	}{{"admin", e.admin, 25}, {"beta's token", beta, 12}} {
		seen := map[string]bool{}
		cursor, pages := "", 0
		for {
			page, err := e.app.FindByDigest(ctx, tc.p, shared, cursor, 4)
			if err != nil {
				t.Fatal(err)
			}
			for _, a := range page.Attestations {
				if seen[a.Digest] || len(a.Mentions) != 1 || a.Mentions[0] != (wire.Mention{Name: "rootfs", Kind: "ARTIFACT"}) {
					t.Fatalf("%s: %+v listed again, or without its mention", tc.name, a)
				}
				if tc.p.Token.ProjectID != "" && a.Project != "beta" {
					t.Fatalf("%s: an attestation of %s shown", tc.name, a.Project)
				}
				seen[a.Digest] = true
			}
			pages++
			if cursor = page.Next; cursor == "" {
				break
			}
		}
		if len(seen) != tc.want || pages != (tc.want+3)/4 {
			t.Errorf("%s: %d attestations in %d pages, want %d", tc.name, len(seen), pages, tc.want)
		}
	}
	_, err := e.app.FindByDigest(ctx, e.admin, "sha256:ABC", "", 0)
	wantCode(t, err, 400, wire.CodeBadRequest)
}
