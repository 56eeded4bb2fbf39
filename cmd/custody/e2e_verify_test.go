package main

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/custody-dev/custody/attestation"
	"github.com/custody-dev/custody/internal/cosigntest"
	"github.com/custody-dev/custody/internal/keylesstest"
	"github.com/custody-dev/custody/internal/testtool"
)

// conformanceDir is the Sigstore client conformance corpus: ../shared beside the clone (absolute:
// custody runs in a workspace elsewhere).
var conformanceDir, _ = filepath.Abs("../../../shared/corpus/sigstore-conformance")

// Conformance defaults (SOURCES.md): what a case that has no file of its own is verified with.
const (
	conformanceIdentity = "https://github.com/sigstore-conformance/extremely-dangerous-public-oidc-beacon/.github/workflows/extremely-dangerous-oidc-beacon.yml@refs/heads/main"
	conformanceIssuer   = "https://token.actions.githubusercontent.com"
)

// conformanceCase is one folder of the corpus and the files it is verified with.
type conformanceCase struct {
	name, bundle, trustedRoot, artifact, identity, issuer, predicateType string
	pass                                                                 bool
}

func conformanceCases(t *testing.T) []conformanceCase {
	t.Helper()
	if _, err := os.Stat(filepath.Join(conformanceDir, "SOURCES.md")); err != nil {
		t.Skipf("the Sigstore conformance corpus is not here (%v): it is ../shared/corpus/sigstore-conformance beside the clone", err)
	}
	bundles, err := filepath.Glob(filepath.Join(conformanceDir, "*", "bundle.sigstore.json"))
	if err != nil || len(bundles) == 0 {
		t.Fatalf("no conformance case in %s: %v", conformanceDir, err)
	}
	or := func(dir, name, fallback string) string {
		if p := filepath.Join(dir, name); fileExists(p) {
			return p
		}
		return fallback
	}
	read := func(path, fallback string) string {
		b, err := os.ReadFile(path)
		if err != nil {
			return fallback
		}
		return strings.TrimSpace(string(b))
	}
	var cases []conformanceCase
	for _, b := range bundles {
		dir := filepath.Dir(b)
		c := conformanceCase{
			name: filepath.Base(dir), bundle: b, pass: !strings.HasSuffix(dir, "_fail"),
			trustedRoot: or(dir, "trusted_root.json", filepath.Join(conformanceDir, "public-good-trusted-root.json")),
			artifact:    or(dir, "artifact", filepath.Join(conformanceDir, "a2.txt")),
			identity:    read(filepath.Join(dir, "identity"), conformanceIdentity),
			issuer:      read(filepath.Join(dir, "issuer"), conformanceIssuer),
		}
		c.predicateType = ownPredicateType(t, b)
		cases = append(cases, c)
	}
	return cases
}

func fileExists(p string) bool { _, err := os.Stat(p); return err == nil }

// ownPredicateType reads the predicate type of the statement in a bundle, unverified.
func ownPredicateType(t *testing.T, bundle string) string {
	t.Helper()
	raw, err := os.ReadFile(bundle)
	if err != nil {
		t.Fatal(err)
	}
	var b struct {
		DSSEEnvelope struct{ Payload string } `json:"dsseEnvelope"`
	}
	if err := json.Unmarshal(raw, &b); err != nil {
		t.Fatalf("%s: %v", bundle, err)
	}
	payload, err := base64.StdEncoding.DecodeString(b.DSSEEnvelope.Payload)
	if err != nil {
		t.Fatalf("%s: %v", bundle, err)
	}
	var st struct{ PredicateType string }
	if err := json.Unmarshal(payload, &st); err != nil {
		t.Fatalf("%s: %v", bundle, err)
	}
	return st.PredicateType
}

