package ca_test

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sigstore/sigstore-go/pkg/fulcio/certificate"

	"github.com/custody-dev/custody/controlplane/ca"
	"github.com/custody-dev/custody/internal/testclock"
)

var identity = ca.Identity{URI: "https://custody.example/projects/skynet/workflows/build-and-test", Issuer: "https://custody.example"}

func csrFor(t testing.TB, key any) []byte {
	t.Helper()
	der, err := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{Subject: pkix.Name{CommonName: "ignored"}}, key)
	if err != nil {
		t.Fatal(err)
	}
	return der
}

// TestIssue: a leaf for the key that signed the request, valid ten minutes, for code signing only,
// with the identity as SAN URI and its issuer where sigstore-go reads Fulcio's; it verifies up to the
// root through the intermediate, and not after ten minutes.
func TestIssue(t *testing.T) {
	t.Parallel()
	clk := testclock.New(time.Date(2026, 11, 27, 10, 4, 0, 0, time.UTC))
	a, _, err := ca.Generate("custody test", clk.Now)
	if err != nil {
		t.Fatal(err)
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	chain, err := a.Issue(csrFor(t, key), identity)
	if err != nil {
		t.Fatal(err)
	}
	leaf := chain[0]
	if len(chain) != 3 || !leaf.PublicKey.(*ecdsa.PublicKey).Equal(&key.PublicKey) {
		t.Fatalf("chain of %d, leaf key %v", len(chain), leaf.PublicKey)
	}
	if leaf.IsCA || leaf.KeyUsage != x509.KeyUsageDigitalSignature || len(leaf.ExtKeyUsage) != 1 || leaf.ExtKeyUsage[0] != x509.ExtKeyUsageCodeSigning {
		t.Errorf("leaf CA %v, key usage %v, ext key usage %v", leaf.IsCA, leaf.KeyUsage, leaf.ExtKeyUsage)
	}
	if got := leaf.NotAfter.Sub(clk.Now()); got != ca.LeafValidity {
		t.Errorf("leaf valid %v from now, want %v", got, ca.LeafValidity)
	}
	summary, err := certificate.SummarizeCertificate(leaf)
	if err != nil {
		t.Fatal(err)
	}
	if summary.SubjectAlternativeName != identity.URI || summary.Issuer != identity.Issuer {
		t.Errorf("sigstore-go reads SAN %q, issuer %q; want %q, %q", summary.SubjectAlternativeName, summary.Issuer, identity.URI, identity.Issuer)
	}
	verify := func(at time.Time) error {
		roots, inters := x509.NewCertPool(), x509.NewCertPool()
		roots.AddCert(chain[2])
		inters.AddCert(chain[1])
		_, err := leaf.Verify(x509.VerifyOptions{Roots: roots, Intermediates: inters, CurrentTime: at, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageCodeSigning}})
		return err
	}
	if err := verify(clk.Now().Add(9 * time.Minute)); err != nil {
		t.Errorf("the leaf within its ten minutes: %v", err)
	}
	if err := verify(clk.Now().Add(11 * time.Minute)); err == nil {
		t.Error("the leaf verifies after its ten minutes")
	}
}

// TestIssueRefusals: no certificate without proof of possession, for a key custody does not issue
// for, or for an identity that is no absolute URI or has no issuer.
func TestIssueRefusals(t *testing.T) {
	t.Parallel()
	a, _, err := ca.Generate("custody test", testclock.New(time.Date(2026, 11, 27, 10, 4, 0, 0, time.UTC)).Now)
	if err != nil {
		t.Fatal(err)
	}
	p256, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	p224, _ := ecdsa.GenerateKey(elliptic.P224(), rand.Reader)
	rsaKey, _ := rsa.GenerateKey(rand.Reader, 2048)
	_, edKey, _ := ed25519.GenerateKey(rand.Reader)
	forged := csrFor(t, p256)
	forged[len(forged)-3] ^= 0xff // the signature no longer matches

	tests := []struct {
		name string
		csr  []byte
		id   ca.Identity
		want string
	}{
		{"not a request", []byte("junk"), identity, "certificate request"},
		{"a forged request", forged, identity, "not signed by the key it names"},
		{"P-224", csrFor(t, p224), identity, "want P-256 or P-384"},
		{"RSA", csrFor(t, rsaKey), identity, "want ECDSA or Ed25519"},
		{"a relative identity", csrFor(t, p256), ca.Identity{URI: "projects/skynet", Issuer: identity.Issuer}, "absolute URI"},
		{"no issuer", csrFor(t, p256), ca.Identity{URI: identity.URI}, "issuer is required"},
	}
	for _, tc := range tests {
		if _, err := a.Issue(tc.csr, tc.id); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want an error saying %q", tc.name, err, tc.want)
		}
	}
	if _, err := a.Issue(csrFor(t, edKey), identity); err != nil {
		t.Errorf("Ed25519: %v", err)
	}
}

