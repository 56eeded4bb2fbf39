package main

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/custody-dev/custody/cli"
	"github.com/custody-dev/custody/internal/cptest"
	"github.com/custody-dev/custody/internal/ghactions"
)

// ghStep is one step of a GitHub Actions job run by the binary: the environment a runner gives a
// step (GITHUB_ACTIONS, fresh GITHUB_OUTPUT and GITHUB_STEP_SUMMARY files, the workspace), and what the
// runner reads back.
type ghStep struct {
	result
	outputs  map[string]string
	exported map[string]string // GITHUB_ENV
	summary  string
	commands []ghactions.Command // workflow commands, in the order written (stdout and stderr)
}

// inActions returns the workspace as a GitHub Actions job sees it.
func (w *workspace) inActions() *workspace {
	return w.with("GITHUB_ACTIONS=true", "CI=true", "GITHUB_WORKSPACE="+w.dir, "GITHUB_JOB=build",
		"GITHUB_SERVER_URL=https://github.example", "GITHUB_REPOSITORY=acme/app", "GITHUB_RUN_ID=42")
}

// step runs custody as one step: args, or the Action's entrypoint (github-action) with inputs.
func (w *workspace) step(inputs map[string]string, args ...string) ghStep {
	w.t.Helper()
	dir := w.t.TempDir()
	out, summary, exported := filepath.Join(dir, "output"), filepath.Join(dir, "summary"), filepath.Join(dir, "env")
	for _, f := range []string{out, summary, exported} {
		if err := os.WriteFile(f, nil, 0o644); err != nil {
			w.t.Fatal(err)
		}
	}
	env := []string{"GITHUB_OUTPUT=" + out, "GITHUB_STEP_SUMMARY=" + summary, "GITHUB_ENV=" + exported}
	if inputs != nil {
		args = append([]string{"github-action"}, args...)
		for k, v := range inputs {
			env = append(env, "INPUT_"+strings.ToUpper(k)+"="+v)
		}
	}
	s := ghStep{result: w.with(env...).custody(args...)}
	var err error
	if s.outputs, err = ghactions.ParseEnvFile(string(cptest.ReadFile(w.t, out))); err != nil {
		w.t.Fatalf("the runner would refuse GITHUB_OUTPUT: %v", err)
	}
	if s.exported, err = ghactions.ParseEnvFile(string(cptest.ReadFile(w.t, exported))); err != nil {
		w.t.Fatalf("the runner would refuse GITHUB_ENV: %v", err)
	}
	s.summary = string(cptest.ReadFile(w.t, summary))
	for _, line := range strings.Split(s.stdout+s.stderr, "\n") {
		if c, ok := ghactions.ParseCommand(line); ok {
			s.commands = append(s.commands, c)
		}
	}
	return s
}

// command returns the first workflow command called name.
func (s ghStep) command(name string) (ghactions.Command, bool) {
	for _, c := range s.commands {
		if c.Name == name {
			return c, true
		}
	}
	return ghactions.Command{}, false
}

func (s ghStep) String() string {
	return fmt.Sprintf("exit %d\nstdout: %s\nstderr: %s\noutputs: %q\nsummary:\n%s", s.code, s.stdout, s.stderr, s.outputs, s.summary)
}

// ghContract demands an output file and a string.
const ghContract = outputContract + "    - name: build-ref\n      type: STRING\n"