// TestVerifyConformance: the binary agrees with every verdict of the Sigstore conformance suite's
// DSSE cases (public-good Rekor v1 and v2 entries, custom trust roots, TSA timestamps): those not
// named _fail verify (exit 0), the others are refused (exit 7); sigstore-go-verification, when
// installed, agrees.
func TestVerifyConformance(t *testing.T) {
	t.Parallel()
	cases := conformanceCases(t)
	w := newWorkspace(t)
	passed, refused := 0, 0
	for _, c := range cases {
		args := []string{"attestation", "verify", "--trusted-root", c.trustedRoot, "--certificate-identity", c.identity,
			"--certificate-oidc-issuer", c.issuer, "--artifact", c.artifact, "--type", c.predicateType, c.bundle}
		r := w.custody(args...)
		switch {
		case c.pass && r.code == 0 && strings.HasPrefix(r.stdout, "OK   "+c.bundle+": Verified OK"):
			passed++
		case !c.pass && r.code == 7 && strings.HasPrefix(r.stdout, "FAIL "+c.bundle+": verify: "):
			refused++
		default:
			t.Errorf("%s: exit %d, want %s\nstdout: %s\nstderr: %s", c.name, r.code, map[bool]string{true: "0 (verified)", false: "7 (refused)"}[c.pass], r.stdout, r.stderr)
		}
	}
	// The corpus holds 14 cases, 3 that verify and 11 refused (SOURCES.md and issue 7 say 4 and 10,
	// but only 3 folder names lack _fail, and sigstore-go-verification verifies those 3 alone).
	if passed != 3 || refused != 11 {
		t.Errorf("%d verified and %d refused, want 3 and 11", passed, refused)
	}

	t.Run("sigstore-go-verification agrees", func(t *testing.T) {
		bin := testtool.Path(t, "sigstore-go-verification", "SIGSTORE_GO_VERIFICATION_BIN",
			"go install github.com/sigstore/sigstore-go/examples/sigstore-go-verification@v1.3.0")
		for _, c := range cases {
			out, err := exec.Command(bin, "-trustedrootJSONpath", c.trustedRoot, "-artifact", c.artifact,
				"-expectedSAN", c.identity, "-expectedIssuer", c.issuer, c.bundle).CombinedOutput()
			if (err == nil) != c.pass {
				t.Errorf("%s: sigstore-go-verification says %v, want pass=%v\n%s", c.name, err, c.pass, out)
			}
		}
	})
}

const custodyURL = "https://custody.example"

// keylessWorkspace is a workspace with a virtual custody CA's trusted root (trusted_root.json), an
// artifact (rootfs.tar.gz) and the statement of a build of it by skynet/build-and-test.
type keylessWorkspace struct {
	*workspace
	ca        *keylesstest.Authority
	at        time.Time
	statement []byte
}

func newKeylessWorkspace(t *testing.T) *keylessWorkspace {
	t.Helper()
	at := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	ca, err := keylesstest.New("custody test", at)
	if err != nil {
		t.Fatal(err)
	}
	w := &keylessWorkspace{workspace: newWorkspace(t), ca: ca, at: at}
	tr, err := ca.TrustedRootJSON()
	if err != nil {
		t.Fatal(err)
	}
	w.write("trusted_root.json", string(tr))
	w.write("rootfs.tar.gz", "rootfs!")
	w.write("other.bin", "not the rootfs")
	if w.statement, err = keylesstest.Statement("skynet", "build-and-test", "rootfs.tar.gz", []byte("rootfs!"), at); err != nil {
		t.Fatal(err)
	}
	return w
}

// sign writes a bundle of statement signed by ca (the workspace's when nil) as name.
func (w *keylessWorkspace) sign(name string, ca *keylesstest.Authority, statement []byte, s keylesstest.Signing) string {
	w.t.Helper()
	if ca == nil {
		ca = w.ca
	}
	if statement == nil {
		statement = w.statement
	}
	if s.SAN == "" {
		s.SAN, s.Issuer = attestation.WorkflowIdentityURI(custodyURL, "skynet", "build-and-test"), custodyURL
	}
	if s.At.IsZero() {
		s.At = w.at
	}
	b, err := ca.Sign(statement, s)
	if err != nil {
		w.t.Fatal(err)
	}
	return w.write(name, string(b))
}

