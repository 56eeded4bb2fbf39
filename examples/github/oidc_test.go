package github_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/custody-dev/custody/attestation"
	"github.com/custody-dev/custody/internal/cosigntest"
	"github.com/custody-dev/custody/internal/oidctest"
)

// oidcSetup starts a test OIDC issuer and a GitHub-Actions-shaped token endpoint (what the runner's
// ACTIONS_ID_TOKEN_REQUEST_URL/_TOKEN point at) that hands out ID tokens with GitHub's claims for a run
// of the repository at ref, and returns the issuer's URL and the job's environment: the endpoint's URL
// and request token, and the server and run the tokens name. The control plane stores a runner context
// as authenticated only when it is the token's run on the token's server (docs/attestation.md): the test
// issuer stands where a GitHub Enterprise Server would, under its own URL, and act's run is told its
// run ID and attempt.
func oidcSetup(t *testing.T, repo, ref string) (issuer string, env []string) {
	iss := oidctest.New(t)
	claims := oidctest.GitHubClaims(repo, ref)
	requestURL, requestToken := iss.ActionsTokenServer(t, claims)
	return iss.URL, []string{"ACTIONS_ID_TOKEN_REQUEST_URL=" + requestURL, "ACTIONS_ID_TOKEN_REQUEST_TOKEN=" + requestToken,
		"GITHUB_SERVER_URL=" + iss.URL, "GITHUB_RUN_ID=" + claims["run_id"].(string), "GITHUB_RUN_ATTEMPT=" + claims["run_attempt"].(string)}
}

// TestExamplesUnderActOIDC: the examples as users run them, with no secret: no CUSTODY_TOKEN, each job's
// steps exchange the job's OIDC token (from ACTIONS_ID_TOKEN_REQUEST_URL, as act is told to set it) for a
// credential of the workflow, which its trust policy (repository and ref) allows. The run succeeds, the
// credential never shows unmasked in the log, and cosign verifies the bundle with GitHub's workflow
// identity flags.
func TestExamplesUnderActOIDC(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ example, ref, job string }{
		{"single-job.yml", "refs/heads/main", "build"},
		{"build-and-attest.yml", "refs/heads/main", "attest"},
		{"reusable-caller.yml", "refs/tags/v1.0.0", "release"},
	} {
		t.Run(tc.example, func(t *testing.T) {
			t.Parallel()
			issuer, env := oidcSetup(t, "acme/app", tc.ref)
			cp := startControlPlane(t, readContract(t), "--oidc-issuer", issuer)
			cp.custody(t, t.TempDir(), "workflow", "trust", "add", "build-and-test", "--project", "skynet", "--issuer", issuer,
				"--claim", "repository=acme/app", "--claim", "ref="+tc.ref)
			repo := newActRepo(t, tc.example)
			run := repo.run(t, cp, tc.ref, env...)
			digest, subject := checkPushed(t, cp, repo, run, tc.job)
			if printed := run.printed(); strings.Contains(printed, "cst_") {
				t.Errorf("a custody credential shows in the log:\n%s", printed)
			}
			cosignVerifiesGitHubIdentity(t, cp, issuer, digest, subject)
		})
	}
}

// cosignVerifiesGitHubIdentity fetches the bundle, the artifact it is about (from the control plane's
// CAS) and the trusted root, and verifies with cosign's GitHub workflow identity flags.
func cosignVerifiesGitHubIdentity(t *testing.T, cp *controlPlane, issuer, digest, subject string) {
	t.Helper()
	bin := cosigntest.Path(t)
	dir := t.TempDir()
	write := func(name, content string) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("bundle.json", cp.custody(t, dir, "attestation", "get", digest, "--output", "bundle"))
	write("trusted_root.json", cp.custody(t, dir, "trusted-root"))
	cp.custody(t, dir, "artifact", "download", subject, "-o", "app.tar.gz")
	cmd := exec.Command(bin, "verify-blob-attestation", "--new-bundle-format", "--trusted-root", "trusted_root.json",
		"--insecure-ignore-tlog", "--insecure-ignore-sct", "--use-signed-timestamps",
		// The CI's web URL is GitHub's for GitHub's issuer; a test issuer stands where a GitHub
		// Enterprise Server would, under its own URL (controlplane/ca.Workload).
		"--certificate-oidc-issuer", issuer, "--certificate-identity-regexp", "^"+regexp.QuoteMeta(issuer)+`/acme/app/\.github/workflows/`,
		"--certificate-github-workflow-repository", "acme/app",
		"--type", attestation.PredicateType, "--bundle", "bundle.json", "app.tar.gz")
	cmd.Dir = dir
	if out, err := cmd.CombinedOutput(); err != nil || !strings.Contains(string(out), "Verified OK") {
		t.Fatalf("cosign with the GitHub workflow identity: %v\n%s", err, out)
	}
}
