package main

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/custody-dev/custody/internal/pgtest"
)

// TestKeylessReplicas: two custodyd processes on one PostgreSQL database, sharing the CA and the
// timestamp authority `custodyd ca init` wrote (the flags it prints) and one --external-url, as behind
// a load balancer. A run initialized through replica A and pushed keyless through replica B verifies
// with the trusted root `custody trusted-root` fetched from A; both serve the same trusted root, byte
// for byte.
func TestKeylessReplicas(t *testing.T) {
	t.Parallel()
	dbURL := pgtest.New(t)
	shared := filepath.Join(t.TempDir(), "authorities")
	authorities := caInitFlags(t, shared)
	args := append([]string{"--database-url", dbURL, "--external-url", testExternalURL}, authorities...)
	a := startDaemon(t, t.TempDir(), args...)
	admin := a.bootstrapToken()
	b := startDaemon(t, t.TempDir(), args...)

	if ra, rb := fetchTrustedRoot(t, a.url()), fetchTrustedRoot(t, b.url()); !bytes.Equal(ra, rb) {
		t.Fatalf("the replicas serve different trusted roots:\nA: %s\nB: %s", ra, rb)
	}
	for _, d := range []*daemon{a, b} {
		for _, dir := range []string{"ca", "tsa"} {
			if _, err := os.Stat(filepath.Join(d.dataDir, dir)); !os.IsNotExist(err) {
				t.Errorf("a replica given the authorities' files made its own in %s (%v)", filepath.Join(d.dataDir, dir), err)
			}
		}
	}

	p := bootstrap(t, a.url(), admin, contractArtifactAndString)
	viaA := p.pipeline(t, a.url())
	viaA.writeRandom("rootfs.tar.gz", 4096, 7)
	viaA.ok("attestation", "init", "--workflow", p.workflow, "--project", p.name)
	viaA.ok("attestation", "add", "--name", "artifact", "--value", "rootfs.tar.gz")
	viaA.ok("attestation", "add", "--name", "build-ref", "--value", "80e461e9b385c6986cdb8096c9dc99928943d667")
	viaB := &pipeline{t: t, dir: viaA.dir, env: append(append([]string{}, viaA.env...), "CUSTODY_CONTROL_PLANE="+b.url())}
	viaB.ok("attestation", "push", "--bundle", "attestation.sigstore.json") // no --key: keyless
	if !strings.Contains(b.log.String(), `"msg":"certificate issued"`) || strings.Contains(a.log.String(), `"msg":"certificate issued"`) {
		t.Fatal("replica B did not issue the certificate (or A did)")
	}
	tr := viaA.ok("trusted-root")
	if err := os.WriteFile(viaA.path("trusted_root.json"), []byte(tr.stdout), 0o644); err != nil {
		t.Fatal(err)
	}

	// An auditor, offline: the workflow's identity under the external URL both replicas certify.
	auditor := &pipeline{t: t, dir: viaA.dir, env: []string{"PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir()}}
	verify := func(artifact string) result {
		return auditor.run("attestation", "verify", "--trusted-root", "trusted_root.json", "--certificate-oidc-issuer", testExternalURL,
			"--workflow", p.workflow, "--project", p.name, "--artifact", artifact, "attestation.sigstore.json")
	}
	if r := verify("rootfs.tar.gz"); r.code != 0 || !strings.HasPrefix(r.stdout, "OK   attestation.sigstore.json: Verified OK") {
		t.Errorf("verify with A's trusted root of B's bundle: exit %d\nstdout: %s\nstderr: %s", r.code, r.stdout, r.stderr)
	}
	viaA.writeRandom("other.tar.gz", 4096, 8)
	if r := verify("other.tar.gz"); r.code != 7 {
		t.Errorf("verify for another file: exit %d, want 7\nstdout: %s", r.code, r.stdout)
	}
}

// caInitFlags runs `custodyd ca init --out dir` and returns the flags it says to start every replica with.
func caInitFlags(t *testing.T, dir string) []string {
	t.Helper()
	out, err := exec.Command(bins.custodyd, "ca", "init", "--out", dir).CombinedOutput()
	if err != nil {
		t.Fatalf("custodyd ca init: %v\n%s", err, out)
	}
	for _, line := range strings.Split(string(out), "\n") {
		if f := strings.Fields(line); len(f) == 8 && f[0] == "--ca-cert" {
			return f
		}
	}
	t.Fatalf("custodyd ca init printed no flags line:\n%s", out)
	return nil
}

// fetchTrustedRoot returns GET /v1/trusted-root of the control plane at url.
func fetchTrustedRoot(t *testing.T, url string) []byte {
	t.Helper()
	req, err := http.NewRequestWithContext(context.Background(), http.MethodGet, url+"/v1/trusted-root", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s/v1/trusted-root: %d %v\n%s", url, resp.StatusCode, err, b)
	}
	return b
}
