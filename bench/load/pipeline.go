package main

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/sigstore/sigstore/pkg/cryptoutils"
	"github.com/sigstore/sigstore/pkg/signature"

	"github.com/custody-dev/custody/attestation"
	"github.com/custody-dev/custody/client"
	"github.com/custody-dev/custody/contract"
	"github.com/custody-dev/custody/signing"
	"github.com/custody-dev/custody/wire"
)

const benchContract = `apiVersion: custody.dev/v1
kind: Contract
metadata:
  name: load
spec:
  materials:
    - name: artifact
      type: ARTIFACT
      output: true
    - name: build-ref
      type: STRING
`

// signMode is how a pipeline signs: with a key the workflow trusts (`custody attestation push --key`),
// or keyless, as `custody attestation push` does by default: a key made for the one signature, which
// the control plane certifies for the run, and a timestamp from its timestamp authority.
type signMode string

const (
	signKey     signMode = "key"
	signKeyless signMode = "keyless"
)

// parseSignModes reads -sign: a comma-separated list of modes, each once.
func parseSignModes(s string) ([]signMode, error) {
	var modes []signMode
	seen := map[signMode]bool{}
	for _, f := range strings.Split(s, ",") {
		m := signMode(strings.TrimSpace(f))
		if m != signKey && m != signKeyless {
			return nil, fmt.Errorf("-sign %q: %q is neither key nor keyless", s, m)
		}
		if seen[m] {
			return nil, fmt.Errorf("-sign %q: %s twice", s, m)
		}
		seen[m] = true
		modes = append(modes, m)
	}
	return modes, nil
}

// fixture is what the pipelines run against: one workflow and its token.
type fixture struct {
	url, token        string // workflow token
	admin             *client.Client
	project, workflow string
	mode              signMode
	key               *signing.KeySigner // the key the workflow trusts; nil keyless
}

// bootstrap creates a project and, in it, a workflow (newWorkflow) signed the way mode says.
func bootstrap(ctx context.Context, url, adminToken string, mode signMode) (*fixture, error) {
	admin, err := client.New(url, adminToken, client.WithRetry(client.Retry{}))
	if err != nil {
		return nil, err
	}
	if _, err := admin.CreateProject(ctx, "skynet"); err != nil {
		return nil, fmt.Errorf("create project: %w", err)
	}
	return newWorkflow(ctx, admin, url, "skynet", "build-and-test", mode)
}

// newWorkflow creates a workflow of project with benchContract and a workflow token. Signed by key,
// it trusts a key generated here; keyless, it trusts no key, so only a certificate from the control
// plane gets a push stored.
func newWorkflow(ctx context.Context, admin *client.Client, url, project, workflow string, mode signMode) (*fixture, error) {
	fx := &fixture{url: url, admin: admin, project: project, workflow: workflow, mode: mode}
	if _, err := admin.CreateWorkflow(ctx, fx.project, wire.CreateWorkflow{Name: fx.workflow, Contract: benchContract}); err != nil {
		return nil, fmt.Errorf("create workflow: %w", err)
	}
	if mode == signKey {
		priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			return nil, err
		}
		sv, err := signature.LoadECDSASignerVerifier(priv, crypto.SHA256)
		if err != nil {
			return nil, err
		}
		if fx.key, err = signing.NewKeySigner(sv); err != nil {
			return nil, err
		}
		pem, err := cryptoutils.MarshalPublicKeyToPEM(priv.Public())
		if err != nil {
			return nil, err
		}
		if _, err := admin.AddKey(ctx, fx.project, fx.workflow, string(pem)); err != nil {
			return nil, fmt.Errorf("add key: %w", err)
		}
	}
	tok, err := admin.CreateToken(ctx, wire.CreateToken{Project: fx.project, Workflow: fx.workflow, ExpiresIn: "24h"})
	if err != nil {
		return nil, fmt.Errorf("create token: %w", err)
	}
	fx.token = tok.Secret
	return fx, nil
}

// stored asks the control plane for each digest (lists are paged at 1000, an attestation is read by
// its digest) and returns those it holds, as attestations of the fixture's workflow.
func (fx *fixture) stored(ctx context.Context, digests map[string]bool) (map[string]bool, error) {
	out := make(map[string]bool, len(digests))
	for d := range digests {
		a, err := fx.admin.GetAttestation(ctx, d)
		if client.Status(err) == http.StatusNotFound {
			continue
		}
		if err != nil {
			return nil, err
		}
		if a.Project == fx.project && a.Workflow == fx.workflow {
			out[d] = true
		}
	}
	return out, nil
}

