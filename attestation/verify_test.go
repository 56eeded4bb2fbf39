package attestation_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/hex"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sigstore/sigstore/pkg/cryptoutils"
	"github.com/sigstore/sigstore/pkg/signature"

	"github.com/custody-dev/custody/attestation"
	"github.com/custody-dev/custody/contract"
	"github.com/custody-dev/custody/signing"
)

// fixture is a freshly signed custody bundle over one artifact, and the key that signed it.
type fixture struct {
	dir          string
	artifact     string
	artifactHex  string
	bundle       []byte
	pubPEM       []byte
	signer       *signing.KeySigner
	statementRaw []byte
}

func newKeySigner(t testing.TB) (*signing.KeySigner, []byte) {
	t.Helper()
	sv, pemKey := newSignerVerifier(t)
	s, err := signing.NewKeySigner(sv)
	if err != nil {
		t.Fatal(err)
	}
	return s, pemKey
}

// newSignerVerifier returns a fresh ECDSA P-256 key and its public key in PEM.
func newSignerVerifier(t testing.TB) (signature.SignerVerifier, []byte) {
	t.Helper()
	priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	sv, err := signature.LoadECDSASignerVerifier(priv, crypto256)
	if err != nil {
		t.Fatal(err)
	}
	pemKey, err := cryptoutils.MarshalPublicKeyToPEM(priv.Public())
	if err != nil {
		t.Fatal(err)
	}
	return sv, pemKey
}

func signedFixture(t testing.TB, predicateType string) fixture {
	t.Helper()
	dir := t.TempDir()
	artifact := filepath.Join(dir, "app.tar.gz")
	content := []byte("the artifact\n")
	if err := os.WriteFile(artifact, content, 0o644); err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(content)
	f := fixture{dir: dir, artifact: artifact, artifactHex: hex.EncodeToString(sum[:])}
	at := time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)
	p := &attestation.Predicate{
		Workflow: attestation.Workflow{Name: "build", Project: "demo"},
		Materials: []attestation.Material{
			{Name: "app", Kind: contract.KindArtifact, Value: "app.tar.gz", Digest: "sha256:" + f.artifactHex, Output: true,
				File: &attestation.File{Name: "app.tar.gz", Size: int64(len(content))}, AddedAt: at},
			{Name: "other", Kind: contract.KindArtifact, Value: "other.bin", Digest: "sha256:" + strings.Repeat("0", 64), Output: true,
				File: &attestation.File{Name: "other.bin", Size: 1}, AddedAt: at},
		},
		InitializedAt: at, FinishedAt: at, Builder: attestation.Builder{ID: "custody", Version: "test"},
	}
	st, err := attestation.NewStatement(attestation.SubjectsFrom(p.Materials), p)
	if err != nil {
		t.Fatal(err)
	}
	st.PredicateType = predicateType
	if f.statementRaw, err = attestation.MarshalStatement(st); err != nil {
		t.Fatal(err)
	}
	f.signer, f.pubPEM = newKeySigner(t)
	if f.bundle, err = f.signer.Sign(context.Background(), f.statementRaw); err != nil {
		t.Fatal(err)
	}
	return f
}

