// Package cli holds custody's cobra commands: flags, flag validation and rendering. The work is
// done by the packages the commands call.
package cli

import (
	"context"
	"io"
	"os"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/custody-dev/custody/runner"
)

// Env is everything a command reads from the process: injected, so tests run commands in parallel.
type Env struct {
	Getenv func(string) string
	// LookupEnv tells an unset variable from an empty one; nil falls back to Getenv.
	LookupEnv func(string) (string, bool)
	Stdin     io.Reader
	Stdout    io.Writer
	Stderr    io.Writer
	Now       func() time.Time
	// Workdir is the current directory.
	Workdir string
	// Version is custody's version.
	Version string
	// Terminal reports whether stderr is a terminal (progress lines are drawn only there).
	Terminal bool
	// ReadPassword reads a password without echo after showing prompt; nil when stdin is not a
	// terminal (nothing can be asked).
	ReadPassword func(ctx context.Context, prompt string) ([]byte, error)
	// Exists reports whether a path exists (runner detection: Tekton mounts /tekton/results); nil
	// reports that none does.
	Exists func(path string) bool
}

// ProcessEnv is the Env of the running process.
func ProcessEnv(version string) Env {
	wd, _ := os.Getwd()
	info, err := os.Stderr.Stat()
	env := Env{
		Getenv: os.Getenv, LookupEnv: os.LookupEnv, Stdin: os.Stdin, Stdout: os.Stdout, Stderr: os.Stderr, Now: time.Now,
		Workdir: wd, Version: version, Terminal: err == nil && info.Mode()&os.ModeCharDevice != 0, Exists: runner.OSEnv().Exists,
	}
	if term.IsTerminal(int(os.Stdin.Fd())) {
		env.ReadPassword = terminalPassword
	}
	return env
}

// globals are the flags every command has.
type globals struct {
	env             Env
	output          string
	stateFile       string
	controlPlaneURL string
	token           string
	oidcToken       string
	attestationID   string
	// initScope is the workflow init starts a run of (its flags); other commands read the state's.
	initScope runScope
	// credentialPath is where a credential exchanged for the runner's OIDC token is kept.
	credentialPath string
	// oidc is a crafting command's credential when the runner's OIDC token may give it.
	oidc *oidcCredential
}

// NewRoot builds the custody command tree.
func NewRoot(env Env) *cobra.Command {
	g := &globals{env: env}
	root := &cobra.Command{
		Use:   "custody",
		Short: "Prove how software was built",
		Long: `custody collects the evidence a workflow's contract demands (artifacts, container images, SBOMs,
test reports, ...), signs it as an in-toto statement in a Sigstore bundle, and verifies such bundles.

Environment:
  CUSTODY_CONTROL_PLANE   control plane URL (or --control-plane, or custody login); unset: offline
  CUSTODY_TOKEN           API token (or --token, or custody login)
  CUSTODY_OIDC_TOKEN      a CI OIDC ID token to exchange for a credential (or --oidc-token); by default the
                          runner's own (GitHub: id-token: write; GitLab: id_tokens CUSTODY_ID_TOKEN), docs/runners.md
  CUSTODY_OIDC_TOKEN_VAR  the GitLab id_tokens variable custody reads (default CUSTODY_ID_TOKEN)
  CUSTODY_OIDC_AUDIENCE   the audience of the ID token (default custody): the control plane's --oidc-audience
  CUSTODY_PROJECT         the run's project and workflow (init's --project and --workflow), so a job that
  CUSTODY_WORKFLOW        did not init (remote state) exchanges its OIDC token for the right workflow
  CUSTODY_STATE_FILE      crafting state file (default <workspace>/.custody/attestation.json)
  CUSTODY_ATTESTATION_ID  run whose state the control plane keeps (init --remote-state)
  CUSTODY_RETRY_DEADLINE  how long to retry an unreachable control plane (default 1m; 0: no retries)
  COSIGN_PASSWORD         password of a cosign key (unset on a terminal outside CI: asked for)
  CI                      set by CI systems: custody never prompts there
  DOCKER_CONFIG           where registry credentials are (default ~/.docker)

Exit codes are listed in docs/exit-codes.md.`,
		Args:              subcommandArgs,
		RunE:              groupRun,
		SilenceUsage:      true,
		SilenceErrors:     true,
		DisableAutoGenTag: true,
		PersistentPreRunE: func(cmd *cobra.Command, _ []string) error {
			return g.validate()
		},
	}
	root.SetIn(env.Stdin)
	root.SetOut(env.Stdout)
	root.SetErr(env.Stderr)
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return &UsageError{Err: err} })
	root.PersistentFlags().StringVarP(&g.output, "output", "o", "table", "output format: table or json")
	pf := root.PersistentFlags()
	pf.StringVar(&g.stateFile, "state-file", "", "crafting state file (env CUSTODY_STATE_FILE; default <workspace>/.custody/attestation.json)")
	pf.StringVar(&g.controlPlaneURL, "control-plane", "", "control plane URL (env CUSTODY_CONTROL_PLANE, or custody login); none: offline")
	pf.StringVar(&g.token, "token", "", "API token (env CUSTODY_TOKEN, or custody login)")

	root.AddCommand(newAttestationCmd(g), newArtifactCmd(g), newProjectCmd(g), newWorkflowCmd(g), newContractCmd(g),
		newTokenCmd(g), newLoginCmd(g), newConfigCmd(g), newGenerateKeyPairCmd(g), newTrustedRootCmd(g), newVersionCmd(g), newGitHubActionCmd(g))
	return root
}

func (g *globals) validate() error {
	if g.output != "table" && g.output != "json" {
		return usageErrorf("--output %q: want table or json", g.output)
	}
	return nil
}

func (g *globals) json() bool { return g.output == "json" }

func (e Env) lookupEnv(name string) (string, bool) {
	if e.LookupEnv != nil {
		return e.LookupEnv(name)
	}
	v := e.Getenv(name)
	return v, v != ""
}

// Execute runs the command tree with args.
func Execute(ctx context.Context, env Env, args []string) error {
	root := NewRoot(env)
	root.SetArgs(args)
	cmd, err := root.ExecuteContextC(ctx)
	if err != nil {
		annotateError(env, cmd, err)
	}
	return err
}
