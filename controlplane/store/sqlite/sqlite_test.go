package sqlite_test

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/custody-dev/custody/controlplane/store"
	"github.com/custody-dev/custody/controlplane/store/sqlite"
	"github.com/custody-dev/custody/controlplane/store/sqlstore"
	"github.com/custody-dev/custody/controlplane/store/storetest"
)

func backend() storetest.Backend {
	return storetest.Backend{
		New: func(t testing.TB) string { return filepath.Join(t.TempDir(), "custody.db") },
		Open: func(ctx context.Context, path string) (store.Store, error) {
			return sqlite.Open(ctx, path)
		},
		Raw: func(t testing.TB, path string) *sql.DB {
			db, err := sql.Open("sqlite", sqlite.DSN(path, false))
			if err != nil {
				t.Fatal(err)
			}
			return db
		},
		Dialect: sqlite.Dialect(),
	}
}

func TestStore(t *testing.T) {
	t.Parallel()
	storetest.Run(t, backend())
}

func BenchmarkPutAttestation(b *testing.B) { storetest.BenchPutAttestation(b, backend()) }

func BenchmarkPutLargestAttestation(b *testing.B) { storetest.BenchPutLargestAttestation(b, backend()) }

func BenchmarkCreateRun(b *testing.B) { storetest.BenchCreateRun(b, backend()) }

func TestOpenRefusesNonFiles(t *testing.T) {
	t.Parallel()
	for _, path := range []string{"", ":memory:", "file:custody.db", filepath.Join(t.TempDir(), "a?mode=ro"), filepath.Join(t.TempDir(), "a#b")} {
		s, err := sqlite.Open(context.Background(), path)
		if err == nil {
			_ = s.Close()
			t.Errorf("Open(%q): no error, want a refusal", path)
		}
	}
	_, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "missing-dir", "custody.db"))
	if err == nil || !strings.Contains(err.Error(), "missing-dir") {
		t.Errorf("Open in a missing directory: %v, want an error naming the path", err)
	}
}

// TestFile: the database file is private and in WAL mode.
func TestFile(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "custody.db")
	s, err := sqlite.Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	info, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if mode := info.Mode().Perm(); mode != 0o600 {
		t.Errorf("database file mode %o, want 600", mode)
	}
	db := backend().Raw(t, path)
	defer db.Close()
	var mode string
	if err := db.QueryRow(`PRAGMA journal_mode`).Scan(&mode); err != nil {
		t.Fatal(err)
	}
	if mode != "wal" {
		t.Errorf("journal mode %q, want wal", mode)
	}
}

// TestTwoStoresOneFile: two stores on one file (two processes sharing a data dir, or a restart while
// the old one drains) write at once without "database is locked" errors.
func TestTwoStoresOneFile(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "custody.db")
	var stores [2]store.Store
	for i := range stores {
		s, err := sqlite.Open(ctx, path)
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		stores[i] = s
	}
	const n = 200
	errs := make(chan error, 2*n)
	var wg sync.WaitGroup
	for i := range 2 * n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs <- stores[i%2].CreateOrg(ctx, &store.Org{Name: fmt.Sprintf("org-%d", i)})
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	for i := range 2 * n {
		if _, err := stores[(i+1)%2].GetOrgByName(ctx, fmt.Sprintf("org-%d", i)); err != nil {
			t.Fatalf("org %d through the other store: %v", i, err)
		}
	}
}

// TestPlannerStatistics: a database opened without the query planner's statistics gets them, so a
// list of a quiet workflow filtered by a common branch reads the workflow's runs, not the branch's.
func TestPlannerStatistics(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "custody.db")
	s, err := sqlite.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(s.CreateOrg(ctx, &store.Org{ID: "o", Name: "acme"}))
	must(s.CreateProject(ctx, &store.Project{ID: "p", OrgID: "o", Name: "skynet"}))
	for _, w := range []string{"busy", "quiet"} {
		must(s.CreateWorkflow(ctx, &store.Workflow{ID: w, ProjectID: "p", Name: w},
			&store.ContractRevision{Body: []byte("x"), Digest: "sha256:x"}))
	}
	var runs []store.Run
	for i := range 5000 {
		r := store.Run{ID: fmt.Sprintf("run-%05d", i), WorkflowID: "busy", ContractRevision: 1, GitBranch: "main", State: store.RunFailed}
		if i%100 == 0 {
			r.WorkflowID, r.GitBranch = "quiet", fmt.Sprintf("feature/%d", i)
		}
		runs = append(runs, r)
	}
	must(s.ImportRuns(ctx, runs, nil))
	must(s.Close())

	db := backend().Raw(t, path)
	defer db.Close()
	statistics := func() int { // of runs' indexes, in sqlite_stat1 (made by the first ANALYZE)
		t.Helper()
		var n int
		must(db.QueryRow(`SELECT count(*) FROM sqlite_schema WHERE name = 'sqlite_stat1'`).Scan(&n))
		if n > 0 {
			must(db.QueryRow(`SELECT count(*) FROM sqlite_stat1 WHERE tbl = 'runs'`).Scan(&n))
		}
		return n
	}
	if stats := statistics(); stats != 0 {
		t.Fatalf("%d statistics of runs before the second open", stats)
	}
	s, err = sqlite.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if statistics() == 0 {
		t.Fatal("no statistics of runs after opening")
	}
	conn, err := sql.Open("sqlite", sqlite.DSN(path, true)) // a reader that connects now, as the store's do
	must(err)
	defer conn.Close()
	query, args := sqlstore.RunsQuery(store.RunFilter{OrgID: "o", WorkflowID: "quiet", State: store.RunFailed, Branch: "main"})
	var plan []string
	rows, err := conn.Query("EXPLAIN QUERY PLAN "+query, args...)
	must(err)
	defer rows.Close()
	for rows.Next() {
		var id, parent, unused int
		var detail string
		must(rows.Scan(&id, &parent, &unused, &detail))
		plan = append(plan, detail)
	}
	if p := strings.Join(plan, "; "); !strings.Contains(p, "runs_workflow_list_idx") {
		t.Errorf("the quiet workflow's failed runs on main are read by %s, want its own runs' index", p)
	}
}
