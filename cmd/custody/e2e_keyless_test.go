package main

import (
	"crypto/x509"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/custody-dev/custody/attestation"
	"github.com/custody-dev/custody/controlplane/app"
	"github.com/custody-dev/custody/internal/cosigntest"
	"github.com/custody-dev/custody/internal/cptest"
	"github.com/custody-dev/custody/internal/testtool"
)

// TestKeylessInterop: a pipeline pushes keyless (no --key, and its workflow trusts no key) through a
// running control plane; the bundle it gets back verifies, with the trusted root `custody trusted-root`
// prints, by custody, cosign and sigstore-go alike, and each of them refuses it for another file. The
// same holds when the certificate has expired by the time it is verified: a CA on a clock an hour
// behind issues it, the TSA on that clock timestamps the signature, and the verifiers judge the
// certificate at the timestamp, not now.
func TestKeylessInterop(t *testing.T) {
	t.Parallel()
	anHourAgo := func() time.Time { return time.Now().Add(-time.Hour) }
	for _, tc := range []struct {
		name    string
		keyless *app.Keyless // nil: a CA and TSA on the wall clock
		expired bool
	}{
		{"fresh certificate", nil, false},
		{"expired certificate", cptest.KeylessAt(t, anHourAgo), true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			k := pushKeyless(t, cptest.Options{Keyless: tc.keyless})
			if leaf := k.leaf(t); tc.expired && !leaf.NotAfter.Before(time.Now()) {
				t.Fatalf("the certificate is valid until %s: want it expired by now", leaf.NotAfter.Format(time.RFC3339))
			}
			t.Run("custody", func(t *testing.T) { k.custodyVerifies(t) })
			t.Run("cosign", func(t *testing.T) { k.cosignVerifies(t, tc.expired) })
			t.Run("sigstore-go", func(t *testing.T) { k.sigstoreGoVerifies(t) })
		})
	}
}

// keylessPush is a workspace that pushed a keyless attestation of rootfs.tar.gz (attestation.sigstore.json)
// for skynet/build-and-test through a control plane, with the control plane's trusted root
// (trusted_root.json, as `custody trusted-root` printed it) and another file (other.tar.gz).
type keylessPush struct {
	*workspace
	// identity and issuer are what the certificate must name.
	identity, issuer string
}

const keylessBundle = "attestation.sigstore.json"

func pushKeyless(t *testing.T, opts cptest.Options) *keylessPush {
	t.Helper()
	cp := cptest.New(t, opts)
	token := cp.Workflow(t, "skynet", "build-and-test", outputContract, nil) // trusts no key
	w := onlineWorkspace(t, cp.URL).with("CUSTODY_TOKEN=" + token)
	w.write("rootfs.tar.gz", "rootfs!")
	w.write("other.tar.gz", "not the rootfs")
	w.ok("attestation", "init", "--workflow", "build-and-test", "--project", "skynet")
	w.ok("attestation", "add", "--name", "rootfs", "--value", "rootfs.tar.gz")
	w.ok("attestation", "push", "--bundle", keylessBundle)
	tr := w.ok("trusted-root")
	if strings.TrimSpace(tr.stdout) != strings.TrimSpace(string(cp.TrustedRoot)) {
		t.Fatalf("custody trusted-root printed another trusted root than the control plane's:\n%s", tr.stdout)
	}
	w.write("trusted_root.json", tr.stdout)
	return &keylessPush{workspace: w, identity: attestation.WorkflowIdentityURI(cp.URL, "skynet", "build-and-test"), issuer: cp.URL}
}

// leaf returns the certificate in the bundle, checking it names the workflow.
func (k *keylessPush) leaf(t *testing.T) *x509.Certificate {
	t.Helper()
	var b struct {
		VerificationMaterial struct {
			Certificate *struct{ RawBytes []byte } `json:"certificate"`
		} `json:"verificationMaterial"`
	}
	raw, err := os.ReadFile(filepath.Join(k.dir, keylessBundle))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(raw, &b); err != nil || b.VerificationMaterial.Certificate == nil {
		t.Fatalf("the pushed bundle carries no certificate (%v):\n%s", err, raw)
	}
	leaf, err := x509.ParseCertificate(b.VerificationMaterial.Certificate.RawBytes)
	if err != nil {
		t.Fatal(err)
	}
	if len(leaf.URIs) != 1 || leaf.URIs[0].String() != k.identity {
		t.Fatalf("the certificate names %v, want %s", leaf.URIs, k.identity)
	}
	return leaf
}