// flipPayloadByte returns the bundle with one byte of its DSSE payload changed, the JSON still valid.
func flipPayloadByte(t testing.TB, bundleJSON []byte) []byte {
	t.Helper()
	var b map[string]any
	if err := json.Unmarshal(bundleJSON, &b); err != nil {
		t.Fatal(err)
	}
	env := b["dsseEnvelope"].(map[string]any)
	payload, err := base64Decode(env["payload"].(string))
	if err != nil {
		t.Fatal(err)
	}
	i := strings.Index(string(payload), `"project":"demo"`)
	if i < 0 {
		t.Fatalf("payload has no project: %s", payload)
	}
	payload[i+len(`"project":"`)] = 'D' // demo -> Demo
	env["payload"] = base64Encode(payload)
	out, err := json.Marshal(b)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestVerify(t *testing.T) {
	ctx := context.Background()
	good := signedFixture(t, attestation.PredicateType)
	otherType := signedFixture(t, "https://slsa.dev/provenance/v1")
	_, otherKey := newKeySigner(t)
	wrongArtifact := filepath.Join(good.dir, "wrong.bin")
	if err := os.WriteFile(wrongArtifact, []byte("not it"), 0o644); err != nil {
		t.Fatal(err)
	}
	wrongSum := sha256.Sum256([]byte("not it"))
	cosignPub := readFile(t, "testdata/cosign.pub")

	tests := []verifyCase{
		{name: "signature only", bundle: good.bundle, opts: attestation.VerifyOptions{PublicKey: good.pubPEM}},
		{name: "artifact file", bundle: good.bundle, opts: attestation.VerifyOptions{PublicKey: good.pubPEM, ArtifactPath: good.artifact}},
		{name: "artifact digest", bundle: good.bundle, opts: attestation.VerifyOptions{PublicKey: good.pubPEM, ArtifactDigest: "sha256:" + good.artifactHex}},
		{name: "cosign bundle", bundle: readFile(t, "testdata/cosign-bundle.json"),
			opts: attestation.VerifyOptions{PublicKey: cosignPub, ArtifactPath: "testdata/artifact.txt"}},
		{name: "cosign bare DSSE envelope", bundle: readFile(t, "testdata/cosign-envelope.json"),
			opts: attestation.VerifyOptions{PublicKey: cosignPub, ArtifactPath: "testdata/artifact.txt"}},

		{name: "other key", bundle: good.bundle, opts: attestation.VerifyOptions{PublicKey: otherKey},
			wantIs: attestation.ErrSignature, wantErr: "signature does not verify"},
		{name: "flipped payload byte", bundle: flipPayloadByte(t, good.bundle), opts: attestation.VerifyOptions{PublicKey: good.pubPEM},
			wantIs: attestation.ErrSignature, wantErr: "signature does not verify"},
		{name: "flipped payload byte with artifact", bundle: flipPayloadByte(t, good.bundle),
			opts:   attestation.VerifyOptions{PublicKey: good.pubPEM, ArtifactPath: good.artifact},
			wantIs: attestation.ErrSignature, wantErr: "signature does not verify"},
		{name: "cosign envelope, other key", bundle: readFile(t, "testdata/cosign-envelope.json"), opts: attestation.VerifyOptions{PublicKey: good.pubPEM},
			wantIs: attestation.ErrSignature, wantErr: "signature does not verify"},
		{name: "wrong artifact", bundle: good.bundle, opts: attestation.VerifyOptions{PublicKey: good.pubPEM, ArtifactPath: wrongArtifact},
			wantIs: attestation.ErrNotSubject,
			wantErr: "artifact sha256:" + hex.EncodeToString(wrongSum[:]) + " is not a subject (subjects: app.tar.gz@sha256:" + good.artifactHex +
				", other.bin@sha256:" + strings.Repeat("0", 64) + ")"},
		{name: "wrong predicate type", bundle: otherType.bundle, opts: attestation.VerifyOptions{PublicKey: otherType.pubPEM},
			wantIs: attestation.ErrPredicateType, wantErr: `predicate type "https://slsa.dev/provenance/v1", want "https://custody.dev/attestation/v1"`},
		{name: "not an attestation", bundle: []byte(`{"bomFormat":"CycloneDX"}`), opts: attestation.VerifyOptions{PublicKey: good.pubPEM},
			wantIs: attestation.ErrNotAttestation, wantErr: "neither a Sigstore bundle"},
		{name: "missing artifact file", bundle: good.bundle, opts: attestation.VerifyOptions{PublicKey: good.pubPEM, ArtifactPath: filepath.Join(good.dir, "nope")},
			wantErr: "verify: artifact: open"},
		{name: "bad artifact digest", bundle: good.bundle, opts: attestation.VerifyOptions{PublicKey: good.pubPEM, ArtifactDigest: "md5:abc"},
			wantErr: `artifact digest "md5:abc": want sha256:<64 hex characters>`},
		{name: "no key", bundle: good.bundle, opts: attestation.VerifyOptions{}, wantErr: "verify: nothing to trust"},
		{name: "not a key", bundle: good.bundle, opts: attestation.VerifyOptions{PublicKey: []byte("hello")}, wantErr: "verify: public key"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, err := attestation.Verify(ctx, tt.bundle, tt.opts)
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("Verify: %v", err)
				}
				if res.Predicate == nil || len(res.Subjects) == 0 || res.KeyHint == "" {
					t.Errorf("result = %+v", res)
				}
				return
			}
			if err == nil {
				t.Fatalf("Verify succeeded, want error %q", tt.wantErr)
			}
			if tt.wantIs != nil && !errors.Is(err, tt.wantIs) {
				t.Errorf("errors.Is(%v, %v) = false", err, tt.wantIs)
			}
			if !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("error %q does not contain %q", err, tt.wantErr)
			}
		})
	}
}

