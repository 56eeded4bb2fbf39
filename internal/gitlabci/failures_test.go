package gitlabci

import (
	"net"
	"regexp"
	"strings"
	"testing"
)

// reason is the reason custody reset records for a failed pipeline.
var reason = regexp.MustCompile(`^GitLab pipeline \d+ failed: https://gitlab.example.com/` + componentProject + `/(-/)?pipelines/\d+$`) // gitlab-ci-local leaves out the -/

// A job that fails beside custody push, once push pushed: the reset component's job runs (when:
// on_failure) and leaves the attestation alone, as push handed over that it pushed it.
//
// (A job that fails before push: gitlab-ci-local never starts an on_failure job after a job it
// skipped, as it does push; GitLab does. TestSideBySideAddsWithoutRemoteState has reset mark a run
// failed after the push job failed.)
func TestResetAfterPushLeavesTheAttestation(t *testing.T) {
	t.Parallel()
	cp := startControlPlane(t)
	pipeline := localPipeline(t, "multi-stage") + `
unit-tests:
  stage: publish
  script:
    - echo "2 tests failed"; exit 1
`
	r := runPipeline(t, repository(t, pipeline), true, map[string]string{"CUSTODY_CONTROL_PLANE": cp.URL, "CUSTODY_TOKEN": cp.Token})
	r.wantJobs(map[string]string{"custody-init": "PASS", "build": "PASS", "custody-add": "PASS", "unit-tests": "FAIL",
		"custody-push": "PASS", "custody-reset": "PASS"})
	if log := r.log("custody-reset"); !strings.Contains(log, "custody reset: the attestation was pushed, nothing to reset") {
		t.Errorf("reset's log:\n%s", log)
	}
	if runs := cp.runs(); len(runs) != 1 || runs[0].State != "succeeded" {
		t.Errorf("runs %+v; want the pushed run succeeded", runs)
	}
}

// attest resets its own run when it fails after init (after_script), and says in the job log what
// went wrong; when init itself failed there is nothing to reset.
func TestAttestFailures(t *testing.T) {
	t.Parallel()
	cp := startControlPlane(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := "http://" + ln.Addr().String()
	ln.Close()
	tests := []struct {
		name, materials, controlPlane string
		log                           []string // lines the job log has
		reason                        *regexp.Regexp
	}{
		{name: "a material that is not there", materials: "app-amd64=dist/app-amd64", controlPlane: cp.URL,
			log:    []string{"ERR ", "dist/app-amd64", "INF attestation ", " reset (failed)"},
			reason: regexp.MustCompile(`^GitLab job custody-attest failed: https://gitlab.example.com/` + componentProject + `/-/jobs/\d+$`)},
		{name: "a control plane down", materials: "build-ref=$CI_COMMIT_SHA", controlPlane: closed,
			log: []string{"control plane unavailable"}},
	}
	for _, tt := range tests {
		pipeline := localComponents(t, `include:
  - component: $CI_SERVER_FQDN/`+componentProject+`/attest@~latest
    inputs:
      workflow: `+workflow+`
      project: `+project+`
      materials: `+tt.materials+`
`)
		before := len(cp.runs())
		r := runPipeline(t, repository(t, pipeline), false, map[string]string{"CUSTODY_CONTROL_PLANE": tt.controlPlane,
			"CUSTODY_TOKEN": cp.Token, "CUSTODY_RETRY_DEADLINE": "300ms"})
		r.wantJobs(map[string]string{"custody-attest": "FAIL"})
		log := r.log("custody-attest")
		for _, want := range tt.log {
			if !strings.Contains(log, want) {
				t.Errorf("%s: the job log does not say %q:\n%s", tt.name, want, log)
			}
		}
		runs := cp.runs()
		switch {
		case tt.reason == nil && len(runs) != before:
			t.Errorf("%s: runs %+v; want none started", tt.name, runs)
		case tt.reason != nil && (len(runs) != before+1 || runs[0].State != "failed" || !tt.reason.MatchString(runs[0].Reason)):
			t.Errorf("%s: runs %+v; want the run failed, the job its reason", tt.name, runs)
		}
	}
}

// Two jobs of one stage that each add to a state handed over as artifacts would each hand over the
// same step: push refuses to choose one (the other's materials would be lost without a word) and
// says what to do; reset then marks the run failed.
func TestSideBySideAddsWithoutRemoteState(t *testing.T) {
	t.Parallel()
	cp := startControlPlane(t)
	pipeline := localComponents(t, `include:
  - component: $CI_SERVER_FQDN/`+componentProject+`/init@~latest
    inputs: {workflow: `+workflow+`, project: `+project+`}
  - component: $CI_SERVER_FQDN/`+componentProject+`/add@~latest
    inputs: {job-name: custody-add-ref, materials: build-ref=$CI_COMMIT_SHA}
  - component: $CI_SERVER_FQDN/`+componentProject+`/add@~latest
    inputs: {job-name: custody-add-source, materials: app-amd64=main.go}
  - component: $CI_SERVER_FQDN/`+componentProject+`/push@~latest
  - component: $CI_SERVER_FQDN/`+componentProject+`/reset@~latest
`)
	r := runPipeline(t, repository(t, pipeline), true, map[string]string{"CUSTODY_CONTROL_PLANE": cp.URL, "CUSTODY_TOKEN": cp.Token})
	r.wantJobs(map[string]string{"custody-init": "PASS", "custody-add-ref": "PASS", "custody-add-source": "PASS",
		"custody-push": "FAIL", "custody-reset": "PASS"})
	if log := r.log("custody-push"); !strings.Contains(log, "custody: jobs of one stage changed the state side by side") ||
		!strings.Contains(log, "give each a stage of its own, or use remote-state") {
		t.Errorf("push's log:\n%s", log)
	}
	if runs := cp.runs(); len(runs) != 1 || runs[0].State != "failed" || !reason.MatchString(runs[0].Reason) {
		t.Errorf("runs %+v; want the run failed, the pipeline its reason", runs)
	}
}
