package main

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/digitorus/timestamp"
	"github.com/secure-systems-lab/go-securesystemslib/dsse"
	protobundle "github.com/sigstore/protobuf-specs/gen/pb-go/bundle/v1"
	protocommon "github.com/sigstore/protobuf-specs/gen/pb-go/common/v1"
	protodsse "github.com/sigstore/protobuf-specs/gen/pb-go/dsse"
	"github.com/sigstore/sigstore-go/pkg/bundle"
	"github.com/sigstore/sigstore-go/pkg/root"
	"github.com/sigstore/sigstore-go/pkg/verify"

	"github.com/custody-dev/custody/controlplane/ca"
	"github.com/custody-dev/custody/controlplane/tsa"
	"github.com/custody-dev/custody/internal/testclock"
)

const (
	testExternalURL = "https://custody.example"
	testIdentity    = testExternalURL + "/projects/skynet/workflows/build-and-test"
	testPredicate   = "https://custody.dev/attestation/v1"
)

// authorityClock starts at the wall clock: a timestamp's PKCS #7 signing time is the wall clock's
// (digitorus/pkcs7), held to the TSA certificate's validity, and sigstore-go checks timestamps at
// their own time.
// Every assertion is relative to this clock.
func authorityClock() *testclock.Clock { return testclock.New(time.Now().UTC().Truncate(time.Second)) }

// keyless signs a statement about artifact as a custody client does keylessly: an ephemeral P-256
// key, a certificate for testIdentity from the CA (for a CSR signed with the key), the DSSE
// signature timestamped by the TSA (an RFC 3161 request over its SHA-256). It returns the bundle.
func keyless(t *testing.T, a *authorities, artifact []byte) *protobundle.Bundle {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	csr, err := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{}, key)
	if err != nil {
		t.Fatal(err)
	}
	chain, err := a.CA.Issue(csr, ca.Identity{URI: testIdentity, Issuer: testExternalURL})
	if err != nil {
		t.Fatal(err)
	}
	digest := sha256.Sum256(artifact)
	statement := fmt.Sprintf(`{"_type":"https://in-toto.io/Statement/v1","subject":[{"name":"rootfs.tar.gz","digest":{"sha256":%q}}],"predicateType":%q,"predicate":{}}`,
		hex.EncodeToString(digest[:]), testPredicate)
	const payloadType = "application/vnd.in-toto+json"
	pae := sha256.Sum256(dsse.PAE(payloadType, []byte(statement)))
	sig, err := ecdsa.SignASN1(rand.Reader, key, pae[:])
	if err != nil {
		t.Fatal(err)
	}
	sigDigest := sha256.Sum256(sig)
	req, err := (&timestamp.Request{HashAlgorithm: crypto.SHA256, HashedMessage: sigDigest[:]}).Marshal()
	if err != nil {
		t.Fatal(err)
	}
	signed, err := a.TSA.Timestamp(req)
	if err != nil {
		t.Fatal(err)
	}
	return &protobundle.Bundle{
		MediaType: "application/vnd.dev.sigstore.bundle.v0.3+json",
		VerificationMaterial: &protobundle.VerificationMaterial{
			Content:                   &protobundle.VerificationMaterial_Certificate{Certificate: &protocommon.X509Certificate{RawBytes: chain[0].Raw}},
			TimestampVerificationData: &protobundle.TimestampVerificationData{Rfc3161Timestamps: []*protocommon.RFC3161SignedTimestamp{{SignedTimestamp: signed}}},
		},
		Content: &protobundle.Bundle_DsseEnvelope{DsseEnvelope: &protodsse.Envelope{
			Payload: []byte(statement), PayloadType: payloadType, Signatures: []*protodsse.Signature{{Sig: sig}},
		}},
	}
}

