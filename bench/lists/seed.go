package main

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	mrand "math/rand/v2"
	"strings"
	"sync"
	"time"

	"github.com/sigstore/sigstore/pkg/cryptoutils"
	"github.com/sigstore/sigstore/pkg/signature"

	"github.com/custody-dev/custody/attestation"
	"github.com/custody-dev/custody/contract"
	"github.com/custody-dev/custody/controlplane/app"
	"github.com/custody-dev/custody/controlplane/auth"
	"github.com/custody-dev/custody/controlplane/store"
	"github.com/custody-dev/custody/signing"
	"github.com/custody-dev/custody/wire"
)

// benchContract is every workflow's: what a release pipeline records (an image built on a shared
// base image, a tarball, an SBOM, test and scan reports, the ref it built).
const benchContract = `apiVersion: custody.dev/v1
kind: Contract
metadata: {name: release}
spec:
  materials:
    - {name: app-image, type: CONTAINER_IMAGE, output: true}
    - {name: base-image, type: CONTAINER_IMAGE}
    - {name: tarball, type: ARTIFACT, output: true}
    - {name: sbom, type: SBOM_CYCLONEDX_JSON}
    - {name: unit-tests, type: JUNIT_XML}
    - {name: code-scan, type: SARIF}
    - {name: build-ref, type: STRING}
`

// The data set's shape.
const (
	projects           = 8
	workflowsPerProj   = 5
	baseImages         = 20   // shared by every workflow: a digest search of one finds ~1/20 of the runs
	releaseBranches    = 6    // release/1 .. release/6
	featureBranches    = 3000 // feature/1 .. : a few runs each
	runsPerTransaction = 2000
)

// dataset is what was seeded, for the queries to pick their parameters from.
type dataset struct {
	orgID        string
	projects     []string   // names
	workflows    [][]string // names, by project
	runners      []string
	branches     []string // a sample: main, release/*, a few feature branches
	baseImages   []string // digests
	artifacts    []string // a sample of the tarballs' digests
	succeeded    []string // a sample of the succeeded runs' ids
	attestations int
	admin        auth.Principal
	project      auth.Principal // the busiest project's token
	projectOf    string
	workflow     auth.Principal // a token of a middling workflow
}

type seedWorkflow struct {
	id, project, name, runner string
	weight                    float64
}

