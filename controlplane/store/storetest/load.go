package storetest

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"github.com/custody-dev/custody/controlplane/store"
)

// testConcurrentPipelines: 64 pipelines at once, each init, three remote-state adds, push, while
// tokens are looked up: no error (no "database is locked"), nothing lost.
func testConcurrentPipelines(t *testing.T, b Backend) {
	ctx := context.Background()
	s := b.open(t)
	f := newFixture(t, s, "acme")
	tok := &store.Token{ID: "ci", OrgID: f.org.ID, ProjectID: f.project.ID, WorkflowID: f.workflow.ID, Hash: hash("cst_ci"), CreatedAt: at(5)}
	must(t, s.CreateToken(ctx, tok))
	const pipelines, rounds = 64, 3
	errs := make(chan error, pipelines*rounds)
	var wg sync.WaitGroup
	for p := range pipelines {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for r := range rounds {
				if err := pipeline(ctx, s, f, tok.Hash, fmt.Sprintf("p%02d-%d", p, r)); err != nil {
					errs <- err
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	as, err := s.ListAttestations(ctx, store.AttestationFilter{WorkflowID: f.workflow.ID, Limit: 10 * pipelines * rounds})
	must(t, err)
	equal(t, "attestations stored", len(as), pipelines*rounds)
	rs, err := s.ListRuns(ctx, store.RunFilter{WorkflowID: f.workflow.ID, State: store.RunSucceeded, Limit: 10 * pipelines * rounds})
	must(t, err)
	equal(t, "runs succeeded", len(rs), pipelines*rounds)
	as, err = s.ListAttestations(ctx, store.AttestationFilter{Digest: "sha256:shared-base-image", Limit: 10 * pipelines * rounds})
	must(t, err)
	equal(t, "attestations mentioning the shared material", len(as), pipelines*rounds)
}

// pipeline is what custodyd asks of the store for one attestation.
func pipeline(ctx context.Context, s store.Store, f fixture, tokenHash []byte, id string) error {
	if _, err := s.GetTokenByHash(ctx, tokenHash); err != nil {
		return fmt.Errorf("%s: auth: %w", id, err)
	}
	if _, err := s.GetContractRevision(ctx, f.workflow.ID, 0); err != nil {
		return fmt.Errorf("%s: contract: %w", id, err)
	}
	run := &store.Run{ID: id, WorkflowID: f.workflow.ID, ContractRevision: 1, CreatedAt: at(10), ExpiresAt: at(3610)}
	if err := s.CreateRun(ctx, run); err != nil {
		return fmt.Errorf("%s: init: %w", id, err)
	}
	base := ""
	for i := range 3 {
		d := fmt.Sprintf("sha256:%s-%d", id, i)
		if err := s.SetRemoteState(ctx, id, base, []byte(`{"materials":`+fmt.Sprint(i)+`}`), d); err != nil {
			return fmt.Errorf("%s: add %d: %w", id, i, err)
		}
		base = d
	}
	if _, err := s.GetRun(ctx, id); err != nil {
		return fmt.Errorf("%s: read run: %w", id, err)
	}
	a := attestation("sha256:att-"+id, id, "sha256:shared-base-image", "sha256:artifact-"+id)
	if created, err := s.PutAttestation(ctx, a); err != nil || !created {
		return fmt.Errorf("%s: push: created=%v, %w", id, created, err)
	}
	return nil
}
