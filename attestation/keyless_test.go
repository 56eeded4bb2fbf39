package attestation_test

import (
	"context"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/hex"
	"encoding/json"
	"errors"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/sigstore/sigstore-go/pkg/root"

	"github.com/custody-dev/custody/attestation"
	"github.com/custody-dev/custody/contract"
	"github.com/custody-dev/custody/internal/keylesstest"
)

const controlPlane = "https://custody.example"

// signedAt is when the keyless fixtures are signed: a fixed time, far from the clock of any run.
var signedAt = time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)

var (
	buildSAN = attestation.WorkflowIdentityURI(controlPlane, "skynet", "build-and-test")
	buildRef = &attestation.WorkflowRef{Project: "skynet", Name: "build-and-test"}
	buildID  = &attestation.CertificateIdentity{SAN: buildSAN, Issuer: controlPlane}
)

// keylessFixture is a virtual custody authority, its trusted root as a verifier reads it from
// trusted_root.json, and the statement of a build of rootfs.tar.gz.
type keylessFixture struct {
	ca        *keylesstest.Authority
	tm        root.TrustedMaterial
	statement []byte
	content   []byte
}

func newKeylessFixture(t testing.TB) *keylessFixture {
	t.Helper()
	ca, err := keylesstest.New("custody test", signedAt)
	if err != nil {
		t.Fatal(err)
	}
	f := &keylessFixture{ca: ca, content: []byte("the root file system\n")}
	f.tm = trustedRootOf(t, ca)
	if f.statement, err = keylesstest.Statement("skynet", "build-and-test", "rootfs.tar.gz", f.content, signedAt); err != nil {
		t.Fatal(err)
	}
	return f
}

// trustedRootOf is the authority's trusted root, through its JSON.
func trustedRootOf(t testing.TB, ca *keylesstest.Authority) root.TrustedMaterial {
	t.Helper()
	raw, err := ca.TrustedRootJSON()
	if err != nil {
		t.Fatal(err)
	}
	tr, err := root.NewTrustedRootFromJSON(raw)
	if err != nil {
		t.Fatal(err)
	}
	return tr
}

