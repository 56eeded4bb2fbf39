package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/custody-dev/custody/attestation"
	"github.com/custody-dev/custody/cli"
	"github.com/custody-dev/custody/internal/cptest"
	"github.com/custody-dev/custody/internal/oidctest"
	"github.com/custody-dev/custody/wire"
)

// ciJob is the environment a CI job gives custody, as GitHub Actions or GitLab CI/CD set it for
// the job an ID token of the test issuer names: the same repository, run and server (the issuer's
// URL, as a GitHub Enterprise Server's or a self-managed GitLab's), its workspace dir.
func ciJob(ci, dir, server string, claims map[string]any) []string {
	c := func(name string) string { return fmt.Sprint(claims[name]) }
	if ci == "github" {
		return []string{"CI=true", "GITHUB_ACTIONS=true", "GITHUB_SERVER_URL=" + server, "GITHUB_REPOSITORY=" + c("repository"),
			"GITHUB_REPOSITORY_OWNER=" + c("repository_owner"), "GITHUB_REPOSITORY_ID=" + c("repository_id"),
			"GITHUB_REPOSITORY_OWNER_ID=" + c("repository_owner_id"), "GITHUB_RUN_ID=" + c("run_id"), "GITHUB_RUN_ATTEMPT=" + c("run_attempt"),
			"GITHUB_RUN_NUMBER=" + c("run_number"), "GITHUB_SHA=" + c("sha"), "GITHUB_REF=" + c("ref"), "GITHUB_WORKFLOW=" + c("workflow"),
			"GITHUB_WORKFLOW_REF=" + c("workflow_ref"), "GITHUB_EVENT_NAME=" + c("event_name"), "GITHUB_ACTOR=" + c("actor"),
			"GITHUB_JOB=attest", "RUNNER_ENVIRONMENT=" + c("runner_environment"), "GITHUB_WORKSPACE=" + dir}
	}
	project := c("project_path")
	return []string{"CI=true", "GITLAB_CI=true", "CI_SERVER_URL=" + server, "CI_PROJECT_PATH=" + project, "CI_PROJECT_ID=" + c("project_id"),
		"CI_PIPELINE_ID=" + c("pipeline_id"), "CI_PIPELINE_SOURCE=" + c("pipeline_source"), "CI_JOB_ID=" + c("job_id"), "CI_JOB_NAME=attest",
		"CI_JOB_URL=" + server + "/" + project + "/-/jobs/" + c("job_id"), "CI_COMMIT_SHA=" + c("sha"), "CI_COMMIT_REF_NAME=" + c("ref"),
		"CI_PROJECT_DIR=" + dir}
}

// jobClaims are the claims of the test issuer's tokens for a job of cyberdyne/skynet's main branch.
func jobClaims(ci string) map[string]any {
	if ci == "github" {
		return oidctest.GitHubClaims("cyberdyne/skynet", "refs/heads/main")
	}
	return oidctest.GitLabClaims("cyberdyne/skynet", "main")
}

// oidcJob is a CI job's workspace, with no custody token of its own, on a control plane that
// exchanges the test issuer's ID tokens for credentials of skynet/build-and-test when they are of
// cyberdyne/skynet's main branch.
type oidcJob struct {
	*workspace
	cp  *cptest.Server
	iss *oidctest.Issuer
	// idToken is the GitLab job's token (GitHub's are fresh at each request).
	idToken string
}

// newOIDCJob starts the job; edit, when given, changes the claims of its tokens.
func newOIDCJob(t *testing.T, ci string, edit func(map[string]any)) *oidcJob {
	t.Helper()
	j := &oidcJob{iss: oidctest.New(t)}
	j.cp = cptest.New(t, cptest.Options{OIDCIssuers: []string{j.iss.URL}, Record: true})
	j.cp.Workflow(t, "skynet", "build-and-test", outputContract, nil)
	claims := jobClaims(ci)
	if ci == "github" {
		j.cp.Trust(t, "skynet", "build-and-test", j.iss.URL, map[string]string{"repository": "cyberdyne/skynet",
			"repository_owner_id": claims["repository_owner_id"].(string), "ref": "refs/heads/main"})
	} else {
		j.cp.Trust(t, "skynet", "build-and-test", j.iss.URL, map[string]string{"project_path": "cyberdyne/skynet", "ref_protected": "true"})
	}
	j.workspace = onlineWorkspace(t, j.cp.URL)
	j.env = append(j.env, ciJob(ci, j.dir, j.iss.URL, claims)...)
	if edit != nil {
		edit(claims)
	}
	switch ci {
	case "github":
		url, requestToken := j.iss.ActionsTokenServer(t, claims)
		j.env = append(j.env, "ACTIONS_ID_TOKEN_REQUEST_URL="+url, "ACTIONS_ID_TOKEN_REQUEST_TOKEN="+requestToken)
	case "gitlab":
		j.idToken = j.iss.Token(t, claims)
		j.env = append(j.env, "CUSTODY_ID_TOKEN="+j.idToken)
	}
	j.write("rootfs.tar.gz", "rootfs!")
	return j
}

