package ui_test

import (
	"context"
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/custody-dev/custody/internal/cptest"
	"github.com/custody-dev/custody/wire"
)

var runLink = regexp.MustCompile(`href="/ui/runs/([0-9a-f-]{36})"`)

// TestRunsFilteredAndPaged: a workflow's page lists its runs newest first, a page at a time with a
// link to the next one (which keeps the filter), and filters them by state, runner and branch.
func TestRunsFilteredAndPaged(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	srv := cptest.New(t, cptest.Options{})
	token := srv.Workflow(t, "alpha", "build", buildContract, nil)
	c := srv.Client(t, token)
	var mainRuns, devRuns, failed []string
	for i := range 53 {
		req := wire.InitRun{Project: "alpha", Workflow: "build", Runner: wire.Runner{Type: "GITHUB_ACTION"}, Git: &wire.GitRef{Branch: "main", Commit: fmt.Sprintf("%040x", i)}}
		if i%10 == 0 {
			req.Runner.Type, req.Git.Branch = "GITLAB_PIPELINE", "dev"
		}
		run, err := c.InitRun(ctx, req)
		if err != nil {
			t.Fatal(err)
		}
		if req.Git.Branch == "dev" {
			devRuns = append(devRuns, run.Run.ID)
		} else {
			mainRuns = append(mainRuns, run.Run.ID)
		}
		if i%7 == 0 {
			if _, err := c.ResetRun(ctx, run.Run.ID, wire.FinishRun{Reason: "tests failed"}); err != nil {
				t.Fatal(err)
			}
			failed = append(failed, run.Run.ID)
		}
	}
	b := newBrowser(t, srv).mustSignIn(token)
	listed := func(query string) (ids []string, next string) {
		t.Helper()
		p := b.get("/ui/projects/alpha/workflows/build" + query)
		if p.status != http.StatusOK {
			t.Fatalf("runs %s: %d\n%s", query, p.status, p.body)
		}
		for _, m := range runLink.FindAllStringSubmatch(p.body, -1) {
			ids = append(ids, m[1])
		}
		if m := regexp.MustCompile(`id="next" href="([^"]*)"`).FindStringSubmatch(p.body); m != nil {
			next = strings.ReplaceAll(m[1], "&amp;", "&")
		}
		return ids, next
	}
	first, next := listed("")
	if len(first) != 50 || next == "" {
		t.Fatalf("the first page: %d runs, next %q; want 50 and a next page", len(first), next)
	}
	rest, end := listed(next)
	if len(rest) != 3 || end != "" {
		t.Fatalf("the second page: %d runs, next %q; want the 3 left and no next page", len(rest), end)
	}
	all := append(first, rest...)
	if all[0] != mainRuns[len(mainRuns)-1] || all[len(all)-1] != devRuns[0] {
		t.Errorf("the runs are not newest first: %s ... %s", all[0], all[len(all)-1])
	}
	for _, tc := range []struct {
		query string
		want  []string
	}{
		{"?branch=dev", devRuns},
		{"?runner=GITLAB_PIPELINE", devRuns},
		{"?state=failed", failed},
		{"?state=failed&branch=dev", intersect(failed, devRuns)},
	} {
		got, _ := listed(tc.query)
		if fmt.Sprint(sorted(got)) != fmt.Sprint(sorted(tc.want)) {
			t.Errorf("runs %s: %d runs %v, want %d %v", tc.query, len(got), got, len(tc.want), tc.want)
		}
	}
	if p := b.get("/ui/projects/alpha/workflows/build?state=burning"); p.status != http.StatusBadRequest || !strings.Contains(p.body, "burning") {
		t.Errorf("an unknown state: %d, want 400 naming it", p.status)
	}
	if p := b.get("/ui/projects/alpha/workflows/build?cursor=garbage"); p.status != http.StatusBadRequest {
		t.Errorf("a broken cursor: %d, want 400", p.status)
	}
}

func intersect(a, b []string) []string {
	var out []string
	for _, x := range a {
		for _, y := range b {
			if x == y {
				out = append(out, x)
			}
		}
	}
	return out
}

func sorted(s []string) []string {
	out := slices.Clone(s)
	slices.Sort(out)
	return out
}