func (f *keylessFixture) sign(t testing.TB, ca *keylesstest.Authority, statement []byte, s keylesstest.Signing) []byte {
	t.Helper()
	if s.At.IsZero() {
		s.At = signedAt
	}
	if s.SAN == "" {
		s.SAN, s.Issuer = buildSAN, controlPlane
	}
	b, err := ca.Sign(statement, s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func sha256Of(b []byte) string { s := sha256.Sum256(b); return hex.EncodeToString(s[:]) }

// TestVerifyKeyless: a keyless custody bundle verifies offline against its trusted root with an
// identity policy, at its timestamp; and each way it can fail is refused with its own reason.
func TestVerifyKeyless(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := newKeylessFixture(t)
	other, err := keylesstest.New("another CA", signedAt)
	if err != nil {
		t.Fatal(err)
	}
	// The CA's validity in the trusted root ended before the signing time.
	retired := *f.ca
	retired.CAValidUntil = signedAt.Add(-30 * time.Minute)
	// The authority's CA with another authority's TSA.
	foreignTSA := *other
	foreignTSA.CARoot, foreignTSA.CAIntermediate, foreignTSA.CAValidFrom = f.ca.CARoot, f.ca.CAIntermediate, f.ca.CAValidFrom
	deploy, err := keylesstest.Statement("skynet", "deploy", "rootfs.tar.gz", f.content, signedAt)
	if err != nil {
		t.Fatal(err)
	}
	otherType := strings.Replace(string(f.statement), attestation.PredicateType, "https://slsa.dev/provenance/v1", 1)
	good := f.sign(t, f.ca, f.statement, keylesstest.Signing{})
	tampered := mutateBundle(t, good, "dsseEnvelope.payload", func(b []byte) { b[strings.Index(string(b), "skynet")] = 'S' })
	keySigned := signedFixture(t, attestation.PredicateType)

	tests := []verifyCase{
		{name: "identity", bundle: good, opts: attestation.VerifyOptions{Identity: buildID}},
		{name: "identity regexps", bundle: good, opts: attestation.VerifyOptions{Identity: &attestation.CertificateIdentity{
			SANRegexp: `^https://custody\.example/projects/skynet/workflows/[a-z-]+$`, IssuerRegexp: `^https://custody\.example$`}}},
		{name: "workflow, the issuer from the certificate", bundle: good, opts: attestation.VerifyOptions{Workflow: buildRef}},
		{name: "workflow and identity", bundle: good, opts: attestation.VerifyOptions{Workflow: buildRef, Identity: buildID}},
		{name: "any identity, unsafely", bundle: good, opts: attestation.VerifyOptions{UnsafeAnyIdentity: true}},
		{name: "artifact", bundle: good, opts: attestation.VerifyOptions{Identity: buildID, ArtifactDigest: "sha256:" + sha256Of(f.content)}},

		{name: "certificate from another CA", bundle: f.sign(t, other, f.statement, keylesstest.Signing{}),
			opts: attestation.VerifyOptions{Identity: buildID}, wantIs: attestation.ErrUntrustedCA,
			wantErr: `the certificate was issued by "CN=another CA CA intermediate,O=another CA", which does not chain to a CA of the trusted root (trusted CAs: "CN=custody test CA root,O=custody test")`},
		{name: "expired certificate without a timestamp", bundle: f.sign(t, f.ca, f.statement, keylesstest.Signing{NoTimestamp: true}),
			opts: attestation.VerifyOptions{Identity: buildID}, wantIs: attestation.ErrNoTimestamp,
			wantErr: "no verified timestamp of the signature, so the certificate (valid 2026-03-01T09:59:00Z to 2026-03-01T10:10:00Z) cannot be checked at signing time (custody never checks it at the current time)"},
		{name: "timestamp from a TSA not in the trusted root", bundle: f.sign(t, f.ca, f.statement, keylesstest.Signing{}),
			opts: attestation.VerifyOptions{TrustedMaterial: trustedRootOf(t, &foreignTSA), Identity: buildID}, wantIs: attestation.ErrNoTimestamp,
			wantErr: "no verified timestamp of the signature"},
		{name: "timestamp outside the certificate's validity", bundle: f.sign(t, f.ca, f.statement, keylesstest.Signing{TimestampAt: signedAt.Add(20 * time.Minute)}),
			opts: attestation.VerifyOptions{Identity: buildID}, wantIs: attestation.ErrTimestampOutsideCertificate,
			wantErr: "it was timestamped at 2026-03-01T10:20:00Z, outside the certificate's validity (2026-03-01T09:59:00Z to 2026-03-01T10:10:00Z)"},
		{name: "certificate for another workflow", bundle: f.sign(t, f.ca, f.statement, keylesstest.Signing{
			SAN: attestation.WorkflowIdentityURI(controlPlane, "skynet", "deploy"), Issuer: controlPlane}),
			opts: attestation.VerifyOptions{Identity: buildID}, wantIs: attestation.ErrIdentity,
			wantErr: `the certificate is for SAN "https://custody.example/projects/skynet/workflows/deploy", issuer "https://custody.example"; ` +
				`want SAN "https://custody.example/projects/skynet/workflows/build-and-test", issuer "https://custody.example"`},
		{name: "certificate from another issuer", bundle: f.sign(t, f.ca, f.statement, keylesstest.Signing{SAN: buildSAN, Issuer: "https://evil.example"}),
			opts: attestation.VerifyOptions{Identity: buildID}, wantIs: attestation.ErrIdentity,
			wantErr: `the certificate is for SAN "https://custody.example/projects/skynet/workflows/build-and-test", issuer "https://evil.example"`},
		{name: "certificate for another workflow, the issuer from the certificate", bundle: f.sign(t, f.ca, f.statement, keylesstest.Signing{
			SAN: attestation.WorkflowIdentityURI(controlPlane, "skynet", "deploy"), Issuer: controlPlane}),
			opts: attestation.VerifyOptions{Workflow: buildRef}, wantIs: attestation.ErrIdentity,
			wantErr: `want SAN "https://custody.example/projects/skynet/workflows/build-and-test" (workflow skynet/build-and-test under its issuer)`},
		{name: "issuer that is no URL, the issuer from the certificate", bundle: f.sign(t, f.ca, f.statement, keylesstest.Signing{
			SAN: "urn:custody/projects/skynet/workflows/build-and-test", Issuer: "urn:custody"}),
			opts: attestation.VerifyOptions{Workflow: buildRef}, wantIs: attestation.ErrIdentity,
			wantErr: "want a custody workflow identity, whose issuer is the control plane's URL"},
		{name: "attestation of another workflow", bundle: f.sign(t, f.ca, deploy, keylesstest.Signing{}),
			opts: attestation.VerifyOptions{Identity: buildID, Workflow: buildRef}, wantIs: attestation.ErrWorkflow,
			wantErr: `the attestation is about workflow "deploy" in project "skynet"; want "build-and-test" in "skynet"`},
		{name: "trusted root whose CA validity ended before the signing time", bundle: good,
			opts: attestation.VerifyOptions{TrustedMaterial: trustedRootOf(t, &retired), Identity: buildID}, wantIs: attestation.ErrCAValidity,
			wantErr: `the certificate was issued by the trusted CA "CN=custody test CA root,O=custody test", whose validity in the trusted root is ` +
				`2026-03-01T09:00:00Z to 2026-03-01T09:30:00Z: it does not cover the signing time 2026-03-01T10:00:00Z`},
		{name: "wrong predicate type", bundle: f.sign(t, f.ca, []byte(otherType), keylesstest.Signing{}),
			opts: attestation.VerifyOptions{Identity: buildID}, wantIs: attestation.ErrPredicateType,
			wantErr: `predicate type "https://slsa.dev/provenance/v1", want "https://custody.dev/attestation/v1"`},
		{name: "artifact not a subject", bundle: good, opts: attestation.VerifyOptions{Identity: buildID, ArtifactDigest: "sha256:" + sha256Of([]byte("other"))},
			wantIs: attestation.ErrNotSubject, wantErr: "artifact sha256:" + sha256Of([]byte("other")) + " is not a subject (subjects: rootfs.tar.gz@sha256:" + sha256Of(f.content) + ")"},
		{name: "altered payload", bundle: tampered, opts: attestation.VerifyOptions{Identity: buildID}, wantIs: attestation.ErrSignature,
			wantErr: "signature does not verify with the certificate's key"},
		{name: "key-signed bundle, no key", bundle: keySigned.bundle, opts: attestation.VerifyOptions{Identity: buildID}, wantIs: attestation.ErrKeyNotGiven,
			wantErr: "the bundle is signed with a key (hint \"" + keySigned.signer.Hint() + "\"), not a certificate: verify it with the signer's public key"},
		{name: "keyless bundle, a key", bundle: good, opts: attestation.VerifyOptions{PublicKey: keySigned.pubPEM}, wantIs: attestation.ErrTrustedRootNotGiven,
			wantErr: "the bundle is signed with a certificate (keyless), not a key"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if tt.opts.TrustedMaterial == nil && tt.opts.PublicKey == nil {
				tt.opts.TrustedMaterial = f.tm
			}
			res, err := attestation.Verify(ctx, tt.bundle, tt.opts)
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("Verify: %v", err)
				}
				want := attestation.SignerInfo{SAN: buildSAN, Issuer: controlPlane, Timestamps: []time.Time{signedAt}}
				if res.Signer == nil || res.Signer.SAN != want.SAN || res.Signer.Issuer != want.Issuer || !slices.EqualFunc(res.Signer.Timestamps, want.Timestamps, time.Time.Equal) {
					t.Errorf("Signer = %+v, want %+v", res.Signer, want)
				}
				if res.Predicate == nil || res.Predicate.Workflow.Name != "build-and-test" || res.KeyHint != "" {
					t.Errorf("result = %+v", res)
				}
				return
			}
			if err == nil {
				t.Fatalf("Verify succeeded, want error %q", tt.wantErr)
			}
			if !errors.Is(err, tt.wantIs) {
				t.Errorf("errors.Is(%v, %v) = false", err, tt.wantIs)
			}
			if !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("error %q\ndoes not contain %q", err, tt.wantErr)
			}
		})
	}
}

