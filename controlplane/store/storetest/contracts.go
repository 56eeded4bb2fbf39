package storetest

import (
	"context"
	"fmt"
	"sort"
	"sync"
	"testing"

	"github.com/custody-dev/custody/controlplane/store"
)

func testContractRevisions(t *testing.T, b Backend) {
	ctx := context.Background()
	s := b.open(t)
	f := newFixture(t, s, "acme")
	other := f.otherWorkflow(t, s)

	for n := 2; n <= 3; n++ {
		body := []byte(fmt.Sprintf("revision %d", n))
		rev, err := s.AddContractRevision(ctx, f.workflow.ID, body, fmt.Sprintf("sha256:%d", n), at(10+n))
		must(t, err)
		equal(t, "added revision", *rev, store.ContractRevision{WorkflowID: f.workflow.ID, Revision: n, Body: body,
			Digest: fmt.Sprintf("sha256:%d", n), CreatedAt: utc(at(10 + n))})
	}
	// Numbering is per workflow.
	rev, err := s.AddContractRevision(ctx, other.ID, []byte("o2"), "sha256:o2", at(20))
	must(t, err)
	equal(t, "other workflow's second revision", rev.Revision, 2)

	tests := []struct {
		name     string
		workflow string
		n        int
		want     int // revision, or 0 with err
		err      error
	}{
		{"latest", f.workflow.ID, 0, 3, nil},
		{"first, kept", f.workflow.ID, 1, 1, nil},
		{"second", f.workflow.ID, 2, 2, nil},
		{"past the latest", f.workflow.ID, 4, 0, store.ErrNotFound},
		{"negative", f.workflow.ID, -1, 0, store.ErrNotFound},
		{"unknown workflow", "nope", 0, 0, store.ErrNotFound},
		{"unknown workflow, numbered", "nope", 1, 0, store.ErrNotFound},
	}
	for _, tc := range tests {
		got, err := s.GetContractRevision(ctx, tc.workflow, tc.n)
		wantErr(t, tc.name, err, tc.err)
		if tc.err == nil {
			equal(t, tc.name, got.Revision, tc.want)
		}
	}
	first, err := s.GetContractRevision(ctx, f.workflow.ID, 1)
	must(t, err)
	equal(t, "revision 1 body", first.Body, revision(1).Body)
	latest, err := s.LatestRevisions(ctx, f.project.ID)
	must(t, err)
	sort.Slice(latest, func(i, j int) bool { return latest[i].WorkflowID < latest[j].WorkflowID })
	equal(t, "latest revisions of the project, without bodies", latest, []store.ContractRevision{
		{WorkflowID: f.workflow.ID, Revision: 3, Digest: "sha256:3", CreatedAt: utc(at(13))},
		{WorkflowID: other.ID, Revision: 2, Digest: "sha256:o2", CreatedAt: utc(at(20))},
	})
	latest, err = s.LatestRevisions(ctx, "nope")
	must(t, err)
	equal(t, "latest revisions of an unknown project", len(latest), 0)

	_, err = s.AddContractRevision(ctx, "nope", []byte("x"), "sha256:x", at(30))
	wantErr(t, "add to an unknown workflow", err, store.ErrNotFound)
}

// testConcurrentContractRevisions: 20 concurrent adds get revisions 2..21, each once.
func testConcurrentContractRevisions(t *testing.T, b Backend) {
	ctx := context.Background()
	s := b.open(t)
	f := newFixture(t, s, "acme")
	const n = 20
	var wg sync.WaitGroup
	revs := make([]int, n)
	errs := make([]error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r, err := s.AddContractRevision(ctx, f.workflow.ID, []byte(fmt.Sprintf("body %d", i)), fmt.Sprintf("sha256:%d", i), at(10))
			if err == nil {
				revs[i] = r.Revision
			}
			errs[i] = err
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("add %d: %v", i, err)
		}
	}
	got := append([]int(nil), revs...)
	sort.Ints(got)
	want := make([]int, n)
	for i := range want {
		want[i] = i + 2
	}
	equal(t, "revisions handed out", got, want)
	// Each revision holds the body of the call it was returned to.
	for i, r := range revs {
		rev, err := s.GetContractRevision(ctx, f.workflow.ID, r)
		must(t, err)
		equal(t, fmt.Sprintf("body of revision %d", r), string(rev.Body), fmt.Sprintf("body %d", i))
	}
	latest, err := s.GetContractRevision(ctx, f.workflow.ID, 0)
	must(t, err)
	equal(t, "latest", latest.Revision, n+1)
}

