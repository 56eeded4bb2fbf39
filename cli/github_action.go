package cli

import (
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/spf13/cobra"
)

// ActionInputs are the inputs of the GitHub Action (action.yml), in its order. The runner hands an
// input to the container as INPUT_<NAME> (upper case, spaces as _); the composite wrapper
// (.github/actions/custody-local) sets the same variables.
var ActionInputs = []string{
	"command", "workflow", "project", "contract", "revision", "name", "value", "kind", "materials", "annotations",
	"control-plane", "token", "remote-state", "attestation-id", "dry-run", "bundle",
}

// ActionOutputs are the Action's outputs (action.yml), written to GITHUB_OUTPUT.
var ActionOutputs = []string{outputAttestationID, outputDigest, outputBundlePath, outputRunURL}

// maxActionInput bounds one input: a materials list of hundreds of lines fits.
const maxActionInput = 64 << 10

// defaultActionBundle is where the Action writes the bundle, relative to the workspace: a container
// action sees the workspace at another path than the steps after it, which resolve it from theirs.
const defaultActionBundle = "attestation.sigstore.json"

// actionCommands are the commands of the Action and the inputs each takes besides control-plane and
// token (which all take).
var actionCommands = map[string][]string{
	"init":   {"workflow", "project", "contract", "revision", "dry-run", "remote-state"},
	"add":    {"name", "value", "kind", "annotations", "attestation-id", "workflow", "project"},
	"push":   {"annotations", "bundle", "attestation-id", "workflow", "project"},
	"reset":  {"attestation-id", "workflow", "project"},
	"status": {"attestation-id", "workflow", "project"},
	"attest": {"workflow", "project", "contract", "revision", "materials", "annotations", "bundle"},
}

// required are the inputs a command cannot run without.
var actionRequired = map[string][]string{
	"init":   {"workflow", "project"},
	"add":    {"value"},
	"attest": {"workflow", "project"},
}

// stepError is the error of the command the Action ran: its annotation is titled with that command.
type stepError struct {
	command string
	err     error
}

func (e *stepError) Error() string { return e.err.Error() }
func (e *stepError) Unwrap() error { return e.err }

func newGitHubActionCmd(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "github-action",
		Short: "Run as the GitHub Action's entrypoint: the command its inputs name",
		Long: `The entrypoint of the custody GitHub Action (action.yml). It reads the step's inputs from the
environment (INPUT_COMMAND, INPUT_WORKFLOW, INPUT_CONTROL-PLANE, ...: the runner sets one per input), checks
them, and runs the custody attestation command they name: init, add, push, reset, status, or attest (init, add
every line of materials as name=value, push). Like every command in a GitHub Actions step, it masks the
credential, writes the step outputs (attestation-id, digest, bundle-path, run-url), a step summary for push,
attest and status, and an error annotation saying what to change when it fails. See docs/github-action.md.`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			in, err := readActionInputs(g.env.Getenv)
			if err != nil {
				return err
			}
			args, err := actionArgs(in)
			if err != nil {
				return err
			}
			if in["control-plane"] == "" && g.env.Getenv("CUSTODY_CONTROL_PLANE") == "" {
				return usageErrorf("input control-plane is required (or CUSTODY_CONTROL_PLANE in the step's environment): the Action signs keyless through the control plane")
			}
			if in["command"] == "reset" {
				args = append(args, "--reason", resetReason(g.env.Getenv))
			}
			// The token is masked where every command uses one, before the first request (newClient).
			shown := strings.Join(args, " ")
			if in["token"] != "" {
				shown += " --token ***"
				args = append(args, "--token", in["token"])
			}
			g.info("custody %s", shown)
			env := g.env
			if c := in["command"]; c != "init" && c != "attest" {
				// The workflow a later step's (or another job's) OIDC token is exchanged for, when
				// the state is the control plane's and the runner's workspace holds none.
				env.Getenv = func(name string) string {
					switch {
					case name == "CUSTODY_WORKFLOW" && in["workflow"] != "":
						return in["workflow"]
					case name == "CUSTODY_PROJECT" && in["project"] != "":
						return in["project"]
					}
					return g.env.Getenv(name)
				}
			}
			root := NewRoot(env)
			root.SetArgs(args)
			if _, err := root.ExecuteContextC(cmd.Context()); err != nil {
				return &stepError{command: "custody attestation " + in["command"], err: err}
			}
			return nil
		},
	}
}