// checkStored asks custodyd for every attestation g was told it stored.
func checkStored(ctx context.Context, g *generator) error {
	acked := g.acked()
	stored, err := g.fx.stored(ctx, acked)
	if err != nil {
		return fmt.Errorf("count stored attestations: %w", err)
	}
	if len(stored) != len(acked) {
		return fmt.Errorf("%d attestations acked, %d stored", len(acked), len(stored))
	}
	return nil
}

// The calls a pipeline makes, in the order reported.
// certificate and timestamp are keyless signing's calls to the control plane (inside sign);
// "sign+push" is the push as the user waits for it: statement, signature, store.
var calls = []string{"init", "upload", "certificate", "timestamp", "sign", "push", "sign+push", "pipeline"}

// generator runs pipelines and remembers every attestation the control plane said it stored.
type generator struct {
	fx           *fixture
	artifactSize int64
	seq          int

	mu  sync.Mutex
	ack map[string]bool
}

func (g *generator) acked() map[string]bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.ack
}

// run runs n pipelines in a loop until d has passed; loops under way then are finished.
func (g *generator) run(ctx context.Context, n int, d time.Duration) (result, error) {
	if g.ack == nil {
		g.ack = map[string]bool{}
	}
	g.seq++
	workers := make([]*worker, n)
	for i := range workers {
		w, err := g.newWorker(i)
		if err != nil {
			return result{}, err
		}
		workers[i] = w
	}
	start := time.Now()
	deadline := start.Add(d)
	var wg sync.WaitGroup
	for _, w := range workers {
		wg.Go(func() { w.loop(ctx, deadline) })
	}
	wg.Wait()
	res := result{elapsed: time.Since(start), lat: map[string][]time.Duration{}}
	for _, w := range workers {
		res.completed += w.completed
		res.errors += w.errors
		if res.firstErr == nil {
			res.firstErr = w.firstErr
		}
		for k, v := range w.lat {
			res.lat[k] = append(res.lat[k], v...)
		}
		w.http.CloseIdleConnections()
	}
	return res, nil
}

// worker is one pipeline, with its own connections (as a CI job has).
type worker struct {
	g     *generator
	id    int
	cp    *client.Client
	http  *http.Client
	buf   []byte
	nonce []byte

	completed, errors int
	firstErr          error
	lat               map[string][]time.Duration
}

func (g *generator) newWorker(id int) (*worker, error) {
	h := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 4, DisableCompression: true}}
	// No retries: every failure is counted.
	cp, err := client.New(g.fx.url, g.fx.token, client.WithHTTPClient(h), client.WithRetry(client.Retry{}))
	if err != nil {
		return nil, err
	}
	w := &worker{g: g, id: id, cp: cp, http: h, buf: make([]byte, g.artifactSize), nonce: make([]byte, 16),
		lat: map[string][]time.Duration{}}
	if _, err := rand.Read(w.buf); err != nil {
		return nil, err
	}
	if _, err := rand.Read(w.nonce); err != nil {
		return nil, err
	}
	return w, nil
}

func (w *worker) loop(ctx context.Context, deadline time.Time) {
	for i := 0; time.Now().Before(deadline); i++ {
		if err := w.pipeline(ctx, i); err != nil {
			w.errors++
			if w.firstErr == nil {
				w.firstErr = err
			}
			continue
		}
		w.completed++
	}
}

// timed runs fn and records its latency under name.
func (w *worker) timed(name string, fn func() error) error {
	t := time.Now()
	err := fn()
	if err == nil {
		w.lat[name] = append(w.lat[name], time.Since(t))
	}
	return err
}