// A statement whose subject has only a sha512 digest verifies with that digest, or with the file.
func TestVerifyKeylessSHA512Subject(t *testing.T) {
	t.Parallel()
	f := newKeylessFixture(t)
	sum := sha512.Sum512(f.content)
	p := &attestation.Predicate{
		Workflow:  attestation.Workflow{Name: "build-and-test", Project: "skynet"},
		Materials: []attestation.Material{{Name: "rootfs", Kind: contract.KindArtifact, Digest: "sha512:" + hex.EncodeToString(sum[:]), Output: true}},
	}
	st, err := attestation.NewStatement(attestation.SubjectsFrom(p.Materials), p)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := attestation.MarshalStatement(st)
	if err != nil {
		t.Fatal(err)
	}
	b := f.sign(t, f.ca, raw, keylesstest.Signing{})
	for _, digest := range []string{"sha512:" + hex.EncodeToString(sum[:]), "sha512:" + strings.ToUpper(hex.EncodeToString(sum[:]))} {
		if _, err := attestation.Verify(context.Background(), b, attestation.VerifyOptions{TrustedMaterial: f.tm, Identity: buildID, ArtifactDigest: digest}); err != nil {
			t.Errorf("digest %s: %v", digest, err)
		}
	}
	_, err = attestation.Verify(context.Background(), b, attestation.VerifyOptions{TrustedMaterial: f.tm, Identity: buildID, ArtifactDigest: "sha256:" + sha256Of(f.content)})
	if !errors.Is(err, attestation.ErrNotSubject) {
		t.Errorf("by its sha256: %v, want it is not a subject", err)
	}
	digests, err := attestation.HashArtifact(context.Background(), strings.NewReader(string(f.content)))
	if err != nil {
		t.Fatal(err)
	}
	v, err := attestation.NewVerifier(attestation.VerifyOptions{TrustedMaterial: f.tm, Identity: buildID})
	if err != nil {
		t.Fatal(err)
	}
	doc, err := attestation.Read(b)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := v.VerifyDigests(context.Background(), doc, digests); err != nil {
		t.Errorf("by the file's digests: %v", err)
	}
}

