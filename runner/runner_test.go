package runner

import (
	"maps"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/custody-dev/custody/contract"
)

type env map[string]string

func (e env) with(kv ...string) env {
	out := maps.Clone(e)
	for i := 0; i+1 < len(kv); i += 2 {
		if kv[i+1] == "" {
			delete(out, kv[i])
		} else {
			out[kv[i]] = kv[i+1]
		}
	}
	return out
}

// detect runs Detect over e, with the paths in dirs existing.
func detect(e env, dirs ...string) Context {
	return Detect(Env{Getenv: func(k string) string { return e[k] }, Exists: func(p string) bool { return slices.Contains(dirs, p) }})
}

// The environments below are what each CI system sets in a job, as its documentation of predefined
// variables lists them (values from the documentation's examples), with the secrets each also sets.
var (
	gitHubEnv = env{
		"CI": "true", "GITHUB_ACTIONS": "true", "GITHUB_SERVER_URL": "https://github.com", "GITHUB_API_URL": "https://api.github.com",
		"GITHUB_REPOSITORY": "octocat/Hello-World", "GITHUB_REPOSITORY_OWNER": "octocat", "GITHUB_REPOSITORY_ID": "123456789",
		"GITHUB_REPOSITORY_OWNER_ID": "583231", "GITHUB_RUN_ID": "1658821493", "GITHUB_RUN_NUMBER": "3", "GITHUB_RUN_ATTEMPT": "2",
		"GITHUB_SHA": "ffac537e6cbbf934b08745a378932722df287a53", "GITHUB_REF": "refs/heads/main", "GITHUB_REF_NAME": "main",
		"GITHUB_REF_TYPE": "branch", "GITHUB_WORKFLOW": "CI", "GITHUB_WORKFLOW_REF": "octocat/Hello-World/.github/workflows/ci.yml@refs/heads/main",
		"GITHUB_WORKFLOW_SHA": "ffac537e6cbbf934b08745a378932722df287a53", "GITHUB_EVENT_NAME": "push", "GITHUB_EVENT_PATH": "/home/runner/work/_temp/_github_workflow/event.json",
		"GITHUB_ACTOR": "octocat", "GITHUB_TRIGGERING_ACTOR": "octocat", "GITHUB_JOB": "build", "GITHUB_WORKSPACE": "/home/runner/work/Hello-World/Hello-World",
		"RUNNER_NAME": "GitHub Actions 2", "RUNNER_OS": "Linux", "RUNNER_ARCH": "X64", "RUNNER_ENVIRONMENT": "github-hosted", "RUNNER_TEMP": "/home/runner/work/_temp",
		"GITHUB_TOKEN": "ghs_16C7e42F292c6912E7710c838347Ae178B4a", "ACTIONS_ID_TOKEN_REQUEST_TOKEN": "eyJ0eXAiOiJKV1Qi.request.token",
		"ACTIONS_ID_TOKEN_REQUEST_URL": "https://pipelines.actions.githubusercontent.com/abc/00000000-0000-0000-0000-000000000000/_apis/distributedtask/hubs/Actions/plans/1/jobs/2/idtoken?api-version=2.0",
		"ACTIONS_RUNTIME_TOKEN":        "eyJ0eXAiOiJKV1Qi.runtime.token",
	}
	gitLabEnv = env{
		"CI": "true", "GITLAB_CI": "true", "CI_SERVER_URL": "https://gitlab.com", "CI_SERVER_HOST": "gitlab.com",
		"CI_PROJECT_PATH": "gitlab-org/gitlab-foss", "CI_PROJECT_ID": "13083", "CI_PROJECT_DIR": "/builds/gitlab-org/gitlab-foss",
		"CI_PIPELINE_ID": "1000", "CI_PIPELINE_IID": "12", "CI_PIPELINE_SOURCE": "push", "CI_PIPELINE_URL": "https://gitlab.com/gitlab-org/gitlab-foss/-/pipelines/1000",
		"CI_JOB_ID": "50", "CI_JOB_NAME": "build", "CI_JOB_STAGE": "build", "CI_JOB_URL": "https://gitlab.com/gitlab-org/gitlab-foss/-/jobs/50",
		"CI_COMMIT_SHA": "1ecfd275763eff1d6b4844ea3168962458c9f27a", "CI_COMMIT_REF_NAME": "main", "CI_COMMIT_BRANCH": "main",
		"CI_COMMIT_REF_PROTECTED": "true", "CI_CONFIG_PATH": ".gitlab-ci.yml", "CI_RUNNER_ID": "7", "CI_RUNNER_DESCRIPTION": "shared-runners-manager-1.gitlab.com",
		"CI_RUNNER_VERSION": "17.0.0", "GITLAB_USER_LOGIN": "root",
		"CI_JOB_TOKEN": "glcbt-64_abc", "CI_REPOSITORY_URL": "https://gitlab-ci-token:glcbt-64_abc@gitlab.com/gitlab-org/gitlab-foss.git",
		"CUSTODY_ID_TOKEN": "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJwcm9qZWN0In0.c2ln",
	}
	jenkinsEnv = env{
		"JENKINS_URL": "https://ci.acme.internal/", "JENKINS_HOME": "/var/jenkins_home", "JOB_NAME": "skynet/main", "JOB_BASE_NAME": "main",
		"BUILD_NUMBER": "15", "BUILD_ID": "15", "BUILD_TAG": "jenkins-skynet-main-15", "BUILD_URL": "https://ci.acme.internal/job/skynet/job/main/15/",
		"JOB_URL": "https://ci.acme.internal/job/skynet/job/main/", "NODE_NAME": "built-in", "EXECUTOR_NUMBER": "0",
		"WORKSPACE": "/var/jenkins_home/workspace/skynet_main", "GIT_URL": "https://deploy:s3cret@git.acme.internal/skynet.git",
		"GIT_BRANCH": "origin/main", "GIT_COMMIT": "80e461e9b385c6986cdb8096c9dc99928943d667", "BRANCH_NAME": "main",
	}
	azureEnv = env{
		"TF_BUILD": "True", "SYSTEM_TEAMFOUNDATIONCOLLECTIONURI": "https://dev.azure.com/fabrikamfiber/", "SYSTEM_TEAMPROJECT": "Fabrikam Fiber",
		"BUILD_BUILDID": "1234", "BUILD_BUILDNUMBER": "20240101.1", "BUILD_DEFINITIONNAME": "fabrikam-ci", "BUILD_REPOSITORY_NAME": "fabrikam",
		"BUILD_REPOSITORY_URI": "https://fabrikamfiber@dev.azure.com/fabrikamfiber/Fabrikam%20Fiber/_git/fabrikam",
		"BUILD_SOURCEVERSION":  "80e461e9b385c6986cdb8096c9dc99928943d667", "BUILD_SOURCEBRANCH": "refs/heads/main", "BUILD_REASON": "IndividualCI",
		"BUILD_REQUESTEDFOR": "Jamal Hartnett", "BUILD_SOURCESDIRECTORY": "/home/vsts/work/1/s", "SYSTEM_JOBDISPLAYNAME": "Build",
		"AGENT_NAME": "Hosted Agent", "AGENT_OS": "Linux", "SYSTEM_ACCESSTOKEN": "azure-secret",
	}
	circleEnv = env{
		"CI": "true", "CIRCLECI": "true", "CIRCLE_BUILD_NUM": "42", "CIRCLE_BUILD_URL": "https://circleci.com/gh/acme/skynet/42",
		"CIRCLE_JOB": "build", "CIRCLE_WORKFLOW_ID": "6fbd2e5a-8d8f-4e2e-9b0a-0c1f0b7a4c11", "CIRCLE_PROJECT_USERNAME": "acme",
		"CIRCLE_PROJECT_REPONAME": "skynet", "CIRCLE_REPOSITORY_URL": "git@github.com:acme/skynet.git", "CIRCLE_SHA1": "80e461e9b385c6986cdb8096c9dc99928943d667",
		"CIRCLE_BRANCH": "main", "CIRCLE_USERNAME": "sarah", "CIRCLE_NODE_INDEX": "0", "CIRCLE_WORKING_DIRECTORY": "~/project", "HOME": "/home/circleci",
		"CIRCLE_OIDC_TOKEN": "eyJhbGciOiJSUzI1NiJ9.e30.c2ln",
	}
	buildkiteEnv = env{
		"CI": "true", "BUILDKITE": "true", "BUILDKITE_ORGANIZATION_SLUG": "acme", "BUILDKITE_PIPELINE_SLUG": "skynet",
		"BUILDKITE_BUILD_ID": "f62a1b4d-10f9-4790-bc1c-e2c3a0c80983", "BUILDKITE_BUILD_NUMBER": "1514", "BUILDKITE_BUILD_URL": "https://buildkite.com/acme/skynet/builds/1514",
		"BUILDKITE_JOB_ID": "e44f9784-e20e-4b93-a21d-f41fd5869db9", "BUILDKITE_COMMIT": "80e461e9b385c6986cdb8096c9dc99928943d667",
		"BUILDKITE_BRANCH": "main", "BUILDKITE_REPO": "git@github.com:acme/skynet.git", "BUILDKITE_AGENT_NAME": "my-agent-1",
		"BUILDKITE_LABEL": ":hammer: Build", "BUILDKITE_SOURCE": "webhook", "BUILDKITE_BUILD_CHECKOUT_PATH": "/buildkite/builds/my-agent-1/acme/skynet",
		"BUILDKITE_AGENT_ACCESS_TOKEN": "bkagent_secret",
	}
	teamCityEnv = env{
		"TEAMCITY_VERSION": "2024.03 (build 156606)", "TEAMCITY_PROJECT_NAME": "Skynet", "TEAMCITY_BUILDCONF_NAME": "Build",
		"BUILD_NUMBER": "128", "BUILD_VCS_NUMBER": "80e461e9b385c6986cdb8096c9dc99928943d667",
		"BUILD_URL": "https://teamcity.acme.internal/viewLog.html?buildId=4096",
	}
)