// resetReason is what the Action tells the control plane when it resets a run (the run records the
// runner's URL since init).
func resetReason(getenv func(string) string) string {
	return "reset by the custody GitHub Action in job " + getenv("GITHUB_JOB")
}

// readActionInputs reads every input of the Action from INPUT_<NAME>, trimmed of surrounding space.
func readActionInputs(getenv func(string) string) (map[string]string, error) {
	in := map[string]string{}
	for _, name := range ActionInputs {
		v := strings.TrimSpace(getenv("INPUT_" + strings.ToUpper(strings.ReplaceAll(name, " ", "_"))))
		if len(v) > maxActionInput {
			return nil, usageErrorf("input %s: %d bytes, at most %d", name, len(v), maxActionInput)
		}
		in[name] = v
	}
	return in, nil
}

// actionArgs turns the inputs into a custody command line (without the token), refusing what the
// command does not take, so a misspelt step fails with a message naming the input.
func actionArgs(in map[string]string) ([]string, error) {
	command := in["command"]
	takes, ok := actionCommands[command]
	if !ok {
		return nil, usageErrorf("input command %q: want one of %s", command, strings.Join(sortedCommands(), ", "))
	}
	if command == "attest" && given(in, "dry-run") {
		return nil, usageErrorf("input dry-run does not apply to command attest: a dry run cannot be signed keyless; run init with dry-run, then add and status")
	}
	for _, name := range ActionInputs {
		if name == "command" || name == "control-plane" || name == "token" || !given(in, name) || slices.Contains(takes, name) {
			continue
		}
		return nil, usageErrorf("input %s does not apply to command %s (it takes %s)", name, command, strings.Join(takes, ", "))
	}
	for _, name := range actionRequired[command] {
		if in[name] == "" {
			return nil, usageErrorf("input %s is required with command %s", name, command)
		}
	}
	args := []string{"attestation", command}
	if in["control-plane"] != "" {
		args = append(args, "--control-plane", in["control-plane"])
	}
	for _, flag := range [][2]string{{"workflow", "--workflow"}, {"project", "--project"}, {"contract", "--contract"},
		{"name", "--name"}, {"value", "--value"}, {"kind", "--kind"}, {"attestation-id", "--attestation-id"}} {
		if (flag[0] == "workflow" || flag[0] == "project") && command != "init" && command != "attest" {
			continue // the environment carries them (CUSTODY_WORKFLOW, CUSTODY_PROJECT): see the entrypoint
		}
		if v := in[flag[0]]; v != "" {
			args = append(args, flag[1], v)
		}
	}
	if v := in["revision"]; v != "" {
		if n, err := strconv.Atoi(v); err != nil || n < 1 {
			return nil, usageErrorf("input revision %q: want a revision number (1, 2, ...), or none for the latest", v)
		}
		args = append(args, "--revision", v)
	}
	for _, b := range [][2]string{{"dry-run", "--dry-run"}, {"remote-state", "--remote-state"}} {
		on, err := boolInput(in, b[0])
		if err != nil {
			return nil, err
		}
		if on {
			args = append(args, b[1])
		}
	}
	for _, line := range lines(in["materials"]) {
		args = append(args, "--material", line)
	}
	for _, line := range lines(in["annotations"]) {
		args = append(args, "--annotation", line)
	}
	if command == "push" || command == "attest" {
		bundle := in["bundle"]
		if bundle == "" {
			bundle = defaultActionBundle
		}
		args = append(args, "--bundle", bundle)
	}
	return args, nil
}

// given reports an input set to something: a boolean's false is its default, not a choice.
func given(in map[string]string, name string) bool {
	v := in[name]
	if name == "dry-run" || name == "remote-state" {
		return v != "" && v != "false"
	}
	return v != ""
}

func boolInput(in map[string]string, name string) (bool, error) {
	switch in[name] {
	case "", "false":
		return false, nil
	case "true":
		return true, nil
	}
	return false, usageErrorf("input %s %q: want true or false", name, in[name])
}

// lines are the non-blank lines of a multi-line input that are not # comments, trimmed.
func lines(v string) []string {
	var out []string
	for _, l := range strings.Split(v, "\n") {
		l = strings.TrimSpace(l)
		if l != "" && !strings.HasPrefix(l, "#") {
			out = append(out, l)
		}
	}
	return out
}

func sortedCommands() []string { return slices.Sorted(maps.Keys(actionCommands)) }
