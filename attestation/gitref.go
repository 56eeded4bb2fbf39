package attestation

import (
	"strings"

	"github.com/custody-dev/custody/contract"
)

// gitRefs says, for each CI system, which variables of its runner context name the branch a run
// built and its commit. A tag build has no branch.
var gitRefs = map[contract.RunnerType]struct {
	branch func(env map[string]string) string
	commit string
}{
	contract.RunnerGitHubAction: {branch: func(env map[string]string) string {
		if head := env["GITHUB_HEAD_REF"]; head != "" { // a pull request: its source branch
			return head
		}
		branch, _ := strings.CutPrefix(env["GITHUB_REF"], "refs/heads/")
		if branch == env["GITHUB_REF"] {
			return "" // a tag, or no ref
		}
		return branch
	}, commit: "GITHUB_SHA"},
	contract.RunnerGitLabPipeline: {branch: func(env map[string]string) string {
		if b := env["CI_COMMIT_BRANCH"]; b != "" {
			return b
		}
		if env["CI_COMMIT_TAG"] != "" {
			return ""
		}
		return env["CI_COMMIT_REF_NAME"] // a merge request pipeline: its source branch
	}, commit: "CI_COMMIT_SHA"},
	contract.RunnerBuildkite:     {branch: variable("BUILDKITE_BRANCH"), commit: "BUILDKITE_COMMIT"},
	contract.RunnerCircleCIBuild: {branch: variable("CIRCLE_BRANCH"), commit: "CIRCLE_SHA1"},
	contract.RunnerAzurePipeline: {branch: func(env map[string]string) string {
		branch, ok := strings.CutPrefix(env["BUILD_SOURCEBRANCH"], "refs/heads/")
		if !ok {
			return ""
		}
		return branch
	}, commit: "BUILD_SOURCEVERSION"},
	contract.RunnerJenkinsJob: {branch: func(env map[string]string) string {
		if b := env["BRANCH_NAME"]; b != "" { // a multibranch pipeline
			return b
		}
		b := strings.TrimPrefix(env["GIT_BRANCH"], "refs/heads/")
		return strings.TrimPrefix(b, "origin/")
	}, commit: "GIT_COMMIT"},
}

func variable(name string) func(map[string]string) string {
	return func(env map[string]string) string { return env[name] }
}

// Branch returns the branch the runner context says the run built, or "" (a tag, or a runner that
// does not tell).
func (r *Runner) Branch() string {
	if r == nil {
		return ""
	}
	if g, ok := gitRefs[contract.RunnerType(r.Type)]; ok {
		return g.branch(r.Environment)
	}
	return ""
}

// Commit returns the commit the runner context says the run built, or "".
func (r *Runner) Commit() string {
	if r == nil {
		return ""
	}
	if g, ok := gitRefs[contract.RunnerType(r.Type)]; ok {
		return r.Environment[g.commit]
	}
	return ""
}
