package main

import (
	"context"
	"encoding/json"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/custody-dev/custody/attestation"
	"github.com/custody-dev/custody/internal/cosigntest"
	"github.com/custody-dev/custody/internal/cptest"
	"github.com/custody-dev/custody/internal/oidctest"
)

// TestGitHubJobSignsAsItself: a GitHub Actions job with no secret (no CUSTODY_TOKEN; its
// ACTIONS_ID_TOKEN_REQUEST_* point at the test issuer's token endpoint), whose workflow trusts its
// repository by name and owner ID, runs init, add and push keyless. The bundle's certificate names
// the job as Fulcio would: cosign verifies it with GitHub's CI identity flags (and refuses it for
// another repository, ref, trigger, identity or issuer), custody verifies it with the same identity,
// and the attestation the control plane stored records the runner as authenticated by the token.
func TestGitHubJobSignsAsItself(t *testing.T) {
	t.Parallel()
	iss := oidctest.New(t)
	cp := cptest.New(t, cptest.Options{OIDCIssuers: []string{iss.URL}})
	cp.Workflow(t, "skynet", "build-and-test", outputContract, nil)
	claims := oidctest.GitHubClaims("acme/app", "refs/heads/main")
	cp.Trust(t, "skynet", "build-and-test", iss.URL, map[string]string{"repository": "acme/app",
		"repository_owner_id": claims["repository_owner_id"].(string)})
	requestURL, requestToken := iss.ActionsTokenServer(t, claims)

	w := onlineWorkspace(t, cp.URL)
	w.env = append(append(w.env, ciJob("github", w.dir, iss.URL, claims)...),
		"ACTIONS_ID_TOKEN_REQUEST_URL="+requestURL, "ACTIONS_ID_TOKEN_REQUEST_TOKEN="+requestToken)
	w.write("rootfs.tar.gz", "rootfs!")
	w.write("other.tar.gz", "not the rootfs")
	w.ok("attestation", "init", "--workflow", "build-and-test", "--project", "skynet")
	w.ok("attestation", "add", "--name", "rootfs", "--value", "rootfs.tar.gz")
	var pushed struct{ Digest, Identity string }
	if err := json.Unmarshal([]byte(w.ok("attestation", "push", "--bundle", keylessBundle, "-o", "json").stdout), &pushed); err != nil {
		t.Fatal(err)
	}
	// The SAN Fulcio gives a GitHub job: the job workflow ref, under the server of its issuer (here the
	// test issuer, as a GitHub Enterprise Server's issuer names its host).
	identity := iss.URL + "/acme/app/.github/workflows/build.yml@refs/heads/main"
	if pushed.Identity != identity {
		t.Fatalf("push signed as %q, want the job's identity %s", pushed.Identity, identity)
	}
	w.write("trusted_root.json", w.ok("trusted-root").stdout)

	stored, err := cp.Admin(t).GetBundle(context.Background(), pushed.Digest)
	if err != nil {
		t.Fatal(err)
	}
	w.write("stored.sigstore.json", string(stored))
	if r := runnerOf(t, filepath.Join(w.dir, "stored.sigstore.json")); r == nil || r.Type != "GITHUB_ACTION" || !r.Authenticated ||
		r.Issuer != iss.URL || r.Subject != "repo:acme/app:ref:refs/heads/main" || r.URL != iss.URL+"/acme/app/actions/runs/9000000001/attempts/1" {
		t.Errorf("the stored predicate's runner %+v: want the job's, authenticated by its token", r)
	}

	t.Run("custody", func(t *testing.T) {
		verify := func(identity, issuer, artifact string) result {
			return w.custody("attestation", "verify", "--trusted-root", "trusted_root.json", "--certificate-identity", identity,
				"--certificate-oidc-issuer", issuer, "--artifact", artifact, keylessBundle)
		}
		if r := verify(identity, iss.URL, "rootfs.tar.gz"); r.code != 0 || !strings.HasPrefix(r.stdout, "OK   "+keylessBundle+": Verified OK") {
			t.Errorf("custody verify with the job's identity: exit %d\nstdout: %s\nstderr: %s", r.code, r.stdout, r.stderr)
		}
		other := strings.Replace(identity, "acme/app", "acme/other", 1)
		if r := verify(other, iss.URL, "rootfs.tar.gz"); r.code != 7 || !strings.Contains(r.stdout, "FAIL "+keylessBundle) {
			t.Errorf("custody verify with another repository's identity: exit %d, want 7\nstdout: %s\nstderr: %s", r.code, r.stdout, r.stderr)
		}
	})
	t.Run("cosign", func(t *testing.T) {
		bin := cosigntest.Path(t)
		ci := []string{"--certificate-identity", identity, "--certificate-oidc-issuer", iss.URL,
			"--certificate-github-workflow-repository", "acme/app", "--certificate-github-workflow-ref", "refs/heads/main",
			"--certificate-github-workflow-trigger", "push"}
		verify := func(flags []string, artifact string) (string, error) {
			args := []string{"verify-blob-attestation", "--new-bundle-format", "--trusted-root", "trusted_root.json",
				"--use-signed-timestamps", "--insecure-ignore-tlog", "--insecure-ignore-sct"}
			return cosigntest.Run(t, bin, w.dir, "", append(append(args, flags...), "--type", attestation.PredicateType, "--bundle", keylessBundle, artifact)...)
		}
		if out, err := verify(ci, "rootfs.tar.gz"); err != nil || !strings.Contains(out, "Verified OK") {
			t.Errorf("cosign with the CI identity flags: %v\n%s", err, out)
		}
		with := func(flag, value string) []string {
			out := slices.Clone(ci)
			out[slices.Index(out, flag)+1] = value
			return out
		}
		for name, flags := range map[string][]string{
			"another repository": with("--certificate-github-workflow-repository", "acme/other"),
			"another ref":        with("--certificate-github-workflow-ref", "refs/heads/dev"),
			"another trigger":    with("--certificate-github-workflow-trigger", "pull_request"),
			"another identity":   with("--certificate-identity", strings.Replace(identity, "acme/app", "acme/other", 1)),
			"another issuer":     with("--certificate-oidc-issuer", cp.URL),
		} {
			if out, err := verify(flags, "rootfs.tar.gz"); err == nil || strings.Contains(out, "Verified OK") {
				t.Errorf("cosign verified the bundle with %s (%v)\n%s", name, err, out)
			}
		}
		if out, err := verify(ci, "other.tar.gz"); err == nil || strings.Contains(out, "Verified OK") {
			t.Errorf("cosign verified the bundle for another file (%v)\n%s", err, out)
		}
	})
}