// pipeline is one run: init, upload an artifact, add a string, sign, push.
func (w *worker) pipeline(ctx context.Context, i int) error {
	start := time.Now()
	fx := w.g.fx
	var run *wire.InitializedRun
	if err := w.timed("init", func() (err error) {
		run, err = w.cp.InitRun(ctx, wire.InitRun{Project: fx.project, Workflow: fx.workflow})
		return err
	}); err != nil {
		return err
	}
	ct, err := contract.Parse([]byte(run.Contract))
	if err != nil {
		return fmt.Errorf("contract of run %s: %w", run.Run.ID, err)
	}
	initialized := time.Now().UTC()

	// A fresh artifact each time (the CAS dedups identical bytes): this worker's random bytes, made
	// unique by a nonce and the loop's numbers in the first 32 bytes.
	copy(w.buf, w.nonce)
	binary.BigEndian.PutUint64(w.buf[16:], uint64(w.g.seq))
	binary.BigEndian.PutUint64(w.buf[24:], uint64(i))
	var blob struct {
		digest string
		size   int64
	}
	if err := w.timed("upload", func() error {
		h, err := w.cp.UploadBlob(ctx, func() (io.Reader, error) { return bytes.NewReader(w.buf), nil })
		blob.digest, blob.size = string(h.Digest), h.Size
		return err
	}); err != nil {
		return err
	}

	materials := []attestation.Material{
		{Name: "artifact", Kind: contract.KindArtifact, Value: "artifact.bin", Digest: blob.digest, Output: true,
			File: &attestation.File{Name: "artifact.bin", Size: blob.size, Uploaded: true}, AddedAt: time.Now().UTC()},
		{Name: "build-ref", Kind: contract.KindString, Value: fmt.Sprintf("%x-%d-%d", w.nonce[:8], w.id, i), AddedAt: time.Now().UTC()},
	}
	pred := &attestation.Predicate{
		Workflow: attestation.Workflow{Name: fx.workflow, Project: fx.project, RunID: run.Run.ID,
			ContractName: ct.Metadata.Name, ContractRevision: run.Run.ContractRevision},
		Materials:     materials,
		InitializedAt: initialized,
		FinishedAt:    time.Now().UTC(),
		Builder:       attestation.Builder{ID: "https://custody.dev/bench/load", Version: "bench"},
	}
	var bundle []byte
	signStart := time.Now()
	if err := w.timed("sign", func() error {
		st, err := attestation.NewStatement(attestation.SubjectsFrom(materials), pred)
		if err != nil {
			return err
		}
		payload, err := attestation.MarshalStatement(st)
		if err != nil {
			return err
		}
		signer, err := w.signer(run.Run.ID)
		if err != nil {
			return err
		}
		bundle, err = signer.Sign(ctx, payload)
		return err
	}); err != nil {
		return fmt.Errorf("sign: %w", err)
	}
	var pushed *wire.Pushed
	if err := w.timed("push", func() (err error) {
		pushed, err = w.cp.Push(ctx, run.Run.ID, bundle)
		return err
	}); err != nil {
		return err
	}
	w.lat["sign+push"] = append(w.lat["sign+push"], time.Since(signStart))
	if !pushed.Created {
		return errors.New("push: the control plane already had this attestation")
	}
	w.g.mu.Lock()
	w.g.ack[pushed.Digest] = true
	w.g.mu.Unlock()
	w.lat["pipeline"] = append(w.lat["pipeline"], time.Since(start))
	return nil
}

// signer is what signs run's statement: the workflow's key, or, keyless, what the CLI makes for each
// push: a signing.KeylessSigner whose authority is the control plane for this run (a fresh key, its
// certificate, a timestamp), with the two calls timed.
func (w *worker) signer(runID string) (signing.Signer, error) {
	if w.g.fx.mode == signKey {
		return w.g.fx.key, nil
	}
	return signing.NewKeylessSigner(&timedAuthority{a: w.cp.RunAuthority(runID), w: w}, nil)
}

// timedAuthority records the latency of a keyless signer's calls to the control plane.
type timedAuthority struct {
	a signing.Authority
	w *worker
}

func (t *timedAuthority) Certificate(ctx context.Context, csrDER []byte) (chain [][]byte, err error) {
	err = t.w.timed("certificate", func() error {
		chain, err = t.a.Certificate(ctx, csrDER)
		return err
	})
	return chain, err
}

func (t *timedAuthority) Timestamp(ctx context.Context, requestDER []byte) (reply []byte, err error) {
	err = t.w.timed("timestamp", func() error {
		reply, err = t.a.Timestamp(ctx, requestDER)
		return err
	})
	return reply, err
}
