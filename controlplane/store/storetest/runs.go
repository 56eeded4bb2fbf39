package storetest

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"github.com/custody-dev/custody/controlplane/store"
)

func testRuns(t *testing.T, b Backend) {
	ctx := context.Background()
	s := b.open(t)
	f := newFixture(t, s, "acme")
	r := f.run(t, s, "r1", 10)
	want := store.Run{ID: "r1", WorkflowID: f.workflow.ID, ContractRevision: 1, State: store.RunInitialized,
		RunnerType: "GITHUB_ACTION", RunnerURL: "https://github.com/o/r/actions/runs/1",
		CreatedAt: utc(at(10)), ExpiresAt: utc(at(3610))}
	equal(t, "created run (normalized in place)", *r, want)
	got, err := s.GetRun(ctx, "r1")
	must(t, err)
	equal(t, "run read back", *got, want)

	tests := []struct {
		name string
		run  store.Run
		want error
	}{
		{"same id", store.Run{ID: "r1", WorkflowID: f.workflow.ID, ContractRevision: 1}, store.ErrExists},
		{"unknown workflow", store.Run{ID: "r2", WorkflowID: "nope", ContractRevision: 1}, store.ErrNotFound},
		{"unknown contract revision", store.Run{ID: "r3", WorkflowID: f.workflow.ID, ContractRevision: 2}, store.ErrNotFound},
		{"no state means initialized", store.Run{ID: "r4", WorkflowID: f.workflow.ID, ContractRevision: 1}, nil},
	}
	for _, tc := range tests {
		run := tc.run
		wantErr(t, "create run: "+tc.name, s.CreateRun(ctx, &run), tc.want)
	}
	r4, err := s.GetRun(ctx, "r4")
	must(t, err)
	equal(t, "state of a run created without one", r4.State, store.RunInitialized)
	equal(t, "expiry of a run created without one", r4.ExpiresAt.IsZero(), true)
	_, err = s.GetRun(ctx, "nope")
	wantErr(t, "unknown run", err, store.ErrNotFound)
}

func testListRuns(t *testing.T, b Backend) {
	ctx := context.Background()
	s := b.open(t)
	f := newFixture(t, s, "acme")
	other := f.otherWorkflow(t, s)
	// 55 runs of the fixture's workflow (one a second, every fifth failed), 3 of the other.
	for i := range 55 {
		f.run(t, s, fmt.Sprintf("run-%02d", i), 100+i)
		if i%5 == 0 {
			must(t, s.FinishRun(ctx, fmt.Sprintf("run-%02d", i), store.RunFailed, "tests failed", at(200+i)))
		}
	}
	for i := range 3 {
		must(t, s.CreateRun(ctx, &store.Run{ID: fmt.Sprintf("other-%d", i), WorkflowID: other.ID, ContractRevision: 1, CreatedAt: at(1000 + i)}))
	}
	ids := func(rs []store.RunListing) []string {
		return names(rs, func(r store.RunListing) string { return r.ID })
	}
	tests := []struct {
		name   string
		filter store.RunFilter
		want   []string
	}{
		{"workflow, limit 3, newest first", store.RunFilter{WorkflowID: f.workflow.ID, Limit: 3}, []string{"run-54", "run-53", "run-52"}},
		{"other workflow", store.RunFilter{WorkflowID: other.ID}, []string{"other-2", "other-1", "other-0"}},
		{"failed", store.RunFilter{State: store.RunFailed, Limit: 4}, []string{"run-50", "run-45", "run-40", "run-35"}},
		{"failed of the other workflow", store.RunFilter{WorkflowID: other.ID, State: store.RunFailed}, []string{}},
		{"all, limit 2", store.RunFilter{Limit: 2}, []string{"other-2", "other-1"}},
		{"unknown workflow", store.RunFilter{WorkflowID: "nope"}, []string{}},
	}
	for _, tc := range tests {
		rs, err := s.ListRuns(ctx, tc.filter)
		must(t, err)
		equal(t, tc.name, ids(rs), tc.want)
	}
	rs, err := s.ListRuns(ctx, store.RunFilter{WorkflowID: f.workflow.ID})
	must(t, err)
	equal(t, "default limit", len(rs), 50)
	rs, err = s.ListRuns(ctx, store.RunFilter{WorkflowID: f.workflow.ID, State: store.RunFailed, Limit: 100})
	must(t, err)
	equal(t, "failed runs of the workflow", len(rs), 11)
	equal(t, "listed run is complete", rs[0].Reason, "tests failed")
	equal(t, "listed run is complete", rs[0].FinishedAt, utc(at(250)))
	// A listed run has no remote state (up to 8 MiB each, which a page would hold in memory at
	// once), only its digest; GetRun has the state.
	must(t, s.SetRemoteState(ctx, "run-54", "", []byte("a remote state"), "sha256:state"))
	rs, err = s.ListRuns(ctx, store.RunFilter{WorkflowID: f.workflow.ID, Limit: 1})
	must(t, err)
	equal(t, "listed run's remote state", []any{rs[0].ID, rs[0].RemoteState == nil, rs[0].RemoteStateDigest}, []any{"run-54", true, "sha256:state"})
	got, err := s.GetRun(ctx, "run-54")
	must(t, err)
	equal(t, "its remote state", string(got.RemoteState), "a remote state")
}

