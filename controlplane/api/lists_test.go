package api_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"path/filepath"
	"reflect"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/custody-dev/custody/attestation"
	"github.com/custody-dev/custody/controlplane/app"
	"github.com/custody-dev/custody/controlplane/store"
	"github.com/custody-dev/custody/controlplane/store/sqlite"
	"github.com/custody-dev/custody/crafting"
	"github.com/custody-dev/custody/internal/cptest"
	"github.com/custody-dev/custody/wire"
)

// countingStore counts the store's lookups of one record (by key or a workflow's latest contract):
// what a list would do once a row if it looked each row's workflow, project or contract up.
type countingStore struct {
	store.Store
	n atomic.Int64
}

func (s *countingStore) GetWorkflowByID(ctx context.Context, id string) (*store.Workflow, error) {
	s.n.Add(1)
	return s.Store.GetWorkflowByID(ctx, id)
}

func (s *countingStore) GetProjectByID(ctx context.Context, id string) (*store.Project, error) {
	s.n.Add(1)
	return s.Store.GetProjectByID(ctx, id)
}

func (s *countingStore) GetWorkflow(ctx context.Context, projectID, name string) (*store.Workflow, error) {
	s.n.Add(1)
	return s.Store.GetWorkflow(ctx, projectID, name)
}

func (s *countingStore) GetContractRevision(ctx context.Context, workflowID string, n int) (*store.ContractRevision, error) {
	s.n.Add(1)
	return s.Store.GetContractRevision(ctx, workflowID, n)
}

func (s *countingStore) GetRun(ctx context.Context, id string) (*store.Run, error) {
	s.n.Add(1)
	return s.Store.GetRun(ctx, id)
}

// listServer is a control plane on a counting SQLite store, with project alpha's workflows and, in
// each, runs attested to mention the digest shared.
type listServer struct {
	*cptest.Server
	counting *countingStore
	admin    string
}

const shared = "sha256:5ba8ed0f0fb8a5b0f1f6f8c0e55b3bd9b3bfe1d2f3b4c5d6e7f8091a2b3c4d5e"

func newListServer(t *testing.T, workflows, runsPerWorkflow int) *listServer {
	t.Helper()
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "custody.db"))
	if err != nil {
		t.Fatal(err)
	}
	counting := &countingStore{Store: st}
	srv := cptest.New(t, cptest.Options{Store: counting})
	l := &listServer{Server: srv, counting: counting, admin: srv.AdminToken}
	t0 := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
	for w := range workflows {
		name := fmt.Sprintf("build-%d", w)
		srv.Workflow(t, "alpha", name, "", nil)
		org, err := st.GetOrgByName(ctx, app.DefaultOrg)
		if err != nil {
			t.Fatal(err)
		}
		pr, err := st.GetProject(ctx, org.ID, "alpha")
		if err != nil {
			t.Fatal(err)
		}
		wf, err := st.GetWorkflow(ctx, pr.ID, name)
		if err != nil {
			t.Fatal(err)
		}
		for i := range runsPerWorkflow {
			at := t0.Add(time.Duration(i*workflows+w) * time.Second)
			run := &store.Run{WorkflowID: wf.ID, ContractRevision: 1, CreatedAt: at, ExpiresAt: at.Add(time.Hour), GitBranch: "main"}
			if err := st.CreateRun(ctx, run); err != nil {
				t.Fatal(err)
			}
			sum := sha256.Sum256([]byte(run.ID))
			att := &store.Attestation{Digest: "sha256:" + hex.EncodeToString(sum[:]), RunID: run.ID, Bundle: []byte("{}"), CreatedAt: at,
				Materials: []store.MaterialRef{{Digest: shared, Name: "base-image", Kind: "CONTAINER_IMAGE"}}}
			if _, err := st.PutAttestation(ctx, att); err != nil {
				t.Fatal(err)
			}
		}
	}
	return l
}

