package github_test

import (
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/custody-dev/custody/internal/testtool"
)

// actionFiles are the Action and its composite wrapper; workflowFiles the workflows users copy or call.
var (
	actionFiles   = []string{"action.yml", ".github/actions/custody-local/action.yml"}
	workflowFiles = []string{".github/workflows/custody-attest.yml", "examples/github/single-job.yml",
		"examples/github/build-and-attest.yml", "examples/github/reusable-caller.yml"}
)

// TestActionValidator: action-validator (the schemas of action.yml and of workflows) accepts every file.
func TestActionValidator(t *testing.T) {
	t.Parallel()
	bin := testtool.Path(t, "action-validator", "ACTION_VALIDATOR_BIN", "npm i -g @action-validator/cli@0.6.0 (or npx @action-validator/cli@0.6.0)")
	for _, f := range append(append([]string{}, actionFiles...), workflowFiles...) {
		cmd := exec.Command(bin, filepath.FromSlash(f))
		cmd.Dir = repoRoot
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Errorf("action-validator %s: %v\n%s", f, err, out)
		}
	}
}

// TestActionlint: actionlint finds nothing in the workflows (expressions, job outputs, needs, the
// reusable workflow's inputs and secrets, shell scripts when shellcheck is installed).
func TestActionlint(t *testing.T) {
	t.Parallel()
	bin := testtool.Path(t, "actionlint", "ACTIONLINT_BIN", "go install github.com/rhysd/actionlint/cmd/actionlint@v1.7.12")
	cmd := exec.Command(bin, workflowFiles...)
	cmd.Dir = repoRoot
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Errorf("actionlint: %v\n%s", err, out)
	}
}
