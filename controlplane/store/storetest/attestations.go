package storetest

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"github.com/custody-dev/custody/controlplane/store"
)

// attestation for run, mentioning the given material digests (named m-<digest>).
func attestation(digest, run string, materials ...string) *store.Attestation {
	a := &store.Attestation{Digest: digest, RunID: run, Bundle: []byte(`{"mediaType":"application/vnd.dev.sigstore.bundle.v0.3+json","for":"` + digest + `"}`),
		CreatedAt: at(500)}
	for _, m := range materials {
		a.Materials = append(a.Materials, store.MaterialRef{Digest: m, Name: "m-" + m, Kind: "ARTIFACT"})
	}
	return a
}

func testPutAttestation(t *testing.T, b Backend) {
	ctx := context.Background()
	s := b.open(t)
	f := newFixture(t, s, "acme")
	f.run(t, s, "r1", 10)
	a := &store.Attestation{Digest: "sha256:aa", RunID: "r1", Bundle: []byte(`{"bundle":1}`), CreatedAt: at(500),
		Materials: []store.MaterialRef{
			{Digest: "sha256:img", Name: "skynet-image", Kind: "CONTAINER_IMAGE"},
			{Digest: "sha256:tar", Name: "rootfs", Kind: "ARTIFACT"},
			{Digest: "sha256:tar", Name: "rootfs", Kind: "ARTIFACT"},           // listed twice: indexed once
			{Digest: "sha256:tar", Name: "rootfs-copy", Kind: "ARTIFACT"},      // same digest, another name
			{Digest: "sha256:sbom", Name: "sbom", Kind: "SBOM_CYCLONEDX_JSON"}, // kinds kept
		}}
	created, err := s.PutAttestation(ctx, a)
	must(t, err)
	equal(t, "created", created, true)
	equal(t, "workflow filled from the run", a.WorkflowID, f.workflow.ID)

	got, err := s.GetAttestation(ctx, "sha256:aa")
	must(t, err)
	want := store.Attestation{Digest: "sha256:aa", RunID: "r1", WorkflowID: f.workflow.ID, Bundle: []byte(`{"bundle":1}`),
		CreatedAt: utc(at(500)), Materials: []store.MaterialRef{
			{Digest: "sha256:tar", Name: "rootfs", Kind: "ARTIFACT"},
			{Digest: "sha256:tar", Name: "rootfs-copy", Kind: "ARTIFACT"},
			{Digest: "sha256:sbom", Name: "sbom", Kind: "SBOM_CYCLONEDX_JSON"},
			{Digest: "sha256:img", Name: "skynet-image", Kind: "CONTAINER_IMAGE"},
		}}
	equal(t, "attestation read back (materials by name)", *got, want)
	r, err := s.GetRun(ctx, "r1")
	must(t, err)
	equal(t, "run after push", []any{r.State, r.AttestationDigest, r.FinishedAt}, []any{store.RunSucceeded, "sha256:aa", utc(at(500))})

	// The same digest again (a retried push, even with another time or bundle) changes nothing.
	again := attestation("sha256:aa", "r1", "sha256:other")
	again.CreatedAt = at(900)
	created, err = s.PutAttestation(ctx, again)
	must(t, err)
	equal(t, "created again", created, false)
	got, err = s.GetAttestation(ctx, "sha256:aa")
	must(t, err)
	equal(t, "attestation after the second put", *got, want)
	r2, err := s.GetRun(ctx, "r1")
	must(t, err)
	equal(t, "run after the second put", *r2, *r)

	_, err = s.GetAttestation(ctx, "sha256:nope")
	wantErr(t, "unknown attestation", err, store.ErrNotFound)
}