func TestVerifyResult(t *testing.T) {
	f := signedFixture(t, attestation.PredicateType)
	res, err := attestation.Verify(context.Background(), f.bundle, attestation.VerifyOptions{PublicKey: f.pubPEM, ArtifactPath: f.artifact})
	if err != nil {
		t.Fatal(err)
	}
	if res.MediaType != attestation.BundleMediaType {
		t.Errorf("MediaType = %q", res.MediaType)
	}
	if res.KeyHint != f.signer.Hint() {
		t.Errorf("KeyHint = %q, want %q", res.KeyHint, f.signer.Hint())
	}
	if res.Predicate.Workflow.Project != "demo" || len(res.Predicate.Materials) != 2 {
		t.Errorf("Predicate = %+v", res.Predicate)
	}
	if got := res.Subjects[0].String(); got != "app.tar.gz@sha256:"+f.artifactHex {
		t.Errorf("Subjects[0] = %s", got)
	}
}

// The bundle's hint is the cosign key id: base64(sha256(DER public key)).
func TestKeyHintMatchesCosign(t *testing.T) {
	pub, err := cryptoutils.UnmarshalPEMToPublicKey(readFile(t, "testdata/cosign.pub"))
	if err != nil {
		t.Fatal(err)
	}
	hint, err := attestation.KeyHint(pub)
	if err != nil {
		t.Fatal(err)
	}
	var b struct {
		VerificationMaterial struct {
			PublicKey struct{ Hint string } `json:"publicKey"`
		} `json:"verificationMaterial"`
	}
	if err := json.Unmarshal(readFile(t, "testdata/cosign-bundle.json"), &b); err != nil {
		t.Fatal(err)
	}
	if hint != b.VerificationMaterial.PublicKey.Hint {
		t.Errorf("KeyHint = %q, cosign wrote %q", hint, b.VerificationMaterial.PublicKey.Hint)
	}
}

func TestNewVerifierRefusesAmbiguity(t *testing.T) {
	_, pemKey := newKeySigner(t)
	_, err := attestation.NewVerifier(attestation.VerifyOptions{PublicKey: pemKey, TrustedMaterial: &emptyMaterial{}})
	if err == nil || !strings.Contains(err.Error(), "not both") {
		t.Errorf("NewVerifier(key and material) = %v", err)
	}
	_, err = attestation.Verify(context.Background(), nil, attestation.VerifyOptions{PublicKey: pemKey, ArtifactPath: "a", ArtifactDigest: "sha256:" + strings.Repeat("a", 64)})
	if err == nil || !strings.Contains(err.Error(), "not both") {
		t.Errorf("Verify(file and digest) = %v", err)
	}
}

func FuzzVerify(f *testing.F) {
	good := signedFixture(f, attestation.PredicateType)
	f.Add(good.bundle, "sha256:"+good.artifactHex)
	f.Add(flipPayloadByte(f, good.bundle), "")
	for _, name := range []string{"cosign-bundle.json", "cosign-envelope.json", "broken-bundle-v04.json", "cosign-sign-blob-bundle.json"} {
		f.Add(readFile(f, "testdata/"+name), "sha256:2f4e15616f33daa5ca31762467ecc7554ed07b111a1f5be46062a45c52a52ad4")
	}
	v, err := attestation.NewVerifier(attestation.VerifyOptions{PublicKey: good.pubPEM})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, bundle []byte, digest string) {
		if _, err := attestation.ParseArtifactDigest(digest); err != nil {
			digest = ""
		}
		res, err := v.Verify(context.Background(), bundle, digest)
		if err != nil {
			return
		}
		// Whatever verifies was signed by our key over custody's predicate type.
		if res.Statement.GetPredicateType() != attestation.PredicateType || res.Predicate == nil {
			t.Fatalf("verified a statement of type %q", res.Statement.GetPredicateType())
		}
	})
}

func FuzzParseArtifactDigest(f *testing.F) {
	f.Add("sha256:" + strings.Repeat("a", 64))
	f.Add("sha256:" + strings.Repeat("A", 64))
	f.Add("sha512:" + strings.Repeat("b", 128))
	f.Add("sha512:abc")
	f.Add("md5:" + strings.Repeat("a", 32))
	f.Fuzz(func(t *testing.T, s string) {
		d, err := attestation.ParseArtifactDigest(s)
		if err != nil {
			return
		}
		size := map[string]int{"sha256": sha256.Size, "sha512": sha512.Size}[d.Algorithm]
		if b, err := hex.DecodeString(d.Hex); err != nil || size == 0 || len(b) != size || strings.ToLower(d.Hex) != d.Hex ||
			!strings.EqualFold(d.String(), s) {
			t.Fatalf("ParseArtifactDigest(%q) = %+v", s, d)
		}
	})
}
