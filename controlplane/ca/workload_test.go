package ca_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/sigstore/sigstore-go/pkg/fulcio/certificate"

	"github.com/custody-dev/custody/controlplane/ca"
	"github.com/custody-dev/custody/internal/testclock"
)

// The claims of GitHub's documented example ID token ("About security hardening with OpenID Connect",
// docs.github.com) for octo-org/octo-repo, as the Actions token service issues them.
const githubClaims = `{
  "jti": "example-id", "sub": "repo:octo-org/octo-repo:environment:prod", "environment": "prod",
  "aud": "custody", "ref": "refs/heads/main", "sha": "example-sha", "repository": "octo-org/octo-repo",
  "repository_owner": "octo-org", "actor_id": "12", "repository_visibility": "private", "repository_id": "74",
  "repository_owner_id": "65", "run_id": "example-run-id", "run_number": "10", "run_attempt": "2",
  "runner_environment": "github-hosted", "actor": "octocat", "workflow": "example-workflow",
  "head_ref": "", "base_ref": "", "event_name": "workflow_dispatch", "ref_type": "branch",
  "job_workflow_ref": "octo-org/octo-automation/.github/workflows/oidc.yml@refs/heads/main",
  "job_workflow_sha": "example-job-sha",
  "workflow_ref": "octo-org/octo-repo/.github/workflows/example-workflow.yml@refs/heads/main",
  "workflow_sha": "example-workflow-sha",
  "iss": "https://token.actions.githubusercontent.com", "nbf": 1632492967, "exp": 1632493867, "iat": 1632493567
}`

// The claims of GitLab's documented ID token payload (docs.gitlab.com, "OpenID Connect (OIDC)
// Authentication Using ID Tokens"), for a branch pipeline of group/project.
const gitlabClaims = `{
  "namespace_id": "72", "namespace_path": "my-group", "project_id": "20", "project_path": "my-group/my-project",
  "user_id": "1", "user_login": "sample-user", "user_email": "sample-user@example.com",
  "pipeline_id": "574", "pipeline_source": "push", "job_id": "302", "ref": "feature-branch-1",
  "ref_type": "branch", "ref_path": "refs/heads/feature-branch-1", "ref_protected": "false",
  "environment": "test-environment2", "environment_protected": "false", "deployment_tier": "testing",
  "runner_id": 1, "runner_environment": "self-hosted", "sha": "714a629c0b401fdce83e847fc9589983fc6f46bc",
  "project_visibility": "public", "ci_config_ref_uri": "gitlab.example.com/my-group/my-project//.gitlab-ci.yml@refs/heads/main",
  "ci_config_sha": "714a629c0b401fdce83e847fc9589983fc6f46bc",
  "jti": "235b3a54-b797-45c7-ae9a-f72d7bc6ef5b", "iss": "https://gitlab.example.com", "iat": 1681395193,
  "nbf": 1681395188, "exp": 1681398793, "sub": "project_path:my-group/my-project:ref_type:branch:ref:feature-branch-1",
  "aud": "custody"
}`

