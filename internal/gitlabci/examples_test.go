package gitlabci

import (
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// commit is the commit the repository's pipeline ran on.
func commit(t *testing.T, dir string) string {
	t.Helper()
	out, err := exec.Command("git", "-C", dir, "rev-parse", "HEAD").Output()
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(string(out))
}

// checkPushed holds a pushed bundle to what the pipeline did: it verifies for both binaries with the
// control plane's trusted root, records the commit and a GitLab runner, and is the attestation of
// the workflow's last run, which succeeded.
func checkPushed(t *testing.T, cp *controlPlane, r *pipelineRun, bundle, dist string) statement {
	t.Helper()
	for _, arch := range []string{"amd64", "arm64"} {
		cp.verify(bundle, filepath.Join(dist, "app-"+arch))
	}
	s := readStatement(t, bundle)
	m := s.materials()
	if m["build-ref"] != commit(t, r.dir) || m["app-amd64"] == "" || m["app-arm64"] == "" || len(s.Subject) != 2 {
		t.Errorf("materials %v, %d subjects; want both binaries and build-ref %s", m, len(s.Subject), commit(t, r.dir))
	}
	rc := s.Predicate.Runner
	if rc.Type != "GITLAB_PIPELINE" || !strings.HasPrefix(rc.URL, "https://gitlab.example.com/"+componentProject+"/-/jobs/") ||
		rc.Environment["CI_PROJECT_PATH"] != componentProject {
		t.Errorf("runner %+v; want the GitLab job that ran init", rc)
	}
	runs := cp.runs()
	if len(runs) == 0 || runs[0].State != "succeeded" || runs[0].ID != s.Predicate.Workflow.RunID {
		t.Errorf("runs %+v; want the pushed run %s succeeded", runs, s.Predicate.Workflow.RunID)
	}
	return s
}

// One job: custody attest after the build, as examples/gitlab/attest has it.
func TestExampleAttest(t *testing.T) {
	t.Parallel()
	cp := startControlPlane(t)
	dir := repository(t, localPipeline(t, "attest"))
	r := runPipeline(t, dir, false, map[string]string{"CUSTODY_CONTROL_PLANE": cp.URL, "CUSTODY_TOKEN": cp.Token})
	r.wantJobs(map[string]string{"build": "PASS", "custody-attest": "PASS"})
	checkPushed(t, cp, r, r.artifact("custody-attest", "attestation.sigstore.json"), filepath.Join(dir, "dist"))
	if log := r.log("custody-attest"); strings.Contains(log, cp.Token) {
		t.Error("the job log shows the workflow token")
	}
}

// init, the build, add and push in four stages, the state handed over as job artifacts, as
// examples/gitlab/multi-stage has it. gitlab-ci-local extracts the artifacts of the earlier jobs with
// init's after add's: push still signs the state add handed over.
func TestExampleMultiStage(t *testing.T) {
	t.Parallel()
	cp := startControlPlane(t)
	dir := repository(t, localPipeline(t, "multi-stage"))
	r := runPipeline(t, dir, true, map[string]string{"CUSTODY_CONTROL_PLANE": cp.URL, "CUSTODY_TOKEN": cp.Token})
	r.wantJobs(map[string]string{"custody-init": "PASS", "build": "PASS", "custody-add": "PASS", "custody-push": "PASS"})
	r.artifact("custody-init", ".custody/handoff")
	r.artifact("custody-add", ".custody/handoff")
	checkPushed(t, cp, r, r.artifact("custody-push", "attestation.sigstore.json"), r.artifact("build", "dist"))
}

// Two builds and two add jobs side by side on one attestation kept in the control plane, as
// examples/gitlab/remote-state has it: init passes the run id on in a dotenv report.
func TestExampleRemoteState(t *testing.T) {
	t.Parallel()
	cp := startControlPlane(t)
	dir := repository(t, localPipeline(t, "remote-state"))
	r := runPipeline(t, dir, true, map[string]string{"CUSTODY_CONTROL_PLANE": cp.URL, "CUSTODY_TOKEN": cp.Token})
	r.wantJobs(map[string]string{"custody-init": "PASS", "build-amd64": "PASS", "build-arm64": "PASS",
		"custody-add-amd64": "PASS", "custody-add-arm64": "PASS", "custody-push": "PASS"})
	dist := t.TempDir()
	for _, arch := range []string{"amd64", "arm64"} {
		copyFile(t, r.artifact("build-"+arch, "dist/app-"+arch), filepath.Join(dist, "app-"+arch))
	}
	s := checkPushed(t, cp, r, r.artifact("custody-push", "attestation.sigstore.json"), dist)
	if log := r.log("custody-init"); !strings.Contains(log, "kept in the control plane as run "+s.Predicate.Workflow.RunID) {
		t.Errorf("init's log does not name run %s:\n%s", s.Predicate.Workflow.RunID, log)
	}
}