func (j *oidcJob) credentialFile() string {
	return filepath.Join(j.dir, ".custody", "attestation.json.credential")
}

// kept is the credential kept beside the state.
func (j *oidcJob) kept() string {
	j.t.Helper()
	var k struct{ Token string }
	if err := json.Unmarshal(cptest.ReadFile(j.t, j.credentialFile()), &k); err != nil || k.Token == "" {
		j.t.Fatalf("kept credential: %v", err)
	}
	return k.Token
}

// run runs a step and checks it printed neither a custody credential nor an ID token.
func (j *oidcJob) run(args ...string) result {
	j.t.Helper()
	r := j.custody(args...)
	for _, secret := range []string{"cst_", "eyJhbGciOi"} { // a custody token; a JWT's header
		if strings.Contains(unmasked(r.stdout+r.stderr), secret) {
			j.t.Errorf("custody %s printed a credential or an ID token:\n%s%s", strings.Join(args, " "), r.stdout, r.stderr)
		}
	}
	return r
}

// exchangeCalls counts the exchanges asked for (granted or not).
func exchangeCalls(cp *cptest.Server) int {
	n := 0
	for _, c := range cp.Calls() {
		if c.Path == "/v1/auth/oidc" {
			n++
		}
	}
	return n
}

// In CI with no custody token, init, add and push exchange the runner's OIDC token once: the
// credential is kept beside the state (mode 0600) for the next steps, and removed with the state.
func TestOIDCExchangeServesTheJob(t *testing.T) {
	t.Parallel()
	for _, ci := range []string{"github", "gitlab"} {
		t.Run(ci, func(t *testing.T) {
			t.Parallel()
			j := newOIDCJob(t, ci, nil)
			if r := j.run("attestation", "init", "--workflow", "build-and-test", "--project", "skynet"); r.code != 0 {
				t.Fatalf("init: exit %d\n%s", r.code, r.stderr)
			}
			info, err := os.Stat(j.credentialFile())
			if err != nil || info.Mode().Perm() != 0o600 {
				t.Fatalf("kept credential: %v, %v; want mode 0600", info, err)
			}
			if b := cptest.ReadFile(t, j.credentialFile()); bytes.Contains(b, []byte("eyJhbGciOi")) {
				t.Errorf("the kept credential holds the ID token")
			}
			credential := j.kept()
			if r := j.run("attestation", "add", "--name", "rootfs", "--value", "rootfs.tar.gz"); r.code != 0 {
				t.Fatalf("add: exit %d\n%s", r.code, r.stderr)
			}
			push := j.run("attestation", "push", "--bundle", "attestation.sigstore.json")
			if push.code != 0 {
				t.Fatalf("push: exit %d\n%s", push.code, push.stderr)
			}
			if n, granted := exchangeCalls(j.cp), j.cp.Exchanges(); n != 1 || granted != 1 {
				t.Errorf("%d exchanges asked, %d granted, for init, add and push: want 1", n, granted)
			}
			who, err := j.cp.Client(t, credential).WhoAmI(t.Context())
			if err != nil || who.Project != "skynet" || who.Workflow != "build-and-test" || !strings.HasPrefix(who.Name, "workload ") {
				t.Errorf("the exchanged credential is %+v, %v: want a workload of skynet/build-and-test", who, err)
			}
			for _, c := range j.cp.Calls() {
				if (c.Path == "/v1/runs" || c.Path == "/v1/blobs") && c.Bearer != credential {
					t.Errorf("%s %s carried another credential than the exchanged one", c.Method, c.Path)
				}
			}
			if _, err := os.Stat(j.credentialFile()); !os.IsNotExist(err) {
				t.Errorf("the kept credential outlived the pushed state: %v", err)
			}
			sub := jobClaims(ci)["sub"]
			if r := runnerOf(t, filepath.Join(j.dir, "attestation.sigstore.json")); r == nil || !r.Authenticated || r.Issuer != j.iss.URL ||
				!strings.HasPrefix(r.Subject, strings.Split(sub.(string), ":")[0]+":cyberdyne/skynet:") {
				t.Errorf("the predicate's runner %+v: want it authenticated by the job's token", r)
			}
		})
	}
}