// TestWorkloadIdentity: the leaf of a verified CI token names what Fulcio's CI profile names, read
// back by sigstore-go as Fulcio's extensions.
func TestWorkloadIdentity(t *testing.T) {
	t.Parallel()
	a, _, err := ca.Generate("custody test", testclock.New(time.Date(2026, 11, 27, 10, 4, 0, 0, time.UTC)).Now)
	if err != nil {
		t.Fatal(err)
	}
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	for _, tc := range []struct {
		name           string
		platform       ca.Platform
		issuer, server string
		claims         string
		san            string
		want           certificate.Extensions
	}{
		{
			name: "GitHub", platform: ca.GitHub, issuer: ca.GitHubIssuer, server: "https://github.com", claims: githubClaims,
			san: "https://github.com/octo-org/octo-automation/.github/workflows/oidc.yml@refs/heads/main",
			want: certificate.Extensions{
				Issuer:                              ca.GitHubIssuer,
				GithubWorkflowTrigger:               "workflow_dispatch",
				GithubWorkflowSHA:                   "example-sha",
				GithubWorkflowName:                  "example-workflow",
				GithubWorkflowRepository:            "octo-org/octo-repo",
				GithubWorkflowRef:                   "refs/heads/main",
				BuildSignerURI:                      "https://github.com/octo-org/octo-automation/.github/workflows/oidc.yml@refs/heads/main",
				BuildSignerDigest:                   "example-job-sha",
				RunnerEnvironment:                   "github-hosted",
				SourceRepositoryURI:                 "https://github.com/octo-org/octo-repo",
				SourceRepositoryDigest:              "example-sha",
				SourceRepositoryRef:                 "refs/heads/main",
				SourceRepositoryIdentifier:          "74",
				SourceRepositoryOwnerURI:            "https://github.com/octo-org",
				SourceRepositoryOwnerIdentifier:     "65",
				BuildConfigURI:                      "https://github.com/octo-org/octo-repo/.github/workflows/example-workflow.yml@refs/heads/main",
				BuildConfigDigest:                   "example-workflow-sha",
				BuildTrigger:                        "workflow_dispatch",
				RunInvocationURI:                    "https://github.com/octo-org/octo-repo/actions/runs/example-run-id/attempts/2",
				SourceRepositoryVisibilityAtSigning: "private",
			},
		},
		{
			name: "self-managed GitLab", platform: ca.GitLab, issuer: "https://gitlab.example.com", server: "https://gitlab.example.com/", claims: gitlabClaims,
			san: "https://gitlab.example.com/my-group/my-project//.gitlab-ci.yml@refs/heads/main",
			want: certificate.Extensions{
				Issuer:                              "https://gitlab.example.com",
				BuildSignerURI:                      "https://gitlab.example.com/my-group/my-project//.gitlab-ci.yml@refs/heads/main",
				BuildSignerDigest:                   "714a629c0b401fdce83e847fc9589983fc6f46bc",
				RunnerEnvironment:                   "self-hosted",
				SourceRepositoryURI:                 "https://gitlab.example.com/my-group/my-project",
				SourceRepositoryDigest:              "714a629c0b401fdce83e847fc9589983fc6f46bc",
				SourceRepositoryRef:                 "refs/heads/feature-branch-1",
				SourceRepositoryIdentifier:          "20",
				SourceRepositoryOwnerURI:            "https://gitlab.example.com/my-group",
				SourceRepositoryOwnerIdentifier:     "72",
				BuildConfigURI:                      "https://gitlab.example.com/my-group/my-project//.gitlab-ci.yml@refs/heads/main",
				BuildConfigDigest:                   "714a629c0b401fdce83e847fc9589983fc6f46bc",
				BuildTrigger:                        "push",
				RunInvocationURI:                    "https://gitlab.example.com/my-group/my-project/-/jobs/302",
				SourceRepositoryVisibilityAtSigning: "public",
			},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var claims map[string]any
			if err := json.Unmarshal([]byte(tc.claims), &claims); err != nil {
				t.Fatal(err)
			}
			id, err := ca.WorkloadIdentity(tc.platform, tc.issuer, tc.server, claims)
			if err != nil {
				t.Fatal(err)
			}
			chain, err := a.Issue(csrFor(t, key), id)
			if err != nil {
				t.Fatal(err)
			}
			leaf := chain[0]
			if len(leaf.URIs) != 1 || leaf.URIs[0].String() != tc.san {
				t.Errorf("SAN = %v, want %s", leaf.URIs, tc.san)
			}
			got, err := certificate.ParseExtensions(leaf.Extensions)
			if err != nil {
				t.Fatal(err)
			}
			if got != tc.want {
				gj, _ := json.MarshalIndent(got, "", " ")
				wj, _ := json.MarshalIndent(tc.want, "", " ")
				t.Errorf("extensions:\n%s\nwant:\n%s", gj, wj)
			}
		})
	}
}

// A token missing a claim the profile needs gets no certificate, and the error names the claims.
func TestWorkloadIdentityMissingClaims(t *testing.T) {
	t.Parallel()
	var claims map[string]any
	if err := json.Unmarshal([]byte(githubClaims), &claims); err != nil {
		t.Fatal(err)
	}
	delete(claims, "job_workflow_ref")
	delete(claims, "sha")
	_, err := ca.WorkloadIdentity(ca.GitHub, ca.GitHubIssuer, "https://github.com", claims)
	if err == nil || !strings.Contains(err.Error(), "job_workflow_ref, sha") {
		t.Errorf("err = %v, want one naming job_workflow_ref, sha", err)
	}
	if _, err := ca.WorkloadIdentity("jenkins", "https://jenkins.example", "https://jenkins.example", claims); err == nil {
		t.Error("an unknown platform got an identity")
	}
}

// Workload tells the CI by its claims and its web URL by the issuer, GitHub Enterprise Server's too.
func TestWorkload(t *testing.T) {
	t.Parallel()
	var gh, gl map[string]any
	if err := json.Unmarshal([]byte(githubClaims), &gh); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal([]byte(gitlabClaims), &gl); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		issuer string
		claims map[string]any
		repo   string
	}{
		{ca.GitHubIssuer, gh, "https://github.com/octo-org/octo-repo"},
		{"https://ghe.example.com/_services/token", gh, "https://ghe.example.com/octo-org/octo-repo"},
		{"https://gitlab.example.com", gl, "https://gitlab.example.com/my-group/my-project"},
	} {
		id, err := ca.Workload(tc.issuer, tc.claims)
		if err != nil {
			t.Fatalf("%s: %v", tc.issuer, err)
		}
		if id.Issuer != tc.issuer || id.CI == nil || id.CI.SourceRepositoryURI != tc.repo {
			t.Errorf("%s: issuer %q, repository %+v; want %s", tc.issuer, id.Issuer, id.CI, tc.repo)
		}
	}
	if _, err := ca.Workload("https://issuer.example", map[string]any{"sub": "x"}); err == nil {
		t.Error("a token of neither CI got an identity")
	}
}
