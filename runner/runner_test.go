package runner

import (
	"reflect"
	"testing"

	"github.com/custody-dev/custody/contract"
)

func TestDetect(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		env     map[string]string
		want    contract.RunnerType
		wantURL string
		wantEnv map[string]string
	}{
		{"a developer's machine", map[string]string{"HOME": "/home/sarah"}, "", "", nil},
		{"github actions", map[string]string{
			"GITHUB_ACTIONS": "true", "GITHUB_SERVER_URL": "https://github.example.com", "GITHUB_REPOSITORY": "cyberdyne/skynet",
			"GITHUB_RUN_ID": "42", "GITHUB_REF": "refs/heads/main", "GITHUB_TOKEN": "ghs_secret",
		}, contract.RunnerGitHubAction, "https://github.example.com/cyberdyne/skynet/actions/runs/42", map[string]string{
			"GITHUB_SERVER_URL": "https://github.example.com", "GITHUB_REPOSITORY": "cyberdyne/skynet", "GITHUB_RUN_ID": "42", "GITHUB_REF": "refs/heads/main",
		}},
		{"gitlab", map[string]string{"GITLAB_CI": "true", "CI_JOB_URL": "https://gitlab.example.com/g/p/-/jobs/7", "CI_PROJECT_PATH": "g/p"},
			contract.RunnerGitLabPipeline, "https://gitlab.example.com/g/p/-/jobs/7", map[string]string{"CI_PROJECT_PATH": "g/p"}},
		{"azure", map[string]string{"TF_BUILD": "True", "SYSTEM_TEAMFOUNDATIONCOLLECTIONURI": "https://dev.azure.com/org/", "SYSTEM_TEAMPROJECT": "p", "BUILD_BUILDID": "9"},
			contract.RunnerAzurePipeline, "https://dev.azure.com/org/p/_build/results?buildId=9", map[string]string{"BUILD_BUILDID": "9"}},
		{"jenkins", map[string]string{"JENKINS_URL": "https://ci.example.com/", "BUILD_URL": "https://ci.example.com/job/x/1/"},
			contract.RunnerJenkinsJob, "https://ci.example.com/job/x/1/", map[string]string{}},
		{"circleci", map[string]string{"CIRCLECI": "true", "CIRCLE_BUILD_URL": "https://circleci.com/gh/x/1"},
			contract.RunnerCircleCIBuild, "https://circleci.com/gh/x/1", map[string]string{}},
		{"tekton", map[string]string{"TEKTON_PIPELINE_RUN": "build-1"}, contract.RunnerTektonPipeline, "", map[string]string{"TEKTON_PIPELINE_RUN": "build-1"}},
		{"dagger", map[string]string{"DAGGER_PIPELINE": "build"}, contract.RunnerDaggerPipeline, "", map[string]string{"DAGGER_PIPELINE": "build"}},
		{"a marker with the wrong value is not a runner", map[string]string{"GITHUB_ACTIONS": "false"}, "", "", nil},
		{"github wins over a leaked gitlab variable, always", map[string]string{"GITHUB_ACTIONS": "true", "GITLAB_CI": "true"},
			contract.RunnerGitHubAction, "", map[string]string{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := Detect(func(k string) string { return tt.env[k] })
			if got.Type != tt.want || got.URL != tt.wantURL || got.Detected() != (tt.want != "") {
				t.Errorf("Detect = %+v, want type %q url %q", got, tt.want, tt.wantURL)
			}
			if tt.want != "" && !reflect.DeepEqual(got.Environment, tt.wantEnv) {
				t.Errorf("environment = %v, want %v (secrets such as GITHUB_TOKEN never recorded)", got.Environment, tt.wantEnv)
			}
		})
	}
}

func TestEveryRunnerTypeIsDetected(t *testing.T) {
	t.Parallel()
	seen := map[contract.RunnerType]bool{}
	for _, d := range detectors {
		seen[d.typ] = true
	}
	for _, rt := range contract.RunnerTypes() {
		if !seen[rt] {
			t.Errorf("runner type %s has no detector", rt)
		}
	}
}
