package storetest

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"testing"

	"github.com/custody-dev/custody/controlplane/store"
	"github.com/custody-dev/custody/controlplane/store/sqlstore"
)

// testListPlans: every list query the control plane runs (each scope, each filter, with and without a
// cursor) reads an index range in list order: the database's plan scans no table, and sorts nothing.
// PostgreSQL is asked for its plan with sequential scans and sorts priced out (enable_seqscan and
// enable_sort off): a plan that still has one has no index to do without it, however few rows the
// test holds. SQLite's plan names each table's access as SEARCH (an index range) or SCAN (every row).
func testListPlans(t *testing.T, b Backend) {
	ctx := context.Background()
	addr := b.New(t)
	s := b.openAt(t, addr)
	f := newFixture(t, s, "acme")
	other := f.otherWorkflow(t, s)
	for i := range 20 {
		wf := f.workflow
		if i%4 == 0 {
			wf = other
		}
		r := &store.Run{ID: fmt.Sprintf("run-%02d", i), WorkflowID: wf.ID, ContractRevision: 1, CreatedAt: at(i), GitBranch: "main"}
		must(t, s.CreateRun(ctx, r))
		if i%2 == 0 {
			_, err := s.PutAttestation(ctx, attestation(fmt.Sprintf("sha256:%064d", i), r.ID, "sha256:base", fmt.Sprintf("sha256:app-%d", i)))
			must(t, err)
		}
	}
	raw := b.Raw(t, addr)
	defer raw.Close()
	conn, err := raw.Conn(ctx)
	must(t, err)
	defer conn.Close()
	if b.Dialect.Name == "postgres" {
		for _, set := range []string{"SET enable_seqscan = off", "SET enable_sort = off", "ANALYZE"} {
			_, err := conn.ExecContext(ctx, set)
			must(t, err)
		}
	}
	after := &store.Position{CreatedAt: at(10), Key: "run-10"}
	org, prj, wf := f.org.ID, f.project.ID, f.workflow.ID
	// The filters the app gives: the narrowest of the scope's org, project and workflow (a digest
	// search: org or project, and the workflow), and the list's own.
	runs := map[string]store.RunFilter{
		"org":                       {OrgID: org},
		"project":                   {ProjectID: prj},
		"workflow":                  {WorkflowID: wf},
		"org, state":                {OrgID: org, State: store.RunFailed},
		"org, runner":               {OrgID: org, RunnerType: "GITHUB_ACTION"},
		"org, branch":               {OrgID: org, Branch: "main"},
		"project, state":            {ProjectID: prj, State: store.RunSucceeded},
		"workflow, state":           {WorkflowID: wf, State: store.RunFailed},
		"workflow, every filter":    {WorkflowID: wf, State: store.RunFailed, RunnerType: "GITLAB_PIPELINE", Branch: "main"},
		"org, after":                {OrgID: org, After: after},
		"workflow, branch, after":   {WorkflowID: wf, Branch: "main", After: after},
		"org, state, runner, after": {OrgID: org, State: store.RunFailed, RunnerType: "GITHUB_ACTION", After: after},
		// Each filter alone shows it has an index of its own.
		"state alone":  {State: store.RunFailed},
		"runner alone": {RunnerType: "GITHUB_ACTION"},
		"branch alone": {Branch: "main"},
	}
	for name, rf := range runs {
		query, args := sqlstore.RunsQuery(rf)
		checkPlan(t, conn, b.Dialect, "runs by "+name, query, args)
	}
	afterAtt := &store.Position{CreatedAt: at(10), Key: fmt.Sprintf("sha256:%064d", 10)}
	atts := map[string]store.AttestationFilter{
		"project":                  {ProjectID: prj},
		"workflow":                 {WorkflowID: wf},
		"workflow, after":          {WorkflowID: wf, After: afterAtt},
		"digest in org":            {OrgID: org, Digest: "sha256:base"},
		"digest in project":        {ProjectID: prj, Digest: "sha256:base"},
		"digest in workflow":       {ProjectID: prj, WorkflowID: wf, Digest: "sha256:base"},
		"digest in org, after":     {OrgID: org, Digest: "sha256:base", After: afterAtt},
		"digest in project, after": {ProjectID: prj, Digest: "sha256:base", After: afterAtt},
	}
	for name, af := range atts {
		query, args := sqlstore.AttestationsQuery(af)
		checkPlan(t, conn, b.Dialect, "attestations by "+name, query, args)
	}
}

// checkPlan fails when the database's plan for query scans a table or sorts.
func checkPlan(t *testing.T, conn *sql.Conn, d sqlstore.Dialect, what, query string, args []any) {
	t.Helper()
	explain := "EXPLAIN "
	if d.Name == "sqlite" {
		explain = "EXPLAIN QUERY PLAN "
	}
	rows, err := conn.QueryContext(context.Background(), d.Rebind(explain+query), args...)
	must(t, err)
	defer rows.Close()
	cols, err := rows.Columns()
	must(t, err)
	var plan []string
	for rows.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		must(t, rows.Scan(ptrs...))
		plan = append(plan, fmt.Sprint(vals[len(vals)-1])) // the detail (SQLite) or the line (PostgreSQL)
	}
	must(t, rows.Err())
	text := strings.Join(plan, "\n")
	var bad []string
	for _, line := range plan {
		l := strings.TrimSpace(line)
		switch {
		case d.Name == "sqlite" && (strings.HasPrefix(l, "SCAN ") || strings.Contains(l, "TEMP B-TREE")),
			d.Name != "sqlite" && (strings.Contains(l, "Seq Scan") || strings.Contains(l, "Sort") || strings.Contains(l, "Bitmap")):
			bad = append(bad, l)
		}
	}
	if len(bad) > 0 {
		t.Errorf("%s: the plan scans or sorts (%s):\n%s", what, strings.Join(bad, "; "), text)
	}
}
