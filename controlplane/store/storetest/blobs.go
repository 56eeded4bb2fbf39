package storetest

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"testing"

	"github.com/custody-dev/custody/controlplane/store"
	"github.com/custody-dev/custody/controlplane/store/sqlstore"
)

// blobDigest is a well-formed digest of s.
func blobDigest(s string) string {
	sum := sha256.Sum256([]byte(s))
	return "sha256:" + hex.EncodeToString(sum[:])
}

// testBlobUploads: one upload row per digest and scope, the first time kept; lists filter by org and
// digest, in a stable order, however many digests are asked for.
func testBlobUploads(t *testing.T, b Backend) {
	ctx := context.Background()
	s := b.open(t)
	f := newFixture(t, s, "acme")
	other := newFixture(t, s, "other")
	rootfs, sbom := blobDigest("rootfs"), blobDigest("sbom")
	for i, u := range []store.BlobUpload{
		{Digest: rootfs, OrgID: f.org.ID, ProjectID: f.project.ID, WorkflowID: f.workflow.ID},
		{Digest: rootfs, OrgID: f.org.ID, ProjectID: f.project.ID, WorkflowID: f.workflow.ID}, // again: kept once, at its first time
		{Digest: rootfs, OrgID: f.org.ID, ProjectID: f.project.ID},                            // the project's token
		{Digest: rootfs, OrgID: f.org.ID},                                                     // an org-wide token
		{Digest: sbom, OrgID: f.org.ID},
		{Digest: rootfs, OrgID: other.org.ID, ProjectID: other.project.ID}, // another org: never listed for f's
	} {
		u.CreatedAt = at(10 + i)
		must(t, s.AddBlobUpload(ctx, &u))
		equal(t, "normalized time", u.CreatedAt, utc(at(10+i)))
	}
	got, err := s.ListBlobUploads(ctx, f.org.ID, []string{sbom, rootfs, rootfs, blobDigest("never uploaded")})
	must(t, err)
	want := []store.BlobUpload{
		{Digest: rootfs, OrgID: f.org.ID, CreatedAt: utc(at(13))},
		{Digest: rootfs, OrgID: f.org.ID, ProjectID: f.project.ID, CreatedAt: utc(at(12))},
		{Digest: rootfs, OrgID: f.org.ID, ProjectID: f.project.ID, WorkflowID: f.workflow.ID, CreatedAt: utc(at(10))},
		{Digest: sbom, OrgID: f.org.ID, CreatedAt: utc(at(14))},
	}
	if sbom < rootfs {
		want = append(want[3:], want[:3]...)
	}
	equal(t, "uploads of the org", got, want)
	got, err = s.ListBlobUploads(ctx, f.org.ID, nil)
	must(t, err)
	equal(t, "no digests asked", got, []store.BlobUpload{})

	// More digests than one query binds.
	many := make([]string, 1200)
	for i := range many {
		many[i] = blobDigest(fmt.Sprint("many ", i))
	}
	many[1100] = sbom
	got, err = s.ListBlobUploads(ctx, f.org.ID, many)
	must(t, err)
	equal(t, "an upload found past the first batch", got, []store.BlobUpload{{Digest: sbom, OrgID: f.org.ID, CreatedAt: utc(at(14))}})

	err = s.AddBlobUpload(ctx, &store.BlobUpload{Digest: sbom, OrgID: "no-such-org"})
	wantErr(t, "upload in an unknown org", err, store.ErrNotFound)
}

