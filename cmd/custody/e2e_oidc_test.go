package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/custody-dev/custody/cli"
	"github.com/custody-dev/custody/internal/cptest"
	"github.com/custody-dev/custody/wire"
)

// oidcJob is a CI job's workspace on a control plane whose OIDC exchange is served by a stand-in
// (oidc_standin_test.go), with no custody token of its own.
type oidcJob struct {
	*workspace
	standIn    *exchangeStandIn
	actions    *actionsTokenService
	credential string
}

func newOIDCJob(t *testing.T, ci string, ttl time.Duration) *oidcJob {
	t.Helper()
	cp := cptest.New(t, cptest.Options{})
	credential := cp.Workflow(t, "skynet", "build-and-test", outputContract, nil)
	j := &oidcJob{standIn: newExchangeStandIn(t, cp, credential), credential: credential}
	j.standIn.ttl.Store(int64(ttl))
	j.workspace = onlineWorkspace(t, j.standIn.URL)
	switch ci {
	case "github":
		j.actions = newActionsTokenService(t)
		j.env = append(append(j.env, gitHubJob(j.dir)...), "ACTIONS_ID_TOKEN_REQUEST_URL="+j.actions.URL,
			"ACTIONS_ID_TOKEN_REQUEST_TOKEN="+j.actions.RequestToken)
	case "gitlab":
		j.env = append(append(j.env, gitLabJob(j.dir)...), "CUSTODY_ID_TOKEN="+idToken(1))
	}
	j.write("rootfs.tar.gz", "rootfs!")
	return j
}

func (j *oidcJob) credentialFile() string {
	return filepath.Join(j.dir, ".custody", "attestation.json.credential")
}

// run runs a step and checks it printed neither the credential nor an ID token.
func (j *oidcJob) run(args ...string) result {
	j.t.Helper()
	r := j.custody(args...)
	for _, secret := range []string{j.credential, idToken(1), "eyJhbGciOiJSUzI1NiIsImtpZCI6IjEifQ"} {
		if strings.Contains(unmasked(r.stdout+r.stderr), secret) {
			j.t.Errorf("custody %s printed a credential or an ID token:\n%s%s", strings.Join(args, " "), r.stdout, r.stderr)
		}
	}
	return r
}

// In CI with no custody token, init, add and push exchange the runner's OIDC token once: the
// credential is kept beside the state (mode 0600) for the next steps, and removed with the state.
func TestOIDCExchangeServesTheJob(t *testing.T) {
	t.Parallel()
	for _, ci := range []string{"github", "gitlab"} {
		t.Run(ci, func(t *testing.T) {
			t.Parallel()
			j := newOIDCJob(t, ci, 15*time.Minute)
			if r := j.run("attestation", "init", "--workflow", "build-and-test", "--project", "skynet"); r.code != 0 {
				t.Fatalf("init: exit %d\n%s", r.code, r.stderr)
			}
			info, err := os.Stat(j.credentialFile())
			if err != nil || info.Mode().Perm() != 0o600 {
				t.Fatalf("kept credential: %v, %v; want mode 0600", info, err)
			}
			if b, _ := os.ReadFile(j.credentialFile()); bytes.Contains(b, []byte(idToken(1))) {
				t.Errorf("the kept credential holds the ID token")
			}
			if r := j.run("attestation", "add", "--name", "rootfs", "--value", "rootfs.tar.gz"); r.code != 0 {
				t.Fatalf("add: exit %d\n%s", r.code, r.stderr)
			}
			if r := j.run("attestation", "push", "--bundle", "attestation.sigstore.json"); r.code != 0 {
				t.Fatalf("push: exit %d\n%s", r.code, r.stderr)
			}
			if n := j.standIn.exchanges.Load(); n != 1 {
				t.Errorf("%d exchanges for init, add and push: want 1", n)
			}
			if j.actions != nil && j.actions.issued.Load() != 1 {
				t.Errorf("GitHub's token service issued %d tokens, want 1", j.actions.issued.Load())
			}
			j.standIn.mu.Lock()
			req := slices.Clone(j.standIn.requests)
			j.standIn.mu.Unlock()
			if len(req) != 1 || req[0].Project != "skynet" || req[0].Workflow != "build-and-test" {
				t.Errorf("exchange requests %+v, want one for skynet/build-and-test", req)
			}
			for _, path := range []string{"/v1/runs", "/v1/blobs"} {
				if b := j.standIn.bearers("POST", path); len(b) == 0 || slices.ContainsFunc(b, func(s string) bool { return s != j.credential }) {
					t.Errorf("POST %s carried %q, want the exchanged credential", path, b)
				}
			}
			if _, err := os.Stat(j.credentialFile()); !os.IsNotExist(err) {
				t.Errorf("the kept credential outlived the pushed state: %v", err)
			}
		})
	}
}