// TestVerifyKeylessBatch: many keyless bundles in one call, verified in parallel, one line each in
// the order given, each failure with its reason (in words, and as a code with -o json), exit 7.
func TestVerifyKeylessBatch(t *testing.T) {
	t.Parallel()
	w := newKeylessWorkspace(t)
	other, err := keylesstest.New("another CA", w.at)
	if err != nil {
		t.Fatal(err)
	}
	deploy, err := keylesstest.Statement("skynet", "deploy", "rootfs.tar.gz", []byte("rootfs!"), w.at)
	if err != nil {
		t.Fatal(err)
	}
	type row struct{ bundle, reason, line string }
	rows := []row{
		{w.sign("good.json", nil, nil, keylesstest.Signing{}), "", "OK   good.json: Verified OK (workflow build-and-test, project skynet, run run-1); " +
			"signed by https://custody.example/projects/skynet/workflows/build-and-test (issuer https://custody.example) at 2026-03-01T10:00:00Z; subjects rootfs.tar.gz@sha256:"},
		{w.sign("other-ca.json", other, nil, keylesstest.Signing{}), "untrusted-ca", "FAIL other-ca.json: verify: the certificate was issued by \"CN=another CA CA intermediate,O=another CA\", which does not chain"},
		{w.sign("no-timestamp.json", nil, nil, keylesstest.Signing{NoTimestamp: true}), "no-timestamp", "FAIL no-timestamp.json: verify: no verified timestamp of the signature"},
		{w.sign("late.json", nil, nil, keylesstest.Signing{TimestampAt: w.at.Add(time.Hour)}), "timestamp-outside-certificate", "FAIL late.json: verify: it was timestamped at 2026-03-01T11:00:00Z, outside the certificate's validity"},
		{w.sign("deploy-cert.json", nil, nil, keylesstest.Signing{SAN: attestation.WorkflowIdentityURI(custodyURL, "skynet", "deploy"), Issuer: custodyURL}), "identity",
			"FAIL deploy-cert.json: verify: the certificate is for SAN \"https://custody.example/projects/skynet/workflows/deploy\", issuer \"https://custody.example\"; want SAN \"https://custody.example/projects/skynet/workflows/build-and-test\" (workflow skynet/build-and-test under its issuer)"},
		{w.sign("deploy-statement.json", nil, deploy, keylesstest.Signing{}), "workflow", "FAIL deploy-statement.json: verify: the attestation is about workflow \"deploy\" in project \"skynet\"; want \"build-and-test\" in \"skynet\""},
		{w.write("not-json.json", "{"), "not-an-attestation", "FAIL not-json.json: verify: not an attestation: not a JSON object"},
		{"missing.json", "unreadable", "FAIL missing.json: open missing.json: no such file or directory"},
	}
	// Enough good ones that the workers finish out of order.
	for i := range 24 {
		name := fmt.Sprintf("good-%02d.json", i)
		w.sign(name, nil, nil, keylesstest.Signing{})
		rows = append(rows, row{name, "", "OK   " + name + ": Verified OK"})
	}
	args := []string{"attestation", "verify", "--trusted-root", "trusted_root.json", "--workflow", "build-and-test", "--project", "skynet", "--artifact", "rootfs.tar.gz"}
	for _, r := range rows {
		args = append(args, r.bundle)
	}
	r := w.custody(args...)
	lines := strings.Split(strings.TrimSuffix(r.stdout, "\n"), "\n")
	if r.code != 7 || len(lines) != len(rows) || !strings.Contains(r.stderr, fmt.Sprintf("verification failed for 7 of %d bundles", len(rows))) {
		t.Fatalf("exit %d, %d lines for %d bundles\nstdout: %s\nstderr: %s", r.code, len(lines), len(rows), r.stdout, r.stderr)
	}
	for i, want := range rows {
		if !strings.HasPrefix(lines[i], want.line) {
			t.Errorf("line %d:\n%s\nwant it to start with\n%s", i+1, lines[i], want.line)
		}
	}

	r = w.custody(append([]string{"-o", "json"}, args...)...)
	var verdicts []struct {
		Bundle, Reason, Error string
		Verified              bool
	}
	if err := json.Unmarshal([]byte(r.stdout), &verdicts); err != nil || r.code != 7 || len(verdicts) != len(rows) {
		t.Fatalf("-o json: exit %d, %v\n%s", r.code, err, r.stdout)
	}
	for i, want := range rows {
		v := verdicts[i]
		if v.Bundle != want.bundle || v.Reason != want.reason || v.Verified != (want.reason == "") || (v.Error == "") != v.Verified {
			t.Errorf("-o json verdict %d = %+v, want bundle %s, reason %q", i, v, want.bundle, want.reason)
		}
	}
}