func testPublicKeys(t *testing.T, b Backend) {
	ctx := context.Background()
	s := b.open(t)
	f := newFixture(t, s, "acme")
	other := f.otherWorkflow(t, s)
	pem := []byte("-----BEGIN PUBLIC KEY-----\nMFkw...\n-----END PUBLIC KEY-----\n")
	k1 := &store.PublicKey{ID: "k1", WorkflowID: f.workflow.ID, PEM: pem, Hint: "hint-1", CreatedAt: at(5)}
	k2 := &store.PublicKey{ID: "k2", WorkflowID: f.workflow.ID, PEM: []byte("second"), Hint: "hint-2", CreatedAt: at(4)}
	must(t, s.AddPublicKey(ctx, k1))
	must(t, s.AddPublicKey(ctx, k2))

	tests := []struct {
		name string
		key  store.PublicKey
		want error
	}{
		{"same key again", store.PublicKey{ID: "k3", WorkflowID: f.workflow.ID, PEM: pem, Hint: "hint-1"}, store.ErrExists},
		{"same id", store.PublicKey{ID: "k1", WorkflowID: other.ID, PEM: pem, Hint: "hint-9"}, store.ErrExists},
		{"unknown workflow", store.PublicKey{ID: "k4", WorkflowID: "nope", PEM: pem, Hint: "hint-1"}, store.ErrNotFound},
		{"same key, another workflow", store.PublicKey{ID: "k5", WorkflowID: other.ID, PEM: pem, Hint: "hint-1"}, nil},
	}
	for _, tc := range tests {
		k := tc.key
		wantErr(t, "add key: "+tc.name, s.AddPublicKey(ctx, &k), tc.want)
	}
	ks, err := s.ListPublicKeys(ctx, f.workflow.ID)
	must(t, err)
	equal(t, "keys, oldest first", ks, []store.PublicKey{*k2, *k1})
	ks, err = s.ListPublicKeys(ctx, "nope")
	must(t, err)
	equal(t, "keys of an unknown workflow", len(ks), 0)

	removals := []struct {
		name, workflow, key string
		want                error
	}{
		{"k1", f.workflow.ID, "k1", nil},
		{"k1 again", f.workflow.ID, "k1", store.ErrNotFound},
		{"by hint, not an id", f.workflow.ID, "hint-2", store.ErrNotFound},
		{"another workflow's key", f.workflow.ID, "k5", store.ErrNotFound},
		{"unknown workflow", "nope", "k2", store.ErrNotFound},
		{"k2", f.workflow.ID, "k2", nil},
	}
	for _, tc := range removals {
		k, err := s.RemovePublicKey(ctx, tc.workflow, tc.key)
		wantErr(t, "remove key: "+tc.name, err, tc.want)
		if err == nil && k.ID != tc.key {
			t.Errorf("remove key %s: removed %s (%s)", tc.key, k.ID, k.Hint)
		}
	}
	ks, err = s.ListPublicKeys(ctx, f.workflow.ID)
	must(t, err)
	equal(t, "keys left after removing both", len(ks), 0)
	ks, err = s.ListPublicKeys(ctx, other.ID)
	must(t, err)
	equal(t, "the other workflow keeps its copy of the key", len(ks), 1)
	must(t, s.AddPublicKey(ctx, &store.PublicKey{WorkflowID: f.workflow.ID, PEM: pem, Hint: "hint-1"}))
}