func testFinishRun(t *testing.T, b Backend) {
	ctx := context.Background()
	s := b.open(t)
	f := newFixture(t, s, "acme")
	f.run(t, s, "r1", 10)
	f.run(t, s, "r2", 11)
	f.run(t, s, "r3", 12)

	must(t, s.FinishRun(ctx, "r1", store.RunFailed, "tests failed", at(20)))
	got, err := s.GetRun(ctx, "r1")
	must(t, err)
	equal(t, "failed run", []any{got.State, got.Reason, got.FinishedAt}, []any{store.RunFailed, "tests failed", utc(at(20))})
	must(t, s.FinishRun(ctx, "r2", store.RunCancelled, "", at(21)))

	tests := []struct {
		name  string
		id    string
		state store.RunState
		want  error
	}{
		{"failed again", "r1", store.RunFailed, store.ErrStale},
		{"cancel a failed run", "r1", store.RunCancelled, store.ErrStale},
		{"fail a cancelled run", "r2", store.RunFailed, store.ErrStale},
		{"unknown run", "nope", store.RunFailed, store.ErrNotFound},
	}
	for _, tc := range tests {
		wantErr(t, tc.name, s.FinishRun(ctx, tc.id, tc.state, "again", at(30)), tc.want)
	}
	for _, state := range []store.RunState{store.RunSucceeded, store.RunExpired, store.RunInitialized, "bogus"} {
		err := s.FinishRun(ctx, "r3", state, "", at(30))
		if err == nil || errorsIsAny(err, store.ErrStale, store.ErrNotFound) {
			t.Fatalf("finish as %q: %v, want a plain error", state, err)
		}
	}
	got, err = s.GetRun(ctx, "r1")
	must(t, err)
	equal(t, "refused finish changed nothing", []any{got.State, got.Reason, got.FinishedAt}, []any{store.RunFailed, "tests failed", utc(at(20))})
}

func testExpireRuns(t *testing.T, b Backend) {
	ctx := context.Background()
	s := b.open(t)
	f := newFixture(t, s, "acme")
	f.run(t, s, "old-1", 0)    // expires at(3600)
	f.run(t, s, "old-2", 100)  // at(3700)
	f.run(t, s, "edge", 400)   // at(4000): not before now
	f.run(t, s, "young", 1000) // at(4600)
	f.run(t, s, "failed", 0)   // finished before
	must(t, s.FinishRun(ctx, "failed", store.RunFailed, "x", at(50)))
	must(t, s.CreateRun(ctx, &store.Run{ID: "forever", WorkflowID: f.workflow.ID, ContractRevision: 1, CreatedAt: at(0)}))

	n, err := s.ExpireRuns(ctx, at(4000))
	must(t, err)
	equal(t, "expired", n, 2)
	want := map[string]store.RunState{"old-1": store.RunExpired, "old-2": store.RunExpired, "edge": store.RunInitialized,
		"young": store.RunInitialized, "failed": store.RunFailed, "forever": store.RunInitialized}
	for id, state := range want {
		r, err := s.GetRun(ctx, id)
		must(t, err)
		equal(t, "state of "+id, r.State, state)
	}
	r, err := s.GetRun(ctx, "old-1")
	must(t, err)
	equal(t, "expired run finished at now", r.FinishedAt, utc(at(4000)))
	n, err = s.ExpireRuns(ctx, at(4000))
	must(t, err)
	equal(t, "expired again", n, 0)
	wantErr(t, "fail an expired run", s.FinishRun(ctx, "old-1", store.RunFailed, "late", at(4001)), store.ErrStale)
}