// TestGitHubActionSteps: the Action's entrypoint runs init, add and push as three steps of a job against
// a control plane, with a workflow token. Each step masks the token before anything else, writes the
// outputs the next steps read, and push writes a summary whose verify command, run as written, verifies
// the bundle.
func TestGitHubActionSteps(t *testing.T) {
	t.Parallel()
	cp := cptest.New(t, cptest.Options{})
	token := cp.Workflow(t, "skynet", "build-and-test", ghContract, nil)
	w := newWorkspace(t).inActions()
	w.write("rootfs.tar.gz", "rootfs!")
	common := map[string]string{"CONTROL-PLANE": cp.URL, "TOKEN": token}
	masked := func(s ghStep) {
		t.Helper()
		if len(s.commands) == 0 || s.commands[0].Name != "add-mask" || s.commands[0].Message != token {
			t.Errorf("the first workflow command is not ::add-mask:: of the token: %+v", s.commands)
		}
		if strings.Count(s.stdout+s.stderr, token) != 1 {
			t.Errorf("the token appears other than in its mask:\n%s", s)
		}
	}

	init := w.step(actionInputs(common, "COMMAND", "init", "WORKFLOW", "build-and-test", "PROJECT", "skynet"))
	if init.code != 0 || init.outputs["attestation-id"] == "" || init.summary != "" {
		t.Fatalf("init: want exit 0, an attestation-id and no summary:\n%s", init)
	}
	masked(init)
	add := w.step(actionInputs(common, "COMMAND", "add", "NAME", "rootfs", "VALUE", "rootfs.tar.gz"))
	if add.code != 0 {
		t.Fatalf("add:\n%s", add)
	}
	masked(add)
	if add := w.step(actionInputs(common, "COMMAND", "add", "NAME", "build-ref", "VALUE", "80e461e9b385c6986cdb8096c9dc99928943d667")); add.code != 0 {
		t.Fatalf("add build-ref:\n%s", add)
	}
	status := w.step(actionInputs(common, "COMMAND", "status"))
	if status.code != 0 || !strings.Contains(status.summary, "### custody: attestation in progress") ||
		!strings.Contains(status.summary, "| rootfs | ARTIFACT | Yes | Yes | x | rootfs\\.tar\\.gz\\@sha256\\:7c4f3995") {
		t.Fatalf("status: want a summary with the materials table:\n%s", status)
	}
	push := w.step(actionInputs(common, "COMMAND", "push"))
	if push.code != 0 {
		t.Fatalf("push:\n%s", push)
	}
	masked(push)
	digest := push.outputs["digest"]
	if !strings.HasPrefix(digest, "sha256:") || push.outputs["bundle-path"] != "attestation.sigstore.json" ||
		push.outputs["attestation-id"] != init.outputs["attestation-id"] || !strings.HasPrefix(push.outputs["run-url"], cp.URL+"/") {
		t.Fatalf("push outputs:\n%s", push)
	}
	for _, want := range []string{"### custody: attestation " + strings.ReplaceAll(digest, ":", "\\:") + " pushed",
		"| Workflow | build\\-and\\-test |", "| rootfs | ARTIFACT | Yes | Yes | x |", "| build\\-ref | STRING | Yes | Yes |  | 80e461e9b385c6986cdb8096c9dc99928943d667 |",
		"#### Verify", "custody trusted-root --control-plane " + cp.URL + " > trusted_root.json",
		"| Run URL | <" + cp.URL + "/ui/runs/"} { // the run's page, for the person reading the summary
		if !strings.Contains(push.summary, want) {
			t.Errorf("the push summary lacks %q:\n%s", want, push.summary)
		}
	}
	if _, err := os.Stat(filepath.Join(w.dir, push.outputs["bundle-path"])); err != nil {
		t.Errorf("bundle-path: %v", err)
	}
	// The summary's commands, run as a user would paste them (the custody on PATH is the one tested).
	script := summaryBlock(t, push.summary)
	bin := t.TempDir()
	if err := os.Symlink(custodyBin, filepath.Join(bin, "custody")); err != nil {
		t.Fatal(err)
	}
	sh := exec.CommandContext(context.Background(), "sh", "-ec", script)
	run := newWorkspace(t)
	run.dir = w.dir
	run.env = append(run.env, "PATH="+bin+":"+os.Getenv("PATH"))
	if r := run.run(sh); r.code != 0 || !strings.Contains(r.stdout, "OK   attestation.sigstore.json: Verified OK") {
		t.Fatalf("the summary's verify command:\n%s\nexit %d\n%s%s", script, r.code, r.stdout, r.stderr)
	}
}

