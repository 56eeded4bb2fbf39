package main

import (
	"context"
	"fmt"
	"path/filepath"
	"sync"
	"testing"

	"github.com/custody-dev/custody/attestation"
	"github.com/custody-dev/custody/internal/pgtest"
)

// TestRemoteStateAcrossRunners: one run kept in the control plane (init --remote-state), 16 jobs in
// 16 workspaces adding to it at once through `--attestation-id`: every add lands (stale writes are
// re-read and retried), status shows 16 materials, and the push stores them all.
func TestRemoteStateAcrossRunners(t *testing.T) {
	t.Parallel()
	for _, storeName := range []string{"sqlite", "postgres"} {
		t.Run(storeName, func(t *testing.T) {
			t.Parallel()
			testRemoteStateAcrossRunners(t, storeArgs(t, storeName))
		})
	}
}

func testRemoteStateAcrossRunners(t *testing.T, args []string) {
	const jobs = 16
	ctx := context.Background()
	d := startDaemon(t, t.TempDir(), args...)
	p := bootstrap(t, d.url(), d.bootstrapToken(), contractArtifactAndString)
	first := p.pipeline(t, d.url())
	var st statusJSON
	first.json(&st, "attestation", "init", "--workflow", p.workflow, "--project", p.name, "--remote-state")
	runID := st.State.RunID
	if runID == "" {
		t.Fatal("init --remote-state printed no run id")
	}

	// Job 0 uploads the artifact, job 1 sets the contract's string, the others add strings of their own.
	type job struct {
		ws   *pipeline
		args []string
	}
	var all []job
	for i := range jobs {
		ws := p.pipeline(t, d.url(), "CUSTODY_ATTESTATION_ID="+runID)
		args := []string{"attestation", "add", "--name", fmt.Sprintf("note-%02d", i), "--kind", "STRING", "--value", fmt.Sprintf("job %d", i)}
		switch i {
		case 0:
			ws.writeRandom("rootfs.bin", 1<<20, 4)
			args = []string{"attestation", "add", "--name", "artifact", "--value", "rootfs.bin"}
		case 1:
			args = []string{"attestation", "add", "--name", "build-ref", "--value", "80e461e9b385c6986cdb8096c9dc99928943d667"}
		}
		all = append(all, job{ws, args})
	}
	started := make([]*cli, jobs)
	for i, j := range all {
		started[i] = j.ws.start(j.args...)
	}
	var wg sync.WaitGroup
	results := make([]result, jobs)
	for i := range started {
		wg.Go(func() { results[i] = started[i].wait(t) })
	}
	wg.Wait()
	for i, r := range results {
		if r.code != 0 {
			t.Errorf("job %d: custody %v: exit %d\nstderr: %s", i, all[i].args, r.code, r.stderr)
		}
	}
	if t.Failed() {
		t.FailNow()
	}

	var status statusJSON
	all[5].ws.json(&status, "attestation", "status")
	if n := status.set(); n != jobs || len(status.State.Materials) != jobs {
		t.Fatalf("status shows %d materials set (%d recorded), want %d: %+v", n, len(status.State.Materials), jobs, status.Materials)
	}
	var pushed struct{ Digest string }
	all[9].ws.json(&pushed, "attestation", "push", "--key", filepath.Join(p.keyDir, "cosign.key"))
	c := p.apiClient(t, d.url())
	run, err := c.GetRun(ctx, runID)
	if err != nil || run.State != "succeeded" || run.AttestationDigest != pushed.Digest {
		t.Fatalf("run after push: %+v, %v; want succeeded with %s", run, err, pushed.Digest)
	}
	atts, err := c.ListAttestations(ctx, p.name, p.workflow, "", 0)
	if err != nil || len(atts) != 1 {
		t.Fatalf("attestations: %+v, %v; want one", atts, err)
	}
	b, err := c.GetBundle(ctx, pushed.Digest)
	if err != nil {
		t.Fatal(err)
	}
	doc, err := attestation.Read(b)
	if err != nil {
		t.Fatal(err)
	}
	pred, err := attestation.ParsePredicate(doc.Statement)
	if err != nil {
		t.Fatal(err)
	}
	if len(pred.Materials) != jobs {
		t.Fatalf("the stored attestation holds %d materials, want %d", len(pred.Materials), jobs)
	}
}

// storeArgs are custodyd's arguments for a store: SQLite in the data dir, or a fresh PostgreSQL database.
func storeArgs(t *testing.T, name string) []string {
	t.Helper()
	if name == "postgres" {
		return []string{"--database-url", pgtest.New(t)}
	}
	return nil
}