// testBlobClaimed: a blob is claimed by the workflows whose attestations claim it; a mention that
// does not claim it opens nothing; the claim reads back with the material.
func testBlobClaimed(t *testing.T, b Backend) {
	ctx := context.Background()
	s := b.open(t)
	f := newFixture(t, s, "acme")
	other := f.otherWorkflow(t, s)
	claimed, mentioned := blobDigest("uploaded for the run"), blobDigest("only mentioned")
	f.run(t, s, "r1", 10)
	a := &store.Attestation{Digest: blobDigest("attestation"), RunID: "r1", Bundle: []byte(`{}`), Materials: []store.MaterialRef{
		{Digest: claimed, Name: "rootfs", Kind: "ARTIFACT", Claimed: true},
		{Digest: mentioned, Name: "image", Kind: "CONTAINER_IMAGE"},
	}}
	_, err := s.PutAttestation(ctx, a)
	must(t, err)
	got, err := s.GetAttestation(ctx, a.Digest)
	must(t, err)
	equal(t, "materials with their claims", got.Materials, []store.MaterialRef{
		{Digest: mentioned, Name: "image", Kind: "CONTAINER_IMAGE"},
		{Digest: claimed, Name: "rootfs", Kind: "ARTIFACT", Claimed: true},
	})

	many := make([]string, 1200) // more workflows than one query binds, the right one last
	for i := range many {
		many[i] = fmt.Sprint("wf-", i)
	}
	many[len(many)-1] = f.workflow.ID
	for _, tc := range []struct {
		name      string
		digest    string
		workflows []string
		want      bool
	}{
		{"claimed, by its workflow", claimed, []string{f.workflow.ID}, true},
		{"claimed, among workflows", claimed, []string{other.ID, f.workflow.ID}, true},
		{"claimed, past the first batch of workflows", claimed, many, true},
		{"claimed, another workflow asks", claimed, []string{other.ID}, false},
		{"mentioned, not claimed", mentioned, []string{f.workflow.ID}, false},
		{"never mentioned", blobDigest("nothing"), []string{f.workflow.ID}, false},
		{"no workflows", claimed, nil, false},
	} {
		ok, err := s.BlobClaimed(ctx, tc.digest, tc.workflows)
		must(t, err)
		equal(t, tc.name, ok, tc.want)
	}
}

// testClaimsAfterUpgrade: mentions stored before migration 2 (which records claims) claim nothing.
func testClaimsAfterUpgrade(t *testing.T, b Backend) {
	ctx := context.Background()
	addr := b.New(t)
	raw := b.Raw(t, addr)
	defer raw.Close()
	ms, err := sqlstore.Migrations()
	must(t, err)
	_, err = sqlstore.Migrate(ctx, raw, b.Dialect, ms[:1], t0)
	must(t, err)
	digest := blobDigest("rootfs")
	for _, q := range []string{
		`INSERT INTO orgs (id, name, created_at) VALUES ('o', 'acme', 0)`,
		`INSERT INTO projects (id, org_id, name, created_at) VALUES ('p', 'o', 'skynet', 0)`,
		`INSERT INTO workflows (id, project_id, name, latest_revision, created_at) VALUES ('w', 'p', 'build', 1, 0)`,
		`INSERT INTO contract_revisions (workflow_id, revision, body, digest, created_at) VALUES ('w', 1, '', 'sha256:c', 0)`,
		`INSERT INTO runs (id, workflow_id, contract_revision, state, created_at, attestation_digest) VALUES ('r', 'w', 1, 'succeeded', 0, 'sha256:a')`,
		`INSERT INTO attestations (digest, run_id, workflow_id, bundle, created_at) VALUES ('sha256:a', 'r', 'w', '', 0)`,
		`INSERT INTO attestation_materials (attestation_digest, digest, name, kind) VALUES ('sha256:a', '` + digest + `', 'rootfs', 'ARTIFACT')`,
	} {
		_, err := raw.ExecContext(ctx, q)
		must(t, err)
	}
	s := b.openAt(t, addr)
	ok, err := s.BlobClaimed(ctx, digest, []string{"w"})
	must(t, err)
	equal(t, "a mention stored before claims were recorded claims the blob", ok, false)
	as, err := s.ListAttestations(ctx, store.AttestationFilter{Digest: digest})
	must(t, err)
	equal(t, "and is still found by its digest", len(as), 1)
}