// verifyKeyless verifies b with sigstore-go against trustedRoot: one signed timestamp, the identity
// and issuer the CA certified, the artifact as the statement's subject.
func verifyKeyless(trustedRoot []byte, b *protobundle.Bundle, artifact []byte) error {
	tr, err := root.NewTrustedRootFromJSON(trustedRoot)
	if err != nil {
		return err
	}
	v, err := verify.NewVerifier(tr, verify.WithSignedTimestamps(1))
	if err != nil {
		return err
	}
	id, err := verify.NewShortCertificateIdentity(testExternalURL, "", testIdentity, "")
	if err != nil {
		return err
	}
	sb, err := bundle.NewBundle(b)
	if err != nil {
		return err
	}
	_, err = v.Verify(sb, verify.NewPolicy(verify.WithArtifact(bytes.NewReader(artifact)), verify.WithCertificateIdentity(id)))
	return err
}

func testConfig(t *testing.T, args ...string) config {
	t.Helper()
	cfg, err := loadConfig(append([]string{"--data-dir", t.TempDir(), "--external-url", testExternalURL}, args...), map[string]string{}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

func (f authorityFiles) flags(kind string) []string {
	return []string{"--" + kind + "-cert", f.Chain, "--" + kind + "-key", f.Key}
}

// TestLoadAuthorities: generated in DATA_DIR (0600 files, the same authorities on restart) or
// loaded from files two replicas share (nothing written to their data directories); either way a
// bundle signed with one load verifies with sigstore-go against the trusted root of the other, and
// not for another artifact.
func TestLoadAuthorities(t *testing.T) {
	t.Parallel()
	clk := authorityClock()
	caF, tsaF, err := writeAuthorities(filepath.Join(t.TempDir(), "shared"), clk.Now)
	if err != nil {
		t.Fatal(err)
	}
	generated := testConfig(t)
	for _, tc := range []struct {
		name          string
		first, second config
	}{
		{"generated in DATA_DIR, restarted", generated, generated},
		{"from shared files, two replicas", testConfig(t, append(caF.flags("ca"), tsaF.flags("tsa")...)...), testConfig(t, append(caF.flags("ca"), tsaF.flags("tsa")...)...)},
	} {
		one, err := loadAuthorities(tc.first, clk.Now)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		other, err := loadAuthorities(tc.second, clk.Now)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if !bytes.Equal(one.TrustedRoot, other.TrustedRoot) {
			t.Errorf("%s: the two loads serve different trusted roots", tc.name)
		}
		tr, err := root.NewTrustedRootFromJSON(other.TrustedRoot)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if cas, tsas := tr.FulcioCertificateAuthorities(), tr.TimestampingAuthorities(); len(cas) != 1 || len(tsas) != 1 ||
			cas[0].(*root.FulcioCertificateAuthority).URI != testExternalURL || !cas[0].(*root.FulcioCertificateAuthority).ValidityPeriodEnd.IsZero() {
			t.Errorf("%s: %d CAs and %d TSAs, want one of each, open, named %s", tc.name, len(cas), len(tsas), testExternalURL)
		}
		artifact := []byte("rootfs " + tc.name)
		b := keyless(t, one, artifact)
		if err := verifyKeyless(other.TrustedRoot, b, artifact); err != nil {
			t.Errorf("%s: a bundle signed with one does not verify with the other's trusted root: %v", tc.name, err)
		}
		if err := verifyKeyless(other.TrustedRoot, b, []byte("another file")); err == nil {
			t.Errorf("%s: the bundle verifies for another artifact", tc.name)
		}
	}
	for _, dir := range []string{"ca", "tsa"} {
		for _, f := range []string{ca.ChainFile, ca.KeyFile, tsa.KeyFile, ca.RootKeyFile} {
			info, err := os.Stat(filepath.Join(generated.DataDir, dir, f))
			if err == nil && info.Mode().Perm() != 0o600 {
				t.Errorf("%s/%s: mode %v, want 0600", dir, f, info.Mode().Perm())
			}
		}
	}
}

// TestLoadAuthoritiesRefusals: every configuration custodyd cannot serve keyless signing from is
// refused, naming the flag or file and the reason, and no error quotes a key.
func TestLoadAuthoritiesRefusals(t *testing.T) {
	t.Parallel()
	clk := authorityClock()
	caF, tsaF, err := writeAuthorities(filepath.Join(t.TempDir(), "shared"), clk.Now)
	if err != nil {
		t.Fatal(err)
	}
	wide := filepath.Join(t.TempDir(), "wide.key")
	copyFile(t, caF.Key, wide, 0o644)
	groupTSA := filepath.Join(t.TempDir(), "group.key")
	copyFile(t, tsaF.Key, groupTSA, 0o640)
	if os.Getuid() == 0 {
		// Root may let its group read a key (a Kubernetes Secret volume: pki.RootKeyMode); another
		// owner may not, which is the rule this row holds.
		if err := os.Chown(groupTSA, 65532, 65532); err != nil {
			t.Fatal(err)
		}
	}
	badRetired := filepath.Join(t.TempDir(), "retired.json")
	os.WriteFile(badRetired, []byte(`{"mediaType":"nope"}`), 0o600)
	keyPEM, _ := os.ReadFile(caF.Key)

	for _, tc := range []struct {
		name string
		args []string
		env  map[string]string
		want string
	}{
		{"a CA chain without its key", []string{"--ca-cert", caF.Chain}, nil, "--ca-cert and --ca-key go together"},
		{"a TSA key without its chain", nil, map[string]string{"CUSTODY_TSA_KEY": tsaF.Key}, "--tsa-cert and --tsa-key go together"},
		{"a key pasted into the variable", caF.flags("ca")[:2], map[string]string{"CUSTODY_CA_KEY": string(keyPEM)}, "--ca-key holds a key, not a file name"},
		{"a CA key others may read", []string{"--ca-cert", caF.Chain, "--ca-key", wide}, nil, wide + " has mode 0644: a key file "},
		{"a TSA key its group may read", []string{"--tsa-cert", tsaF.Chain, "--tsa-key", groupTSA}, nil, groupTSA + " has mode 0640"},
		{"the TSA's key for the CA", []string{"--ca-cert", caF.Chain, "--ca-key", tsaF.Key}, nil, "the key is not the key of"},
		{"the CA as the TSA", []string{"--tsa-cert", caF.Chain, "--tsa-key", caF.Key}, nil, "does not verify for timestamping"},
		{"a missing chain", []string{"--ca-cert", caF.Chain + ".gone", "--ca-key", caF.Key}, nil, "chain.pem.gone: no such file"},
		{"retired chains that are no trusted root", []string{"--ca-retired", badRetired}, nil, "retired chains " + badRetired},
	} {
		env := map[string]string{"CUSTODY_DATA_DIR": t.TempDir()}
		for k, v := range tc.env {
			env[k] = v
		}
		cfg, err := loadConfig(tc.args, env, io.Discard)
		if err == nil {
			_, err = loadAuthorities(cfg, clk.Now)
		}
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want %q", tc.name, err, tc.want)
			continue
		}
		for _, line := range strings.Split(string(keyPEM), "\n")[1:3] {
			if strings.Contains(err.Error(), line) {
				t.Errorf("%s: the error quotes the key: %v", tc.name, err)
			}
		}
	}

	var help bytes.Buffer
	loadConfig([]string{"--help"}, map[string]string{"CUSTODY_CA_KEY": string(keyPEM), "CUSTODY_TSA_KEY": string(keyPEM)}, &help)
	if !strings.Contains(help.String(), "-ca-key") || strings.Contains(help.String(), strings.Split(string(keyPEM), "\n")[1]) {
		t.Errorf("--help with a key in CUSTODY_CA_KEY prints it:\n%s", help.String())
	}
}

func copyFile(t *testing.T, from, to string, mode os.FileMode) {
	t.Helper()
	data, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(to, data, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(to, mode); err != nil {
		t.Fatal(err)
	}
}