// TestLoadOrCreate: the first start generates the authority with private files, later ones load the
// same one; a chain and key that do not belong together are refused.
func TestLoadOrCreate(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "ca")
	clk := testclock.New(time.Date(2026, 11, 27, 10, 4, 0, 0, time.UTC))
	first, err := ca.LoadOrCreate(dir, "custody test", clk.Now)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{ca.ChainFile, ca.KeyFile, ca.RootKeyFile} {
		info, err := os.Stat(filepath.Join(dir, f))
		if err != nil || info.Mode().Perm() != 0o600 {
			t.Errorf("%s: %v, mode %v; want 0600", f, err, info.Mode().Perm())
		}
	}
	if info, _ := os.Stat(dir); info.Mode().Perm() != 0o700 {
		t.Errorf("directory mode %v, want 0700", info.Mode().Perm())
	}
	again, err := ca.LoadOrCreate(dir, "custody test", clk.Now)
	if err != nil {
		t.Fatal(err)
	}
	if !again.Chain[0].Equal(first.Chain[0]) || !again.Chain[1].Equal(first.Chain[1]) {
		t.Fatal("a second start made another authority")
	}
	if _, err := again.Issue(csrFor(t, mustP256(t)), identity); err != nil {
		t.Fatalf("issue with the loaded authority: %v", err)
	}

	other := filepath.Join(t.TempDir(), "other")
	if _, err := ca.LoadOrCreate(other, "other", clk.Now); err != nil {
		t.Fatal(err)
	}
	if _, err := ca.LoadFiles(filepath.Join(dir, ca.ChainFile), filepath.Join(other, ca.KeyFile), clk.Now); err == nil ||
		!strings.Contains(err.Error(), "the key is not the key of") {
		t.Errorf("a chain with another authority's key: %v", err)
	}
	if _, err := ca.LoadFiles("/dev/zero", filepath.Join(dir, ca.KeyFile), clk.Now); err == nil || !strings.Contains(err.Error(), "larger than") {
		t.Errorf("an endless chain file: %v", err)
	}
	keyFile := filepath.Join(dir, ca.KeyFile)
	if err := os.Chmod(keyFile, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := ca.LoadFiles(filepath.Join(dir, ca.ChainFile), keyFile, clk.Now); err == nil || !strings.Contains(err.Error(), keyFile+" has mode 0644") {
		t.Errorf("a key file others may read: %v, want it refused by name and mode", err)
	}
}

func mustP256(t testing.TB) *ecdsa.PrivateKey {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// FuzzProofOfPossession: any bytes as a certificate request: no panic, and what is accepted is a
// request signed by the key it names.
func FuzzProofOfPossession(f *testing.F) {
	f.Add(csrFor(f, mustP256(f)))
	f.Add([]byte("junk"))
	f.Fuzz(func(t *testing.T, der []byte) {
		pub, err := ca.ProofOfPossession(der)
		if err != nil {
			return
		}
		csr, err := x509.ParseCertificateRequest(der)
		if err != nil || csr.CheckSignature() != nil || pub == nil {
			t.Fatalf("accepted a request that does not hold up: %v", err)
		}
	})
}

// TestIssueAtTheIntermediatesEnd: a leaf never outlives the CA certificate that issues it, and a CA
// certificate past its end issues nothing (the message says to rotate).
func TestIssueAtTheIntermediatesEnd(t *testing.T) {
	t.Parallel()
	clk := testclock.New(time.Date(2026, 11, 27, 10, 4, 0, 0, time.UTC))
	a, _, err := ca.Generate("custody test", clk.Now)
	if err != nil {
		t.Fatal(err)
	}
	end := a.Chain[0].NotAfter
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	clk.Advance(end.Add(-ca.LeafValidity / 2).Sub(clk.Now()))
	chain, err := a.Issue(csrFor(t, key), identity)
	if err != nil {
		t.Fatal(err)
	}
	if !chain[0].NotAfter.Equal(end) {
		t.Errorf("a leaf issued %s before the CA's end expires %s, want the CA's end %s", ca.LeafValidity/2, chain[0].NotAfter, end)
	}
	clk.Advance(end.Sub(clk.Now()))
	if _, err := a.Issue(csrFor(t, key), identity); err == nil || !strings.Contains(err.Error(), "custodyd ca rotate") {
		t.Errorf("issued by an expired CA certificate: %v, want an error saying to rotate", err)
	}
}