// TestVerifyKeylessIdentity: how --workflow/--project, the control plane configured, and cosign's
// identity flags name the identity a keyless bundle's certificate must have; refusals of an identity
// policy that is missing or means nothing are usage errors (exit 2) naming the way out.
func TestVerifyKeylessIdentity(t *testing.T) {
	t.Parallel()
	w := newKeylessWorkspace(t)
	good := w.sign("good.json", nil, nil, keylesstest.Signing{})
	san := attestation.WorkflowIdentityURI(custodyURL, "skynet", "build-and-test")
	base := []string{"attestation", "verify", "--trusted-root", "trusted_root.json"}
	tests := []struct {
		name string
		env  []string
		args []string
		code int
		want string
	}{
		{"workflow, the issuer from the certificate", nil, []string{"--workflow", "build-and-test", "--project", "skynet"}, 0, "OK   good.json"},
		{"workflow under the configured control plane", []string{"CUSTODY_CONTROL_PLANE=" + custodyURL}, []string{"--workflow", "build-and-test", "--project", "skynet"}, 0, "OK   good.json"},
		{"workflow under another configured control plane", []string{"CUSTODY_CONTROL_PLANE=https://other.example"}, []string{"--workflow", "build-and-test", "--project", "skynet"}, 7,
			`want SAN "https://other.example/projects/skynet/workflows/build-and-test", issuer "https://other.example"`},
		{"workflow and the issuer", []string{"CUSTODY_CONTROL_PLANE=https://other.example"},
			[]string{"--workflow", "build-and-test", "--project", "skynet", "--certificate-oidc-issuer", custodyURL}, 0, "OK   good.json"},
		{"another workflow", nil, []string{"--workflow", "deploy", "--project", "skynet"}, 7, "FAIL good.json: verify: the certificate is for SAN"},
		{"cosign's flags", nil, []string{"--certificate-identity", san, "--certificate-oidc-issuer", custodyURL}, 0, "OK   good.json"},
		{"cosign's regexps", nil, []string{"--certificate-identity-regexp", "/projects/skynet/", "--certificate-oidc-issuer-regexp", "custody"}, 0, "OK   good.json"},
		{"another issuer", nil, []string{"--certificate-identity", san, "--certificate-oidc-issuer", "https://evil.example"}, 7, `want SAN "` + san + `", issuer "https://evil.example"`},
		{"any identity, said so", nil, []string{"--insecure-ignore-identity"}, 0, "OK   good.json"},
		{"another type", nil, []string{"--insecure-ignore-identity", "--type", "https://slsa.dev/provenance/v1"}, 7,
			`predicate type "https://custody.dev/attestation/v1", want "https://slsa.dev/provenance/v1"`},
		{"sha256 digest", nil, []string{"--insecure-ignore-identity", "--digest", "sha256:" + sha256Hex("rootfs!")}, 0, "OK   good.json"},
		{"another artifact", nil, []string{"--insecure-ignore-identity", "--artifact", "other.bin"}, 7, "is not a subject (subjects: rootfs.tar.gz@sha256:" + sha256Hex("rootfs!")},

		{"no identity policy", nil, nil, 2, "keyless bundles need an identity policy: --workflow and --project, or --certificate-identity[-regexp] with --certificate-oidc-issuer[-regexp]"},
		{"identity without issuer", nil, []string{"--certificate-identity", san}, 2, "--certificate-identity needs the issuer too"},
		{"issuer without identity", nil, []string{"--certificate-oidc-issuer", custodyURL}, 2, "the issuer needs the identity too"},
		{"identity and regexp", nil, []string{"--certificate-identity", san, "--certificate-identity-regexp", "x", "--certificate-oidc-issuer", custodyURL}, 2, "not both"},
		{"any identity and a workflow", nil, []string{"--insecure-ignore-identity", "--workflow", "build-and-test", "--project", "skynet"}, 2, "give it alone"},
		{"workflow without project", nil, []string{"--workflow", "build-and-test"}, 2, "--workflow and --project go together"},
		{"workflow that is no name", nil, []string{"--workflow", "../x", "--project", "skynet"}, 2, `--workflow "../x": not a name custody gives`},
		{"bad digest", nil, []string{"--insecure-ignore-identity", "--digest", "md5:00"}, 2, "--digest: artifact digest \"md5:00\": want sha256:<64 hex characters> or sha512:<128 hex characters>"},
		{"a key and a trusted root", nil, []string{"--insecure-ignore-identity", "--key", "cosign.pub"}, 2, "not both"},
		{"no key nor trusted root", nil, []string{"--workflow", "build-and-test", "--project", "skynet", "--trusted-root", ""}, 2, "give --key (key-signed bundles) or --trusted-root (keyless bundles)"},
		{"trusted root that is not one", nil, []string{"--insecure-ignore-identity", "--trusted-root", "good.json"}, 3, "--trusted-root good.json: not a Sigstore trusted root"},
	}
	for _, tt := range tests {
		args := append(append(append([]string{}, base...), tt.args...), good)
		r := w.with(tt.env...).custody(args...)
		out := r.stdout
		if tt.code == 2 || tt.code == 3 {
			out = r.stderr
		}
		if r.code != tt.code || !strings.Contains(out, tt.want) {
			t.Errorf("%s: exit %d, want %d with %q\nstdout: %s\nstderr: %s", tt.name, r.code, tt.code, tt.want, r.stdout, r.stderr)
		}
	}
}

