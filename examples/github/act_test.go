// Package github_test runs the GitHub examples under act (github.com/nektos/act) in host mode, offline,
// against a custodyd process on 127.0.0.1: the workflow files as users copy them, the Action through its
// composite wrapper (no Docker engine runs here) standing in for custody-dev/custody@v1.
package github_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/custody-dev/custody/cli"
)

func readContract(t testing.TB) string {
	t.Helper()
	b, err := os.ReadFile("contract.yaml")
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestExamplesUnderAct: each example runs green under act with a workflow token (CUSTODY_TOKEN in the
// job's environment), the run it pushed succeeded in the control plane, its step summary holds the
// materials table, and the summary's verify command verifies the stored bundle.
func TestExamplesUnderAct(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		example, ref string
		// job is the job whose steps pushed.
		job string
	}{
		{"single-job.yml", "refs/heads/main", "build"},
		{"build-and-attest.yml", "refs/heads/main", "attest"},
		{"reusable-caller.yml", "refs/tags/v1.0.0", "release"},
	} {
		t.Run(tc.example, func(t *testing.T) {
			t.Parallel()
			cp := startControlPlane(t, readContract(t))
			repo := newActRepo(t, tc.example)
			run := repo.run(t, cp, tc.ref, "CUSTODY_TOKEN="+cp.token)
			checkPushed(t, cp, repo, run, tc.job)
		})
	}
}

// TestExampleResetsOnFailure: the single-job example against a contract it does not meet: push fails
// with an error annotation naming what is missing, and the `if: failure()` step resets the run, which
// the control plane records as failed, with the job in the reason.
func TestExampleResetsOnFailure(t *testing.T) {
	t.Parallel()
	contract := readContract(t) + "    - name: sbom\n      type: SBOM_CYCLONEDX_JSON\n"
	cp := startControlPlane(t, contract)
	repo := newActRepo(t, "single-job.yml")
	run := repo.run(t, cp, "refs/heads/main", "CUSTODY_TOKEN="+cp.token)
	if run.code == 0 {
		t.Fatalf("act succeeded with a contract the example does not meet:\n%s", run.log)
	}
	errs := run.annotations("error")
	if len(errs) == 0 || errs[0].KVPairs["title"] != "custody attestation push failed" || !strings.Contains(errs[0].Arg, "required materials not set: sbom") {
		t.Fatalf("want an error annotation of the push naming sbom, got %+v\n%s", errs, run.log)
	}
	runs := cp.runs(t)
	if len(runs) != 1 || runs[0].State != "failed" || runs[0].Reason != "reset by the custody GitHub Action in job build" {
		t.Fatalf("runs %+v: want one, failed by the reset step", runs)
	}
}

// checkPushed checks a green act run pushed one attestation of the repository's head, verifies it, and
// returns its digest and its subject's.
func checkPushed(t *testing.T, cp *controlPlane, repo *actRepo, run actRun, job string) (digest, subject string) {
	t.Helper()
	if run.code != 0 {
		t.Fatalf("act: exit %d\n%s", run.code, run.log)
	}
	outputs := run.outputs(job)
	digest = outputs["digest"]
	runs := cp.runs(t)
	if len(runs) != 1 || runs[0].State != "succeeded" || runs[0].AttestationDigest != digest || runs[0].ID != outputs["attestation-id"] ||
		runs[0].Runner.Type != "GITHUB_ACTION" {
		t.Fatalf("runs %+v, outputs of job %s %v: want one succeeded run with the pushed digest, on GITHUB_ACTION", runs, job, outputs)
	}
	for _, name := range cli.ActionOutputs {
		if job != "release" && outputs[name] == "" { // a reusable workflow's caller gets the outputs it maps
			t.Errorf("output %s not set by job %s: %v", name, job, outputs)
		}
	}
	var summary string
	for _, s := range run.summaries() {
		if strings.Contains(s, "#### Verify") {
			summary = s
		}
	}
	head := repo.head(t)
	for _, want := range []string{"| app | ARTIFACT | Yes | Yes | x | app\\.tar\\.gz\\@sha256\\:", "| build\\-ref | STRING | Yes | Yes |  | " + head + " |"} {
		if !strings.Contains(summary, want) {
			t.Fatalf("the push summary lacks %q:\n%s\n%s", want, summary, run.log)
		}
	}
	return digest, verifyAsSummarySays(t, cp, digest, summary)
}

// verifyAsSummarySays fetches the stored bundle into attestation.sigstore.json and runs the summary's
// sh block (custody trusted-root, custody attestation verify) as written; it returns the subject digest
// the block verifies.
func verifyAsSummarySays(t *testing.T, cp *controlPlane, digest, summary string) string {
	t.Helper()
	_, rest, _ := strings.Cut(summary, "```sh\n")
	script, _, ok := strings.Cut(rest, "```")
	if !ok {
		t.Fatalf("no sh block in the summary:\n%s", summary)
	}
	dir := t.TempDir()
	bundle, err := cp.admin.GetBundle(t.Context(), digest)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "attestation.sigstore.json"), bundle, 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("sh", "-ec", script)
	cmd.Dir = dir
	cmd.Env = []string{"PATH=" + binDir(t) + string(os.PathListSeparator) + os.Getenv("PATH"), "HOME=" + dir}
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "OK   attestation.sigstore.json: Verified OK") {
		t.Fatalf("the summary's verify command:\n%s\n%v\n%s", script, err, out)
	}
	_, subject, _ := strings.Cut(script, "--digest ")
	subject, _, _ = strings.Cut(subject, " ")
	return subject
}