// seed creates the org's projects and workflows through the app, then n runs through the store's
// bulk import, in transactions of runsPerTransaction: a year of pipelines, busy workflows and quiet
// ones, 86% succeeded with a signed attestation of six digested materials.
func seed(ctx context.Context, a *app.App, st store.Store, admin auth.Principal, n int) (*dataset, error) {
	rng := mrand.New(mrand.NewPCG(1, 2))
	ds := &dataset{orgID: admin.Token.OrgID, admin: admin, runners: []string{"GITHUB_ACTION", "GITLAB_PIPELINE", "JENKINS_JOB"}}
	signer, pem, err := newSigner()
	if err != nil {
		return nil, err
	}
	var wfs []seedWorkflow
	var total float64
	for p := range projects {
		name := fmt.Sprintf("team-%d", p)
		if _, err := a.CreateProject(ctx, admin, wire.CreateProject{Name: name}); err != nil {
			return nil, err
		}
		ds.projects = append(ds.projects, name)
		ds.workflows = append(ds.workflows, nil)
		for w := range workflowsPerProj {
			wname := fmt.Sprintf("release-%d", w)
			created, err := a.CreateWorkflow(ctx, admin, name, wire.CreateWorkflow{Name: wname, Contract: benchContract})
			if err != nil {
				return nil, err
			}
			if _, err := a.AddKey(ctx, admin, name, wname, wire.AddPublicKey{PEM: string(pem)}); err != nil {
				return nil, err
			}
			ds.workflows[p] = append(ds.workflows[p], wname)
			k := len(wfs)
			runner := ds.runners[0]
			if k%10 >= 6 {
				runner = ds.runners[1+k%10/9]
			}
			// Zipf-like: the r-th busiest workflow has 1/r of the busiest's runs; the busy ones spread
			// over the projects (7 is prime to their number).
			rank := 1 + (k*7)%(projects*workflowsPerProj)
			wfs = append(wfs, seedWorkflow{id: created.ID, project: name, name: wname, runner: runner, weight: 1 / float64(rank)})
			total += wfs[k].weight
		}
	}
	ds.projectOf = wfs[0].project // the busiest workflow's project
	ds.branches = []string{"main"}
	for i := 1; i <= releaseBranches; i++ {
		ds.branches = append(ds.branches, fmt.Sprintf("release/%d", i))
	}
	for i := range baseImages {
		ds.baseImages = append(ds.baseImages, digestOf(fmt.Sprintf("base image %d", i)))
	}
	if ds.project, err = token(ctx, a, admin, wire.CreateToken{Name: "bench project", Project: ds.projectOf}); err != nil {
		return nil, err
	}
	mid := wfs[len(wfs)/2]
	if ds.workflow, err = token(ctx, a, admin, wire.CreateToken{Name: "bench workflow", Project: mid.project, Workflow: mid.name}); err != nil {
		return nil, err
	}

	// Batches are made (runs drawn, attestations signed) while the batch before is imported: the
	// store's writer and the signers overlap.
	type batch struct {
		from, to int
		runs     []store.Run
		atts     []store.Attestation
	}
	batches := make(chan batch, 1)
	imported := make(chan error, 1)
	go func() {
		for b := range batches {
			if err := st.ImportRuns(ctx, b.runs, b.atts); err != nil {
				imported <- fmt.Errorf("import runs %d to %d: %w", b.from, b.to, err)
				for range batches { // drain: the maker stops at the error
				}
				return
			}
		}
		imported <- nil
	}()
	start := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	step := 365 * 24 * time.Hour / time.Duration(max(n, 1))
	for from := 0; from < n && err == nil; from += runsPerTransaction {
		to := min(from+runsPerTransaction, n)
		runs := make([]store.Run, 0, to-from)
		var plans []attestationPlan
		for i := from; i < to; i++ {
			wf := pick(rng, wfs, total)
			at := start.Add(time.Duration(i) * step)
			if i%100 == 1 {
				at = start.Add(time.Duration(i-1) * step) // the same time as the run before: pages break ties by id
			}
			r := store.Run{ID: uuid(rng), WorkflowID: wf.id, ContractRevision: 1, RunnerType: wf.runner,
				RunnerURL: fmt.Sprintf("https://ci.acme.dev/%s/%s/runs/%d", wf.project, wf.name, i), CreatedAt: at,
				ExpiresAt: at.Add(24 * time.Hour), GitBranch: branch(rng), GitCommit: hexOf(rng, 20)}
			switch x := rng.Float64(); {
			case x < 0.86:
				r.State, r.FinishedAt = store.RunSucceeded, at.Add(4*time.Minute)
				plans = append(plans, attestationPlan{run: len(runs), wf: wf, i: i})
			case x < 0.94:
				r.State, r.Reason, r.FinishedAt = store.RunFailed, "unit tests failed", at.Add(3*time.Minute)
			case x < 0.97:
				r.State, r.Reason, r.FinishedAt = store.RunCancelled, "superseded by a newer commit", at.Add(time.Minute)
			case x < 0.99 || i < n-200:
				r.State, r.FinishedAt = store.RunExpired, at.Add(24*time.Hour)
			default:
				r.State, r.ExpiresAt = store.RunInitialized, at.Add(100*365*24*time.Hour) // still running
			}
			runs = append(runs, r)
		}
		var atts []store.Attestation
		if atts, err = signAll(ctx, signer, runs, plans, ds.baseImages, rng.Uint64()); err != nil {
			break
		}
		stride := max(1, n/2000) // a sample of about 2000 over the whole year
		for k, a := range atts {
			if (ds.attestations+k)%stride == 0 {
				ds.succeeded = append(ds.succeeded, a.RunID)
				ds.artifacts = append(ds.artifacts, a.Materials[2].Digest) // the tarball: found once
			}
		}
		ds.attestations += len(atts)
		for i := range runs {
			if len(ds.branches) < releaseBranches+1+20 && strings.HasPrefix(runs[i].GitBranch, "feature/") {
				ds.branches = append(ds.branches, runs[i].GitBranch)
			}
		}
		select {
		case batches <- batch{from, to, runs, atts}:
		case err = <-imported: // the importer failed
		}
	}
	close(batches)
	if err != nil {
		return nil, err
	}
	if err := <-imported; err != nil {
		return nil, err
	}
	return ds, nil
}

