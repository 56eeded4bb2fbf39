package api_test

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/json"
	"encoding/pem"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/digitorus/timestamp"

	"github.com/custody-dev/custody/attestation"
	"github.com/custody-dev/custody/controlplane/tsa"
	"github.com/custody-dev/custody/internal/cptest"
	"github.com/custody-dev/custody/signing"
	"github.com/custody-dev/custody/wire"
)

// keylessFixture is a control plane with the workflows alpha/build and alpha/other (on buildContract,
// trusting no key), a token of each, and an open run of alpha/build.
type keylessFixture struct {
	srv          *cptest.Server
	build, other string // the workflows' tokens
	run          wire.InitializedRun
}

func newKeylessFixture(t *testing.T, opts cptest.Options) *keylessFixture {
	t.Helper()
	srv := cptest.New(t, opts)
	f := &keylessFixture{srv: srv, build: srv.Workflow(t, "alpha", "build", buildContract, nil), other: srv.Workflow(t, "alpha", "other", buildContract, nil)}
	f.run = f.newRun(t, f.build, "build")
	return f
}

func (f *keylessFixture) newRun(t *testing.T, token, workflow string) wire.InitializedRun {
	t.Helper()
	run, err := f.srv.Client(t, token).InitRun(t.Context(), wire.InitRun{Project: "alpha", Workflow: workflow})
	if err != nil {
		t.Fatal(err)
	}
	return *run
}

// certificateCall asks for a certificate for the run, with the CSR as given.
func certificateCall(token, runID, csr string) call {
	return jsonCall(http.MethodPost, "/v1/runs/"+runID+"/certificate", token, wire.CertificateRequest{CSR: csr})
}