// actionInputs are a step's inputs as the runner sets them: action.yml's defaults, then base, then the
// NAME, VALUE pairs kv.
func actionInputs(base map[string]string, kv ...string) map[string]string {
	in := map[string]string{}
	for _, name := range cli.ActionInputs {
		in[strings.ToUpper(name)] = ""
	}
	in["DRY-RUN"], in["REMOTE-STATE"] = "false", "false"
	for k, v := range base {
		in[k] = v
	}
	for i := 0; i+1 < len(kv); i += 2 {
		in[kv[i]] = kv[i+1]
	}
	return in
}

// summaryBlock returns the sh code block of a summary.
func summaryBlock(t *testing.T, summary string) string {
	t.Helper()
	_, rest, ok := strings.Cut(summary, "```sh\n")
	if !ok {
		t.Fatalf("no sh block in the summary:\n%s", summary)
	}
	block, _, ok := strings.Cut(rest, "```")
	if !ok {
		t.Fatalf("an unclosed sh block in the summary:\n%s", summary)
	}
	return block
}

// TestGitHubActionRemoteState: a build job inits with remote-state and adds the artifact; its next steps
// find the run through CUSTODY_ATTESTATION_ID (exported to GITHUB_ENV), and an attest job on another
// runner adds to it by the attestation-id output and pushes.
func TestGitHubActionRemoteState(t *testing.T) {
	t.Parallel()
	cp := cptest.New(t, cptest.Options{})
	token := cp.Workflow(t, "skynet", "build-and-test", ghContract, nil)
	step := func(w *workspace, kv ...string) ghStep {
		t.Helper()
		s := w.step(actionInputs(map[string]string{"CONTROL-PLANE": cp.URL, "TOKEN": token}, kv...))
		if s.code != 0 {
			t.Fatalf("step %v:\n%s", kv, s)
		}
		return s
	}
	build := newWorkspace(t).inActions()
	build.write("rootfs.tar.gz", "rootfs!")
	init := step(build, "COMMAND", "init", "WORKFLOW", "build-and-test", "PROJECT", "skynet", "REMOTE-STATE", "true")
	id := init.outputs["attestation-id"]
	if id == "" || init.exported["CUSTODY_ATTESTATION_ID"] != id {
		t.Fatalf("init with remote-state: want the attestation-id output and CUSTODY_ATTESTATION_ID exported:\n%s", init)
	}
	step(build.with("CUSTODY_ATTESTATION_ID="+id), "COMMAND", "add", "NAME", "rootfs", "VALUE", "rootfs.tar.gz")

	attest := newWorkspace(t).inActions()
	step(attest, "COMMAND", "add", "NAME", "build-ref", "VALUE", "80e461e9b385c6986cdb8096c9dc99928943d667", "ATTESTATION-ID", id)
	push := step(attest, "COMMAND", "push", "ATTESTATION-ID", id)
	if push.outputs["attestation-id"] != id || !strings.HasPrefix(push.outputs["digest"], "sha256:") ||
		!strings.Contains(push.summary, "| rootfs | ARTIFACT | Yes | Yes | x | rootfs\\.tar\\.gz\\@sha256\\:7c4f3995") {
		t.Fatalf("push on the other runner:\n%s", push)
	}
}

