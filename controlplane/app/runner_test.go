package app

import (
	"encoding/json"
	"net/url"
	"path"
	"slices"
	"strings"
	"testing"

	"github.com/custody-dev/custody/attestation"
	"github.com/custody-dev/custody/contract"
	"github.com/custody-dev/custody/controlplane/auth"
	"github.com/custody-dev/custody/controlplane/store"
	"github.com/custody-dev/custody/crafting"
	"github.com/custody-dev/custody/internal/oidctest"
	"github.com/custody-dev/custody/wire"
)

// workloadOf is the principal of a credential exchanged for a token of issuer with claims, as the
// store gives it back (numbers as json.Number).
func workloadOf(t testing.TB, issuer string, claims map[string]any) auth.Principal {
	t.Helper()
	b, err := json.Marshal(claims)
	if err != nil {
		t.Fatal(err)
	}
	w, err := auth.WorkloadOf(&store.Token{WorkloadIssuer: issuer, WorkloadClaims: b})
	if err != nil {
		t.Fatal(err)
	}
	return auth.Principal{Workload: w}
}

// A runner context recorded as authenticated is stored only when the pusher is the CI job whose
// verified token it names: the issuer and subject, the runner type, the repository and a run URL of
// the token's run (GitHub) or of the token's project's jobs (GitLab). Each refusal says what differs.
func TestCheckRunner(t *testing.T) {
	t.Parallel()
	gh := oidctest.GitHubClaims("acme/app", "refs/heads/main")
	gl := oidctest.GitLabClaims("acme/app", "main")
	ghJob := workloadOf(t, github, gh)
	glJob := workloadOf(t, "https://gitlab.example.com/gitlab", gl)
	ghRunner := func(edit func(*attestation.Runner)) *attestation.Runner {
		r := &attestation.Runner{Type: "GITHUB_ACTION", URL: "https://github.com/acme/app/actions/runs/9000000001/attempts/1",
			Environment:   map[string]string{"GITHUB_REPOSITORY": "acme/app", "GITHUB_RUN_ID": "9000000001"},
			Authenticated: true, Issuer: github, Subject: "repo:acme/app:ref:refs/heads/main"}
		if edit != nil {
			edit(r)
		}
		return r
	}
	glRunner := func(edit func(*attestation.Runner)) *attestation.Runner {
		r := &attestation.Runner{Type: "GITLAB_PIPELINE", URL: "https://gitlab.example.com/gitlab/acme/app/-/jobs/302",
			Environment:   map[string]string{"CI_PROJECT_PATH": "acme/app"},
			Authenticated: true, Issuer: "https://gitlab.example.com/gitlab", Subject: "project_path:acme/app:ref_type:branch:ref:main"}
		if edit != nil {
			edit(r)
		}
		return r
	}
	tests := []struct {
		name   string
		p      auth.Principal
		runner *attestation.Runner
		want   string // "" accepts
	}{
		{name: "the GitHub job's", p: ghJob, runner: ghRunner(nil)},
		{name: "another attempt of the run", p: ghJob, runner: ghRunner(func(r *attestation.Runner) { r.URL = strings.Replace(r.URL, "attempts/1", "attempts/2", 1) })},
		{name: "a run URL without the attempt", p: ghJob, runner: ghRunner(func(r *attestation.Runner) { r.URL = strings.TrimSuffix(r.URL, "/attempts/1") })},
		{name: "no run URL", p: ghJob, runner: ghRunner(func(r *attestation.Runner) { r.URL = "" })},
		{name: "the GitLab job's", p: glJob, runner: glRunner(nil)},
		{name: "another job of the GitLab project", p: glJob, runner: glRunner(func(r *attestation.Runner) { r.URL = strings.Replace(r.URL, "302", "301", 1) })},
		{name: "not claimed, by a token", p: auth.Principal{}, runner: ghRunner(func(r *attestation.Runner) { r.Authenticated, r.Issuer, r.Subject = false, "", "" })},
		{name: "not claimed, by a workload", p: ghJob, runner: ghRunner(func(r *attestation.Runner) {
			r.Authenticated, r.Issuer, r.Subject, r.URL = false, "", "", "https://elsewhere"
		})},
		{name: "no runner", p: auth.Principal{}},

		{name: "claimed by a custody token", p: auth.Principal{}, runner: ghRunner(nil),
			want: "the attestation records its runner as authenticated by \"" + github + "\", and it is pushed with a custody token"},
		{name: "an issuer without authenticated", p: auth.Principal{}, runner: ghRunner(func(r *attestation.Runner) { r.Authenticated = false }),
			want: "pushed with a custody token"},
		{name: "an issuer without authenticated, by the job", p: ghJob, runner: ghRunner(func(r *attestation.Runner) { r.Authenticated = false }),
			want: "an issuer or subject without authenticated: true"},
		{name: "another issuer", p: ghJob, runner: ghRunner(func(r *attestation.Runner) { r.Issuer = "https://gitlab.com" }),
			want: `issuer "https://gitlab.com", the token's is ` + github},
		{name: "another subject", p: ghJob, runner: ghRunner(func(r *attestation.Runner) { r.Subject = "repo:acme/app:ref:refs/heads/dev" }),
			want: `subject "repo:acme/app:ref:refs/heads/dev", the token's is "repo:acme/app:ref:refs/heads/main"`},
		{name: "another repository", p: ghJob, runner: ghRunner(func(r *attestation.Runner) { r.Environment["GITHUB_REPOSITORY"] = "acme/other" }),
			want: `GITHUB_REPOSITORY "acme/other", the token's repository is "acme/app"`},
		{name: "no repository", p: ghJob, runner: ghRunner(func(r *attestation.Runner) { delete(r.Environment, "GITHUB_REPOSITORY") }),
			want: `GITHUB_REPOSITORY "", the token's repository is "acme/app"`},
		{name: "another run", p: ghJob, runner: ghRunner(func(r *attestation.Runner) { r.URL = "https://github.com/acme/app/actions/runs/9000000002/attempts/1" }),
			want: `run URL "https://github.com/acme/app/actions/runs/9000000002/attempts/1", not the token's run (https://github.com/acme/app/actions/runs/9000000001(/attempts/[0-9]+)?)`},
		{name: "a run ID that only starts the same", p: ghJob, runner: ghRunner(func(r *attestation.Runner) { r.URL = "https://github.com/acme/app/actions/runs/90000000012" }),
			want: "not the token's run"},
		{name: "another server", p: ghJob, runner: ghRunner(func(r *attestation.Runner) {
			r.URL = "https://github.example/acme/app/actions/runs/9000000001/attempts/1"
		}),
			want: "not the token's run"},
		{name: "a path out of the run", p: ghJob, runner: ghRunner(func(r *attestation.Runner) { r.URL += "/../../../../other/actions/runs/1" }),
			want: "not the token's run"},
		{name: "a path out of the project's jobs", p: glJob, runner: glRunner(func(r *attestation.Runner) { r.URL += "/../../../../other/-/jobs/1" }),
			want: "not a job of the token's project"},
		{name: "another GitLab project's job", p: glJob, runner: glRunner(func(r *attestation.Runner) { r.URL = "https://gitlab.example.com/gitlab/acme/other/-/jobs/302" }),
			want: `not a job of the token's project (https://gitlab.example.com/gitlab/acme/app/-/jobs/[0-9]+)`},
		{name: "a GitLab runner with a GitHub token", p: ghJob, runner: glRunner(func(r *attestation.Runner) { r.Issuer, r.Subject = github, "repo:acme/app:ref:refs/heads/main" }),
			want: "runner type GITLAB_PIPELINE, and the token is no GITLAB_PIPELINE job's (it has no ci_config_ref_uri claim)"},
		{name: "a runner the control plane does not check", p: ghJob, runner: ghRunner(func(r *attestation.Runner) { r.Type = "JENKINS_JOB" }),
			want: `runner type "JENKINS_JOB": the control plane checks the runner context of GITHUB_ACTION and GITLAB_PIPELINE jobs only`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := checkRunner(tt.p, tt.runner)
			if tt.want == "" {
				if err != nil {
					t.Errorf("refused: %v", err)
				}
				return
			}
			e, ok := AsError(err)
			if !ok || e.Status != 422 || e.Code != wire.CodeRunnerNotAuthenticated || !strings.Contains(e.Msg, tt.want) {
				t.Errorf("checkRunner = %v, want 422 %s with %q", err, wire.CodeRunnerNotAuthenticated, tt.want)
			}
		})
	}
}