type attestationPlan struct {
	run int // index in the batch's runs
	wf  seedWorkflow
	i   int
}

// signAll makes the attestations of the batch's succeeded runs, signed like a key-signed push, on
// every CPU, and sets each run's attestation digest.
func signAll(ctx context.Context, signer *signing.KeySigner, runs []store.Run, plans []attestationPlan, bases []string, seed uint64) ([]store.Attestation, error) {
	atts := make([]store.Attestation, len(plans))
	errs := make([]error, len(plans))
	var wg sync.WaitGroup
	workers := 4
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := mrand.New(mrand.NewPCG(seed, uint64(w)))
			for k := w; k < len(plans); k += workers {
				atts[k], errs[k] = makeAttestation(ctx, signer, &runs[plans[k].run], plans[k].wf, plans[k].i, bases, rng)
			}
		}()
	}
	wg.Wait()
	for k := range plans {
		if errs[k] != nil {
			return nil, errs[k]
		}
		runs[plans[k].run].AttestationDigest = atts[k].Digest
	}
	return atts, nil
}

// A run's statement is its workflow's template with the run's values in place of the template's
// stand-ins: the statement custody renders, at a fraction of the cost of rendering each.
type template struct {
	payload string
	outputs []string // the names of the materials that are subjects
}

// The stand-ins of a template: values no run has, of the same form as the run's.
var (
	standInAt     = time.Date(2001, 2, 3, 4, 5, 6, 0, time.UTC)
	standInDigest = func(what string) string { return digestOf("stand-in " + what) }
	standIns      = []string{"image", "base", "tarball", "sbom", "tests", "scan"}
)

const (
	standInRun    = "00000000-0000-4000-8000-000000000000"
	standInBranch = "stand-in-branch"
	standInCommit = "5ca1ab1e5ca1ab1e5ca1ab1e5ca1ab1e5ca1ab1e"
	standInNumber = "4242424242"
)

var templates sync.Map // workflow id -> *template