// TestGitHubActionErrors: what a user gets wrong in a step fails it with one error annotation that says
// what to change, titled with the command that failed, and the exit code of docs/exit-codes.md; the
// workspace's state is left as it was.
func TestGitHubActionErrors(t *testing.T) {
	t.Parallel()
	cp := cptest.New(t, cptest.Options{})
	token := cp.Workflow(t, "skynet", "build-and-test", ghContract, nil)
	initInputs := map[string]string{"COMMAND": "init", "WORKFLOW": "build-and-test", "PROJECT": "skynet", "CONTROL-PLANE": cp.URL, "TOKEN": token}
	for _, tc := range []struct {
		name   string
		inputs map[string]string
		setup  func(w *workspace) // steps before, which must succeed
		code   int
		title  string
		want   []string
	}{
		{"unknown command", actionInputs(nil, "COMMAND", "deploy"), nil, 2, "custody github-action failed",
			[]string{`input command "deploy": want one of add, attest, init, push, reset, status`}},
		{"no command", actionInputs(nil), nil, 2, "custody github-action failed", []string{`input command "": want one of`}},
		{"an input the command does not take", actionInputs(nil, "COMMAND", "push", "NAME", "rootfs"), nil, 2, "custody github-action failed",
			[]string{"input name does not apply to command push (it takes annotations, bundle, attestation-id, workflow, project)"}},
		{"a required input missing", actionInputs(nil, "COMMAND", "init", "PROJECT", "skynet"), nil, 2, "custody github-action failed",
			[]string{"input workflow is required with command init"}},
		{"a revision that is no number", actionInputs(initInputs, "REVISION", "latest"), nil, 2, "custody github-action failed",
			[]string{`input revision "latest": want a revision number`}},
		{"a boolean that is not true or false", actionInputs(initInputs, "DRY-RUN", "yes"), nil, 2, "custody github-action failed",
			[]string{`input dry-run "yes": want true or false`}},
		{"attest in a dry run", actionInputs(initInputs, "COMMAND", "attest", "DRY-RUN", "true"), nil, 2, "custody github-action failed",
			[]string{"input dry-run does not apply to command attest: a dry run cannot be signed keyless"}},
		{"an input over 64 KiB", actionInputs(nil, "COMMAND", "attest", "MATERIALS", strings.Repeat("a", 64<<10+1)), nil, 2, "custody github-action failed",
			[]string{"input materials: 65537 bytes, at most 65536"}},
		{"no control plane", actionInputs(initInputs, "CONTROL-PLANE", ""), nil, 2, "custody github-action failed",
			[]string{"input control-plane is required (or CUSTODY_CONTROL_PLANE in the step's environment)"}},
		{"a token the control plane does not know", actionInputs(initInputs, "TOKEN", "cst_"+strings.Repeat("A", 43)), nil, 8, "custody attestation init failed",
			[]string{"unknown token (401 unauthenticated)"}},
		{"an unreachable control plane", actionInputs(initInputs, "CONTROL-PLANE", "http://127.0.0.1:1"), nil, 10, "custody attestation init failed",
			[]string{"127.0.0.1:1"}},
		{"a workflow that does not exist", actionInputs(initInputs, "WORKFLOW", "deploy"), nil, 9, "custody attestation init failed", []string{"deploy"}},
		{"push with no run in progress", actionInputs(initInputs, "COMMAND", "push", "WORKFLOW", "", "PROJECT", ""), nil, 6, "custody attestation push failed",
			[]string{"custody attestation init"}},
		{"push of a run that lacks materials", actionInputs(initInputs, "COMMAND", "push", "WORKFLOW", "", "PROJECT", ""),
			func(w *workspace) {
				if s := w.step(initInputs); s.code != 0 {
					t.Fatalf("init:\n%s", s)
				}
			}, 4, "custody attestation push failed", []string{"rootfs, build-ref"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			w := newWorkspace(t).inActions().with("CUSTODY_RETRY_DEADLINE=0")
			if tc.setup != nil {
				tc.setup(w)
			}
			before := stateOf(w)
			s := w.step(tc.inputs)
			if s.code != tc.code {
				t.Fatalf("exit %d, want %d:\n%s", s.code, tc.code, s)
			}
			var errs []ghactions.Command
			for _, c := range s.commands {
				if c.Name == "error" {
					errs = append(errs, c)
				}
			}
			if len(errs) != 1 || errs[0].Properties["title"] != tc.title {
				t.Fatalf("want one error annotation titled %q:\n%s", tc.title, s)
			}
			for _, want := range tc.want {
				if !strings.Contains(errs[0].Message, want) {
					t.Errorf("the annotation %q does not say %q", errs[0].Message, want)
				}
			}
			if unmasked := strings.ReplaceAll(s.stdout+s.stderr, "::add-mask::"+token+"\n", ""); strings.Contains(unmasked, token[12:]) {
				t.Errorf("the token is in the step's output:\n%s", s)
			}
			if after := stateOf(w); after != before {
				t.Errorf("the state changed:\nbefore %s\nafter  %s", before, after)
			}
		})
	}
}