// A kept credential that expired is exchanged again where the runner gives a fresh token (GitHub),
// and reported where the job's one token was used (GitLab), the state left as it was.
func TestOIDCExpiredCredential(t *testing.T) {
	t.Parallel()
	const soon = 20 * time.Second // inside the margin before expiry: expired for the next step
	gh := newOIDCJob(t, "github", soon)
	gh.ok("attestation", "init", "--workflow", "build-and-test", "--project", "skynet")
	gh.ok("attestation", "add", "--name", "rootfs", "--value", "rootfs.tar.gz")
	if n, issued := gh.standIn.exchanges.Load(), gh.actions.issued.Load(); n != 2 || issued != 2 {
		t.Errorf("github: %d exchanges of %d tokens, want 2 of 2", n, issued)
	}

	gl := newOIDCJob(t, "gitlab", soon)
	gl.ok("attestation", "init", "--workflow", "build-and-test", "--project", "skynet")
	before := gl.stateBytes()
	r := gl.run("attestation", "add", "--name", "rootfs", "--value", "rootfs.tar.gz")
	if r.code != 8 || !strings.Contains(r.stderr, "the credential this job's OIDC token was exchanged for expires at") ||
		!strings.Contains(r.stderr, "the control plane exchanges a token once: run the job's custody steps within the credential's lifetime") {
		t.Errorf("gitlab add after expiry: exit %d\n%s", r.code, r.stderr)
	}
	if n := gl.standIn.exchanges.Load(); n != 1 {
		t.Errorf("gitlab: %d exchanges, want 1 (the token is not presented twice)", n)
	}
	if !bytes.Equal(before, gl.stateBytes()) {
		t.Errorf("the refused add changed the state")
	}
}

// Each error a pipeline hits says what to change, with its exit code, and starts nothing.
func TestOIDCRefusals(t *testing.T) {
	t.Parallel()
	unmatched := &wire.Problem{Status: 403, Code: wire.CodeTrustPolicyUnmatched, Title: "Forbidden",
		Detail: "no trust policy of skynet/build-and-test matches: ref is refs/heads/dev, want refs/heads/main"}
	tests := []struct {
		name   string
		ci     string
		env    []string
		refuse *wire.Problem
		code   int
		want   string
	}{
		{name: "github without id-token: write", ci: "github", env: []string{"ACTIONS_ID_TOKEN_REQUEST_URL=", "ACTIONS_ID_TOKEN_REQUEST_TOKEN="}, code: 8,
			want: "ERR init: GitHub Actions gives this job no ID token (ACTIONS_ID_TOKEN_REQUEST_URL and ACTIONS_ID_TOKEN_REQUEST_TOKEN are unset): add `permissions: id-token: write` to the workflow or the job"},
		{name: "gitlab without id_tokens", ci: "gitlab", env: []string{"CUSTODY_ID_TOKEN="}, code: 8,
			want: "ERR init: GitLab gives this job no ID token in CUSTODY_ID_TOKEN: declare it in the job, `id_tokens: {CUSTODY_ID_TOKEN: {aud: custody}}`, or pass --token"},
		{name: "a trust policy that does not match", ci: "github", refuse: unmatched, code: 8,
			want: "refs/heads/dev, want refs/heads/main (403 trust_policy_unmatched); custody workflow trust list build-and-test --project skynet shows the workflow's policies"},
		{name: "a GitLab id_tokens variable with a bad name", ci: "gitlab", env: []string{"CUSTODY_OIDC_TOKEN_VAR=ID-TOKEN"}, code: 2,
			want: `ERR CUSTODY_OIDC_TOKEN_VAR="ID-TOKEN": want a variable name`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			j := newOIDCJob(t, tt.ci, 15*time.Minute)
			j.standIn.refuse.Store(tt.refuse)
			j.env = append(j.env, tt.env...)
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
			if runs := j.standIn.bearers("POST", "/v1/runs"); len(runs) != 0 {
				t.Errorf("a refused init started a run")
			}
		})
	}
}