func templateOf(wf seedWorkflow) (*template, error) {
	if t, ok := templates.Load(wf.id); ok {
		return t.(*template), nil
	}
	d := map[string]string{}
	for _, w := range standIns {
		d[w] = standInDigest(w)
	}
	at := standInAt
	repo := fmt.Sprintf("registry.acme.dev/%s/%s", wf.project, wf.name)
	file := func(name string, size int64) *attestation.File {
		return &attestation.File{Name: name, Size: size, Uploaded: true}
	}
	ms := []attestation.Material{
		{Name: "app-image", Kind: contract.KindContainerImage, Value: repo + "@" + d["image"], Digest: d["image"], Output: true,
			Image: &attestation.Image{Repository: repo, Tag: "v1." + standInNumber, Digest: d["image"], Source: "registry"}, AddedAt: at},
		{Name: "base-image", Kind: contract.KindContainerImage, Value: "docker.io/library/debian@" + d["base"], Digest: d["base"],
			Image: &attestation.Image{Repository: "docker.io/library/debian", Tag: "12-slim", Digest: d["base"], Source: "registry"}, AddedAt: at},
		{Name: "tarball", Kind: contract.KindArtifact, Value: "app.tar.gz", Digest: d["tarball"], Output: true, File: file("app.tar.gz", 18<<20),
			Annotations: map[string]string{"arch": "amd64"}, AddedAt: at},
		{Name: "sbom", Kind: contract.KindSBOMCycloneDXJSON, Value: "sbom.cdx.json", Digest: d["sbom"], File: file("sbom.cdx.json", 412_000),
			Validated: map[string]string{"format": "CycloneDX", "specVersion": "1.5", "components": "312", "tool": "cyclonedx-gomod v1.6.0"}, AddedAt: at},
		{Name: "unit-tests", Kind: contract.KindJUnitXML, Value: "report.xml", Digest: d["tests"], File: file("report.xml", 88_000),
			Validated: map[string]string{"tests": "1432", "failures": "0", "errors": "0", "skipped": "12"}, AddedAt: at},
		{Name: "code-scan", Kind: contract.KindSARIF, Value: "scan.sarif", Digest: d["scan"], File: file("scan.sarif", 54_000),
			Validated: map[string]string{"version": "2.1.0", "runs": "1", "results": "3", "tool": "gosec"}, AddedAt: at},
		{Name: "build-ref", Kind: contract.KindString, Value: "refs/heads/" + standInBranch, AddedAt: at},
	}
	p := &attestation.Predicate{
		Workflow: attestation.Workflow{Name: wf.name, Project: wf.project, RunID: standInRun, ContractName: "release", ContractRevision: 1},
		Runner: &attestation.Runner{Type: wf.runner, URL: fmt.Sprintf("https://ci.acme.dev/%s/%s/runs/%s", wf.project, wf.name, standInNumber),
			Environment: map[string]string{"GITHUB_REPOSITORY": "acme/" + wf.project, "GITHUB_REF": "refs/heads/" + standInBranch,
				"GITHUB_SHA": standInCommit, "GITHUB_RUN_ID": standInNumber, "GITHUB_WORKFLOW": wf.name, "GITHUB_EVENT_NAME": "push",
				"GITHUB_ACTOR": "release-bot"}},
		Git: &attestation.Git{Commit: standInCommit, AuthorName: "Ada Lovelace", AuthorEmail: "ada@acme.dev", Date: at,
			Message: "Bump dependencies\n"},
		Materials:     ms,
		InitializedAt: at,
		FinishedAt:    at,
		Builder:       attestation.Builder{ID: "https://custody.dev/cli", Version: "v0.10.0"},
	}
	st, err := attestation.NewStatement(attestation.SubjectsFrom(ms), p)
	if err != nil {
		return nil, err
	}
	payload, err := attestation.MarshalStatement(st)
	if err != nil {
		return nil, err
	}
	t := &template{payload: string(payload)}
	v, _ := templates.LoadOrStore(wf.id, t)
	return v.(*template), nil
}

// makeAttestation renders the run's statement from its workflow's template, signs it into a
// Sigstore bundle as a key-signed push does, and indexes its six digests.
func makeAttestation(ctx context.Context, signer *signing.KeySigner, r *store.Run, wf seedWorkflow, i int, bases []string, rng *mrand.Rand) (store.Attestation, error) {
	t, err := templateOf(wf)
	if err != nil {
		return store.Attestation{}, err
	}
	d := map[string]string{"base": bases[rng.IntN(len(bases))]}
	for _, w := range []string{"image", "tarball", "sbom", "tests", "scan"} {
		d[w] = digestOf(r.ID + w)
	}
	pairs := []string{standInRun, r.ID, standInBranch, r.GitBranch, standInCommit, r.GitCommit, standInNumber, fmt.Sprint(i),
		standInAt.Format(time.RFC3339Nano), r.CreatedAt.Format(time.RFC3339Nano)}
	for _, w := range standIns {
		pairs = append(pairs, strings.TrimPrefix(standInDigest(w), "sha256:"), strings.TrimPrefix(d[w], "sha256:"))
	}
	payload := strings.NewReplacer(pairs...).Replace(t.payload)
	bundle, err := signer.Sign(ctx, []byte(payload))
	if err != nil {
		return store.Attestation{}, err
	}
	digest, err := envelopeDigest(bundle)
	if err != nil {
		return store.Attestation{}, err
	}
	a := store.Attestation{Digest: digest, RunID: r.ID, WorkflowID: wf.id, Bundle: bundle, CreatedAt: r.FinishedAt}
	for _, m := range []struct {
		name, what, kind string
		output, claimed  bool
	}{
		{"app-image", "image", "CONTAINER_IMAGE", true, false}, {"base-image", "base", "CONTAINER_IMAGE", false, false},
		{"tarball", "tarball", "ARTIFACT", true, true}, {"sbom", "sbom", "SBOM_CYCLONEDX_JSON", false, true},
		{"unit-tests", "tests", "JUNIT_XML", false, true}, {"code-scan", "scan", "SARIF", false, true},
	} {
		a.Materials = append(a.Materials, store.MaterialRef{Digest: d[m.what], Name: m.name, Kind: m.kind, Output: m.output, Claimed: m.claimed})
	}
	return a, nil
}