// stateOf is the workspace's state file, or "absent".
func stateOf(w *workspace) string {
	b, err := os.ReadFile(filepath.Join(w.dir, ".custody", "attestation.json"))
	if os.IsNotExist(err) {
		return "absent"
	}
	if err != nil {
		w.t.Fatal(err)
	}
	return string(b)
}

// TestGitHubActionAttest: command attest inits, adds every line of materials and pushes in one step; when a
// material is refused, the run is marked failed in the control plane with the reason and the workspace
// holds no state, so the step can be run again.
func TestGitHubActionAttest(t *testing.T) {
	t.Parallel()
	cp := cptest.New(t, cptest.Options{})
	token := cp.Workflow(t, "skynet", "build-and-test", ghContract, nil)
	w := newWorkspace(t).inActions()
	w.write("rootfs.tar.gz", "rootfs!")
	attest := actionInputs(nil, "COMMAND", "attest", "WORKFLOW", "build-and-test", "PROJECT", "skynet", "CONTROL-PLANE", cp.URL,
		"TOKEN", token, "MATERIALS", "# what the build made\nrootfs=rootfs.tar.gz\n\n  build-ref = 80e461e9b385c6986cdb8096c9dc99928943d667\n")

	broken := maps.Clone(attest)
	broken["MATERIALS"] = "rootfs=missing.tar.gz\nbuild-ref=80e461e9b385c6986cdb8096c9dc99928943d667"
	failed := w.step(broken)
	if e, _ := failed.command("error"); failed.code != 3 || e.Properties["title"] != "custody attestation attest failed" ||
		!strings.Contains(e.Message, "--material rootfs") || !strings.Contains(e.Message, "missing.tar.gz") {
		t.Fatalf("attest of a missing file: want exit 3 and an annotation naming the material and the file:\n%s", failed)
	}
	if st := stateOf(w); st != "absent" {
		t.Fatalf("a failed attest left state:\n%s", st)
	}

	ok := w.step(attest)
	if ok.code != 0 || !strings.HasPrefix(ok.outputs["digest"], "sha256:") || ok.outputs["bundle-path"] != "attestation.sigstore.json" ||
		!strings.Contains(ok.summary, "| build\\-ref | STRING | Yes | Yes |  | 80e461e9b385c6986cdb8096c9dc99928943d667 |") {
		t.Fatalf("attest:\n%s", ok)
	}
	runs := w.with("CUSTODY_CONTROL_PLANE="+cp.URL, "CUSTODY_TOKEN="+token).ok("attestation", "list", "--workflow", "build-and-test", "--project", "skynet", "-o", "json")
	var list []struct{ ID, State, Reason, AttestationDigest string }
	if err := json.Unmarshal([]byte(runs.stdout), &list); err != nil {
		t.Fatal(err)
	}
	if len(list) != 2 || list[0].State != "succeeded" || list[0].AttestationDigest != ok.outputs["digest"] || list[0].ID != ok.outputs["attestation-id"] ||
		list[1].State != "failed" || !strings.HasPrefix(list[1].Reason, "custody attestation attest failed: --material rootfs: ") {
		t.Fatalf("runs: %+v", list)
	}
}