// NewVerifier refuses what would verify nothing, or anything: trusted material without an identity
// policy, a policy that is not one of each, a policy with a key.
func TestNewVerifierKeylessRefusals(t *testing.T) {
	t.Parallel()
	f := newKeylessFixture(t)
	_, pub := newKeySigner(t)
	tests := []struct {
		name string
		opts attestation.VerifyOptions
		want string
	}{
		{"no identity policy", attestation.VerifyOptions{TrustedMaterial: f.tm}, "no identity policy for certificates"},
		{"identity and any identity", attestation.VerifyOptions{TrustedMaterial: f.tm, Identity: buildID, UnsafeAnyIdentity: true}, "not both"},
		{"identity with a key", attestation.VerifyOptions{PublicKey: pub, Identity: buildID}, "needs trusted material"},
		{"SAN and SAN regexp", attestation.VerifyOptions{TrustedMaterial: f.tm, Identity: &attestation.CertificateIdentity{SAN: "a", SANRegexp: "a", Issuer: "i"}},
			"give the SAN or a regular expression for it (one of the two)"},
		{"no issuer", attestation.VerifyOptions{TrustedMaterial: f.tm, Identity: &attestation.CertificateIdentity{SAN: "a"}},
			"give the OIDC issuer or a regular expression for it"},
		{"bad regexp", attestation.VerifyOptions{TrustedMaterial: f.tm, Identity: &attestation.CertificateIdentity{SANRegexp: "(", Issuer: "i"}},
			"certificate identity: error parsing regexp"},
		{"workflow without project", attestation.VerifyOptions{TrustedMaterial: f.tm, Workflow: &attestation.WorkflowRef{Name: "w"}}, "needs its project and its name"},
		{"workflow with another predicate type", attestation.VerifyOptions{TrustedMaterial: f.tm, Workflow: buildRef, PredicateType: "https://slsa.dev/provenance/v1"},
			"a workflow is named by custody's predicate"},
	}
	for _, tt := range tests {
		if _, err := attestation.NewVerifier(tt.opts); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: NewVerifier = %v, want an error saying %q", tt.name, err, tt.want)
		}
	}
}

