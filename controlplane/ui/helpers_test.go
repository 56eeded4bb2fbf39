package ui_test

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/sigstore/sigstore/pkg/cryptoutils"
	"github.com/sigstore/sigstore/pkg/signature"

	"github.com/custody-dev/custody/attestation"
	"github.com/custody-dev/custody/internal/cptest"
	"github.com/custody-dev/custody/signing"
	"github.com/custody-dev/custody/wire"
)

// buildContract asks for a file (an output: the subject) and a string.
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

func digestOf(b []byte) string {
	sum := sha256.Sum256(b)
	return "sha256:" + hex.EncodeToString(sum[:])
}

// pushed is an attestation pushed for a run.
type pushed struct {
	run    wire.Run
	digest string
	bundle []byte
}

// pushKeyless initializes a run of project/workflow with token, uploads content as the rootfs file
// (so the attestation claims it), signs a statement of materials (rootfs and build-ref unless edit
// changes them) keyless through the control plane, and pushes it.
func pushKeyless(t testing.TB, srv *cptest.Server, token, project, workflow, content string, edit func(*attestation.Predicate)) pushed {
	t.Helper()
	return push(t, srv, token, project, workflow, content, nil, edit)
}

// push is pushKeyless, signed with key when it is not nil.
func push(t testing.TB, srv *cptest.Server, token, project, workflow, content string, key *signing.KeySigner, edit func(*attestation.Predicate)) pushed {
	t.Helper()
	ctx := context.Background()
	c := srv.Client(t, token)
	run, err := c.InitRun(ctx, wire.InitRun{Project: project, Workflow: workflow})
	if err != nil {
		t.Fatal(err)
	}
	up, err := c.UploadBlob(ctx, func() (io.Reader, error) { return strings.NewReader(content), nil })
	if err != nil {
		t.Fatal(err)
	}
	p := &attestation.Predicate{
		Workflow: attestation.Workflow{Name: workflow, Project: project, RunID: run.Run.ID, ContractName: "build", ContractRevision: run.Run.ContractRevision},
		Materials: []attestation.Material{
			{Name: "rootfs", Kind: "ARTIFACT", Value: "rootfs.tar.gz", Digest: string(up.Digest), Output: true,
				File: &attestation.File{Name: "rootfs.tar.gz", Size: int64(len(content)), Uploaded: true}},
			{Name: "build-ref", Kind: "STRING", Value: "80e461e9b385"},
		},
		Builder: attestation.Builder{ID: "https://custody.dev/cli", Version: "test"},
	}
	if edit != nil {
		edit(p)
	}
	st, err := attestation.NewStatement(attestation.SubjectsFrom(p.Materials), p)
	if err != nil {
		t.Fatal(err)
	}
	payload, err := attestation.MarshalStatement(st)
	if err != nil {
		t.Fatal(err)
	}
	var signer interface {
		Sign(context.Context, []byte) ([]byte, error)
	} = key
	if key == nil {
		if signer, err = signing.NewKeylessSigner(c.RunAuthority(run.Run.ID), nil); err != nil {
			t.Fatal(err)
		}
	}
	bundle, err := signer.Sign(ctx, payload)
	if err != nil {
		t.Fatal(err)
	}
	res, err := c.Push(ctx, run.Run.ID, bundle)
	if err != nil {
		t.Fatalf("push: %v", err)
	}
	return pushed{run: run.Run, digest: res.Digest, bundle: bundle}
}

func newPublicKeyPEM(t testing.TB) string {
	t.Helper()
	_, pem := newKeySigner(t)
	return pem
}

// newKeySigner returns a key signer (ECDSA P-256, as cosign generates) and its public key PEM.
func newKeySigner(t testing.TB) (*signing.KeySigner, string) {
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
	return signer, string(pem)
}

// browser is a person's browser on the UI, as far as HTTP goes: cookies kept, redirects not followed
// (the tests look at them), the CSRF token of the forms it was last shown.
type browser struct {
	t    testing.TB
	base string
	c    *http.Client
	csrf string
}

func newBrowser(t testing.TB, srv *cptest.Server) *browser {
	t.Helper()
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	return &browser{t: t, base: srv.URL, c: &http.Client{Jar: jar,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

// page is an answer the browser got.
type page struct {
	status int
	header http.Header
	body   string
}

var csrfField = regexp.MustCompile(`name="csrf" value="([^"]*)"`)

func (b *browser) do(method, path string, form url.Values) page {
	b.t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, b.base+path, body)
	if err != nil {
		b.t.Fatal(err)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	resp, err := b.c.Do(req)
	if err != nil {
		b.t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		b.t.Fatal(err)
	}
	p := page{status: resp.StatusCode, header: resp.Header, body: string(raw)}
	if m := csrfField.FindStringSubmatch(p.body); m != nil {
		b.csrf = m[1]
	}
	return p
}

func (b *browser) get(path string) page { return b.do(http.MethodGet, path, nil) }

// post sends a form with the CSRF token the browser was last shown.
func (b *browser) post(path string, form url.Values) page {
	if form == nil {
		form = url.Values{}
	}
	if _, ok := form["csrf"]; !ok {
		form.Set("csrf", b.csrf)
	}
	return b.do(http.MethodPost, path, form)
}

// signIn signs in with token through the sign-in form and returns the answer to the form.
func (b *browser) signIn(token string) page {
	b.t.Helper()
	b.get("/ui/signin")
	p := b.post("/ui/signin", url.Values{"token": {token}})
	if p.status == http.StatusSeeOther {
		b.get("/ui/") // the forms' CSRF token of the session
	}
	return p
}

// mustSignIn signs in or fails the test.
func (b *browser) mustSignIn(token string) *browser {
	b.t.Helper()
	if p := b.signIn(token); p.status != http.StatusSeeOther {
		b.t.Fatalf("sign in: %d\n%s", p.status, p.body)
	}
	return b
}

// cookie returns the value of the browser's cookie name ("" when it has none).
func (b *browser) cookie(name string) string {
	u, _ := url.Parse(b.base + "/ui/")
	for _, c := range b.c.Jar.Cookies(u) {
		if c.Name == name {
			return c.Value
		}
	}
	return ""
}