// envelopeDigest is the digest of the bundle's DSSE envelope (attestation.Envelope.Digest), read with
// encoding/json rather than a full parse of the bundle.
func envelopeDigest(bundle []byte) (string, error) {
	var b struct {
		DSSEEnvelope struct {
			Payload     []byte `json:"payload"`
			PayloadType string `json:"payloadType"`
			Signatures  []struct {
				KeyID string `json:"keyid"`
				Sig   []byte `json:"sig"`
			} `json:"signatures"`
		} `json:"dsseEnvelope"`
	}
	if err := json.Unmarshal(bundle, &b); err != nil {
		return "", err
	}
	e := attestation.Envelope{Payload: b.DSSEEnvelope.Payload, PayloadType: b.DSSEEnvelope.PayloadType}
	for _, s := range b.DSSEEnvelope.Signatures {
		e.Signatures = append(e.Signatures, attestation.Signature{KeyID: s.KeyID, Sig: s.Sig})
	}
	return e.Digest(), nil
}

// pick draws a workflow with probability proportional to its weight.
func pick(rng *mrand.Rand, wfs []seedWorkflow, total float64) seedWorkflow {
	x := rng.Float64() * total
	for _, w := range wfs {
		if x -= w.weight; x < 0 {
			return w
		}
	}
	return wfs[len(wfs)-1]
}

// branch draws a run's branch: half on main, 15% on a release branch, the rest on feature branches.
func branch(rng *mrand.Rand) string {
	switch x := rng.Float64(); {
	case x < 0.5:
		return "main"
	case x < 0.65:
		return fmt.Sprintf("release/%d", 1+rng.IntN(releaseBranches))
	}
	return fmt.Sprintf("feature/%d", 1+rng.IntN(featureBranches))
}

func uuid(rng *mrand.Rand) string {
	b := make([]byte, 16)
	for i := range b {
		b[i] = byte(rng.Uint32())
	}
	b[6], b[8] = b[6]&0x0f|0x40, b[8]&0x3f|0x80
	h := hex.EncodeToString(b)
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}

func hexOf(rng *mrand.Rand, n int) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(rng.Uint32())
	}
	return hex.EncodeToString(b)
}

func digestOf(s string) string {
	sum := sha256.Sum256([]byte(s))
	return "sha256:" + hex.EncodeToString(sum[:])
}

func newSigner() (*signing.KeySigner, []byte, error) {
	priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, err
	}
	sv, err := signature.LoadECDSASignerVerifier(priv, crypto.SHA256)
	if err != nil {
		return nil, nil, err
	}
	signer, err := signing.NewKeySigner(sv)
	if err != nil {
		return nil, nil, err
	}
	pem, err := cryptoutils.MarshalPublicKeyToPEM(priv.Public())
	return signer, pem, err
}

func token(ctx context.Context, a *app.App, admin auth.Principal, req wire.CreateToken) (auth.Principal, error) {
	t, err := a.CreateToken(ctx, admin, req)
	if err != nil {
		return auth.Principal{}, err
	}
	return a.Authenticate(ctx, t.Secret)
}