// crafting records as authenticated the runners the control plane checks, no other.
func TestAuthenticatedRunnersAreChecked(t *testing.T) {
	t.Parallel()
	var checked []contract.RunnerType
	for _, c := range ciRunners {
		checked = append(checked, c.runner)
	}
	if !slices.Equal(checked, crafting.AuthenticatedRunners) {
		t.Errorf("the control plane checks %v, crafting claims %v", checked, crafting.AuthenticatedRunners)
	}
}

// FuzzCheckRunner: a runner context the control plane accepts as a GitHub job's authenticated one
// names the job's issuer, subject and repository, and a run URL that, resolved as a browser
// resolves it, is on the token's server, under the token's run.
func FuzzCheckRunner(f *testing.F) {
	job := workloadOf(f, github, oidctest.GitHubClaims("acme/app", "refs/heads/main"))
	const sub, run = "repo:acme/app:ref:refs/heads/main", "/acme/app/actions/runs/9000000001"
	for _, u := range []string{"https://github.com" + run + "/attempts/1", "https://github.com" + run, "", "https://github.com" + run + "/../../../x",
		"https://github.com" + run + "/%2e%2e/1", "https://github.com" + run + "1", "https://github.com" + run + "/attempts/1?x#y", "https://x@github.com" + run} {
		f.Add("GITHUB_ACTION", u, "acme/app", github, sub, true)
	}
	f.Add("GITLAB_PIPELINE", "", "acme/app", github, sub, true)
	f.Add("GITHUB_ACTION", "", "acme/app", "", "", false)
	f.Fuzz(func(t *testing.T, typ, runURL, repo, issuer, subject string, authenticated bool) {
		r := &attestation.Runner{Type: typ, URL: runURL, Environment: map[string]string{"GITHUB_REPOSITORY": repo},
			Authenticated: authenticated, Issuer: issuer, Subject: subject}
		if checkRunner(job, r) != nil || !r.ClaimsAuthenticated() {
			return
		}
		if !authenticated || typ != "GITHUB_ACTION" || repo != "acme/app" || issuer != github || subject != sub {
			t.Fatalf("accepted %+v", r)
		}
		if runURL == "" {
			return
		}
		u, err := url.Parse(runURL)
		if err != nil || u.Scheme != "https" || u.Host != "github.com" || u.User != nil || u.RawQuery != "" || u.Fragment != "" ||
			!strings.HasPrefix(path.Clean(u.Path)+"/", run+"/") {
			t.Fatalf("accepted the run URL %q (%v)", runURL, err)
		}
	})
}