func testPutAttestationRefused(t *testing.T, b Backend) {
	ctx := context.Background()
	s := b.open(t)
	f := newFixture(t, s, "acme")
	other := f.otherWorkflow(t, s)
	for i, id := range []string{"pushed", "failed", "cancelled", "expired", "open"} {
		f.run(t, s, id, i)
	}
	_, err := s.PutAttestation(ctx, attestation("sha256:first", "pushed"))
	must(t, err)
	must(t, s.FinishRun(ctx, "failed", store.RunFailed, "tests failed", at(10)))
	must(t, s.FinishRun(ctx, "cancelled", store.RunCancelled, "", at(10)))
	n, err := s.ExpireRuns(ctx, at(3604)) // "expired" expires at(3603), "open" at(3604)
	must(t, err)
	equal(t, "expired runs", n, 1)

	tests := []struct {
		name string
		a    *store.Attestation
		want error
	}{
		{"another digest for a pushed run", attestation("sha256:second", "pushed", "sha256:m"), store.ErrStale},
		{"failed run", attestation("sha256:f", "failed", "sha256:m"), store.ErrStale},
		{"cancelled run", attestation("sha256:c", "cancelled", "sha256:m"), store.ErrStale},
		{"expired run", attestation("sha256:e", "expired", "sha256:m"), store.ErrStale},
		{"unknown run", attestation("sha256:u", "nope", "sha256:m"), store.ErrNotFound},
	}
	for _, tc := range tests {
		created, err := s.PutAttestation(ctx, tc.a)
		wantErr(t, tc.name, err, tc.want)
		equal(t, tc.name+": created", created, false)
		_, err = s.GetAttestation(ctx, tc.a.Digest)
		wantErr(t, tc.name+": nothing stored", err, store.ErrNotFound)
	}
	// A workflow other than the run's is refused, and the run stays open.
	wrong := attestation("sha256:w", "open", "sha256:m")
	wrong.WorkflowID = other.ID
	if _, err := s.PutAttestation(ctx, wrong); err == nil {
		t.Fatal("put with another workflow than the run's: no error")
	}
	r, err := s.GetRun(ctx, "open")
	must(t, err)
	equal(t, "run after a refused put", []any{r.State, r.AttestationDigest}, []any{store.RunInitialized, ""})
	as, err := s.ListAttestations(ctx, store.AttestationFilter{Digest: "sha256:m"})
	must(t, err)
	equal(t, "attestations indexed under the refused puts' material", len(as), 0)
}

// testConcurrentPutAttestation: the same bundle pushed 16 times at once is stored once.
func testConcurrentPutAttestation(t *testing.T, b Backend) {
	ctx := context.Background()
	s := b.open(t)
	f := newFixture(t, s, "acme")
	f.run(t, s, "r1", 10)
	f.run(t, s, "r2", 11)
	const n = 16
	created := make([]bool, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if i%2 == 0 { // and, alongside, as many pushes of other bundles for another run: one wins
				created[i], errs[i] = s.PutAttestation(ctx, attestation("sha256:same", "r1", "sha256:m1", "sha256:m2"))
			} else {
				created[i], errs[i] = s.PutAttestation(ctx, attestation(fmt.Sprintf("sha256:r2-%d", i), "r2", "sha256:m3"))
			}
		}()
	}
	wg.Wait()
	var same, r2 int
	for i, err := range errs {
		if i%2 == 0 {
			wantErr(t, fmt.Sprintf("put %d of the same bundle", i), err, nil)
			if created[i] {
				same++
			}
			continue
		}
		if err == nil && created[i] {
			r2++
		} else {
			wantErr(t, fmt.Sprintf("put %d for r2", i), err, store.ErrStale)
		}
	}
	equal(t, "puts of the same bundle that created it", same, 1)
	equal(t, "puts for r2 that won", r2, 1)
	got, err := s.GetAttestation(ctx, "sha256:same")
	must(t, err)
	equal(t, "materials stored once", len(got.Materials), 2)
}