// TestAttestOffline: custody attestation attest with no control plane signs with a key; its flags are
// checked before anything starts, and a bad material leaves no state behind.
func TestAttestOffline(t *testing.T) {
	t.Parallel()
	w := newWorkspace(t)
	w.write("contract.yaml", ghContract)
	w.write("rootfs.tar.gz", "rootfs!")
	w.ok("generate-key-pair")
	base := []string{"attestation", "attest", "--workflow", "build-and-test", "--project", "skynet", "--contract", "contract.yaml"}
	for _, tc := range []struct {
		name string
		args []string
		code int
		want string
	}{
		{"no key offline", []string{"--material", "rootfs=rootfs.tar.gz"}, 2, "--key is required without a control plane"},
		{"a dry run without a key", []string{"--dry-run"}, 2, "--dry-run signs with --key"},
		{"a material without a name", []string{"--material", "=rootfs.tar.gz", "--key", "cosign.key"}, 2, `--material "=rootfs.tar.gz": want NAME=VALUE`},
		{"a material twice", []string{"--material", "rootfs=a", "--material", "rootfs=b", "--key", "cosign.key"}, 2, "--material rootfs given twice"},
		{"too many materials", append(strings.Split(strings.Repeat("--material\na=b\n", 1025), "\n")[:2050], "--key", "cosign.key"), 2, "1025 materials: at most 1024"},
		{"a material the contract refuses", []string{"--material", "rootfs=missing.tar.gz", "--key", "cosign.key"}, 3, "missing.tar.gz"},
		{"a run that lacks materials", []string{"--material", "rootfs=rootfs.tar.gz", "--key", "cosign.key"}, 4, "build-ref"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := w.custody(append(base, tc.args...)...)
			if r.code != tc.code || !strings.Contains(r.stderr, tc.want) {
				t.Fatalf("exit %d, want %d saying %q:\n%s", r.code, tc.code, tc.want, r.stderr)
			}
			if st := stateOf(w); st != "absent" {
				t.Fatalf("state left behind:\n%s", st)
			}
		})
	}
	r := w.ok(append(base, "--material", "rootfs=rootfs.tar.gz", "--material", "build-ref=80e461e9b385c6986cdb8096c9dc99928943d667",
		"--key", "cosign.key", "--bundle", "b.json")...)
	if !strings.Contains(r.stderr, "attestation signed and written to b.json") {
		t.Fatalf("attest:\n%s", r.stderr)
	}
	if v := w.ok("attestation", "verify", "--key", "cosign.pub", "--artifact", "rootfs.tar.gz", "b.json"); !strings.Contains(v.stdout, "Verified OK") {
		t.Fatalf("verify:\n%s", v.stdout)
	}
}

// TestGitHubActionsPlainSteps: custody run as `run: custody ...` in a GitHub Actions step talks to the
// runner too: the token from CUSTODY_TOKEN is masked, workflow commands go to stderr so -o json stays JSON
// on stdout, and status writes the summary, with what the contract or a material says made literal
// Markdown.
func TestGitHubActionsPlainSteps(t *testing.T) {
	t.Parallel()
	cp := cptest.New(t, cptest.Options{})
	token := cp.Workflow(t, "skynet", "build-and-test", ghContract, nil)
	w := onlineWorkspace(t, cp.URL).with("CUSTODY_TOKEN=" + token).inActions()
	w.write("rootfs.tar.gz", "rootfs!")
	// GITHUB_ACTIONS passed on without the runner's files (a container started in a step): a warning.
	if r := w.ok("attestation", "init", "--workflow", "build-and-test", "--project", "skynet"); !strings.Contains(r.stderr, "WRN no step outputs written: GITHUB_OUTPUT: not set") {
		t.Errorf("init without GITHUB_OUTPUT:\n%s", r.stderr)
	}
	hostile := "a|b <img src=x> `code` **bold** [link](http://x) \\ end"
	w.ok("attestation", "add", "--name", "build-ref", "--value", hostile)
	s := w.step(nil, "attestation", "status", "-o", "json")
	if s.code != 0 {
		t.Fatalf("status:\n%s", s)
	}
	var status map[string]any
	if err := json.Unmarshal([]byte(s.stdout), &status); err != nil {
		t.Fatalf("stdout is not JSON alone: %v\n%s", err, s.stdout)
	}
	if m, _ := s.command("add-mask"); m.Message != token {
		t.Errorf("CUSTODY_TOKEN was not masked:\n%s", s)
	}
	row := "| build\\-ref | STRING | Yes | Yes |  | a\\|b \\<img src\\=x\\> \\`code\\` \\*\\*bold\\*\\* \\[link\\]\\(http\\:\\/\\/x\\) \\\\ end |\n"
	if !strings.Contains(s.summary, row) {
		t.Fatalf("the summary does not hold the value as literal Markdown in one row %q:\n%s", row, s.summary)
	}
	if s.outputs["attestation-id"] == "" {
		t.Errorf("status wrote no attestation-id:\n%s", s)
	}
}