// get calls the API and returns the answer, its body decoded into out, and the store lookups it made.
func (l *listServer) get(t *testing.T, token, path string, out any) (*http.Response, int64) {
	t.Helper()
	req, err := http.NewRequestWithContext(context.Background(), http.MethodGet, l.URL+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	before := l.counting.n.Load()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	lookups := l.counting.n.Load() - before
	if out != nil {
		if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
			t.Fatalf("GET %s: %d, %v", path, resp.StatusCode, err)
		}
	}
	return resp, lookups
}

// TestListsLookNothingUpPerRow: a page of a list costs the same store lookups whatever its length:
// no list looks up each row's workflow, project or contract (a page of 40 attestations of four
// workflows used to look up 80 workflows and projects).
func TestListsLookNothingUpPerRow(t *testing.T) {
	t.Parallel()
	l := newListServer(t, 4, 10)
	project := l.token(t, wire.CreateToken{Project: "alpha"})
	for _, tc := range []struct {
		name, token, path string
	}{
		{"digest search, admin", l.admin, "/v1/attestations?digest=" + shared + "&limit=%d"},
		{"digest search, project token", project, "/v1/attestations?digest=" + shared + "&limit=%d"},
		{"a workflow's attestations", project, "/v1/attestations?project=alpha&workflow=build-1&limit=%d"},
		{"a workflow's runs", project, "/v1/projects/alpha/workflows/build-1/runs?limit=%d"},
	} {
		var small, large []json.RawMessage
		l.get(t, tc.token, fmt.Sprintf(tc.path, 2), nil) // a first call fills what is cached
		_, few := l.get(t, tc.token, fmt.Sprintf(tc.path, 2), &small)
		_, many := l.get(t, tc.token, fmt.Sprintf(tc.path, 40), &large)
		if len(small) != 2 || len(large) < 10 {
			t.Fatalf("%s: pages of %d and %d rows", tc.name, len(small), len(large))
		}
		if many != few {
			t.Errorf("%s: a page of %d rows made %d store lookups, a page of %d %d", tc.name, len(large), many, len(small), few)
		}
	}
	// The workflows of a project: two workflows or eight cost the same.
	var two, eight []wire.Workflow
	l.get(t, l.admin, "/v1/projects/alpha/workflows", nil)
	_, few := l.get(t, l.admin, "/v1/projects/alpha/workflows", &two)
	for w := 4; w < 12; w++ {
		l.Workflow(t, "alpha", fmt.Sprintf("build-%d", w), "", nil)
	}
	l.get(t, l.admin, "/v1/projects/alpha/workflows", nil)
	_, many := l.get(t, l.admin, "/v1/projects/alpha/workflows", &eight)
	if len(two) != 4 || len(eight) != 12 || many != few {
		t.Errorf("listing %d workflows made %d store lookups, listing %d %d", len(eight), many, len(two), few)
	}
}

