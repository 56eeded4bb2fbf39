package api_test

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	iofs "io/fs"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sigstore/sigstore/pkg/cryptoutils"
	"github.com/sigstore/sigstore/pkg/signature"

	"github.com/custody-dev/custody/attestation"
	"github.com/custody-dev/custody/cas"
	"github.com/custody-dev/custody/client"
	"github.com/custody-dev/custody/contract"
	"github.com/custody-dev/custody/controlplane/app"
	"github.com/custody-dev/custody/controlplane/auth"
	"github.com/custody-dev/custody/controlplane/store"
	"github.com/custody-dev/custody/crafting"
	"github.com/custody-dev/custody/crafting/materials"
	"github.com/custody-dev/custody/internal/cptest"
	"github.com/custody-dev/custody/internal/testclock"
	"github.com/custody-dev/custody/signing"
	"github.com/custody-dev/custody/wire"
)

// buildContract requires an artifact (an output: the attestation's subject) and a string.
const buildContract = `apiVersion: custody.dev/v1
kind: Contract
metadata:
  name: build
spec:
  materials:
    - name: rootfs
      type: ARTIFACT
      output: true
    - name: build-ref
      type: STRING
`

// buildContractV2 is revision 2 of the same workflow: one more required string.
const buildContractV2 = buildContract + `    - name: release-notes
      type: STRING
`

func newClock() *testclock.Clock { return testclock.New(time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)) }

// newSigner returns a real key signer (ECDSA P-256, as cosign generates) and its public key PEM.
func newSigner(t testing.TB) (*signing.KeySigner, []byte) {
	t.Helper()
	priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	sv, err := signature.LoadECDSASignerVerifier(priv, crypto.SHA256)
	if err != nil {
		t.Fatal(err)
	}
	signer, err := signing.NewKeySigner(sv)
	if err != nil {
		t.Fatal(err)
	}
	pem, err := cryptoutils.MarshalPublicKeyToPEM(priv.Public())
	if err != nil {
		t.Fatal(err)
	}
	return signer, pem
}

// memoryDestination keeps the pushed attestation.
type memoryDestination struct{ pushed *crafting.Pushed }

func (d *memoryDestination) Store(_ context.Context, p *crafting.Pushed) error {
	d.pushed = p
	return nil
}

// craft runs the crafting lifecycle offline (state file in a temp dir, pushed to memory) for a run
// the control plane initialized, against the contract body given (the run's own unless a test wants
// to push something else), and returns the signed bundle.
type craft struct {
	Run      wire.Run
	Contract string
	Signer   crafting.Signer
	Adds     []crafting.AddOptions
	Uploader materials.Uploader
	// Env is the environment the runner is detected from; Job, when set, is the CI job the push's
	// credential was exchanged for (the predicate's runner is then authenticated).
	Env map[string]string
	Job *crafting.CIJob
}