// The contract's runner type is enforced at init, exit 4 naming the runner needed and the one
// detected; --dry-run tries the contract anywhere.
func TestInitEnforcesTheContractsRunner(t *testing.T) {
	t.Parallel()
	w := newWorkspace(t)
	w.env = append(w.env, gitHubJob(w.dir)...)
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
	cp := cptest.New(t, cptest.Options{})
	exchanged := cp.Workflow(t, "skynet", "build-and-test", outputContract, nil)
	admin := cp.Admin(t)
	tokens := map[string]string{}
	for _, name := range []string{"flag", "env", "config"} {
		tok, err := admin.CreateToken(context.Background(), wire.CreateToken{Name: name, Project: "skynet", Workflow: "build-and-test"})
		if err != nil {
			t.Fatal(err)
		}
		tokens[name] = tok.Secret
	}
	const runID = "0b5e6c4e-8f0a-4f6e-9d43-1a2b3c4d5e6f"
	init := []string{"attestation", "init", "--workflow", "build-and-test", "--project", "skynet"}
	status := []string{"attestation", "status", "--attestation-id", runID}
	noPermission := []string{"ACTIONS_ID_TOKEN_REQUEST_URL=", "ACTIONS_ID_TOKEN_REQUEST_TOKEN="}
	jenkins := []string{"JENKINS_URL=https://ci.acme.internal/", "JOB_NAME=skynet", "BUILD_NUMBER=1", "BUILD_TAG=jenkins-skynet-1"}
	tests := []struct {
		name     string
		args     []string
		ci       []string // the job's environment; "github" adds GitHub Actions' with a token service
		env      []string
		config   bool
		want     string // the bearer the control plane got: a key of tokens, or "exchanged"
		code     int
		stderr   string
		exchange int32
	}{
		{name: "--token first", args: append(slices.Clone(init), "--token", tokens["flag"]), ci: []string{"github"},
			env: []string{"CUSTODY_TOKEN=" + tokens["env"]}, config: true, want: "flag"},
		{name: "then CUSTODY_TOKEN", args: init, ci: []string{"github"}, env: []string{"CUSTODY_TOKEN=" + tokens["env"]}, config: true, want: "env"},
		{name: "then the runner's OIDC exchange", args: init, ci: []string{"github"}, config: true, want: "exchanged", exchange: 1},
		{name: "--oidc-token on a runner without one", args: append(slices.Clone(init), "--oidc-token", idToken(7)), ci: jenkins, config: true,
			want: "exchanged", exchange: 1},
		{name: "CUSTODY_OIDC_TOKEN on no runner", args: init, env: []string{"CUSTODY_OIDC_TOKEN=" + idToken(8)}, want: "exchanged", exchange: 1},
		{name: "the config file when the runner gives no token", args: init, ci: []string{"github"}, env: noPermission, config: true, want: "config"},
		{name: "the config file on a runner without OIDC", args: init, ci: jenkins, config: true, want: "config"},
		{name: "the config file when no workflow is known", args: status, ci: []string{"github"}, config: true, want: "config", code: 6},
		{name: "CUSTODY_WORKFLOW and CUSTODY_PROJECT name it", args: status, ci: []string{"github"},
			env: []string{"CUSTODY_WORKFLOW=build-and-test", "CUSTODY_PROJECT=skynet"}, config: true, want: "exchanged", code: 6, exchange: 1},
		{name: "no workflow known and no config file", args: status, ci: []string{"github"}, code: 8,
			stderr: "the runner's OIDC token is exchanged for one workflow, and none is known here"},
		{name: "no token from the runner and no config file", args: init, ci: []string{"github"}, env: noPermission, code: 8,
			stderr: "add `permissions: id-token: write` to the workflow or the job"},
		{name: "no token at all", args: init, code: 2, stderr: "no token for the control plane at"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			standIn := newExchangeStandIn(t, cp, exchanged)
			dir, home := t.TempDir(), t.TempDir()
			env := map[string]string{"HOME": home, "CUSTODY_CONTROL_PLANE": standIn.URL, "CUSTODY_RETRY_DEADLINE": "0"}
			vars := slices.Clone(tt.env)
			if slices.Equal(tt.ci, []string{"github"}) {
				actions := newActionsTokenService(t)
				vars = append(append(gitHubJob(dir), "ACTIONS_ID_TOKEN_REQUEST_URL="+actions.URL, "ACTIONS_ID_TOKEN_REQUEST_TOKEN="+actions.RequestToken), vars...)
			} else {
				vars = append(slices.Clone(tt.ci), vars...)
			}
			for _, kv := range vars {
				k, v, _ := strings.Cut(kv, "=")
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
			var stdout, stderr bytes.Buffer
			err := cli.Execute(context.Background(), cli.Env{Getenv: func(k string) string { return env[k] }, Stdout: &stdout, Stderr: &stderr,
				Now: time.Now, Workdir: dir, Version: "dev"}, tt.args)
			if code := codeOf(err); code != tt.code || (tt.stderr != "" && (err == nil || !strings.Contains(err.Error(), tt.stderr))) {
				t.Fatalf("exit %d (%v), want %d with %q", code, err, tt.code, tt.stderr)
			}
			standIn.mu.Lock()
			calls := slices.Clone(standIn.calls)
			standIn.mu.Unlock()
			var got []string
			for _, c := range calls {
				if method, rest, _ := strings.Cut(c, " "); method != "" && !strings.HasPrefix(rest, "/v1/auth/oidc") {
					_, bearer, _ := strings.Cut(rest, " Bearer ")
					got = append(got, bearer)
				}
			}
			want := tokens[tt.want]
			if tt.want == "exchanged" {
				want = exchanged
			}
			if tt.want != "" && (len(got) == 0 || got[0] != want) {
				t.Errorf("the control plane got bearers %q, want the %s token first", got, tt.want)
			}
			if tt.want == "" && len(got) != 0 {
				t.Errorf("the control plane was called: %q", got)
			}
			if n := standIn.exchanges.Load(); n != tt.exchange {
				t.Errorf("%d exchanges, want %d", n, tt.exchange)
			}
			if strings.Contains(unmasked(stdout.String()+stderr.String()), exchanged) {
				t.Errorf("the exchanged credential was printed")
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