// runnerOf is the runner the predicate of a bundle file records.
func runnerOf(t *testing.T, bundle string) *attestation.Runner {
	t.Helper()
	doc, err := attestation.Read(cptest.ReadFile(t, bundle))
	if err != nil {
		t.Fatal(err)
	}
	var st struct{ Predicate attestation.Predicate }
	if err := json.Unmarshal(doc.Envelope.Payload, &st); err != nil {
		t.Fatal(err)
	}
	return st.Predicate.Runner
}

// A job that pushes with a custody token (CUSTODY_TOKEN) records its runner as it is, not
// authenticated: no token of the CI vouched for it.
func TestOIDCRunnerNotAuthenticatedWithACustodyToken(t *testing.T) {
	t.Parallel()
	j := newOIDCJob(t, "github", nil)
	j.env = append(j.env, "CUSTODY_TOKEN="+j.cp.Workflow(t, "skynet", "build-and-test-2", outputContract, nil))
	j.ok("attestation", "init", "--workflow", "build-and-test-2", "--project", "skynet")
	j.ok("attestation", "add", "--name", "rootfs", "--value", "rootfs.tar.gz")
	j.ok("attestation", "push", "--bundle", "attestation.sigstore.json")
	if r := runnerOf(t, filepath.Join(j.dir, "attestation.sigstore.json")); r == nil || r.Type != "GITHUB_ACTION" || r.ClaimsAuthenticated() {
		t.Errorf("the predicate's runner %+v: want the GitHub runner, not authenticated", r)
	}
	if n := exchangeCalls(j.cp); n != 0 {
		t.Errorf("%d exchanges with a custody token", n)
	}
}

// A kept credential that expired is exchanged again where the runner gives a fresh token (GitHub),
// and reported where the job's one token was used (GitLab), the state left as it was.
func TestOIDCExpiredCredential(t *testing.T) {
	t.Parallel()
	// A token that expires in 20 s buys a credential that expires with it: inside the 30 s margin,
	// so expired for the next step.
	soon := func(c map[string]any) { c["exp"] = time.Now().Add(20 * time.Second).Unix() }
	gh := newOIDCJob(t, "github", soon)
	gh.ok("attestation", "init", "--workflow", "build-and-test", "--project", "skynet")
	gh.ok("attestation", "add", "--name", "rootfs", "--value", "rootfs.tar.gz")
	if n, granted := exchangeCalls(gh.cp), gh.cp.Exchanges(); n != 2 || granted != 2 {
		t.Errorf("github: %d exchanges asked, %d granted, want 2 of 2 tokens", n, granted)
	}

	gl := newOIDCJob(t, "gitlab", soon)
	gl.ok("attestation", "init", "--workflow", "build-and-test", "--project", "skynet")
	before := gl.stateBytes()
	r := gl.run("attestation", "add", "--name", "rootfs", "--value", "rootfs.tar.gz")
	if r.code != 8 || !strings.Contains(r.stderr, "the credential this job's OIDC token was exchanged for expires at") ||
		!strings.Contains(r.stderr, "the control plane exchanges a token once: run the job's custody steps within the credential's lifetime") {
		t.Errorf("gitlab add after expiry: exit %d\n%s", r.code, r.stderr)
	}
	if n := exchangeCalls(gl.cp); n != 1 {
		t.Errorf("gitlab: %d exchanges asked, want 1 (the token is not presented twice)", n)
	}
	if !bytes.Equal(before, gl.stateBytes()) {
		t.Errorf("the refused add changed the state")
	}
}