func sha256Hex(s string) string { return fmt.Sprintf("%x", sha256.Sum256([]byte(s))) }

// TestVerifyContract: with --contract, every required material of the contract is in the statement
// with its kind, at the predicate's revision.
func TestVerifyContract(t *testing.T) {
	t.Parallel()
	w := newKeylessWorkspace(t)
	good := w.sign("good.json", nil, nil, keylesstest.Signing{})
	w.write("seed.yaml", seedContract)
	w.write("met.yaml", "apiVersion: custody.dev/v1\nkind: Contract\nmetadata:\n  name: build-and-test\nspec:\n  materials:\n    - name: artifact\n      type: ARTIFACT\n      output: true\n")
	w.write("kind.yaml", "apiVersion: custody.dev/v1\nkind: Contract\nmetadata:\n  name: build-and-test\nspec:\n  materials:\n    - name: artifact\n      type: SBOM_CYCLONEDX_JSON\n      output: true\n")
	base := []string{"attestation", "verify", "--trusted-root", "trusted_root.json", "--workflow", "build-and-test", "--project", "skynet"}
	for _, tt := range []struct {
		contract string
		code     int
		want     string
	}{
		{"met.yaml", 0, "OK   good.json"},
		{"seed.yaml", 7, "FAIL good.json: verify: contract build-and-test not satisfied at revision 1: required materials not set: skynet-control-plane, rootfs, build-ref, skynet-sbom"},
		{"kind.yaml", 7, "FAIL good.json: verify: contract build-and-test not satisfied at revision 1: material artifact: the contract says kind SBOM_CYCLONEDX_JSON, the attestation records ARTIFACT"},
	} {
		r := w.custody(append(append([]string{}, base...), "--contract", tt.contract, good)...)
		if r.code != tt.code || !strings.HasPrefix(r.stdout, tt.want) {
			t.Errorf("--contract %s: exit %d, want %d with %q\nstdout: %s\nstderr: %s", tt.contract, r.code, tt.code, tt.want, r.stdout, r.stderr)
		}
	}
	r := w.custody(append(append([]string{}, base...), "-o", "json", "--contract", "seed.yaml", good)...)
	if r.code != 7 || !strings.Contains(r.stdout, `"reason": "contract-not-satisfied"`) {
		t.Errorf("-o json: exit %d\n%s", r.code, r.stdout)
	}
}

// TestVerifyKeylessCosignAgrees: cosign verify-blob-attestation with the same trusted root agrees
// with custody on a bundle of the virtual custody CA: verified with the matching identity, refused
// with another artifact or another identity.
func TestVerifyKeylessCosignAgrees(t *testing.T) {
	t.Parallel()
	cosign := cosigntest.Path(t)
	w := newKeylessWorkspace(t)
	good := w.sign("good.json", nil, nil, keylesstest.Signing{})
	san := attestation.WorkflowIdentityURI(custodyURL, "skynet", "build-and-test")
	for _, tt := range []struct {
		name, identity, artifact string
		ok                       bool
	}{
		{"matching identity and artifact", san, "rootfs.tar.gz", true},
		{"another artifact", san, "other.bin", false},
		{"another identity", attestation.WorkflowIdentityURI(custodyURL, "skynet", "deploy"), "rootfs.tar.gz", false},
	} {
		out, err := cosigntest.Run(t, cosign, w.dir, "", "verify-blob-attestation", "--new-bundle-format", "--trusted-root", "trusted_root.json",
			"--insecure-ignore-tlog", "--insecure-ignore-sct", "--use-signed-timestamps", "--certificate-identity", tt.identity, "--certificate-oidc-issuer", custodyURL,
			"--type", attestation.PredicateType, "--bundle", good, tt.artifact)
		if cosignOK := err == nil && strings.Contains(out, "Verified OK"); cosignOK != tt.ok {
			t.Errorf("%s: cosign says %v, want ok=%v\n%s", tt.name, err, tt.ok, out)
		}
		r := w.custody("attestation", "verify", "--trusted-root", "trusted_root.json", "--certificate-identity", tt.identity,
			"--certificate-oidc-issuer", custodyURL, "--artifact", tt.artifact, good)
		if (r.code == 0) != tt.ok {
			t.Errorf("%s: custody exit %d, want ok=%v\n%s%s", tt.name, r.code, tt.ok, r.stdout, r.stderr)
		}
	}
}