func TestDetect(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		env       env
		dirs      []string
		want      contract.RunnerType
		url       string
		workspace string
		missing   []string
		// recorded must be recorded with these values; never must not be recorded at all.
		recorded map[string]string
		never    []string
	}{
		{name: "a developer's machine", env: env{"HOME": "/home/sarah", "PATH": "/usr/bin"}},
		{name: "a CI system custody does not know is the generic fallback", env: env{"CI": "true", "DRONE": "true"}},
		{name: "github.com", env: gitHubEnv, want: contract.RunnerGitHubAction,
			url: "https://github.com/octocat/Hello-World/actions/runs/1658821493/attempts/2", workspace: "/home/runner/work/Hello-World/Hello-World",
			recorded: map[string]string{"GITHUB_REPOSITORY": "octocat/Hello-World", "GITHUB_REPOSITORY_OWNER_ID": "583231",
				"GITHUB_WORKFLOW_REF": "octocat/Hello-World/.github/workflows/ci.yml@refs/heads/main", "RUNNER_ENVIRONMENT": "github-hosted"},
			never: []string{"GITHUB_TOKEN", "ACTIONS_ID_TOKEN_REQUEST_TOKEN", "ACTIONS_ID_TOKEN_REQUEST_URL", "ACTIONS_RUNTIME_TOKEN", "GITHUB_WORKSPACE"}},
		{name: "GitHub Enterprise Server", env: gitHubEnv.with("GITHUB_SERVER_URL", "https://github.acme.internal", "GITHUB_REPOSITORY", "skynet/app"),
			want: contract.RunnerGitHubAction, url: "https://github.acme.internal/skynet/app/actions/runs/1658821493/attempts/2",
			workspace: "/home/runner/work/Hello-World/Hello-World"},
		{name: "github without a required variable reports it", env: gitHubEnv.with("GITHUB_RUN_ATTEMPT", "", "GITHUB_SHA", ""),
			want: contract.RunnerGitHubAction, url: "https://github.com/octocat/Hello-World/actions/runs/1658821493",
			workspace: "/home/runner/work/Hello-World/Hello-World", missing: []string{"GITHUB_RUN_ATTEMPT", "GITHUB_SHA"}},
		{name: "github without its server URL has no run URL, never a guessed github.com", env: gitHubEnv.with("GITHUB_SERVER_URL", ""),
			want: contract.RunnerGitHubAction, workspace: "/home/runner/work/Hello-World/Hello-World", missing: []string{"GITHUB_SERVER_URL"}},
		{name: "gitlab.com", env: gitLabEnv, want: contract.RunnerGitLabPipeline, url: "https://gitlab.com/gitlab-org/gitlab-foss/-/jobs/50",
			workspace: "/builds/gitlab-org/gitlab-foss", recorded: map[string]string{"CI_PROJECT_PATH": "gitlab-org/gitlab-foss", "CI_COMMIT_REF_PROTECTED": "true"},
			never: []string{"CI_JOB_TOKEN", "CI_REPOSITORY_URL", "CUSTODY_ID_TOKEN"}},
		{name: "self-managed GitLab under a relative URL root, without CI_JOB_URL", env: gitLabEnv.with("CI_SERVER_URL", "https://git.acme.internal/gitlab", "CI_JOB_URL", ""),
			want: contract.RunnerGitLabPipeline, url: "https://git.acme.internal/gitlab/gitlab-org/gitlab-foss/-/jobs/50",
			workspace: "/builds/gitlab-org/gitlab-foss", missing: []string{"CI_JOB_URL"}},
		{name: "jenkins", env: jenkinsEnv, want: contract.RunnerJenkinsJob, url: "https://ci.acme.internal/job/skynet/job/main/15/",
			workspace: "/var/jenkins_home/workspace/skynet_main",
			recorded:  map[string]string{"JOB_NAME": "skynet/main", "GIT_URL": "https://git.acme.internal/skynet.git"}},
		{name: "jenkins that does not know its own URL", env: jenkinsEnv.with("JENKINS_URL", "", "BUILD_URL", "", "JOB_URL", ""),
			want: contract.RunnerJenkinsJob, workspace: "/var/jenkins_home/workspace/skynet_main"},
		{name: "azure pipelines", env: azureEnv, want: contract.RunnerAzurePipeline,
			url: "https://dev.azure.com/fabrikamfiber/Fabrikam%20Fiber/_build/results?buildId=1234", workspace: "/home/vsts/work/1/s",
			recorded: map[string]string{"BUILD_REPOSITORY_URI": "https://dev.azure.com/fabrikamfiber/Fabrikam%20Fiber/_git/fabrikam"},
			never:    []string{"SYSTEM_ACCESSTOKEN"}},
		{name: "azure devops server", env: azureEnv.with("SYSTEM_TEAMFOUNDATIONCOLLECTIONURI", "https://tfs.acme.internal/DefaultCollection"),
			want: contract.RunnerAzurePipeline, url: "https://tfs.acme.internal/DefaultCollection/Fabrikam%20Fiber/_build/results?buildId=1234",
			workspace: "/home/vsts/work/1/s"},
		{name: "circleci", env: circleEnv, want: contract.RunnerCircleCIBuild, url: "https://circleci.com/gh/acme/skynet/42",
			workspace: "/home/circleci/project", recorded: map[string]string{"CIRCLE_JOB": "build"}, never: []string{"CIRCLE_OIDC_TOKEN"}},
		{name: "buildkite", env: buildkiteEnv, want: contract.RunnerBuildkite,
			url:       "https://buildkite.com/acme/skynet/builds/1514#e44f9784-e20e-4b93-a21d-f41fd5869db9",
			workspace: "/buildkite/builds/my-agent-1/acme/skynet", recorded: map[string]string{"BUILDKITE_LABEL": ":hammer: Build"},
			never: []string{"BUILDKITE_AGENT_ACCESS_TOKEN"}},
		{name: "teamcity", env: teamCityEnv, want: contract.RunnerTeamCity, url: "https://teamcity.acme.internal/viewLog.html?buildId=4096",
			recorded: map[string]string{"TEAMCITY_BUILDCONF_NAME": "Build"}},
		{name: "teamcity is not jenkins, though both set BUILD_NUMBER", env: teamCityEnv.with("BUILD_URL", ""), want: contract.RunnerTeamCity},
		{name: "tekton, with the names a Task passes", dirs: []string{"/tekton/results"},
			env: env{"TEKTON_PIPELINE_RUN": "build-x7k2p", "TEKTON_TASK_RUN": "build-x7k2p-compile", "TEKTON_NAMESPACE": "ci",
				"TEKTON_DASHBOARD_URL": "https://tekton.acme.internal/"},
			want: contract.RunnerTektonPipeline, url: "https://tekton.acme.internal/#/namespaces/ci/pipelineruns/build-x7k2p"},
		{name: "a tekton TaskRun without a pipeline", dirs: []string{"/tekton/results"},
			env:  env{"TEKTON_TASK_RUN": "scan-1", "TEKTON_NAMESPACE": "ci", "TEKTON_DASHBOARD_URL": "https://tekton.acme.internal"},
			want: contract.RunnerTektonPipeline, url: "https://tekton.acme.internal/#/namespaces/ci/taskruns/scan-1"},
		{name: "tekton inside anything is tekton", env: gitLabEnv, dirs: []string{"/tekton/results"}, want: contract.RunnerTektonPipeline},
		{name: "dagger inside github actions is dagger", env: gitHubEnv.with("DAGGER_PIPELINE", "build"), want: contract.RunnerDaggerPipeline,
			recorded: map[string]string{"DAGGER_PIPELINE": "build"}, never: []string{"GITHUB_REPOSITORY"}},
		{name: "a marker with the wrong value is not a runner", env: env{"GITHUB_ACTIONS": "false", "GITLAB_CI": "false"}},
		{name: "github wins over a leaked gitlab variable, always", env: gitHubEnv.with("GITLAB_CI", "true"), want: contract.RunnerGitHubAction,
			url: "https://github.com/octocat/Hello-World/actions/runs/1658821493/attempts/2", workspace: "/home/runner/work/Hello-World/Hello-World"},
		{name: "a value over the bound is reported, not recorded", env: gitHubEnv.with("GITHUB_WORKFLOW", strings.Repeat("w", MaxValue+1)),
			want: contract.RunnerGitHubAction, url: "https://github.com/octocat/Hello-World/actions/runs/1658821493/attempts/2",
			workspace: "/home/runner/work/Hello-World/Hello-World", missing: []string{"GITHUB_WORKFLOW (longer than 4096 bytes)"}, never: []string{"GITHUB_WORKFLOW"}},
		{name: "a value at the bound is recorded", env: gitHubEnv.with("GITHUB_WORKFLOW", strings.Repeat("w", MaxValue)),
			want: contract.RunnerGitHubAction, url: "https://github.com/octocat/Hello-World/actions/runs/1658821493/attempts/2",
			workspace: "/home/runner/work/Hello-World/Hello-World", recorded: map[string]string{"GITHUB_WORKFLOW": strings.Repeat("w", MaxValue)}},
		{name: "a run URL over the bound is dropped", env: jenkinsEnv.with("BUILD_URL", "https://ci.acme.internal/"+strings.Repeat("j", MaxValue)),
			want: contract.RunnerJenkinsJob, workspace: "/var/jenkins_home/workspace/skynet_main", missing: []string{"BUILD_URL (longer than 4096 bytes)"}},
		{name: "a run URL that is no http(s) link is dropped", env: jenkinsEnv.with("BUILD_URL", "javascript:alert(1)"),
			want: contract.RunnerJenkinsJob, workspace: "/var/jenkins_home/workspace/skynet_main"},
		{name: "a relative workspace is not one", env: jenkinsEnv.with("WORKSPACE", "workspace/skynet"), want: contract.RunnerJenkinsJob,
			url: "https://ci.acme.internal/job/skynet/job/main/15/"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := detect(tt.env, tt.dirs...)
			if got.Type != tt.want || got.URL != tt.url || got.Workspace != tt.workspace || got.Detected() != (tt.want != "") {
				t.Errorf("Detect = type %q url %q workspace %q\nwant type %q url %q workspace %q", got.Type, got.URL, got.Workspace, tt.want, tt.url, tt.workspace)
			}
			if got.Name != Name(tt.want) {
				t.Errorf("name %q, want %q", got.Name, Name(tt.want))
			}
			if !reflect.DeepEqual(got.Missing, tt.missing) {
				t.Errorf("missing = %q, want %q", got.Missing, tt.missing)
			}
			for k, v := range tt.recorded {
				if got.Environment[k] != v {
					t.Errorf("%s recorded as %q, want %q", k, got.Environment[k], v)
				}
			}
			for _, k := range tt.never {
				if v, ok := got.Environment[k]; ok {
					t.Errorf("%s=%q recorded", k, v)
				}
			}
			declared := declaredVars(got.Type)
			for k := range got.Environment {
				if !slices.Contains(declared, k) {
					t.Errorf("%s recorded, but the runner does not declare it", k)
				}
			}
		})
	}
}

