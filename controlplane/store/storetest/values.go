package storetest

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/custody-dev/custody/controlplane/store"
)

// testBytes: byte fields come back byte for byte, whatever they hold: invalid UTF-8, NUL, text that
// looks like a number (which a column with numeric affinity would convert if it were bound as text).
func testBytes(t *testing.T, b Backend) {
	ctx := context.Background()
	s := b.open(t)
	f := newFixture(t, s, "acme")
	values := [][]byte{
		[]byte("123"),
		[]byte(" 4.5e1 "),
		{0, 1, 2, 0xff, 0xfe, 0},
		[]byte("\xc3\x28 invalid utf-8"),
		[]byte("\xef\xbb\xbfkind: Contract\r\n"),
		make([]byte, 1<<20), // a large bundle
	}
	for i, v := range values {
		what := fmt.Sprintf("value %d (%q...)", i, v[:min(len(v), 8)])
		wf := &store.Workflow{ID: fmt.Sprintf("w%d", i), ProjectID: f.project.ID, Name: fmt.Sprintf("w%d", i), CreatedAt: at(3)}
		must(t, s.CreateWorkflow(ctx, wf, &store.ContractRevision{Body: v, Digest: "sha256:x"}))
		rev, err := s.GetContractRevision(ctx, wf.ID, 1)
		must(t, err)
		equal(t, what+": contract body", rev.Body, v)

		k := &store.PublicKey{WorkflowID: wf.ID, PEM: v, Hint: "h"}
		must(t, s.AddPublicKey(ctx, k))
		ks, err := s.ListPublicKeys(ctx, wf.ID)
		must(t, err)
		equal(t, what+": PEM", ks[0].PEM, v)

		tok := &store.Token{OrgID: f.org.ID, Hash: append([]byte{byte(i)}, v[:min(len(v), 64)]...)} // hashes are short: indexed
		must(t, s.CreateToken(ctx, tok))
		got, err := s.GetTokenByHash(ctx, tok.Hash)
		must(t, err)
		equal(t, what+": token hash", got.Hash, tok.Hash)

		r := &store.Run{ID: fmt.Sprintf("r%d", i), WorkflowID: wf.ID, ContractRevision: 1}
		must(t, s.CreateRun(ctx, r))
		must(t, s.SetRemoteState(ctx, r.ID, "", v, "sha256:s"))
		gr, err := s.GetRun(ctx, r.ID)
		must(t, err)
		equal(t, what+": remote state", gr.RemoteState, v)

		a := &store.Attestation{Digest: fmt.Sprintf("sha256:%d", i), RunID: r.ID, Bundle: v}
		_, err = s.PutAttestation(ctx, a)
		must(t, err)
		ga, err := s.GetAttestation(ctx, a.Digest)
		must(t, err)
		equal(t, what+": bundle", ga.Bundle, v)
	}
	// A hash prefix of another is another hash.
	_, err := s.GetTokenByHash(ctx, []byte{0})
	wantErr(t, "prefix of a stored hash", err, store.ErrNotFound)
}

// testTimes: times come back in UTC, at microsecond precision, the same instant as stored; zero
// optional times stay zero; times before 1970 and far ahead work.
func testTimes(t *testing.T, b Backend) {
	ctx := context.Background()
	s := b.open(t)
	f := newFixture(t, s, "acme")
	times := []time.Time{
		time.Date(1969, 7, 20, 20, 17, 40, 999999999, time.FixedZone("EDT", -4*3600)),
		time.Date(2038, 1, 19, 3, 14, 8, 1000, time.UTC),
		time.Date(2262, 4, 11, 23, 47, 16, 854775000, time.UTC),
		t0,
	}
	for i, tm := range times {
		r := &store.Run{ID: fmt.Sprintf("r%d", i), WorkflowID: f.workflow.ID, ContractRevision: 1, CreatedAt: tm, ExpiresAt: tm.Add(time.Microsecond)}
		must(t, s.CreateRun(ctx, r))
		got, err := s.GetRun(ctx, r.ID)
		must(t, err)
		equal(t, fmt.Sprintf("created at %s", tm), got.CreatedAt, utc(tm))
		equal(t, fmt.Sprintf("created at %s: location", tm), got.CreatedAt.Location(), time.UTC)
		equal(t, fmt.Sprintf("created at %s: same instant within 1µs", tm), tm.Sub(got.CreatedAt) < time.Microsecond && tm.Sub(got.CreatedAt) >= 0, true)
		equal(t, fmt.Sprintf("expires at %s", tm), got.ExpiresAt, utc(tm.Add(time.Microsecond)))
		equal(t, "finished at (unset)", got.FinishedAt.IsZero(), true)
	}
}