func (c craft) bundle(t testing.TB) []byte {
	t.Helper()
	ctx := context.Background()
	dir := t.TempDir()
	ct, err := contract.Parse([]byte(c.Contract))
	if err != nil {
		t.Fatalf("parse contract: %v", err)
	}
	cr, err := crafting.New(crafting.Options{
		Store:     crafting.NewFileStore(filepath.Join(dir, "attestation.json")),
		Materials: materials.New(materials.Options{Uploader: c.Uploader}),
		Getenv:    func(k string) string { return c.Env[k] }, Version: "test", Workdir: dir,
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cr.Init(ctx, crafting.InitOptions{Workflow: c.Run.Workflow, Project: c.Run.Project, Contract: ct,
		Revision: c.Run.ContractRevision, RunID: c.Run.ID}); err != nil {
		t.Fatalf("init: %v", err)
	}
	for _, add := range c.Adds {
		if _, err := cr.Add(ctx, add); err != nil {
			t.Fatalf("add %s: %v", add.Name, err)
		}
	}
	dest := &memoryDestination{}
	push := crafting.PushOptions{Signer: c.Signer, Destination: dest}
	if c.Job != nil {
		push.Authenticated = func(context.Context) (*crafting.CIJob, error) { return c.Job, nil }
	}
	if _, err := cr.Push(ctx, push); err != nil {
		t.Fatalf("push: %v", err)
	}
	return dest.pushed.Bundle
}

// buildAdds are the materials buildContract requires: a file (rootfs) and a string.
func buildAdds(t testing.TB, content string) []crafting.AddOptions {
	t.Helper()
	path := filepath.Join(t.TempDir(), "rootfs.tar.gz")
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return []crafting.AddOptions{{Name: "rootfs", Value: path}, {Name: "build-ref", Value: "refs/heads/main"}}
}

func digestOf(b []byte) string {
	sum := sha256.Sum256(b)
	return string(cas.NewDigest(sum[:]))
}

// snapshot renders everything the control plane keeps (org, projects, workflows, contract revisions,
// keys, tokens, runs with their state, attestations and the CAS's files), so a test can tell a call
// changed nothing.
func snapshot(t testing.TB, srv *cptest.Server) string {
	t.Helper()
	ctx := context.Background()
	st := srv.Store
	var b strings.Builder
	org, err := st.GetOrgByName(ctx, app.DefaultOrg)
	if err != nil {
		t.Fatalf("snapshot: %v", err)
	}
	projects, err := st.ListProjects(ctx, org.ID)
	if err != nil {
		t.Fatalf("snapshot: %v", err)
	}
	for _, p := range projects {
		fmt.Fprintf(&b, "project %s %s\n", p.ID, p.Name)
		ws, err := st.ListWorkflows(ctx, p.ID)
		if err != nil {
			t.Fatalf("snapshot: %v", err)
		}
		for _, w := range ws {
			rev, err := st.GetContractRevision(ctx, w.ID, 0)
			if err != nil {
				t.Fatalf("snapshot: %v", err)
			}
			keys, err := st.ListPublicKeys(ctx, w.ID)
			if err != nil {
				t.Fatalf("snapshot: %v", err)
			}
			fmt.Fprintf(&b, " workflow %s %s rev=%d keys=%d\n", w.ID, w.Name, rev.Revision, len(keys))
			runs, err := st.ListRuns(ctx, store.RunFilter{WorkflowID: w.ID, Limit: 100000})
			if err != nil {
				t.Fatalf("snapshot: %v", err)
			}
			for _, r := range runs {
				fmt.Fprintf(&b, "  run %s %s %q state=%s att=%s\n", r.ID, r.State, r.Reason, r.RemoteStateDigest, r.AttestationDigest)
			}
		}
	}
	tokens, err := st.ListTokens(ctx, org.ID)
	if err != nil {
		t.Fatalf("snapshot: %v", err)
	}
	for _, tok := range tokens {
		fmt.Fprintf(&b, "token %s admin=%v project=%s workflow=%s revoked=%v\n", tok.ID, tok.Admin, tok.ProjectID, tok.WorkflowID, !tok.RevokedAt.IsZero())
	}
	atts, err := st.ListAttestations(ctx, store.AttestationFilter{Limit: 100000})
	if err != nil {
		t.Fatalf("snapshot: %v", err)
	}
	for _, a := range atts {
		full, err := st.GetAttestation(ctx, a.Digest) // a list leaves the materials out
		if err != nil {
			t.Fatalf("snapshot: %v", err)
		}
		fmt.Fprintf(&b, "attestation %s run=%s materials=%d\n", a.Digest, a.RunID, len(full.Materials))
	}
	for _, f := range casFiles(t, srv) {
		fmt.Fprintf(&b, "cas %s\n", f)
	}
	return b.String()
}

// casFiles lists the files of the filesystem CAS (blobs and temp files), with their sizes.
func casFiles(t testing.TB, srv *cptest.Server) []string {
	t.Helper()
	var files []string
	root := filepath.Join(srv.Dir, "cas")
	err := filepath.WalkDir(root, func(path string, d iofs.DirEntry, err error) error {
		if err != nil || d.IsDir() || d.Name() == "tmp.lock" {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, path)
		files = append(files, fmt.Sprintf("%s %d", rel, info.Size()))
		return nil
	})
	if err != nil {
		t.Fatalf("walk the CAS: %v", err)
	}
	sort.Strings(files)
	return files
}

// blobStored reports whether the CAS holds digest.
func blobStored(t testing.TB, srv *cptest.Server, digest string) bool {
	t.Helper()
	_, err := srv.CAS.Stat(context.Background(), cas.Digest(digest))
	if errors.Is(err, cas.ErrNotFound) {
		return false
	}
	if err != nil {
		t.Fatalf("stat %s: %v", digest, err)
	}
	return true
}

// call is one raw HTTP request; answer is what came back.
type call struct {
	method, path string
	header       http.Header
	body         []byte
	// trailer, when set, sends the body chunked with these trailers after it.
	trailer http.Header
}

type answer struct {
	status  int
	header  http.Header
	body    []byte
	problem wire.Problem
}

func (a answer) String() string {
	return fmt.Sprintf("%d %s", a.status, bytes.TrimSpace(a.body[:min(len(a.body), 300)]))
}

// send makes the request as is (no retries, no redirects followed).
func send(t testing.TB, srv *cptest.Server, c call) answer {
	t.Helper()
	var body io.Reader
	if c.body != nil {
		body = bytes.NewReader(c.body)
	}
	req, err := http.NewRequestWithContext(context.Background(), c.method, srv.URL+c.path, body)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range c.header {
		req.Header[k] = v
	}
	if c.trailer != nil {
		req.Body = io.NopCloser(bytes.NewReader(c.body)) // no length: chunked
		req.ContentLength = -1
		req.Trailer = c.trailer
	}
	hc := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := hc.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", c.method, c.path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	a := answer{status: resp.StatusCode, header: resp.Header, body: b}
	if resp.Header.Get("Content-Type") == "application/problem+json" {
		if err := json.Unmarshal(b, &a.problem); err != nil {
			t.Fatalf("%s %s: problem document: %v: %s", c.method, c.path, err, b)
		}
	}
	return a
}

func jsonCall(method, path, token string, v any) call {
	b, _ := json.Marshal(v)
	return call{method: method, path: path, body: b, header: http.Header{
		"Authorization": {"Bearer " + token}, "Content-Type": {"application/json"}}}
}

func mustProblem(t testing.TB, a answer, status int, code string) {
	t.Helper()
	if a.status != status || a.problem.Code != code || a.header.Get("Content-Type") != "application/problem+json" {
		t.Fatalf("answer = %s (%s), want %d %s as problem+json", a, a.header.Get("Content-Type"), status, code)
	}
}

// mustRefuse sends c and wants it refused: the status and code as problem+json, each of details in
// the problem's detail, and nothing the control plane keeps changed. It returns the answer.
func mustRefuse(t testing.TB, srv *cptest.Server, c call, status int, code string, details ...string) answer {
	t.Helper()
	before := snapshot(t, srv)
	a := send(t, srv, c)
	mustProblem(t, a, status, code)
	for _, d := range details {
		if !strings.Contains(a.problem.Detail, d) {
			t.Errorf("detail %q does not say %q", a.problem.Detail, d)
		}
	}
	if after := snapshot(t, srv); after != before {
		t.Errorf("refused, yet the store changed:\nbefore:\n%s\nafter:\n%s", before, after)
	}
	return a
}

func mustCode(t testing.TB, err error, status int, code string) {
	t.Helper()
	if client.Status(err) != status || client.Code(err) != code {
		t.Fatalf("error = %v, want %d %s", err, status, code)
	}
}

func TestContractRevisionsAndPinning(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	srv := cptest.New(t, cptest.Options{})
	_, pub := newSigner(t)
	wfToken := srv.Workflow(t, "skynet", "build", buildContract, pub)
	admin := srv.Admin(t)

	wf, err := admin.GetWorkflow(ctx, "skynet", "build")
	if err != nil || wf.LatestRevision != 1 || wf.ContractName != "build" {
		t.Fatalf("workflow = %+v, %v", wf, err)
	}
	rev2, err := admin.UpdateContract(ctx, "skynet", "build", buildContractV2)
	if err != nil || rev2.Revision != 2 || rev2.Digest != digestOf([]byte(buildContractV2)) {
		t.Fatalf("update = %+v, %v", rev2, err)
	}
	rev1, err := admin.GetContract(ctx, "skynet", "build", 1)
	if err != nil || rev1.Revision != 1 || rev1.Contract != buildContract {
		t.Fatalf("revision 1 after revision 2 = %+v, %v", rev1, err)
	}
	latest, err := admin.GetContract(ctx, "skynet", "build", 0)
	if err != nil || latest.Revision != 2 || latest.Contract != buildContractV2 {
		t.Fatalf("latest = %+v, %v", latest, err)
	}

	cp := srv.Client(t, wfToken)
	pinned, err := cp.InitRun(ctx, wire.InitRun{Project: "skynet", Workflow: "build", Revision: 1})
	if err != nil || pinned.Run.ContractRevision != 1 || pinned.Contract != buildContract {
		t.Fatalf("init --revision 1 = %+v, %v", pinned, err)
	}
	fresh, err := cp.InitRun(ctx, wire.InitRun{Project: "skynet", Workflow: "build"})
	if err != nil || fresh.Run.ContractRevision != 2 || fresh.Contract != buildContractV2 {
		t.Fatalf("init = %+v, %v", fresh, err)
	}
	if len(fresh.Signing.KeyHints) != 1 {
		t.Errorf("key hints = %v, want the workflow's one key", fresh.Signing.KeyHints)
	}
	_, err = cp.InitRun(ctx, wire.InitRun{Project: "skynet", Workflow: "build", Revision: 3})
	mustCode(t, err, http.StatusNotFound, wire.CodeNotFound)
}

func TestKeys(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	srv := cptest.New(t, cptest.Options{})
	srv.Workflow(t, "skynet", "build", "", nil)
	admin := srv.Admin(t)
	signer, pub := newSigner(t)
	k, err := admin.AddKey(ctx, "skynet", "build", string(pub))
	if err != nil || k.Hint != signer.Hint() || k.PEM != string(pub) {
		t.Fatalf("add key = %+v, %v (signer hint %s)", k, err, signer.Hint())
	}
	_, err = admin.AddKey(ctx, "skynet", "build", string(pub))
	mustCode(t, err, http.StatusConflict, wire.CodeConflict)
	_, err = admin.AddKey(ctx, "skynet", "build", "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n")
	mustCode(t, err, http.StatusBadRequest, wire.CodeBadRequest)
	keys, err := admin.ListKeys(ctx, "skynet", "build")
	if err != nil || len(keys) != 1 || keys[0].ID != k.ID {
		t.Fatalf("keys = %+v, %v", keys, err)
	}
}

// TestRemoveKey: a compromised key stops being trusted. A push it signed is refused from then on,
// another trusted key still works, and what it verified before stays stored and readable.
func TestRemoveKey(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	srv := cptest.New(t, cptest.Options{})
	compromised, pub := newSigner(t)
	cp := srv.Client(t, srv.Workflow(t, "skynet", "build", buildContract, pub))
	admin := srv.Admin(t)
	spare, sparePub := newSigner(t)
	if _, err := admin.AddKey(ctx, "skynet", "build", string(sparePub)); err != nil {
		t.Fatal(err)
	}
	push := func(signer crafting.Signer) (*wire.Pushed, error) {
		init, err := cp.InitRun(ctx, wire.InitRun{Project: "skynet", Workflow: "build"})
		if err != nil {
			t.Fatal(err)
		}
		bundle := craft{Run: init.Run, Contract: init.Contract, Signer: signer, Adds: buildAdds(t, "rootfs"), Uploader: cp}.bundle(t)
		return cp.Push(ctx, init.Run.ID, bundle)
	}
	before, err := push(compromised)
	if err != nil {
		t.Fatalf("push signed by a trusted key: %v", err)
	}
	keys, err := admin.ListKeys(ctx, "skynet", "build")
	if err != nil || len(keys) != 2 {
		t.Fatalf("keys = %+v, %v", keys, err)
	}
	id := keys[slices.IndexFunc(keys, func(k wire.PublicKey) bool { return k.Hint == compromised.Hint() })].ID

	mustCode(t, cp.RemoveKey(ctx, "skynet", "build", id), http.StatusForbidden, wire.CodeForbidden)
	if err := admin.RemoveKey(ctx, "skynet", "build", id); err != nil {
		t.Fatalf("remove key: %v", err)
	}
	mustCode(t, admin.RemoveKey(ctx, "skynet", "build", id), http.StatusNotFound, wire.CodeNotFound)
	mustCode(t, admin.RemoveKey(ctx, "skynet", "nope", id), http.StatusNotFound, wire.CodeNotFound)

	_, err = push(compromised)
	mustCode(t, err, http.StatusUnprocessableEntity, wire.CodeUnverifiable)
	if _, err := push(spare); err != nil {
		t.Fatalf("push signed by the key still trusted: %v", err)
	}
	if att, err := cp.GetAttestation(ctx, before.Digest); err != nil || att.Digest != before.Digest {
		t.Fatalf("attestation verified before the removal = %+v, %v", att, err)
	}
	keys, err = admin.ListKeys(ctx, "skynet", "build")
	if err != nil || len(keys) != 1 || keys[0].Hint != spare.Hint() {
		t.Fatalf("keys after the removal = %+v, %v", keys, err)
	}
}

func TestTokens(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	srv := cptest.New(t, cptest.Options{})
	srv.Workflow(t, "skynet", "build", "", nil)
	admin := srv.Admin(t)

	created, err := admin.CreateToken(ctx, wire.CreateToken{Name: "ci", Project: "skynet", Workflow: "build", ExpiresIn: "720h"})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(created.Secret, wire.TokenPrefix) || len(created.Secret) != 47 ||
		created.Project != "skynet" || created.Workflow != "build" || created.ExpiresAt == nil || created.Admin {
		t.Fatalf("created = %+v", created)
	}
	me, err := srv.Client(t, created.Secret).WhoAmI(ctx)
	if err != nil || me.ID != created.ID || me.Workflow != "build" || me.Org != app.DefaultOrg {
		t.Fatalf("whoami = %+v, %v", me, err)
	}

	// The secret is shown once: the listing has no secret field at all, and the store keeps only
	// its sha256 (not even in the raw database files).
	resp := send(t, srv, call{method: http.MethodGet, path: "/v1/tokens", header: http.Header{"Authorization": {"Bearer " + srv.AdminToken}}})
	if resp.status != http.StatusOK || bytes.Contains(resp.body, []byte(created.Secret)) || bytes.Contains(resp.body, []byte(`"secret"`)) {
		t.Fatalf("token list = %s", resp)
	}
	stored, err := srv.Store.ListTokens(ctx, tokenOrg(t, srv))
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, tok := range stored {
		if bytes.Contains(tok.Hash, []byte(created.Secret)) || bytes.Contains([]byte(tok.Name), []byte(created.Secret)) {
			t.Fatalf("token %s stores the secret", tok.ID)
		}
		if tok.ID == created.ID {
			found = auth.Equal(tok.Hash, auth.Hash(created.Secret))
		}
	}
	if !found {
		t.Fatal("the created token is not stored by the hash of its secret")
	}
	assertNotOnDisk(t, srv.Dir, created.Secret, srv.AdminToken)

	list, err := admin.ListTokens(ctx)
	if err != nil || !slices.ContainsFunc(list, func(tok wire.Token) bool { return tok.ID == created.ID && tok.RevokedAt == nil }) {
		t.Fatalf("tokens = %+v, %v", list, err)
	}
	if err := admin.RevokeToken(ctx, created.ID); err != nil {
		t.Fatal(err)
	}
	_, err = srv.Client(t, created.Secret).WhoAmI(ctx)
	mustCode(t, err, http.StatusUnauthorized, wire.CodeUnauthenticated)
	list, err = admin.ListTokens(ctx)
	if err != nil || !slices.ContainsFunc(list, func(tok wire.Token) bool { return tok.ID == created.ID && tok.RevokedAt != nil }) {
		t.Fatalf("tokens after revoke = %+v, %v", list, err)
	}
	mustCode(t, admin.RevokeToken(ctx, "no-such-token"), http.StatusNotFound, wire.CodeNotFound)
}

func tokenOrg(t testing.TB, srv *cptest.Server) string {
	t.Helper()
	org, err := srv.Store.GetOrgByName(context.Background(), app.DefaultOrg)
	if err != nil {
		t.Fatal(err)
	}
	return org.ID
}

// assertNotOnDisk fails if any file under dir (the database, its WAL, the CAS) holds a secret.
func assertNotOnDisk(t testing.TB, dir string, secrets ...string) {
	t.Helper()
	err := filepath.WalkDir(dir, func(path string, d iofs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		for _, s := range secrets {
			if bytes.Contains(b, []byte(s)) {
				t.Errorf("%s holds a token secret", path)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestLifecycleThroughTheClient(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	srv := cptest.New(t, cptest.Options{})
	signer, pub := newSigner(t)
	cp := srv.Client(t, srv.Workflow(t, "skynet", "build", buildContract, pub))

	init, err := cp.InitRun(ctx, wire.InitRun{Project: "skynet", Workflow: "build", Runner: wire.Runner{Type: "GITHUB_ACTION", URL: "https://ci/1"}})
	if err != nil {
		t.Fatal(err)
	}
	if init.Run.State != "initialized" || init.Run.URL != srv.URL+"/v1/runs/"+init.Run.ID || init.Run.Runner.Type != "GITHUB_ACTION" {
		t.Fatalf("run = %+v", init.Run)
	}

	// A blob uploaded with its digest in a trailer comes back byte for byte.
	content := bytes.Repeat([]byte("rootfs!"), 100_000)
	up, err := cp.UploadBlob(ctx, func() (io.Reader, error) { return bytes.NewReader(content), nil })
	if err != nil || string(up.Digest) != digestOf(content) || up.Size != int64(len(content)) {
		t.Fatalf("upload = %+v, %v", up, err)
	}
	var back bytes.Buffer
	if n, err := srv.Admin(t).DownloadBlob(ctx, string(up.Digest), &back); err != nil || n != int64(len(content)) || !bytes.Equal(back.Bytes(), content) {
		t.Fatalf("download = %d bytes, %v", n, err)
	}
	// A workflow token reads only the blobs its attestations mention: a digest alone opens nothing.
	_, err = cp.DownloadBlob(ctx, string(up.Digest), io.Discard)
	mustCode(t, err, http.StatusForbidden, wire.CodeForbidden)

	// The crafting lifecycle uploads the file through the client while hashing it, then pushes.
	adds := buildAdds(t, "the root filesystem")
	bundle := craft{Run: init.Run, Contract: init.Contract, Signer: signer, Adds: adds, Uploader: cp}.bundle(t)
	rootfs := digestOf([]byte("the root filesystem"))
	if !blobStored(t, srv, rootfs) {
		t.Fatal("add did not upload the artifact")
	}
	pushed, err := cp.Push(ctx, init.Run.ID, bundle)
	if err != nil || !pushed.Created || pushed.RunURL != init.Run.URL || pushed.PageURL != strings.Replace(init.Run.URL, "/v1/runs/", "/ui/runs/", 1) {
		t.Fatalf("push = %+v, %v", pushed, err)
	}
	got, err := cp.GetBundle(ctx, pushed.Digest)
	if err != nil || !bytes.Equal(got, bundle) {
		t.Fatalf("bundle back differs (%v)", err)
	}
	run, err := cp.GetRun(ctx, init.Run.ID)
	if err != nil || run.State != "succeeded" || run.AttestationDigest != pushed.Digest || run.FinishedAt == nil {
		t.Fatalf("run after push = %+v, %v", run, err)
	}
	byDigest, err := cp.ListAttestations(ctx, "", "", rootfs, 0)
	if err != nil || len(byDigest) != 1 || byDigest[0].Digest != pushed.Digest || byDigest[0].RunID != init.Run.ID {
		t.Fatalf("attestations mentioning %s = %+v, %v", rootfs, byDigest, err)
	}
	byWorkflow, err := cp.ListAttestations(ctx, "skynet", "build", "", 0)
	if err != nil || len(byWorkflow) != 1 {
		t.Fatalf("attestations of the workflow = %+v, %v", byWorkflow, err)
	}
	none, err := cp.ListAttestations(ctx, "", "", digestOf([]byte("nothing")), 0)
	if err != nil || len(none) != 0 {
		t.Fatalf("attestations of an unknown digest = %+v, %v", none, err)
	}
	runs, err := cp.ListRuns(ctx, "skynet", "build", 0)
	if err != nil || len(runs) != 1 || runs[0].ID != init.Run.ID {
		t.Fatalf("runs = %+v, %v", runs, err)
	}
	// The artifact the attestation mentions can be downloaded with the workflow's token.
	back.Reset()
	if _, err := cp.DownloadBlob(ctx, rootfs, &back); err != nil || back.String() != "the root filesystem" {
		t.Fatalf("download the attested artifact: %q, %v", back.String(), err)
	}
}

func TestInitDryRunStoresNothing(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	srv := cptest.New(t, cptest.Options{})
	srv.Workflow(t, "skynet", "build", buildContract, nil)
	admin := srv.Admin(t)
	projectToken, err := admin.CreateToken(ctx, wire.CreateToken{Project: "skynet"})
	if err != nil {
		t.Fatal(err)
	}
	cp := srv.Client(t, projectToken.Secret)
	before := snapshot(t, srv)

	dry, err := cp.InitRun(ctx, wire.InitRun{Project: "skynet", Workflow: "build", DryRun: true})
	if err != nil || !dry.DryRun || dry.Run.ID != "" || dry.Run.URL != "" || dry.Contract != buildContract {
		t.Fatalf("dry run = %+v, %v", dry, err)
	}
	// --contract for a workflow that does not exist: checked, not created.
	dry, err = cp.InitRun(ctx, wire.InitRun{Project: "skynet", Workflow: "deploy", Contract: buildContract, DryRun: true})
	if err != nil || !dry.DryRun || dry.Run.Workflow != "deploy" || dry.Run.ContractRevision != 1 {
		t.Fatalf("dry run creating a workflow = %+v, %v", dry, err)
	}
	_, err = cp.InitRun(ctx, wire.InitRun{Project: "skynet", Workflow: "deploy", Contract: "kind: nonsense", DryRun: true})
	mustCode(t, err, http.StatusUnprocessableEntity, wire.CodeInvalidContract)
	if after := snapshot(t, srv); after != before {
		t.Fatalf("a dry run stored something:\nbefore:\n%s\nafter:\n%s", before, after)
	}
}

func TestInitWithContractCreatesWorkflow(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	srv := cptest.New(t, cptest.Options{})
	admin := srv.Admin(t)
	if _, err := admin.CreateProject(ctx, "skynet"); err != nil {
		t.Fatal(err)
	}
	projectToken, err := admin.CreateToken(ctx, wire.CreateToken{Project: "skynet"})
	if err != nil {
		t.Fatal(err)
	}
	cp := srv.Client(t, projectToken.Secret)
	_, err = cp.InitRun(ctx, wire.InitRun{Project: "skynet", Workflow: "deploy"})
	mustCode(t, err, http.StatusNotFound, wire.CodeNotFound)

	// Parallel inits with the same contract create the workflow once and all get a run.
	const n = 8
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := range n {
		wg.Go(func() {
			_, errs[i] = cp.InitRun(ctx, wire.InitRun{Project: "skynet", Workflow: "deploy", Contract: buildContract})
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
	ws, err := admin.ListWorkflows(ctx, "skynet")
	if err != nil || len(ws) != 1 || ws[0].Name != "deploy" || ws[0].LatestRevision != 1 || ws[0].ContractName != "build" {
		t.Fatalf("workflows = %+v, %v", ws, err)
	}
	runs, err := admin.ListRuns(ctx, "skynet", "deploy", 0)
	if err != nil || len(runs) != n {
		t.Fatalf("runs = %d, %v; want %d", len(runs), err, n)
	}
	// The contract given to a later init does not replace the workflow's.
	again, err := cp.InitRun(ctx, wire.InitRun{Project: "skynet", Workflow: "deploy", Contract: buildContractV2})
	if err != nil || again.Contract != buildContract || again.Run.ContractRevision != 1 {
		t.Fatalf("init of an existing workflow with another contract = %+v, %v", again, err)
	}
}

func TestResetMarksRunFailed(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	srv := cptest.New(t, cptest.Options{})
	cp := srv.Client(t, srv.Workflow(t, "skynet", "build", buildContract, nil))
	for _, tc := range []struct{ state, want string }{{"", "failed"}, {"failed", "failed"}, {"cancelled", "cancelled"}} {
		init, err := cp.InitRun(ctx, wire.InitRun{Project: "skynet", Workflow: "build"})
		if err != nil {
			t.Fatal(err)
		}
		run, err := cp.ResetRun(ctx, init.Run.ID, wire.FinishRun{State: tc.state, Reason: "tests failed"})
		if err != nil || run.State != tc.want || run.Reason != "tests failed" || run.FinishedAt == nil {
			t.Fatalf("reset %q = %+v, %v", tc.state, run, err)
		}
		_, err = cp.ResetRun(ctx, init.Run.ID, wire.FinishRun{})
		mustCode(t, err, http.StatusConflict, wire.CodeRunFinished)
	}
	init, err := cp.InitRun(ctx, wire.InitRun{Project: "skynet", Workflow: "build"})
	if err != nil {
		t.Fatal(err)
	}
	_, err = cp.ResetRun(ctx, init.Run.ID, wire.FinishRun{State: "succeeded"})
	mustCode(t, err, http.StatusBadRequest, wire.CodeBadRequest)
	if run, err := cp.GetRun(ctx, init.Run.ID); err != nil || run.State != "initialized" {
		t.Fatalf("a refused reset changed the run: %+v, %v", run, err)
	}
}

func TestRunExpiry(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	clk := newClock()
	srv := cptest.New(t, cptest.Options{Now: clk.Now, RunTTL: time.Hour})
	signer, pub := newSigner(t)
	cp := srv.Client(t, srv.Workflow(t, "skynet", "build", buildContract, pub))
	init, err := cp.InitRun(ctx, wire.InitRun{Project: "skynet", Workflow: "build"})
	if err != nil {
		t.Fatal(err)
	}
	if want := clk.Now().Add(time.Hour); !init.Run.ExpiresAt.Equal(want) {
		t.Fatalf("expires at %v, want %v", init.Run.ExpiresAt, want)
	}
	bundle := craft{Run: init.Run, Contract: init.Contract, Signer: signer, Adds: buildAdds(t, "x")}.bundle(t)

	clk.Advance(59 * time.Minute)
	if n, err := srv.App.ExpireRuns(ctx); err != nil || n != 0 {
		t.Fatalf("expire before the TTL = %d, %v", n, err)
	}
	clk.Advance(2 * time.Minute)
	// Past its expiry a run is expired even before the sweep records it.
	if run, err := cp.GetRun(ctx, init.Run.ID); err != nil || run.State != "expired" {
		t.Fatalf("run past its expiry = %+v, %v", run, err)
	}
	_, err = cp.Push(ctx, init.Run.ID, bundle)
	mustCode(t, err, http.StatusConflict, wire.CodeRunFinished)
	if n, err := srv.App.ExpireRuns(ctx); err != nil || n != 1 {
		t.Fatalf("expire = %d, %v; want 1", n, err)
	}
	run, err := cp.GetRun(ctx, init.Run.ID)
	if err != nil || run.State != "expired" || run.FinishedAt == nil {
		t.Fatalf("run after the sweep = %+v, %v", run, err)
	}
	_, err = cp.Push(ctx, init.Run.ID, bundle)
	mustCode(t, err, http.StatusConflict, wire.CodeRunFinished)
	_, err = cp.PutState(ctx, init.Run.ID, "", []byte(`{}`))
	mustCode(t, err, http.StatusConflict, wire.CodeRunFinished)
	if atts, err := srv.Store.ListAttestations(ctx, store.AttestationFilter{}); err != nil || len(atts) != 0 {
		t.Fatalf("attestations = %d, %v", len(atts), err)
	}
}

// TestRemoteStateParallelAdds runs N adds at once, each its own crafter on the run's remote state (as
// jobs on different runners do): every stale write is retried, and all N materials land.
func TestRemoteStateParallelAdds(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	srv := cptest.New(t, cptest.Options{})
	signer, pub := newSigner(t)
	token := srv.Workflow(t, "skynet", "build", "apiVersion: custody.dev/v1\nkind: Contract\nmetadata: {name: build}\n"+
		"spec: {materials: [{name: rootfs, type: ARTIFACT, output: true, optional: true}]}\n", pub)

	newCrafter := func(store crafting.Store) *crafting.Crafter {
		c, err := crafting.New(crafting.Options{Store: store, Getenv: func(string) string { return "" }, Workdir: t.TempDir()})
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	first := newCrafter(crafting.NewFileStore(filepath.Join(t.TempDir(), "unused.json")))
	st, err := first.InitOnline(ctx, srv.Client(t, token), crafting.OnlineInit{
		InitOptions: crafting.InitOptions{Project: "skynet", Workflow: "build"}, RemoteState: true})
	if err != nil {
		t.Fatal(err)
	}

	const n = 16
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := range n {
		c := newCrafter(crafting.NewRemoteStore(srv.Client(t, token), st.RunID))
		wg.Go(func() {
			_, errs[i] = c.Add(ctx, crafting.AddOptions{Name: fmt.Sprintf("job-%02d", i), Value: fmt.Sprintf("result of job %d", i)})
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
	remote := crafting.NewRemoteStore(srv.Client(t, token), st.RunID)
	final, _, err := remote.Load(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(final.Materials) != n {
		t.Fatalf("%d materials after %d parallel adds", len(final.Materials), n)
	}
	// The subject, from yet another job: the parallel adds are all there for the push.
	last := newCrafter(remote)
	if _, err := last.Add(ctx, buildAdds(t, "rootfs")[0]); err != nil {
		t.Fatal(err)
	}
	dest := &crafting.ControlPlaneDestination{Client: srv.Client(t, token)}
	if _, err := last.Push(ctx, crafting.PushOptions{Signer: signer, Destination: dest}); err != nil {
		t.Fatal(err)
	}
	att, err := srv.Store.GetAttestation(ctx, dest.Result.Digest)
	if err != nil {
		t.Fatal(err)
	}
	res, err := attestation.Verify(ctx, att.Bundle, attestation.VerifyOptions{PublicKey: pub})
	if err != nil || len(res.Predicate.Materials) != n+1 {
		t.Fatalf("stored attestation: %v materials, %v", len(res.Predicate.Materials), err)
	}
}

// TestConcurrentPushStoresOnce: the same bundle pushed at once by several retrying clients is
// stored once; every client gets its digest, exactly one hears it was created.
func TestConcurrentPushStoresOnce(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	srv := cptest.New(t, cptest.Options{})
	signer, pub := newSigner(t)
	token := srv.Workflow(t, "skynet", "build", buildContract, pub)
	init, err := srv.Client(t, token).InitRun(ctx, wire.InitRun{Project: "skynet", Workflow: "build"})
	if err != nil {
		t.Fatal(err)
	}
	bundle := craft{Run: init.Run, Contract: init.Contract, Signer: signer, Adds: buildAdds(t, "rootfs")}.bundle(t)
	const n = 8
	results := make([]*wire.Pushed, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		cp := srv.Client(t, token)
		wg.Go(func() { results[i], errs[i] = cp.Push(ctx, init.Run.ID, bundle) })
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
	created := 0
	for _, r := range results {
		if r.Digest != results[0].Digest {
			t.Fatalf("different digests: %+v", results)
		}
		if r.Created {
			created++
		}
	}
	if created != 1 {
		t.Errorf("%d pushes created the attestation, want exactly 1", created)
	}
	if atts, err := srv.Store.ListAttestations(ctx, store.AttestationFilter{}); err != nil || len(atts) != 1 {
		t.Fatalf("%d attestations stored, %v", len(atts), err)
	}
}