// custodyVerifies: custody attestation verify --trusted-root --workflow --project --artifact.
func (k *keylessPush) custodyVerifies(t *testing.T) {
	verify := func(artifact string) result {
		return k.custody("attestation", "verify", "--trusted-root", "trusted_root.json",
			"--workflow", "build-and-test", "--project", "skynet", "--artifact", artifact, keylessBundle)
	}
	if r := verify("rootfs.tar.gz"); r.code != 0 || !strings.HasPrefix(r.stdout, "OK   "+keylessBundle+": Verified OK (workflow build-and-test, project skynet") {
		t.Errorf("custody verify: exit %d\nstdout: %s\nstderr: %s", r.code, r.stdout, r.stderr)
	}
	if r := verify("other.tar.gz"); r.code != 7 || !strings.Contains(r.stdout, "FAIL "+keylessBundle+": verify: ") || !strings.Contains(r.stdout, "subject") {
		t.Errorf("custody verify of another file: exit %d, want 7 naming the subject\nstdout: %s\nstderr: %s", r.code, r.stdout, r.stderr)
	}
}

// cosignVerifies: cosign verify-blob-attestation with the trusted root and the identity, no
// transparency or CT log (custody's CA is private; its bundles carry RFC 3161 timestamps), and
// --use-signed-timestamps: without it, cosign judges the certificate at the current time (sigstore-go's
// WithCurrentTime), so it refuses every keyless bundle once its certificate's ten minutes are over.
func (k *keylessPush) cosignVerifies(t *testing.T, expired bool) {
	bin := cosigntest.Path(t)
	verify := func(artifact string, flags ...string) (string, error) {
		args := append([]string{"verify-blob-attestation", "--new-bundle-format", "--trusted-root", "trusted_root.json",
			"--insecure-ignore-tlog", "--insecure-ignore-sct"}, flags...)
		return cosigntest.Run(t, bin, k.dir, "", append(args, "--certificate-identity", k.identity, "--certificate-oidc-issuer", k.issuer,
			"--type", attestation.PredicateType, "--bundle", keylessBundle, artifact)...)
	}
	if out, err := verify("rootfs.tar.gz", "--use-signed-timestamps"); err != nil || !strings.Contains(out, "Verified OK") {
		t.Errorf("cosign: %v\n%s", err, out)
	}
	if out, err := verify("other.tar.gz", "--use-signed-timestamps"); err == nil || strings.Contains(out, "Verified OK") {
		t.Errorf("cosign verified the bundle for another file (%v)\n%s", err, out)
	}
	if !expired {
		return
	}
	if out, err := verify("rootfs.tar.gz"); err == nil || !strings.Contains(out, "leaf certificate verification failed") {
		t.Errorf("cosign without --use-signed-timestamps: %v, want the expired certificate refused (judged now)\n%s", err, out)
	}
}

// sigstoreGoVerifies: sigstore-go's example verifier with the trusted root and the identity, no
// transparency or CT log.
func (k *keylessPush) sigstoreGoVerifies(t *testing.T) {
	bin := testtool.Path(t, "sigstore-go-verification", "SIGSTORE_GO_VERIFICATION_BIN",
		"go install github.com/sigstore/sigstore-go/examples/sigstore-go-verification@v1.3.0")
	verify := func(artifact string) (string, error) {
		cmd := exec.Command(bin, "-trustedrootJSONpath", "trusted_root.json", "-requireCTlog=false", "-requireTlog=false",
			"-expectedSAN", k.identity, "-expectedIssuer", k.issuer, "-artifact", artifact, keylessBundle)
		cmd.Dir = k.dir
		out, err := cmd.CombinedOutput()
		return string(out), err
	}
	if out, err := verify("rootfs.tar.gz"); err != nil || !strings.Contains(out, "Verification successful") {
		t.Errorf("sigstore-go-verification: %v\n%s", err, out)
	}
	if out, err := verify("other.tar.gz"); err == nil || strings.Contains(out, "Verification successful") {
		t.Errorf("sigstore-go-verification verified the bundle for another file (%v)\n%s", err, out)
	}
}
