// These tests run the examples as GitLab runs them, with no secret: each job's ID token is exchanged
// at the control plane. They need the OIDC exchange (custodyd --oidc-issuer, custody workflow trust,
// internal/oidctest) and custody's GitLab token source (CUSTODY_ID_TOKEN).

package gitlabci

import (
	"encoding/json"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/custody-dev/custody/attestation"
	"github.com/custody-dev/custody/internal/oidctest"
)

// gitlabIdentity is the SAN of a certificate issued for oidctest.GitLabClaims(componentProject,
// "main"): the token's ci_config_ref_uri, as Fulcio names a GitLab pipeline.
var gitlabIdentity = regexp.QuoteMeta(componentProject+"//.gitlab-ci.yml@refs/heads/main") + "$"

// oidcControlPlane is a control plane that takes the test issuer's tokens, with a trust policy for
// the project's protected branches on the examples' workflow.
func oidcControlPlane(t *testing.T) (*controlPlane, *oidctest.Issuer) {
	t.Helper()
	iss := oidctest.New(t)
	cp := startControlPlane(t, "--oidc-issuer", iss.URL)
	cp.admin("workflow", "trust", "add", workflow, "--project", project, "--issuer", iss.URL,
		"--claim", "project_path="+componentProject, "--claim", "ref_protected=true")
	return cp, iss
}

// jobVars are the variables of a job whose ID token is token, on the GitLab the test issuer stands
// for: its URL is the server's (a self-managed GitLab's issuer is its URL), and the job's URL one of
// the token's project's jobs (GitLabClaims' job 302), so the runner context custody records is the
// one the control plane checks against the token's claims.
func jobVars(cp *controlPlane, iss *oidctest.Issuer, token string) map[string]string {
	return map[string]string{"CUSTODY_CONTROL_PLANE": cp.URL, "CUSTODY_ID_TOKEN": token,
		"CI_SERVER_URL": iss.URL, "CI_JOB_URL": iss.URL + "/" + componentProject + "/-/jobs/302"}
}

// verifyCI checks a bundle signed with a certificate of the GitLab pipeline's identity.
func verifyCI(t *testing.T, cp *controlPlane, iss *oidctest.Issuer, bundle, artifact string) {
	t.Helper()
	out, stderr, code := cp.custody("", "attestation", "verify", "--trusted-root", cp.TrustedRoot,
		"--certificate-identity-regexp", gitlabIdentity, "--certificate-oidc-issuer", iss.URL, "--artifact", artifact, bundle)
	if code != 0 || !strings.Contains(out, "Verified OK") {
		t.Errorf("verify %s: exit %d\n%s%s", bundle, code, out, stderr)
	}
}

// The single job of examples/gitlab/attest with its ID token alone: one exchange serves init, add
// and push, and the bundle names the pipeline.
func TestExampleAttestWithIDToken(t *testing.T) {
	t.Parallel()
	cp, iss := oidcControlPlane(t)
	dir := repository(t, localPipeline(t, "attest"))
	token := iss.Token(t, oidctest.GitLabClaims(componentProject, "main"))
	r := runPipeline(t, dir, false, jobVars(cp, iss, token))
	r.wantJobs(map[string]string{"build": "PASS", "custody-attest": "PASS"})
	bundle := r.artifact("custody-attest", "attestation.sigstore.json")
	verifyCI(t, cp, iss, bundle, dir+"/dist/app-amd64")
	b, err := os.ReadFile(bundle)
	if err != nil {
		t.Fatal(err)
	}
	doc, err := attestation.Read(b)
	if err != nil {
		t.Fatal(err)
	}
	var st struct{ Predicate attestation.Predicate }
	if err := json.Unmarshal(doc.Envelope.Payload, &st); err != nil {
		t.Fatal(err)
	}
	if r := st.Predicate.Runner; r == nil || r.Type != "GITLAB_PIPELINE" || !r.Authenticated || r.Issuer != iss.URL {
		t.Errorf("the predicate's runner %+v: want the GitLab job, authenticated by its token", r)
	}
	if log := r.log("custody-attest"); strings.Contains(log, token) {
		t.Error("the job log shows the ID token")
	}
}

// examples/gitlab/multi-stage job by job, each job with an ID token of its own as GitLab gives them
// (gitlab-ci-local has no id_tokens: one run per job); a token used by an earlier job is refused as
// a replay, and the job log says so.
func TestExampleMultiStageWithIDTokens(t *testing.T) {
	t.Parallel()
	cp, iss := oidcControlPlane(t)
	dir := repository(t, localPipeline(t, "multi-stage"))
	vars := func(token string) map[string]string { return jobVars(cp, iss, token) }
	initToken := iss.Token(t, oidctest.GitLabClaims(componentProject, "main"))
	runPipeline(t, dir, true, vars(initToken), "custody-init").wantJobs(map[string]string{"custody-init": "PASS"})
	runPipeline(t, dir, true, nil, "build").wantJobs(map[string]string{"build": "PASS"})

	replayed := runPipeline(t, dir, true, vars(initToken), "custody-add")
	replayed.wantJobs(map[string]string{"custody-add": "FAIL"})
	if log := replayed.log("custody-add"); !strings.Contains(log, "oidc_token_replayed") && !strings.Contains(log, "replay") {
		t.Errorf("the add job with init's token:\n%s", log)
	}

	for _, job := range []string{"custody-add", "custody-push"} {
		r := runPipeline(t, dir, true, vars(iss.Token(t, oidctest.GitLabClaims(componentProject, "main"))), job)
		r.wantJobs(map[string]string{job: "PASS"})
	}
	bundle := dir + "/.gitlab-ci-local/artifacts/custody-push/attestation.sigstore.json"
	verifyCI(t, cp, iss, bundle, dir+"/.gitlab-ci-local/artifacts/build/dist/app-arm64")
}

// A pipeline of an unprotected branch is not trusted: init fails with a line that names the claim.
func TestUntrustedPipelineIsRefused(t *testing.T) {
	t.Parallel()
	cp, iss := oidcControlPlane(t)
	dir := repository(t, localPipeline(t, "attest"))
	claims := oidctest.GitLabClaims(componentProject, "feature")
	claims["ref_protected"] = "false"
	r := runPipeline(t, dir, false, jobVars(cp, iss, iss.Token(t, claims)))
	r.wantJobs(map[string]string{"build": "PASS", "custody-attest": "FAIL"})
	if log := r.log("custody-attest"); !strings.Contains(log, "ref_protected") {
		t.Errorf("the job log does not name the claim that failed:\n%s", log)
	}
	if runs := cp.runs(); len(runs) != 0 {
		t.Errorf("runs %+v; want none", runs)
	}
}
