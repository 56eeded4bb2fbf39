// Package runner detects the CI runner a command runs on and describes its context. Every read of
// the environment goes through an injected getenv, so tests run in parallel with fake environments.
package runner

import (
	"github.com/custody-dev/custody/contract"
)

// Context is what custody knows about the runner of a run.
type Context struct {
	// Type is the runner type, or "" when no CI runner was detected (a developer's machine).
	Type contract.RunnerType
	// URL links to the job or pipeline run.
	URL string
	// Environment holds the runner's own description of the run (repository, ref, job, ...).
	Environment map[string]string
}

// Detected reports whether a CI runner was recognised.
func (c Context) Detected() bool { return c.Type != "" }

// detector recognises one runner type.
type detector struct {
	typ contract.RunnerType
	// marker is an environment variable the runner always sets to a known value.
	marker, markerValue string
	url                 func(getenv func(string) string) string
	vars                []string
}

// detectors are tried in this fixed order; the first whose marker is set wins.
var detectors = []detector{
	{
		typ: contract.RunnerGitHubAction, marker: "GITHUB_ACTIONS", markerValue: "true",
		url: func(getenv func(string) string) string {
			server, repo, id := getenv("GITHUB_SERVER_URL"), getenv("GITHUB_REPOSITORY"), getenv("GITHUB_RUN_ID")
			if server == "" || repo == "" || id == "" {
				return ""
			}
			return server + "/" + repo + "/actions/runs/" + id
		},
		vars: []string{"GITHUB_REPOSITORY", "GITHUB_REF", "GITHUB_SHA", "GITHUB_WORKFLOW", "GITHUB_WORKFLOW_REF",
			"GITHUB_RUN_ID", "GITHUB_RUN_ATTEMPT", "GITHUB_ACTOR", "GITHUB_EVENT_NAME", "GITHUB_SERVER_URL", "RUNNER_NAME", "RUNNER_OS"},
	},
	{
		typ: contract.RunnerGitLabPipeline, marker: "GITLAB_CI", markerValue: "true",
		url: func(getenv func(string) string) string { return getenv("CI_JOB_URL") },
		vars: []string{"CI_PROJECT_PATH", "CI_COMMIT_REF_NAME", "CI_COMMIT_SHA", "CI_PIPELINE_ID", "CI_JOB_ID",
			"CI_JOB_NAME", "CI_PIPELINE_SOURCE", "CI_SERVER_URL", "GITLAB_USER_LOGIN", "CI_RUNNER_VERSION"},
	},
	{
		typ: contract.RunnerAzurePipeline, marker: "TF_BUILD", markerValue: "True",
		url: func(getenv func(string) string) string {
			base, project, id := getenv("SYSTEM_TEAMFOUNDATIONCOLLECTIONURI"), getenv("SYSTEM_TEAMPROJECT"), getenv("BUILD_BUILDID")
			if base == "" || project == "" || id == "" {
				return ""
			}
			return base + project + "/_build/results?buildId=" + id
		},
		vars: []string{"BUILD_REPOSITORY_NAME", "BUILD_SOURCEBRANCH", "BUILD_SOURCEVERSION", "BUILD_BUILDID", "AGENT_NAME"},
	},
	{
		typ: contract.RunnerJenkinsJob, marker: "JENKINS_URL",
		url:  func(getenv func(string) string) string { return getenv("BUILD_URL") },
		vars: []string{"JOB_NAME", "BUILD_ID", "GIT_URL", "GIT_BRANCH", "GIT_COMMIT", "NODE_NAME"},
	},
	{
		typ: contract.RunnerCircleCIBuild, marker: "CIRCLECI", markerValue: "true",
		url:  func(getenv func(string) string) string { return getenv("CIRCLE_BUILD_URL") },
		vars: []string{"CIRCLE_PROJECT_REPONAME", "CIRCLE_BRANCH", "CIRCLE_SHA1", "CIRCLE_BUILD_NUM", "CIRCLE_JOB"},
	},
	{
		typ: contract.RunnerTektonPipeline, marker: "TEKTON_PIPELINE_RUN",
		url:  func(func(string) string) string { return "" },
		vars: []string{"TEKTON_PIPELINE_RUN", "TEKTON_TASK_RUN"},
	},
	{
		typ: contract.RunnerDaggerPipeline, marker: "DAGGER_PIPELINE",
		url:  func(func(string) string) string { return "" },
		vars: []string{"DAGGER_PIPELINE"},
	},
}

// Detect recognises the runner from the environment read through getenv. Detection proper (OIDC
// tokens, identity claims) grows here; callers only see Context.
func Detect(getenv func(string) string) Context {
	for _, d := range detectors {
		v := getenv(d.marker)
		if v == "" || (d.markerValue != "" && v != d.markerValue) {
			continue
		}
		env := map[string]string{}
		for _, name := range d.vars {
			if val := getenv(name); val != "" {
				env[name] = val
			}
		}
		return Context{Type: d.typ, URL: d.url(getenv), Environment: env}
	}
	return Context{}
}