func declaredVars(t contract.RunnerType) []string {
	for _, r := range Runners() {
		if r.Type == t {
			return append(append([]string(nil), r.Required...), r.Optional...)
		}
	}
	return nil
}

// Every variable a runner with a real environment above declares is one that CI system documents:
// the environment above sets it (Tekton's and the optional ones a job may lack aside).
func TestDeclaredVariablesAreTheCIsOwn(t *testing.T) {
	t.Parallel()
	envs := map[contract.RunnerType]env{
		contract.RunnerGitHubAction: gitHubEnv, contract.RunnerGitLabPipeline: gitLabEnv, contract.RunnerJenkinsJob: jenkinsEnv,
		contract.RunnerAzurePipeline: azureEnv, contract.RunnerCircleCIBuild: circleEnv, contract.RunnerBuildkite: buildkiteEnv,
		contract.RunnerTeamCity: teamCityEnv,
	}
	for typ, e := range envs {
		if got := detect(e); len(got.Missing) > 0 {
			t.Errorf("%s: the documented environment misses required %v", typ, got.Missing)
		}
	}
}

// The order is fixed and documented: the more specific first, the generic fallback last.
func TestDetectionOrder(t *testing.T) {
	t.Parallel()
	var got []contract.RunnerType
	for _, r := range Runners() {
		got = append(got, r.Type)
	}
	want := []contract.RunnerType{contract.RunnerTektonPipeline, contract.RunnerDaggerPipeline, contract.RunnerGitHubAction,
		contract.RunnerGitLabPipeline, contract.RunnerBuildkite, contract.RunnerTeamCity, contract.RunnerAzurePipeline,
		contract.RunnerCircleCIBuild, contract.RunnerJenkinsJob, ""}
	if !slices.Equal(got, want) {
		t.Errorf("order = %v, want %v", got, want)
	}
}

func TestEveryRunnerTypeIsDetected(t *testing.T) {
	t.Parallel()
	seen := map[contract.RunnerType]bool{}
	for _, r := range Runners() {
		seen[r.Type] = true
	}
	for _, rt := range contract.RunnerTypes() {
		if !seen[rt] {
			t.Errorf("runner type %s has no detector", rt)
		}
	}
}

// Detection reads only the environment it is given: a nil Env is a machine with nothing set.
func TestDetectWithNothingInjected(t *testing.T) {
	t.Parallel()
	if got := Detect(Env{}); got.Detected() || got.Name != "no CI runner" {
		t.Errorf("Detect(Env{}) = %+v", got)
	}
}