func testListAttestations(t *testing.T, b Backend) {
	ctx := context.Background()
	s := b.open(t)
	f := newFixture(t, s, "acme")
	other := f.otherWorkflow(t, s)
	// Five attestations of the fixture's workflow, a second apart; two of the other workflow.
	put := func(wf *store.Workflow, digest string, sec int, materials ...string) {
		r := &store.Run{ID: "run-" + digest, WorkflowID: wf.ID, ContractRevision: 1, CreatedAt: at(sec)}
		must(t, s.CreateRun(ctx, r))
		a := attestation(digest, r.ID, materials...)
		a.CreatedAt = at(sec)
		_, err := s.PutAttestation(ctx, a)
		must(t, err)
	}
	put(f.workflow, "sha256:a1", 10, "sha256:base-image", "sha256:app-1")
	put(f.workflow, "sha256:a2", 11, "sha256:base-image", "sha256:app-2")
	put(f.workflow, "sha256:a3", 12, "sha256:app-3")
	put(f.workflow, "sha256:a4", 13, "sha256:base-image")
	put(f.workflow, "sha256:a5", 14)
	put(other, "sha256:o1", 15, "sha256:base-image")
	put(other, "sha256:o2", 16, "sha256:lib")

	digests := func(as []store.AttestationListing) []string {
		return names(as, func(a store.AttestationListing) string { return a.Digest })
	}
	tests := []struct {
		name               string
		workflow, material string
		limit              int
		want               []string
	}{
		{"workflow, newest first", f.workflow.ID, "", 0, []string{"sha256:a5", "sha256:a4", "sha256:a3", "sha256:a2", "sha256:a1"}},
		{"workflow, limit 2", f.workflow.ID, "", 2, []string{"sha256:a5", "sha256:a4"}},
		{"material, every workflow", "", "sha256:base-image", 0, []string{"sha256:o1", "sha256:a4", "sha256:a2", "sha256:a1"}},
		{"material and workflow", other.ID, "sha256:base-image", 0, []string{"sha256:o1"}},
		{"material, limit 1", "", "sha256:base-image", 1, []string{"sha256:o1"}},
		{"material mentioned once", "", "sha256:app-3", 0, []string{"sha256:a3"}},
		{"unknown material", "", "sha256:none", 0, []string{}},
		{"unknown workflow", "nope", "", 0, []string{}},
		{"all, limit 3", "", "", 3, []string{"sha256:o2", "sha256:o1", "sha256:a5"}},
	}
	for _, tc := range tests {
		as, err := s.ListAttestations(ctx, store.AttestationFilter{WorkflowID: tc.workflow, Digest: tc.material, Limit: tc.limit})
		must(t, err)
		equal(t, tc.name, digests(as), tc.want)
	}
	// A listed attestation is its row, without the bundle and with only the mentions of the digest
	// searched (a bundle is up to 1.6 MiB and 1024 materials, which a page of a thousand would hold
	// in memory at once); GetAttestation has them all.
	as, err := s.ListAttestations(ctx, store.AttestationFilter{Digest: "sha256:app-2"})
	must(t, err)
	one, err := s.GetAttestation(ctx, "sha256:a2")
	must(t, err)
	equal(t, "its materials", len(one.Materials), 2)
	equal(t, "its bundle", len(one.Bundle) > 0, true)
	one.Bundle, one.Materials = nil, []store.MaterialRef{{Digest: "sha256:app-2", Name: "m-sha256:app-2", Kind: "ARTIFACT"}}
	equal(t, "listed attestation", as[0], store.AttestationListing{Attestation: *one, Workflow: f.workflow.Name, ProjectID: f.project.ID, Project: f.project.Name})
	as, err = s.ListAttestations(ctx, store.AttestationFilter{WorkflowID: f.workflow.ID, Limit: 1})
	must(t, err)
	one.Materials = nil
	equal(t, "listed attestation of a workflow: no materials", as[0].Attestation, store.Attestation{Digest: "sha256:a5", RunID: "run-sha256:a5",
		WorkflowID: f.workflow.ID, CreatedAt: utc(at(14))})
}