// csrPEM returns a PEM certificate request signed by key.
func csrPEM(t *testing.T, key crypto.Signer) string {
	t.Helper()
	der, err := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{}, key)
	if err != nil {
		t.Fatal(err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE REQUEST", Bytes: der}))
}

// rawCSR is a PKCS #10 request split into what is signed and the signature.
type rawCSR struct {
	Info      asn1.RawValue
	Algorithm pkix.AlgorithmIdentifier
	Signature asn1.BitString
}

// forgedCSR returns a PEM certificate request whose proof of possession does not verify: edit
// changes the signed request of a fresh P-256 key, whose signature stays as it was.
func forgedCSR(t *testing.T, edit func(req *rawCSR)) string {
	t.Helper()
	var req rawCSR
	b, _ := pem.Decode([]byte(csrPEM(t, mustKey(t))))
	if rest, err := asn1.Unmarshal(b.Bytes, &req); err != nil || len(rest) > 0 {
		t.Fatalf("parse a CSR: %v", err)
	}
	edit(&req)
	der, err := asn1.Marshal(req)
	if err != nil {
		t.Fatal(err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE REQUEST", Bytes: der}))
}

func mustKey(t *testing.T) *ecdsa.PrivateKey {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return key
}

// TestCertificateRefusals: what POST /v1/runs/{id}/certificate refuses, each with its status, code
// and a detail naming the reason, and that it issues nothing then; a good request still gets a
// certificate naming the workflow.
func TestCertificateRefusals(t *testing.T) {
	t.Parallel()
	f := newKeylessFixture(t, cptest.Options{})
	otherRun := f.newRun(t, f.other, "other")
	finished := f.newRun(t, f.build, "build")
	if _, err := f.srv.Client(t, f.build).ResetRun(t.Context(), finished.Run.ID, wire.FinishRun{Reason: "tests failed"}); err != nil {
		t.Fatal(err)
	}
	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	p224, err := ecdsa.GenerateKey(elliptic.P224(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	good := csrPEM(t, mustKey(t))
	block, _ := pem.Decode([]byte(good))
	anotherKeys := forgedCSR(t, func(req *rawCSR) { // the request of one key, the signature of another
		var other rawCSR
		b, _ := pem.Decode([]byte(csrPEM(t, mustKey(t))))
		if _, err := asn1.Unmarshal(b.Bytes, &other); err != nil {
			t.Fatal(err)
		}
		req.Signature = other.Signature
	})
	flipped := forgedCSR(t, func(req *rawCSR) { req.Signature.Bytes[len(req.Signature.Bytes)-1] ^= 1 })
	oversized := []byte(`{"csr":"` + strings.Repeat("A", 16<<10) + `"}`)
	const badPoP = "certificate request: not signed by the key it names"

	refuseAll(t, f.srv, []refusal{
		{"a run of another workflow", certificateCall(f.build, otherRun.Run.ID, good), 404, wire.CodeNotFound, "run " + otherRun.Run.ID + " not found"},
		{"a run that does not exist", certificateCall(f.build, "0b5e6c4e-8f0a-4c1e-9d7b-2a3c4d5e6f70", good), 404, wire.CodeNotFound, "not found"},
		{"a finished run", certificateCall(f.build, finished.Run.ID, good), 409, wire.CodeRunFinished, "run " + finished.Run.ID + " is failed: no certificate is issued for it"},
		{"a proof of possession by another key", certificateCall(f.build, f.run.Run.ID, anotherKeys), 400, wire.CodeBadRequest, badPoP},
		{"a proof of possession altered", certificateCall(f.build, f.run.Run.ID, flipped), 400, wire.CodeBadRequest, badPoP},
		{"an RSA key", certificateCall(f.build, f.run.Run.ID, csrPEM(t, rsaKey)), 400, wire.CodeBadRequest, "RSA keys are not issued certificates: want ECDSA or Ed25519"},
		{"a P-224 key", certificateCall(f.build, f.run.Run.ID, csrPEM(t, p224)), 400, wire.CodeBadRequest, "ECDSA curve P-224: want P-256 or P-384"},
		{"data after the PEM block", certificateCall(f.build, f.run.Run.ID, good+"trailing"), 400, wire.CodeBadRequest, "data after the CERTIFICATE REQUEST block"},
		{"a second PEM block", certificateCall(f.build, f.run.Run.ID, good+good), 400, wire.CodeBadRequest, "data after the CERTIFICATE REQUEST block"},
		{"a PEM block of another type", certificateCall(f.build, f.run.Run.ID, string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: block.Bytes}))),
			400, wire.CodeBadRequest, `a PEM "CERTIFICATE" block: want CERTIFICATE REQUEST`},
		{"DER, not PEM", certificateCall(f.build, f.run.Run.ID, string(block.Bytes)), 400, wire.CodeBadRequest, "want a PEM CERTIFICATE REQUEST"},
		{"a PEM block that is no request", certificateCall(f.build, f.run.Run.ID, string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE REQUEST", Bytes: []byte("junk")}))),
			400, wire.CodeBadRequest, "certificate request: "},
		{"a body over 16 KiB", raw(http.MethodPost, "/v1/runs/"+f.run.Run.ID+"/certificate", f.build, "application/json", oversized), 413, wire.CodeTooLarge, "larger than the 16384 bytes"},
		{"a chunked body over 16 KiB", chunked(raw(http.MethodPost, "/v1/runs/"+f.run.Run.ID+"/certificate", f.build, "application/json", oversized)), 413, wire.CodeTooLarge, "larger than the 16384 bytes"},
	})

	// The run took none of them: a good request gets its certificate.
	a := send(t, f.srv, certificateCall(f.build, f.run.Run.ID, good))
	var cert wire.Certificate
	if a.status != http.StatusCreated || json.Unmarshal(a.body, &cert) != nil || cert.Identity != attestation.WorkflowIdentityURI(f.srv.URL, "alpha", "build") {
		t.Fatalf("a good request: %s, want 201 naming alpha/build", a)
	}
}

// refusal is a request a test wants refused: the status and code, the detail saying detail.
type refusal struct {
	name   string
	call   call
	status int
	code   string
	detail string
}

// refuseAll sends each request as a subtest and wants it refused (mustRefuse).
func refuseAll(t *testing.T, srv *cptest.Server, refusals []refusal) {
	t.Helper()
	for _, r := range refusals {
		t.Run(r.name, func(t *testing.T) {
			mustRefuse(t, srv, r.call, r.status, r.code, r.detail)
		})
	}
}

// chunked sends c's body without a length.
func chunked(c call) call {
	c.trailer = http.Header{}
	return c
}

// TestTimestampRefusals: what POST /v1/timestamp refuses, each with its status, code and reason; a
// good request is still answered.
func TestTimestampRefusals(t *testing.T) {
	t.Parallel()
	f := newKeylessFixture(t, cptest.Options{})
	good := timestampRequest(t, []byte("a signature"))
	sha1, err := timestamp.CreateRequest(bytes.NewReader([]byte("a signature")), &timestamp.RequestOptions{Hash: crypto.SHA1})
	if err != nil {
		t.Fatal(err)
	}
	short, err := (&timestamp.Request{HashAlgorithm: crypto.SHA256, HashedMessage: make([]byte, 20)}).Marshal()
	if err != nil {
		t.Fatal(err)
	}
	stamp := func(contentType string, body []byte) call {
		return raw(http.MethodPost, "/v1/timestamp", f.build, contentType, body)
	}
	query := wire.TimestampQueryType
	refuseAll(t, f.srv, []refusal{
		{"a JSON Content-Type", stamp("application/json", good), 415, wire.CodeUnsupportedMedia, "Content-Type application/json: want " + query},
		{"no Content-Type", stamp("", good), 415, wire.CodeUnsupportedMedia, "want " + query},
		{"garbage", stamp(query, []byte("not a DER request")), 400, wire.CodeBadRequest, "timestamp request: not an RFC 3161 request"},
		{"a SHA-1 digest", stamp(query, sha1), 400, wire.CodeBadRequest, "SHA-1 digest: weak hash algorithm: must be SHA-256, SHA-384, or SHA-512"},
		{"a SHA-256 digest of 20 bytes", stamp(query, short), 400, wire.CodeBadRequest, "SHA-256 digest: digest length inconsistent"},
		{"a request over 1 KiB", stamp(query, append(bytes.Clone(good), make([]byte, 1<<10)...)), 400, wire.CodeBadRequest, "larger than the limit of 1 KiB"},
		{"a body over 16 KiB", stamp(query, make([]byte, 16<<10+1)), 413, wire.CodeTooLarge, "larger than the 16384 bytes"},
		{"a chunked body over 16 KiB", chunked(stamp(query, make([]byte, 16<<10+1))), 413, wire.CodeTooLarge, "larger than the 16384 bytes"},
	})
	if a := send(t, f.srv, stamp(query, good)); a.status != http.StatusOK || a.header.Get("Content-Type") != wire.TimestampReplyType {
		t.Fatalf("a good request: %s (%s), want 200 %s", a, a.header.Get("Content-Type"), wire.TimestampReplyType)
	}
}

// splitAuthority certifies keys with one authority and timestamps with another.
type splitAuthority struct{ cert, stamp signing.Authority }

func (s splitAuthority) Certificate(ctx context.Context, csr []byte) ([][]byte, error) {
	return s.cert.Certificate(ctx, csr)
}

func (s splitAuthority) Timestamp(ctx context.Context, req []byte) ([]byte, error) {
	return s.stamp.Timestamp(ctx, req)
}

// tsaAuthority timestamps with a timestamp authority of the test's own.
type tsaAuthority struct{ *tsa.Authority }

func (a tsaAuthority) Certificate(context.Context, []byte) ([][]byte, error) { return nil, nil }

func (a tsaAuthority) Timestamp(_ context.Context, req []byte) ([]byte, error) {
	return a.Authority.Timestamp(req)
}

// TestKeylessPushRefusals: a keyless bundle about the run, signed by a key the control plane
// certified, is still refused (422, nothing stored) when its certificate names another workflow or
// its timestamp comes from another authority; the run takes a good one after them.
func TestKeylessPushRefusals(t *testing.T) {
	t.Parallel()
	f := newKeylessFixture(t, cptest.Options{})
	build := f.srv.Client(t, f.build)
	other := f.newRun(t, f.other, "other")
	foreignTSA, _, err := tsa.Generate("another", time.Now)
	if err != nil {
		t.Fatal(err)
	}
	buildID := attestation.WorkflowIdentityURI(f.srv.URL, "alpha", "build")
	for _, tc := range []struct {
		name      string
		authority func(run wire.Run) signing.Authority
		details   []string
	}{
		{"a certificate for another workflow", func(wire.Run) signing.Authority { return f.srv.Client(t, f.other).RunAuthority(other.Run.ID) },
			[]string{"keyless signature of workflow alpha/build not verified", attestation.WorkflowIdentityURI(f.srv.URL, "alpha", "other"), buildID}},
		{"a timestamp of another authority", func(run wire.Run) signing.Authority {
			return splitAuthority{cert: build.RunAuthority(run.ID), stamp: tsaAuthority{foreignTSA}}
		}, []string{"keyless signature of workflow alpha/build not verified", "no verified timestamp of the signature"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			run := f.newRun(t, f.build, "build")
			bundle := keylessBundle(t, run, tc.authority(run.Run))
			mustRefuse(t, f.srv, pushCall(f.build, run.Run.ID, bundle), http.StatusUnprocessableEntity, wire.CodeUnverifiable, tc.details...)
		})
	}
	if a := send(t, f.srv, pushCall(f.build, f.run.Run.ID, keylessBundle(t, f.run, build.RunAuthority(f.run.Run.ID)))); a.status != http.StatusCreated {
		t.Fatalf("a good keyless push: %s, want 201", a)
	}
}

// keylessBundle crafts the run's attestation (buildAdds) signed keylessly by authority.
func keylessBundle(t *testing.T, run wire.InitializedRun, authority signing.Authority) []byte {
	t.Helper()
	signer, err := signing.NewKeylessSigner(authority, nil)
	if err != nil {
		t.Fatal(err)
	}
	return craft{Run: run.Run, Contract: run.Contract, Signer: signer, Adds: buildAdds(t, "rootfs")}.bundle(t)
}

// TestKeylessOff: a control plane started without a CA and TSA refuses a keyless push (422: keyless
// signing is off, sign with a key) and answers its keyless routes 501 keyless_unavailable.
func TestKeylessOff(t *testing.T) {
	t.Parallel()
	on := newKeylessFixture(t, cptest.Options{})
	off := newKeylessFixture(t, cptest.Options{NoKeyless: true})
	// A keyless bundle about off's run, certified and timestamped by on (off can do neither).
	bundle := keylessBundle(t, off.run, on.srv.Client(t, on.build).RunAuthority(on.run.Run.ID))
	const unavailable = "this control plane issues no certificates or timestamps: sign with a key (custody attestation push --key)"
	refuseAll(t, off.srv, []refusal{
		{"a keyless push", pushCall(off.build, off.run.Run.ID, bundle), 422, wire.CodeUnverifiable,
			"the attestation is signed with a certificate, and this control plane issues none (keyless signing is off): sign with a key the workflow trusts"},
		{"a certificate request", certificateCall(off.build, off.run.Run.ID, string(newCSR(t))), 501, wire.CodeKeylessUnavailable, unavailable},
		{"a timestamp request", raw(http.MethodPost, "/v1/timestamp", off.build, wire.TimestampQueryType, timestampRequest(t, []byte("a signature"))),
			501, wire.CodeKeylessUnavailable, unavailable},
		{"the trusted root", call{method: http.MethodGet, path: "/v1/trusted-root"}, 501, wire.CodeKeylessUnavailable, unavailable},
	})
}