func (l *listServer) token(t *testing.T, req wire.CreateToken) string {
	t.Helper()
	tok, err := l.Admin(t).CreateToken(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	return tok.Secret
}

// TestListPages: a list answers a JSON array, as before it paged, and a Link header to the next page
// while more rows follow; following the links walks every row once, newest first, keeping the
// filters; a cursor that is not one the list gave is refused, naming it.
func TestListPages(t *testing.T) {
	t.Parallel()
	l := newListServer(t, 3, 7) // 21 runs, each attested
	project := l.token(t, wire.CreateToken{Project: "alpha"})
	for _, tc := range []struct {
		name, first string
		want        int
	}{
		{"runs", "/v1/runs?limit=4", 21},
		{"runs of a project, filtered", "/v1/runs?project=alpha&state=succeeded&branch=main&runner=&limit=5", 21},
		{"runs of a workflow", "/v1/projects/alpha/workflows/build-2/runs?limit=3", 7},
		{"runs of a workflow, the newer route", "/v1/runs?project=alpha&workflow=build-2&limit=7", 7},
		{"a digest search", "/v1/attestations?digest=" + shared + "&limit=6", 21},
		{"a workflow's attestations", "/v1/attestations?project=alpha&workflow=build-0&limit=2", 7},
	} {
		seen := map[string]bool{}
		var last time.Time
		path, pages := tc.first, 0
		for path != "" {
			var rows []struct {
				ID, Digest string
				CreatedAt  time.Time
			}
			resp, _ := l.get(t, project, path, &rows)
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("%s: GET %s: %d", tc.name, path, resp.StatusCode)
			}
			for _, r := range rows {
				key := r.ID + r.Digest
				if seen[key] || !last.IsZero() && r.CreatedAt.After(last) {
					t.Fatalf("%s: %s again or out of order on page %d", tc.name, key, pages)
				}
				seen[key], last = true, r.CreatedAt
			}
			path = nextLink(t, resp)
			pages++
		}
		if len(seen) != tc.want {
			t.Errorf("%s: %d rows over %d pages, want %d", tc.name, len(seen), pages, tc.want)
		}
	}
	var runs []wire.Run
	resp, _ := l.get(t, project, "/v1/runs?state=failed", &runs)
	if resp.StatusCode != http.StatusOK || len(runs) != 0 || resp.Header.Get("Link") != "" {
		t.Errorf("failed runs: %d, %d runs, Link %q; want 200, none, no link", resp.StatusCode, len(runs), resp.Header.Get("Link"))
	}
	// A cursor of another list, or of nothing, is refused.
	resp, _ = l.get(t, project, "/v1/runs?limit=1", &runs)
	runCursor := cursorOf(t, nextLink(t, resp))
	resp, _ = l.get(t, project, "/v1/attestations?digest="+shared+"&limit=1", nil)
	attCursor := cursorOf(t, nextLink(t, resp))
	for _, tc := range []struct{ path, cursor string }{
		{"/v1/runs", "bm90IGEgY3Vyc29y"},
		{"/v1/runs", "%%%"},
		{"/v1/runs", attCursor},
		{"/v1/attestations?digest=" + shared, runCursor},
		{"/v1/projects/alpha/workflows/build-0/runs", "cjE6LTE6eA"},
	} {
		var p wire.Problem
		sep := "?"
		if u, _ := url.Parse(tc.path); u.RawQuery != "" {
			sep = "&"
		}
		resp, _ := l.get(t, project, tc.path+sep+"cursor="+url.QueryEscape(tc.cursor), &p)
		if resp.StatusCode != http.StatusBadRequest || p.Code != wire.CodeBadRequest || !containsAll(p.Detail, "cursor", tc.cursor) {
			t.Errorf("%s with cursor %q: %d %s %q, want 400 bad_request naming the cursor", tc.path, tc.cursor, resp.StatusCode, p.Code, p.Detail)
		}
	}
}

func nextLink(t *testing.T, resp *http.Response) string {
	t.Helper()
	link := resp.Header.Get("Link")
	if link == "" {
		return ""
	}
	var path string
	if _, err := fmt.Sscanf(link, "<%s", &path); err != nil || len(path) < 2 || link[len(link)-len(`>; rel="next"`):] != `>; rel="next"` {
		t.Fatalf("Link %q: want <path>; rel=\"next\"", link)
	}
	return link[1 : len(link)-len(`>; rel="next"`)]
}

func cursorOf(t *testing.T, link string) string {
	t.Helper()
	u, err := url.Parse(link)
	if err != nil || u.Query().Get("cursor") == "" {
		t.Fatalf("link %q has no cursor", link)
	}
	return u.Query().Get("cursor")
}

func containsAll(s string, parts ...string) bool {
	for _, p := range parts {
		if !strings.Contains(s, p) {
			return false
		}
	}
	return true
}