func TestWorkflowIdentityURI(t *testing.T) {
	for _, base := range []string{"https://custody.example", "https://custody.example/"} {
		if got := attestation.WorkflowIdentityURI(base, "skynet", "build"); got != "https://custody.example/projects/skynet/workflows/build" {
			t.Errorf("WorkflowIdentityURI(%q) = %q", base, got)
		}
	}
}

// mutateBundle returns bundleJSON with the base64 field at path (dot-separated; a number indexes an
// array) decoded, changed by mutate, and encoded again: the JSON stays a valid bundle.
func mutateBundle(t testing.TB, bundleJSON []byte, path string, mutate func([]byte)) []byte {
	t.Helper()
	var b any
	if err := json.Unmarshal(bundleJSON, &b); err != nil {
		t.Fatal(err)
	}
	keys := strings.Split(path, ".")
	node := b
	for _, k := range keys[:len(keys)-1] {
		switch n := node.(type) {
		case map[string]any:
			node = n[k]
		case []any:
			i, err := strconv.Atoi(k)
			if err != nil || i >= len(n) {
				t.Fatalf("%s: no element %s", path, k)
			}
			node = n[i]
		}
	}
	m, ok := node.(map[string]any)
	if !ok {
		t.Fatalf("%s: not in an object", path)
	}
	last := keys[len(keys)-1]
	raw, err := base64Decode(m[last].(string))
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	mutate(raw)
	m[last] = base64Encode(raw)
	out, err := json.Marshal(b)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// keylessFields are the base64 fields of a keyless bundle the tamper fuzz mutates.
var keylessFields = []string{
	"dsseEnvelope.signatures.0.sig",
	"dsseEnvelope.payload",
	"verificationMaterial.certificate.rawBytes",
	"verificationMaterial.timestampVerificationData.rfc3161Timestamps.0.signedTimestamp",
}

// FuzzVerifyKeyless flips bytes of the signature, the payload, the certificate or the timestamp of a
// valid keyless bundle: no bundle with a changed signature, payload or certificate verifies, and no
// changed timestamp verifies as another time. (A few bytes of an RFC 3161 response are covered by no
// signature, by design of RFC 3161 and CMS: the response's status, the SignedData's version and its
// list of digest algorithms. Changing them changes nothing the timestamp proves; sigstore-go and
// cosign accept them too.)
func FuzzVerifyKeyless(f *testing.F) {
	kf := newKeylessFixture(f)
	good := kf.sign(f, kf.ca, kf.statement, keylesstest.Signing{})
	v, err := attestation.NewVerifier(attestation.VerifyOptions{TrustedMaterial: kf.tm, Identity: buildID})
	if err != nil {
		f.Fatal(err)
	}
	if _, err := v.Verify(context.Background(), good, ""); err != nil {
		f.Fatalf("the valid bundle: %v", err)
	}
	for field := range keylessFields {
		for _, pos := range []uint16{0, 7, 40, 200, 1000} {
			f.Add(uint8(field), pos, byte(0x01))
		}
		f.Add(uint8(field), uint16(0xffff), byte(0x80))
	}
	f.Fuzz(func(t *testing.T, field uint8, pos uint16, xor byte) {
		if xor == 0 {
			xor = 1
		}
		path := keylessFields[int(field)%len(keylessFields)]
		mutated := mutateBundle(t, good, path, func(b []byte) { b[int(pos)%len(b)] ^= xor })
		res, err := v.Verify(context.Background(), mutated, "")
		if err != nil {
			return
		}
		if !strings.Contains(path, "rfc3161Timestamps") || len(res.Signer.Timestamps) != 1 || !res.Signer.Timestamps[0].Equal(signedAt) {
			t.Fatalf("a bundle with byte %d of %s changed (xor %#x) verified: %+v", pos, path, xor, res.Signer)
		}
	})
}
