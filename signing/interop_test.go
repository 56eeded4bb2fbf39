package signing_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sigstore/sigstore-go/pkg/bundle"
	"github.com/sigstore/sigstore-go/pkg/root"
	"github.com/sigstore/sigstore-go/pkg/verify"
	"github.com/sigstore/sigstore/pkg/cryptoutils"
	"github.com/sigstore/sigstore/pkg/signature"

	"github.com/custody-dev/custody/attestation"
	"github.com/custody-dev/custody/cas"
	"github.com/custody-dev/custody/contract"
	"github.com/custody-dev/custody/internal/cosigntest"
	"github.com/custody-dev/custody/signing"
)

const testPassword = "interop-pass"

// workdir holds an artifact, a custody statement about it, and cosign's empty trusted root.
type workdir struct {
	dir, artifact, other, trustedRoot string
	statement                         []byte
}

func newWorkdir(t *testing.T) workdir {
	t.Helper()
	dir := t.TempDir()
	w := workdir{dir: dir, artifact: filepath.Join(dir, "app.bin"), other: filepath.Join(dir, "other.bin")}
	if err := os.WriteFile(w.artifact, []byte("built bytes\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(w.other, []byte("something else\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	h, err := cas.HashFile(w.artifact, nil)
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)
	p := &attestation.Predicate{
		Workflow: attestation.Workflow{Name: "release", Project: "interop"},
		Materials: []attestation.Material{{Name: "app", Kind: contract.KindArtifact, Value: "app.bin", Digest: string(h.Digest),
			Output: true, File: &attestation.File{Name: "app.bin", Size: h.Size}, AddedAt: at}},
		InitializedAt: at, FinishedAt: at, Builder: attestation.Builder{ID: "custody", Version: "test"},
	}
	st, err := attestation.NewStatement(attestation.SubjectsFrom(p.Materials), p)
	if err != nil {
		t.Fatal(err)
	}
	if w.statement, err = attestation.MarshalStatement(st); err != nil {
		t.Fatal(err)
	}
	w.trustedRoot = cosigntest.WriteEmptyTrustedRoot(t, dir)
	return w
}

func (w workdir) write(t *testing.T, name string, data []byte) string {
	t.Helper()
	p := filepath.Join(w.dir, name)
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// cosignVerify runs cosign verify-blob-attestation offline on a key-signed bundle.
func cosignVerify(t *testing.T, bin string, w workdir, pub, bundlePath, artifact string) (string, error) {
	t.Helper()
	return cosigntest.Run(t, bin, w.dir, "", "verify-blob-attestation", "--new-bundle-format",
		"--key", pub, "--insecure-ignore-tlog", "--trusted-root", w.trustedRoot,
		"--type", attestation.PredicateType, "--bundle", bundlePath, artifact)
}

// flipPayloadByte changes one byte of the bundle's DSSE payload; the JSON stays valid.
func flipPayloadByte(t *testing.T, b []byte) []byte {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	env := m["dsseEnvelope"].(map[string]any)
	payload, err := base64.StdEncoding.DecodeString(env["payload"].(string))
	if err != nil {
		t.Fatal(err)
	}
	i := strings.Index(string(payload), `"interop"`)
	payload[i+1] = 'I'
	env["payload"] = base64.StdEncoding.EncodeToString(payload)
	out, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// sigstoreGoVerify verifies the bundle with the sigstore-go library directly, as an auditor's tool would.
func sigstoreGoVerify(t *testing.T, bundleJSON, pubPEM []byte, artifact string) error {
	t.Helper()
	pub, err := cryptoutils.UnmarshalPEMToPublicKey(pubPEM)
	if err != nil {
		t.Fatal(err)
	}
	v, err := signature.LoadDefaultVerifier(pub)
	if err != nil {
		t.Fatal(err)
	}
	hint, err := attestation.KeyHint(pub)
	if err != nil {
		t.Fatal(err)
	}
	tm := root.NewTrustedPublicKeyMaterialFromMapping(map[string]*root.ExpiringKey{hint: root.NewExpiringKey(v, time.Time{}, time.Time{})})
	sv, err := verify.NewVerifier(tm, verify.WithNoObserverTimestamps())
	if err != nil {
		t.Fatal(err)
	}
	var b bundle.Bundle
	if err := b.UnmarshalJSON(bundleJSON); err != nil {
		return err
	}
	f, err := os.Open(artifact)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	_, err = sv.Verify(&b, verify.NewPolicy(verify.WithArtifact(f), verify.WithKey()))
	return err
}

// A bundle custody signs verifies with custody, sigstore-go and cosign; tampering or the wrong
// artifact fails all three.
func TestInteropCustodyBundleWithCosignKeys(t *testing.T) {
	bin := cosigntest.Path(t)
	w := newWorkdir(t)
	if out, err := cosigntest.Run(t, bin, w.dir, testPassword, "generate-key-pair"); err != nil {
		t.Fatalf("cosign generate-key-pair: %v\n%s", err, out)
	}
	s, err := signing.LoadKey(context.Background(), filepath.Join(w.dir, "cosign.key"), signing.KeyOptions{
		Getenv: func(k string) string { return map[string]string{"COSIGN_PASSWORD": testPassword}[k] },
	})
	if err != nil {
		t.Fatalf("LoadKey(cosign's key): %v", err)
	}
	good, err := s.Sign(context.Background(), w.statement)
	if err != nil {
		t.Fatal(err)
	}
	pubPath := filepath.Join(w.dir, "cosign.pub")
	pubPEM, err := os.ReadFile(pubPath)
	if err != nil {
		t.Fatal(err)
	}
	tampered := flipPayloadByte(t, good)

	tests := []struct {
		name      string
		bundle    []byte
		artifact  string
		wantOK    bool
		wantIs    error
		wantErrIn string
	}{
		{"signed by custody", good, w.artifact, true, nil, ""},
		{"one payload byte flipped", tampered, w.artifact, false, attestation.ErrSignature, "signature does not verify"},
		{"wrong artifact", good, w.other, false, attestation.ErrNotSubject, "is not a subject (subjects: app.bin@sha256:"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			bundlePath := w.write(t, strings.ReplaceAll(tt.name, " ", "-")+".json", tt.bundle)

			_, err := attestation.Verify(context.Background(), tt.bundle, attestation.VerifyOptions{PublicKey: pubPEM, ArtifactPath: tt.artifact})
			switch {
			case tt.wantOK && err != nil:
				t.Errorf("custody Verify: %v", err)
			case !tt.wantOK && (err == nil || !errors.Is(err, tt.wantIs) || !strings.Contains(err.Error(), tt.wantErrIn)):
				t.Errorf("custody Verify = %v, want %v containing %q", err, tt.wantIs, tt.wantErrIn)
			}

			if err := sigstoreGoVerify(t, tt.bundle, pubPEM, tt.artifact); (err == nil) != tt.wantOK {
				t.Errorf("sigstore-go Verify = %v, want ok %v", err, tt.wantOK)
			}

			out, err := cosignVerify(t, bin, w, pubPath, bundlePath, tt.artifact)
			t.Logf("cosign verify-blob-attestation: err=%v\n%s", err, out)
			if tt.wantOK && (err != nil || !strings.Contains(out, "Verified OK")) {
				t.Errorf("cosign verify-blob-attestation: %v\n%s", err, out)
			}
			if !tt.wantOK && (err == nil || strings.Contains(out, "Verified OK")) {
				t.Errorf("cosign verify-blob-attestation accepted it:\n%s", out)
			}
		})
	}
}

// Keys custody generates are cosign keys: cosign signs with them and verifies with cosign.pub.
func TestInteropGeneratedKeysWorkWithCosign(t *testing.T) {
	bin := cosigntest.Path(t)
	w := newWorkdir(t)
	kp, err := signing.GenerateKeyPair(w.dir, func() ([]byte, error) { return []byte(testPassword), nil }, false)
	if err != nil {
		t.Fatal(err)
	}
	blobBundle := filepath.Join(w.dir, "blob.bundle.json")
	if out, err := cosigntest.Run(t, bin, w.dir, testPassword, "sign-blob", "--new-bundle-format", "--key", kp.PrivateKey,
		"--tlog-upload=false", "--bundle", blobBundle, w.artifact); err != nil {
		t.Fatalf("cosign sign-blob with our key: %v\n%s", err, out)
	}
	out, err := cosigntest.Run(t, bin, w.dir, "", "verify-blob", "--new-bundle-format", "--key", kp.PublicKey,
		"--insecure-ignore-tlog", "--trusted-root", w.trustedRoot, "--bundle", blobBundle, w.artifact)
	if err != nil || !strings.Contains(out, "Verified OK") {
		t.Fatalf("cosign verify-blob with our cosign.pub: %v\n%s", err, out)
	}
	// A cosign attestation made with our key verifies with custody.
	predicate := w.write(t, "predicate.json", predicateOf(t, w.statement))
	attBundle := filepath.Join(w.dir, "att.bundle.json")
	if out, err := cosigntest.Run(t, bin, w.dir, testPassword, "attest-blob", "--new-bundle-format", "--key", kp.PrivateKey,
		"--tlog-upload=false", "--type", attestation.PredicateType, "--predicate", predicate, "--bundle", attBundle, w.artifact); err != nil {
		t.Fatalf("cosign attest-blob with our key: %v\n%s", err, out)
	}
	raw, err := os.ReadFile(attBundle)
	if err != nil {
		t.Fatal(err)
	}
	pubPEM, err := os.ReadFile(kp.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	res, err := attestation.Verify(context.Background(), raw, attestation.VerifyOptions{PublicKey: pubPEM, ArtifactPath: w.artifact})
	if err != nil {
		t.Fatalf("custody Verify of cosign's attestation: %v", err)
	}
	s, err := signing.LoadKey(context.Background(), kp.PrivateKey, signing.KeyOptions{Password: func() ([]byte, error) { return []byte(testPassword), nil }})
	if err != nil {
		t.Fatal(err)
	}
	if res.KeyHint != s.Hint() {
		t.Errorf("cosign's hint %q, custody's %q", res.KeyHint, s.Hint())
	}
	if res.Predicate.Workflow.Project != "interop" {
		t.Errorf("predicate = %+v", res.Predicate)
	}
}

// predicateOf extracts the predicate JSON of a statement, for cosign attest-blob --predicate.
func predicateOf(t *testing.T, statement []byte) []byte {
	t.Helper()
	var st struct{ Predicate json.RawMessage }
	if err := json.Unmarshal(statement, &st); err != nil {
		t.Fatal(err)
	}
	return st.Predicate
}