// Each error a pipeline hits says what to change, with its exit code, and starts nothing.
func TestOIDCRefusals(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		ci    string
		edit  func(map[string]any) // the job's token claims
		env   []string
		spent bool // the job's token was exchanged elsewhere first
		code  int
		want  string
	}{
		{name: "github without id-token: write", ci: "github", env: []string{"ACTIONS_ID_TOKEN_REQUEST_URL=", "ACTIONS_ID_TOKEN_REQUEST_TOKEN="}, code: 8,
			want: "ERR init: GitHub Actions gives this job no ID token (ACTIONS_ID_TOKEN_REQUEST_URL and ACTIONS_ID_TOKEN_REQUEST_TOKEN are unset): add `permissions: id-token: write` to the workflow or the job"},
		{name: "gitlab without id_tokens", ci: "gitlab", env: []string{"CUSTODY_ID_TOKEN="}, code: 8,
			want: "ERR init: GitLab gives this job no ID token in CUSTODY_ID_TOKEN: declare it in the job, `id_tokens: {CUSTODY_ID_TOKEN: {aud: custody}}`, or pass --token"},
		{name: "a trust policy that does not match", ci: "github", edit: func(c map[string]any) { c["ref"] = "refs/heads/dev" }, code: 8,
			want: "the token's claims that failed: policy 1: ref=refs/heads/dev (403 trust_policy_unmatched); custody workflow trust list build-and-test --project skynet shows the workflow's policies"},
		{name: "an audience that is not the control plane's", ci: "github", env: []string{"CUSTODY_OIDC_AUDIENCE=https://elsewhere.example"}, code: 8,
			want: "(401 oidc_token_invalid)"},
		{name: "a GitLab token exchanged before", ci: "gitlab", spent: true, code: 8, want: "was exchanged before: a token is exchanged once; get a fresh one (401 oidc_token_replayed)"},
		{name: "a GitLab id_tokens variable with a bad name", ci: "gitlab", env: []string{"CUSTODY_OIDC_TOKEN_VAR=ID-TOKEN"}, code: 2,
			want: `ERR CUSTODY_OIDC_TOKEN_VAR="ID-TOKEN": want a variable name`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			j := newOIDCJob(t, tt.ci, tt.edit)
			j.env = append(j.env, tt.env...)
			if tt.spent {
				if _, err := j.cp.Client(t, "").ExchangeOIDC(t.Context(), wire.ExchangeOIDC{Token: j.idToken, Project: "skynet", Workflow: "build-and-test"}); err != nil {
					t.Fatal(err)
				}
			}
			r := j.run("attestation", "init", "--workflow", "build-and-test", "--project", "skynet")
			if r.code != tt.code || !strings.Contains(r.stderr, tt.want) {
				t.Errorf("init: exit %d, want %d with %q:\n%s", r.code, tt.code, tt.want, r.stderr)
			}
			// One message for the log, and in a GitHub job the same as one error annotation.
			if lines := strings.Count(strings.TrimSpace(logLines(r.stderr)), "\n"); lines != 0 {
				t.Errorf("want one message, got %d lines:\n%s", lines+1, r.stderr)
			}
			if tt.ci == "github" && strings.Count(r.stderr, "::error ") != 1 {
				t.Errorf("want one error annotation:\n%s", r.stderr)
			}
			if _, err := os.Stat(filepath.Join(j.dir, ".custody")); !os.IsNotExist(err) {
				t.Errorf("a refused init left %s: %v", filepath.Join(j.dir, ".custody"), err)
			}
			for _, c := range j.cp.Calls() {
				if c.Path == "/v1/runs" && c.Bearer != j.cp.AdminToken {
					t.Errorf("a refused init started a run")
				}
			}
		})
	}
}

// The contract's runner type is enforced at init, exit 4 naming the runner needed and the one
// detected; --dry-run tries the contract anywhere.
func TestInitEnforcesTheContractsRunner(t *testing.T) {
	t.Parallel()
	w := newWorkspace(t)
	w.env = append(w.env, ciJob("github", w.dir, "https://github.com", jobClaims("github"))...)
	w.write("contract.yaml", outputContract+"  runner:\n    type: GITLAB_PIPELINE\n")
	r := w.custody("attestation", "init", "--workflow", "w", "--project", "p", "--contract", "contract.yaml")
	want := "ERR init: contract not satisfied: the contract demands runner GITLAB_PIPELINE (GitLab CI/CD), this is GITHUB_ACTION (GitHub Actions): " +
		"run it on GitLab CI/CD, or change the contract's spec.runner\n"
	if r.code != 4 || logLines(r.stderr) != want || !strings.Contains(r.stderr, "::error title=custody attestation init failed::") {
		t.Errorf("init: exit %d\n%s\nwant exit 4\n%s", r.code, r.stderr, want)
	}
	w.ok("attestation", "init", "--workflow", "w", "--project", "p", "--contract", "contract.yaml", "--dry-run")
}

