// Package storetest is the one test suite of store.Store, run by every implementation against a real
// database: `storetest.Run(t, backend)` from the implementation's tests.
package storetest

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/custody-dev/custody/controlplane/store"
	"github.com/custody-dev/custody/controlplane/store/sqlstore"
)

// Backend is how the suite reaches one implementation.
type Backend struct {
	// New returns the address (file path, URL) of a fresh, empty database, removed when t ends.
	New func(t testing.TB) string
	// Open opens the store at addr (migrating it).
	Open func(ctx context.Context, addr string) (store.Store, error)
	// Raw opens addr with database/sql, around the store, for the schema tests; closed by the caller.
	Raw func(t testing.TB, addr string) *sql.DB
	// Dialect is the implementation's, for the migration tests.
	Dialect sqlstore.Dialect
}

// open returns a store on a fresh database, closed when t ends.
func (b Backend) open(t testing.TB) store.Store {
	t.Helper()
	return b.openAt(t, b.New(t))
}

func (b Backend) openAt(t testing.TB, addr string) store.Store {
	t.Helper()
	s, err := b.Open(context.Background(), addr)
	if err != nil {
		t.Fatalf("open store: %v", err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("close store: %v", err)
		}
	})
	return s
}

// Run runs the suite. Every test gets its own database and runs in parallel with the others.
func Run(t *testing.T, b Backend) {
	tests := []struct {
		name string
		fn   func(*testing.T, Backend)
	}{
		{"Orgs", testOrgs},
		{"Projects", testProjects},
		{"Workflows", testWorkflows},
		{"WorkflowWithoutContract", testWorkflowWithoutContract},
		{"ContractRevisions", testContractRevisions},
		{"ConcurrentContractRevisions", testConcurrentContractRevisions},
		{"PublicKeys", testPublicKeys},
		{"Tokens", testTokens},
		{"TrustPolicies", testTrustPolicies},
		{"ExchangedTokens", testExchangedTokens},
		{"Sessions", testSessions},
		{"Runs", testRuns},
		{"ListRuns", testListRuns},
		{"FinishRun", testFinishRun},
		{"ExpireRuns", testExpireRuns},
		{"RemoteState", testRemoteState},
		{"ConcurrentRemoteState", testConcurrentRemoteState},
		{"PutAttestation", testPutAttestation},
		{"PutAttestationRefused", testPutAttestationRefused},
		{"ConcurrentPutAttestation", testConcurrentPutAttestation},
		{"ListAttestations", testListAttestations},
		{"ListPlans", testListPlans},
		{"RunPages", testRunPages},
		{"RunGit", testRunGit},
		{"AttestationPages", testAttestationPages},
		{"ListsAfterUpgrade", testListsAfterUpgrade},
		{"ImportRuns", testImportRuns},
		{"BlobUploads", testBlobUploads},
		{"BlobClaimed", testBlobClaimed},
		{"ClaimsAfterUpgrade", testClaimsAfterUpgrade},
		{"Bytes", testBytes},
		{"Times", testTimes},
		{"Reopen", testReopen},
		{"NewerSchemaRefused", testNewerSchemaRefused},
		{"ChangedMigrationRefused", testChangedMigrationRefused},
		{"MigrationsAtomic", testMigrationsAtomic},
		{"ConcurrentOpen", testConcurrentOpen},
		{"ConcurrentPipelines", testConcurrentPipelines},
		{"PingClose", testPingClose},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tc.fn(t, b)
		})
	}
}

// t0 is the suite's clock: not UTC and with nanoseconds, so the tests see the normalization.
var t0 = time.Date(2026, 3, 14, 15, 9, 26, 535897932, time.FixedZone("UTC+2", 2*3600))

// at is t0 plus n seconds.
func at(n int) time.Time { return t0.Add(time.Duration(n) * time.Second) }

// utc is what a time reads back as.
func utc(t time.Time) time.Time { return t.UTC().Truncate(time.Microsecond) }

// fixture is an org, a project and a workflow with contract revision 1.
type fixture struct {
	org      *store.Org
	project  *store.Project
	workflow *store.Workflow
}

func newFixture(t testing.TB, s store.Store, name string) fixture {
	t.Helper()
	ctx := context.Background()
	f := fixture{
		org:      &store.Org{ID: "org-" + name, Name: name, CreatedAt: at(0)},
		project:  &store.Project{ID: "prj-" + name, OrgID: "org-" + name, Name: "skynet", CreatedAt: at(1)},
		workflow: &store.Workflow{ID: "wf-" + name, ProjectID: "prj-" + name, Name: "build-and-test", CreatedAt: at(2)},
	}
	must(t, s.CreateOrg(ctx, f.org))
	must(t, s.CreateProject(ctx, f.project))
	must(t, s.CreateWorkflow(ctx, f.workflow, revision(1)))
	return f
}

// otherWorkflow creates a second workflow, "other", in f's project.
func (f fixture) otherWorkflow(t testing.TB, s store.Store) *store.Workflow {
	t.Helper()
	other := &store.Workflow{ID: "wf-other", ProjectID: f.project.ID, Name: "other", CreatedAt: at(3)}
	must(t, s.CreateWorkflow(context.Background(), other, revision(1)))
	return other
}

func revision(n int) *store.ContractRevision {
	body := fmt.Sprintf("apiVersion: custody.dev/v1\nkind: Contract\nmetadata: {name: rev-%d}\n", n)
	return &store.ContractRevision{Body: []byte(body), Digest: fmt.Sprintf("sha256:%064d", n), CreatedAt: at(2)}
}

// run creates an initialized run of f's workflow, expiring an hour after at(sec).
func (f fixture) run(t testing.TB, s store.Store, id string, sec int) *store.Run {
	t.Helper()
	r := &store.Run{ID: id, WorkflowID: f.workflow.ID, ContractRevision: 1, State: store.RunInitialized,
		RunnerType: "GITHUB_ACTION", RunnerURL: "https://github.com/o/r/actions/runs/1",
		CreatedAt: at(sec), ExpiresAt: at(sec + 3600)}
	must(t, s.CreateRun(context.Background(), r))
	return r
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// wantErr fails unless err is target (nil: no error).
func wantErr(t testing.TB, what string, err, target error) {
	t.Helper()
	switch {
	case target == nil && err != nil:
		t.Fatalf("%s: %v, want no error", what, err)
	case target != nil && !errors.Is(err, target):
		t.Fatalf("%s: error %v, want %v", what, err, target)
	}
}

func equal(t testing.TB, what string, got, want any) {
	t.Helper()
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("%s:\n got %+v\nwant %+v", what, got, want)
	}
}

func time0UTC() time.Time { return time.Unix(0, 0).UTC() }

func errorsIsAny(err error, targets ...error) bool {
	for _, target := range targets {
		if errors.Is(err, target) {
			return true
		}
	}
	return false
}