// TestPushRecordsGit: a push records on its run the branch and commit its attestation records (the
// runner context's branch, the git head), where init told none or others; a value that is no branch
// or commit is not recorded, and the push is stored all the same.
func TestPushRecordsGit(t *testing.T) {
	t.Parallel()
	c := newClaims(t, cptest.Options{})
	admin := c.srv.Admin(t)
	head := strings.Repeat("c", 40)
	github := func(ref string) *attestation.Runner {
		return &attestation.Runner{Type: "GITHUB_ACTION", Environment: map[string]string{"GITHUB_REF": ref, "GITHUB_SHA": strings.Repeat("d", 40)}}
	}
	for _, tc := range []struct {
		name   string
		init   *wire.GitRef
		runner *attestation.Runner
		git    *attestation.Git
		want   *wire.GitRef
	}{
		{"a GitHub branch build", nil, github("refs/heads/release/1.x"), &attestation.Git{Commit: head}, &wire.GitRef{Branch: "release/1.x", Commit: head}},
		{"a tag build keeps init's branch", &wire.GitRef{Branch: "main"}, github("refs/tags/v1"), nil, &wire.GitRef{Branch: "main", Commit: strings.Repeat("d", 40)}},
		{"no runner, no git", &wire.GitRef{Branch: "main", Commit: head}, nil, nil, &wire.GitRef{Branch: "main", Commit: head}},
		{"a branch with a NUL, a commit that is none", nil, github("refs/heads/bad\x00branch"), &attestation.Git{Commit: "HEAD"}, &wire.GitRef{Commit: strings.Repeat("d", 40)}},
	} {
		init, err := admin.InitRun(t.Context(), wire.InitRun{Project: "alpha", Workflow: "build", Git: tc.init})
		if err != nil {
			t.Fatal(err)
		}
		digest := c.upload(t, "alpha/build", "rootfs of "+tc.name)
		bundle := statement{Run: init.Run, Materials: []attestation.Material{rootfs(digest, true), buildRef}, Runner: tc.runner, Git: tc.git}.sign(t, c.signer)
		if a := send(t, c.srv, pushCall(c.tokens["alpha/build"], init.Run.ID, bundle)); a.status != http.StatusCreated {
			t.Fatalf("%s: push: %s", tc.name, a)
		}
		run, err := admin.GetRun(t.Context(), init.Run.ID)
		if err != nil || run.State != "succeeded" || !reflect.DeepEqual(run.Git, tc.want) {
			t.Errorf("%s: run %s with git %+v, %v; want succeeded with %+v", tc.name, run.State, run.Git, err, tc.want)
		}
	}
}

// TestInitOnlineRecordsGit: a pipeline's init tells the control plane the branch and commit its
// runner context names, so the runs list filters on them before anything is pushed; a commit that
// is none is left out, and init goes on.
func TestInitOnlineRecordsGit(t *testing.T) {
	t.Parallel()
	srv := cptest.New(t, cptest.Options{})
	token := srv.Workflow(t, "skynet", "build", "", nil)
	sha := strings.Repeat("e", 40)
	for _, tc := range []struct {
		name, sha string
		want      *wire.GitRef
	}{
		{"a GitHub branch build", sha, &wire.GitRef{Branch: "release/2.x", Commit: sha}},
		{"a commit that is none", "not-a-sha", &wire.GitRef{Branch: "release/2.x"}},
	} {
		env := map[string]string{"GITHUB_ACTIONS": "true", "GITHUB_SERVER_URL": "https://github.com", "GITHUB_REPOSITORY": "acme/app",
			"GITHUB_REPOSITORY_OWNER": "acme", "GITHUB_RUN_ID": "1", "GITHUB_RUN_ATTEMPT": "1", "GITHUB_SHA": tc.sha, "GITHUB_WORKFLOW": "ci",
			"GITHUB_EVENT_NAME": "push", "GITHUB_ACTOR": "octocat", "GITHUB_REF": "refs/heads/release/2.x"}
		c, err := crafting.New(crafting.Options{Store: crafting.NewFileStore(filepath.Join(t.TempDir(), "state.json")),
			Getenv: func(k string) string { return env[k] }, Workdir: t.TempDir()})
		if err != nil {
			t.Fatal(err)
		}
		st, err := c.InitOnline(t.Context(), srv.Client(t, token), crafting.OnlineInit{InitOptions: crafting.InitOptions{Project: "skynet", Workflow: "build"}})
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		run, err := srv.Admin(t).GetRun(t.Context(), st.RunID)
		if err != nil || !reflect.DeepEqual(run.Git, tc.want) {
			t.Errorf("%s: run's git %+v, %v; want %+v", tc.name, run.Git, err, tc.want)
		}
	}
}
