package runner

import (
	"net/url"
	"path/filepath"
	"strings"

	"github.com/custody-dev/custody/contract"
)

// tektonResults is the directory Tekton mounts in every step of every TaskRun. Tekton sets no
// variable of its own: the directory is how a step knows it runs in Tekton.
const tektonResults = "/tekton/results"

// isTrue matches the boolean markers CI systems set ("true", Azure's "True").
func isTrue(name string) func(Env) bool {
	return func(e Env) bool { return strings.EqualFold(e.getenv(name), "true") }
}

func isSet(name string) func(Env) bool {
	return func(e Env) bool { return e.getenv(name) != "" }
}

// runners are tried in this fixed order (never a map: one winner, always the same). The variables
// are those each CI system documents as predefined; a secret (a job token, an agent token, the
// OIDC request token) is never among them.
var runners = []Runner{
	{
		Type: contract.RunnerTektonPipeline, Name: "Tekton Pipelines",
		Detection: "the directory " + tektonResults + " exists (Tekton mounts it in every step)",
		detect:    func(e Env) bool { return e.exists(tektonResults) },
		// Tekton passes nothing by itself: a Task sets these from $(context.pipelineRun.name),
		// $(context.taskRun.name) and $(context.taskRun.namespace).
		Optional: []string{"TEKTON_PIPELINE_RUN", "TEKTON_TASK_RUN", "TEKTON_NAMESPACE", "TEKTON_DASHBOARD_URL"},
		URL:      "TEKTON_DASHBOARD_URL/#/namespaces/TEKTON_NAMESPACE/pipelineruns/TEKTON_PIPELINE_RUN (or taskruns/TEKTON_TASK_RUN)",
		url: func(getenv func(string) string) string {
			dash, ns := strings.TrimRight(getenv("TEKTON_DASHBOARD_URL"), "/"), url.PathEscape(getenv("TEKTON_NAMESPACE"))
			if pr := getenv("TEKTON_PIPELINE_RUN"); pr != "" {
				return join(dash, "/#/namespaces/", ns, "/pipelineruns/", url.PathEscape(pr))
			}
			return join(dash, "/#/namespaces/", ns, "/taskruns/", url.PathEscape(getenv("TEKTON_TASK_RUN")))
		},
	},
	{
		Type: contract.RunnerDaggerPipeline, Name: "Dagger",
		Detection: "DAGGER_PIPELINE is set (custody's convention: the pipeline's name, set with WithEnvVariable)",
		detect:    isSet("DAGGER_PIPELINE"),
		Required:  []string{"DAGGER_PIPELINE"},
	},
	{
		Type: contract.RunnerGitHubAction, Name: "GitHub Actions",
		Detection: "GITHUB_ACTIONS=true",
		detect:    isTrue("GITHUB_ACTIONS"),
		Required: []string{"GITHUB_SERVER_URL", "GITHUB_REPOSITORY", "GITHUB_REPOSITORY_OWNER", "GITHUB_RUN_ID",
			"GITHUB_RUN_ATTEMPT", "GITHUB_SHA", "GITHUB_WORKFLOW", "GITHUB_EVENT_NAME", "GITHUB_ACTOR"},
		Optional: []string{"GITHUB_REF", "GITHUB_REF_NAME", "GITHUB_HEAD_REF", "GITHUB_BASE_REF", "GITHUB_JOB",
			"GITHUB_RUN_NUMBER", "GITHUB_WORKFLOW_REF", "GITHUB_WORKFLOW_SHA", "GITHUB_REPOSITORY_ID",
			"GITHUB_REPOSITORY_OWNER_ID", "GITHUB_TRIGGERING_ACTOR", "RUNNER_NAME", "RUNNER_OS", "RUNNER_ARCH",
			"RUNNER_ENVIRONMENT"},
		Workspace: "GITHUB_WORKSPACE", workspace: variable("GITHUB_WORKSPACE"),
		// GITHUB_SERVER_URL is https://github.com, a GitHub Enterprise Server or a GHE.com host.
		URL: "GITHUB_SERVER_URL/GITHUB_REPOSITORY/actions/runs/GITHUB_RUN_ID/attempts/GITHUB_RUN_ATTEMPT",
		url: func(getenv func(string) string) string {
			run := join(strings.TrimRight(getenv("GITHUB_SERVER_URL"), "/"), "/", getenv("GITHUB_REPOSITORY"), "/actions/runs/", getenv("GITHUB_RUN_ID"))
			if attempt := getenv("GITHUB_RUN_ATTEMPT"); run != "" && attempt != "" {
				return run + "/attempts/" + attempt
			}
			return run
		},
		OIDC:   "ACTIONS_ID_TOKEN_REQUEST_URL and ACTIONS_ID_TOKEN_REQUEST_TOKEN (the job needs `permissions: id-token: write`), with audience CUSTODY_OIDC_AUDIENCE",
		tokens: gitHubTokens,
	},
	{
		Type: contract.RunnerGitLabPipeline, Name: "GitLab CI/CD",
		Detection: "GITLAB_CI=true",
		detect:    isTrue("GITLAB_CI"),
		Required: []string{"CI_SERVER_URL", "CI_PROJECT_PATH", "CI_PIPELINE_ID", "CI_PIPELINE_SOURCE", "CI_JOB_ID",
			"CI_JOB_NAME", "CI_JOB_URL", "CI_COMMIT_SHA", "CI_COMMIT_REF_NAME"},
		Optional: []string{"CI_PROJECT_ID", "CI_PIPELINE_URL", "CI_COMMIT_BRANCH", "CI_COMMIT_TAG", "CI_COMMIT_REF_PROTECTED",
			"CI_MERGE_REQUEST_IID", "CI_JOB_STAGE", "CI_CONFIG_PATH", "CI_ENVIRONMENT_NAME", "CI_RUNNER_ID",
			"CI_RUNNER_DESCRIPTION", "CI_RUNNER_VERSION", "GITLAB_USER_LOGIN"},
		Workspace: "CI_PROJECT_DIR", workspace: variable("CI_PROJECT_DIR"),
		// CI_JOB_URL and CI_SERVER_URL name gitlab.com or the self-managed instance (with its relative
		// URL root).
		URL: "CI_JOB_URL, else CI_SERVER_URL/CI_PROJECT_PATH/-/jobs/CI_JOB_ID",
		url: func(getenv func(string) string) string {
			if u := getenv("CI_JOB_URL"); u != "" {
				return u
			}
			return join(strings.TrimRight(getenv("CI_SERVER_URL"), "/"), "/", getenv("CI_PROJECT_PATH"), "/-/jobs/", getenv("CI_JOB_ID"))
		},
		OIDC:   "the job's id_tokens variable CUSTODY_ID_TOKEN (another name with CUSTODY_OIDC_TOKEN_VAR), its aud the control plane's audience",
		tokens: gitLabTokens,
	},
	{
		Type: contract.RunnerBuildkite, Name: "Buildkite",
		Detection: "BUILDKITE=true",
		detect:    isTrue("BUILDKITE"),
		Required: []string{"BUILDKITE_ORGANIZATION_SLUG", "BUILDKITE_PIPELINE_SLUG", "BUILDKITE_BUILD_ID",
			"BUILDKITE_BUILD_NUMBER", "BUILDKITE_BUILD_URL", "BUILDKITE_JOB_ID", "BUILDKITE_COMMIT", "BUILDKITE_BRANCH",
			"BUILDKITE_REPO", "BUILDKITE_AGENT_NAME"},
		Optional: []string{"BUILDKITE_TAG", "BUILDKITE_PULL_REQUEST", "BUILDKITE_LABEL", "BUILDKITE_STEP_KEY",
			"BUILDKITE_SOURCE", "BUILDKITE_RETRY_COUNT", "BUILDKITE_BUILD_CREATOR"},
		Workspace: "BUILDKITE_BUILD_CHECKOUT_PATH", workspace: variable("BUILDKITE_BUILD_CHECKOUT_PATH"),
		URL: "BUILDKITE_BUILD_URL#BUILDKITE_JOB_ID",
		url: func(getenv func(string) string) string {
			return join(getenv("BUILDKITE_BUILD_URL"), "#", getenv("BUILDKITE_JOB_ID"))
		},
	},
	{
		Type: contract.RunnerTeamCity, Name: "TeamCity",
		Detection: "TEAMCITY_VERSION is set",
		detect:    isSet("TEAMCITY_VERSION"),
		Required:  []string{"TEAMCITY_VERSION", "TEAMCITY_PROJECT_NAME", "TEAMCITY_BUILDCONF_NAME", "BUILD_NUMBER"},
		// TeamCity puts no build URL in the environment: a build configuration sets the parameter
		// env.BUILD_URL to %teamcity.serverUrl%/viewLog.html?buildId=%teamcity.build.id%.
		Optional: []string{"BUILD_VCS_NUMBER", "BUILD_URL"},
		URL:      "BUILD_URL (set it as a build parameter)",
		url:      func(getenv func(string) string) string { return getenv("BUILD_URL") },
	},
	{
		Type: contract.RunnerAzurePipeline, Name: "Azure Pipelines",
		Detection: "TF_BUILD=True",
		detect:    isTrue("TF_BUILD"),
		Required: []string{"SYSTEM_TEAMFOUNDATIONCOLLECTIONURI", "SYSTEM_TEAMPROJECT", "BUILD_BUILDID", "BUILD_DEFINITIONNAME",
			"BUILD_REPOSITORY_NAME", "BUILD_SOURCEVERSION", "BUILD_SOURCEBRANCH", "AGENT_NAME"},
		Optional: []string{"BUILD_BUILDNUMBER", "BUILD_REPOSITORY_URI", "BUILD_REASON", "BUILD_REQUESTEDFOR",
			"SYSTEM_JOBDISPLAYNAME", "SYSTEM_PULLREQUEST_PULLREQUESTID", "AGENT_OS"},
		Workspace: "BUILD_SOURCESDIRECTORY", workspace: variable("BUILD_SOURCESDIRECTORY"),
		// The collection URI is https://dev.azure.com/ORG/ or an Azure DevOps Server collection.
		URL: "SYSTEM_TEAMFOUNDATIONCOLLECTIONURI/SYSTEM_TEAMPROJECT/_build/results?buildId=BUILD_BUILDID",
		url: func(getenv func(string) string) string {
			base := getenv("SYSTEM_TEAMFOUNDATIONCOLLECTIONURI")
			if base != "" && !strings.HasSuffix(base, "/") {
				base += "/"
			}
			return join(base, url.PathEscape(getenv("SYSTEM_TEAMPROJECT")), "/_build/results?buildId=", url.QueryEscape(getenv("BUILD_BUILDID")))
		},
	},
	{
		Type: contract.RunnerCircleCIBuild, Name: "CircleCI",
		Detection: "CIRCLECI=true",
		detect:    isTrue("CIRCLECI"),
		Required:  []string{"CIRCLE_BUILD_NUM", "CIRCLE_BUILD_URL", "CIRCLE_JOB", "CIRCLE_WORKFLOW_ID"},
		Optional: []string{"CIRCLE_PROJECT_USERNAME", "CIRCLE_PROJECT_REPONAME", "CIRCLE_REPOSITORY_URL", "CIRCLE_SHA1",
			"CIRCLE_BRANCH", "CIRCLE_TAG", "CIRCLE_PULL_REQUEST", "CIRCLE_WORKFLOW_JOB_ID", "CIRCLE_USERNAME", "CIRCLE_NODE_INDEX"},
		// CIRCLE_WORKING_DIRECTORY is often ~/project.
		Workspace: "CIRCLE_WORKING_DIRECTORY", workspace: homeRelative("CIRCLE_WORKING_DIRECTORY"),
		URL: "CIRCLE_BUILD_URL",
		url: func(getenv func(string) string) string { return getenv("CIRCLE_BUILD_URL") },
	},
	{
		Type: contract.RunnerJenkinsJob, Name: "Jenkins",
		Detection: "JENKINS_URL is set, or BUILD_TAG starts with jenkins-",
		detect: func(e Env) bool {
			return e.getenv("JENKINS_URL") != "" || strings.HasPrefix(e.getenv("BUILD_TAG"), "jenkins-")
		},
		Required: []string{"JOB_NAME", "BUILD_NUMBER", "BUILD_TAG"},
		Optional: []string{"BUILD_URL", "JOB_URL", "JENKINS_URL", "NODE_NAME", "EXECUTOR_NUMBER", "GIT_URL", "GIT_BRANCH",
			"GIT_COMMIT", "BRANCH_NAME", "TAG_NAME", "CHANGE_ID", "CHANGE_TARGET"},
		Workspace: "WORKSPACE", workspace: variable("WORKSPACE"),
		URL: "BUILD_URL (set when Jenkins knows its own URL)",
		url: func(getenv func(string) string) string { return getenv("BUILD_URL") },
	},
	{
		Name:      "Generic",
		Detection: "anything else (any other CI system, or none)",
		detect:    func(Env) bool { return true },
		OIDC:      "`--oidc-token` or `CUSTODY_OIDC_TOKEN` only",
	},
}

// homeRelative reads a directory that may start with ~/ (the home directory, HOME).
func homeRelative(name string) func(func(string) string) string {
	return func(getenv func(string) string) string {
		dir := getenv(name)
		if rest, ok := strings.CutPrefix(dir, "~/"); ok && getenv("HOME") != "" {
			dir = filepath.Join(getenv("HOME"), rest)
		}
		return variable(name)(func(string) string { return dir })
	}
}