func testRemoteState(t *testing.T, b Backend) {
	ctx := context.Background()
	s := b.open(t)
	f := newFixture(t, s, "acme")
	f.run(t, s, "r1", 10)
	state := func(id string) (string, string) {
		r, err := s.GetRun(ctx, id)
		must(t, err)
		return string(r.RemoteState), r.RemoteStateDigest
	}
	steps := []struct {
		name            string
		base, body, dig string
		want            error
		after           [2]string
	}{
		{"first write from none", "", `{"materials":{}}`, "sha256:d1", nil, [2]string{`{"materials":{}}`, "sha256:d1"}},
		{"from none again", "", `{"x":1}`, "sha256:dx", store.ErrStale, [2]string{`{"materials":{}}`, "sha256:d1"}},
		{"from an unknown digest", "sha256:zz", `{"x":1}`, "sha256:dx", store.ErrStale, [2]string{`{"materials":{}}`, "sha256:d1"}},
		{"from the current digest", "sha256:d1", `{"materials":{"a":1}}`, "sha256:d2", nil, [2]string{`{"materials":{"a":1}}`, "sha256:d2"}},
		{"from the previous digest", "sha256:d1", `{"x":1}`, "sha256:dx", store.ErrStale, [2]string{`{"materials":{"a":1}}`, "sha256:d2"}},
	}
	for _, st := range steps {
		wantErr(t, st.name, s.SetRemoteState(ctx, "r1", st.base, []byte(st.body), st.dig), st.want)
		body, dig := state("r1")
		equal(t, st.name+": state after", [2]string{body, dig}, st.after)
	}
	wantErr(t, "unknown run", s.SetRemoteState(ctx, "nope", "", []byte("{}"), "sha256:d"), store.ErrNotFound)
	// Clearing: nil state, empty digest.
	must(t, s.SetRemoteState(ctx, "r1", "sha256:d2", nil, ""))
	r, err := s.GetRun(ctx, "r1")
	must(t, err)
	equal(t, "cleared state", []any{r.RemoteState == nil, r.RemoteStateDigest}, []any{true, ""})
}

// testConcurrentRemoteState: of 16 writers racing from the same base, exactly one wins, and its write
// is what is stored.
func testConcurrentRemoteState(t *testing.T, b Backend) {
	ctx := context.Background()
	s := b.open(t)
	f := newFixture(t, s, "acme")
	f.run(t, s, "r1", 10)
	must(t, s.SetRemoteState(ctx, "r1", "", []byte("base"), "sha256:base"))
	const n = 16
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = s.SetRemoteState(ctx, "r1", "sha256:base", []byte(fmt.Sprintf("writer %d", i)), fmt.Sprintf("sha256:w%d", i))
		}()
	}
	wg.Wait()
	winner := -1
	for i, err := range errs {
		switch {
		case err == nil && winner >= 0:
			t.Fatalf("writers %d and %d both won", winner, i)
		case err == nil:
			winner = i
		default:
			wantErr(t, fmt.Sprintf("writer %d", i), err, store.ErrStale)
		}
	}
	if winner < 0 {
		t.Fatal("no writer won")
	}
	r, err := s.GetRun(ctx, "r1")
	must(t, err)
	equal(t, "stored state", []string{string(r.RemoteState), r.RemoteStateDigest},
		[]string{fmt.Sprintf("writer %d", winner), fmt.Sprintf("sha256:w%d", winner)})
}