// The credential order: --token, CUSTODY_TOKEN, the runner's OIDC exchange (when a workflow is
// known), then the config file. Each case runs a command in this process and looks at the bearer
// the control plane got.
func TestCredentialOrder(t *testing.T) {
	t.Parallel()
	const runID = "0b5e6c4e-8f0a-4f6e-9d43-1a2b3c4d5e6f"
	init := []string{"attestation", "init", "--workflow", "build-and-test", "--project", "skynet"}
	status := []string{"attestation", "status", "--attestation-id", runID}
	noPermission := []string{"ACTIONS_ID_TOKEN_REQUEST_URL=", "ACTIONS_ID_TOKEN_REQUEST_TOKEN="}
	jenkins := []string{"JENKINS_URL=https://ci.acme.internal/", "JOB_NAME=skynet", "BUILD_NUMBER=1", "BUILD_TAG=jenkins-skynet-1"}
	const github, explicit = "github", "explicit" // a GitHub Actions job with a token endpoint; an ID token to give
	tests := []struct {
		name     string
		args     []string
		ci       []string // the job's environment, or {github}
		env      []string // "explicit" is replaced by an ID token of the workflow's trusted repository
		config   bool
		want     string // the bearer the control plane got: flag, env, config, or exchanged
		code     int
		stderr   string
		exchange int
	}{
		{name: "--token first", args: append(slices.Clone(init), "--token", "flag"), ci: []string{github}, env: []string{"CUSTODY_TOKEN=env"}, config: true, want: "flag"},
		{name: "then CUSTODY_TOKEN", args: init, ci: []string{github}, env: []string{"CUSTODY_TOKEN=env"}, config: true, want: "env"},
		{name: "then the runner's OIDC exchange", args: init, ci: []string{github}, config: true, want: "exchanged", exchange: 1},
		{name: "--oidc-token on a runner without one", args: append(slices.Clone(init), "--oidc-token", explicit), ci: jenkins, config: true,
			want: "exchanged", exchange: 1},
		{name: "CUSTODY_OIDC_TOKEN on no runner", args: init, env: []string{"CUSTODY_OIDC_TOKEN=" + explicit}, want: "exchanged", exchange: 1},
		{name: "the config file when the runner gives no token", args: init, ci: []string{github}, env: noPermission, config: true, want: "config"},
		{name: "the config file on a runner without OIDC", args: init, ci: jenkins, config: true, want: "config"},
		{name: "the config file when no workflow is known", args: status, ci: []string{github}, config: true, want: "config", code: 6},
		{name: "CUSTODY_WORKFLOW and CUSTODY_PROJECT name it", args: status, ci: []string{github},
			env: []string{"CUSTODY_WORKFLOW=build-and-test", "CUSTODY_PROJECT=skynet"}, config: true, want: "exchanged", code: 6, exchange: 1},
		{name: "no workflow known and no config file", args: status, ci: []string{github}, code: 8,
			stderr: "the runner's OIDC token is exchanged for one workflow, and none is known here"},
		{name: "no token from the runner and no config file", args: init, ci: []string{github}, env: noPermission, code: 8,
			stderr: "add `permissions: id-token: write` to the workflow or the job"},
		{name: "no token at all", args: init, code: 2, stderr: "no token for the control plane at"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			iss := oidctest.New(t)
			cp := cptest.New(t, cptest.Options{OIDCIssuers: []string{iss.URL}, NoKeyless: true, Record: true})
			cp.Workflow(t, "skynet", "build-and-test", outputContract, nil)
			cp.Trust(t, "skynet", "build-and-test", iss.URL, map[string]string{"repository": "cyberdyne/skynet"})
			tokens := map[string]string{}
			for _, name := range []string{"flag", "env", "config"} {
				tok, err := cp.Admin(t).CreateToken(t.Context(), wire.CreateToken{Name: name, Project: "skynet", Workflow: "build-and-test"})
				if err != nil {
					t.Fatal(err)
				}
				tokens[name] = tok.Secret
			}
			dir, home := t.TempDir(), t.TempDir()
			env := map[string]string{"HOME": home, "CUSTODY_CONTROL_PLANE": cp.URL, "CUSTODY_RETRY_DEADLINE": "0"}
			claims := jobClaims(github)
			vars := slices.Clone(tt.env)
			if slices.Equal(tt.ci, []string{github}) {
				url, requestToken := iss.ActionsTokenServer(t, claims)
				vars = append(append(ciJob(github, dir, iss.URL, claims), "ACTIONS_ID_TOKEN_REQUEST_URL="+url, "ACTIONS_ID_TOKEN_REQUEST_TOKEN="+requestToken), vars...)
			} else {
				vars = append(slices.Clone(tt.ci), vars...)
			}
			args := slices.Clone(tt.args)
			for i, a := range args {
				if a == "flag" && i > 0 && args[i-1] == "--token" {
					args[i] = tokens["flag"]
				}
				if a == explicit {
					args[i] = iss.Token(t, claims)
				}
			}
			for _, kv := range vars {
				k, v, _ := strings.Cut(kv, "=")
				switch {
				case k == "CUSTODY_TOKEN":
					v = tokens[v]
				case v == explicit:
					v = iss.Token(t, claims)
				}
				env[k] = v
			}
			if tt.config {
				cfg := filepath.Join(home, ".config", "custody", "config.json")
				if err := os.MkdirAll(filepath.Dir(cfg), 0o700); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(cfg, []byte(`{"token":"`+tokens["config"]+`"}`), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			setup := len(cp.Calls())
			var stdout, stderr bytes.Buffer
			err := cli.Execute(context.Background(), cli.Env{Getenv: func(k string) string { return env[k] }, Stdout: &stdout, Stderr: &stderr,
				Now: time.Now, Workdir: dir, Version: "dev"}, args)
			if code := codeOf(err); code != tt.code || (tt.stderr != "" && (err == nil || !strings.Contains(err.Error(), tt.stderr))) {
				t.Fatalf("exit %d (%v), want %d with %q", code, err, tt.code, tt.stderr)
			}
			var got []string
			for _, c := range cp.Calls()[setup:] {
				if c.Path != "/v1/auth/oidc" {
					got = append(got, c.Bearer)
				}
			}
			switch {
			case tt.want == "":
				if len(got) != 0 {
					t.Errorf("the control plane was called: %q", got)
				}
			case len(got) == 0:
				t.Errorf("the control plane was not called, want the %s token", tt.want)
			case tt.want == "exchanged":
				who, err := cp.Client(t, got[0]).WhoAmI(t.Context())
				if err != nil || !strings.HasPrefix(who.Name, "workload ") {
					t.Errorf("the control plane got %+v (%v) first, want the exchanged credential", who, err)
				}
				if strings.Contains(unmasked(stdout.String()+stderr.String()), got[0]) {
					t.Errorf("the exchanged credential was printed")
				}
			case got[0] != tokens[tt.want]:
				t.Errorf("the control plane got bearers %q, want the %s token first", got, tt.want)
			}
			if n := cp.Exchanges(); n != tt.exchange {
				t.Errorf("%d exchanges, want %d", n, tt.exchange)
			}
		})
	}
}

// unmasked is what a step printed but its ::add-mask:: commands: in a GitHub Actions step custody
// tells the runner each secret to hide before anything could print it, and the runner never shows
// those lines; every other line must hold no secret.
func unmasked(printed string) string {
	var keep []string
	for _, line := range strings.Split(printed, "\n") {
		if !strings.HasPrefix(line, "::add-mask::") {
			keep = append(keep, line)
		}
	}
	return strings.Join(keep, "\n")
}

// logLines is what a step printed but the workflow commands (::add-mask::, ::error ...::) a GitHub
// Actions runner takes out of the log.
func logLines(printed string) string {
	var keep []string
	for _, line := range strings.SplitAfter(printed, "\n") {
		if !strings.HasPrefix(line, "::") {
			keep = append(keep, line)
		}
	}
	return strings.Join(keep, "")
}
