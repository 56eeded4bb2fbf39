package attestation_test

import (
	"testing"

	"github.com/custody-dev/custody/attestation"
)

// TestRunnerGitRef: each CI's runner context names the branch and commit of the run its own way; a
// tag build names no branch.
func TestRunnerGitRef(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name           string
		runner         *attestation.Runner
		branch, commit string
	}{
		{"no runner", nil, "", ""},
		{"GitHub push", gh(map[string]string{"GITHUB_REF": "refs/heads/release/1.x", "GITHUB_REF_NAME": "release/1.x", "GITHUB_SHA": "abc"}), "release/1.x", "abc"},
		{"GitHub pull request", gh(map[string]string{"GITHUB_REF": "refs/pull/7/merge", "GITHUB_HEAD_REF": "feature/x", "GITHUB_SHA": "abc"}), "feature/x", "abc"},
		{"GitHub tag", gh(map[string]string{"GITHUB_REF": "refs/tags/v1.2.3", "GITHUB_REF_NAME": "v1.2.3"}), "", ""},
		{"GitLab branch", runner("GITLAB_PIPELINE", "CI_COMMIT_BRANCH", "main", "CI_COMMIT_REF_NAME", "main", "CI_COMMIT_SHA", "def"), "main", "def"},
		{"GitLab merge request", runner("GITLAB_PIPELINE", "CI_COMMIT_REF_NAME", "feature/y"), "feature/y", ""},
		{"GitLab tag", runner("GITLAB_PIPELINE", "CI_COMMIT_TAG", "v1", "CI_COMMIT_REF_NAME", "v1"), "", ""},
		{"Buildkite", runner("BUILDKITE_PIPELINE", "BUILDKITE_BRANCH", "main", "BUILDKITE_COMMIT", "123"), "main", "123"},
		{"CircleCI", runner("CIRCLECI_BUILD", "CIRCLE_BRANCH", "dev", "CIRCLE_SHA1", "456"), "dev", "456"},
		{"Azure branch", runner("AZURE_PIPELINE", "BUILD_SOURCEBRANCH", "refs/heads/main", "BUILD_SOURCEVERSION", "789"), "main", "789"},
		{"Azure tag", runner("AZURE_PIPELINE", "BUILD_SOURCEBRANCH", "refs/tags/v1"), "", ""},
		{"Jenkins multibranch", runner("JENKINS_JOB", "BRANCH_NAME", "main", "GIT_BRANCH", "origin/main", "GIT_COMMIT", "aaa"), "main", "aaa"},
		{"Jenkins git plugin", runner("JENKINS_JOB", "GIT_BRANCH", "origin/release"), "release", ""},
		{"a runner that tells nothing", runner("TEAMCITY_PIPELINE", "BUILD_VCS_NUMBER", "bbb"), "", ""},
		{"an unknown runner", runner("SOMETHING", "GITHUB_REF", "refs/heads/main"), "", ""},
	} {
		if b, c := tc.runner.Branch(), tc.runner.Commit(); b != tc.branch || c != tc.commit {
			t.Errorf("%s: branch %q, commit %q; want %q, %q", tc.name, b, c, tc.branch, tc.commit)
		}
	}
}

func gh(env map[string]string) *attestation.Runner {
	return &attestation.Runner{Type: "GITHUB_ACTION", Environment: env}
}

func runner(typ string, kv ...string) *attestation.Runner {
	env := map[string]string{}
	for i := 0; i+1 < len(kv); i += 2 {
		env[kv[i]] = kv[i+1]
	}
	return &attestation.Runner{Type: typ, Environment: env}
}
