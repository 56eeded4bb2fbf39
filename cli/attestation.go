package cli

import (
	"fmt"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/custody-dev/custody/client"
	"github.com/custody-dev/custody/crafting"
	"github.com/custody-dev/custody/crafting/materials"
	"github.com/custody-dev/custody/runner"
)

func newAttestationCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{
		Use:     "attestation",
		Aliases: []string{"att"},
		Args:    subcommandArgs,
		RunE:    groupRun,
		Short:   "Craft, push and verify attestations",
		Long: `The crafting lifecycle of a pipeline run: init, add materials, check status, push (or reset).
State between steps is kept in the workspace's .custody/attestation.json.`,
	}
	cmd.PersistentFlags().StringVar(&g.attestationID, "attestation-id", "",
		"run id of an attestation kept in the control plane (init --remote-state); env CUSTODY_ATTESTATION_ID")
	cmd.PersistentFlags().StringVar(&g.oidcToken, "oidc-token", "",
		"a CI OIDC ID token to exchange for a credential (env CUSTODY_OIDC_TOKEN; default: the runner's, docs/runners.md)")
	cmd.AddCommand(newInitCmd(g), newAddCmd(g), newStatusCmd(g), newPushCmd(g), newResetCmd(g), newAttestCmd(g), newVerifyCmd(g),
		newListCmd(g), newGetCmd(g))
	return cmd
}

// crafter builds the lifecycle over the workspace's state file, or over a run's remote state, with
// the control plane when one is configured (nil: offline).
//
// The runner is detected here, once per command; the crafter and the credential both use it.
func (g *globals) crafter() (*crafting.Crafter, *client.Client, error) {
	rc := runner.Detect(runner.Env{Getenv: g.env.Getenv, Exists: g.env.Exists})
	stateFile := g.stateFile
	if stateFile == "" {
		stateFile = g.env.Getenv("CUSTODY_STATE_FILE")
	}
	path := crafting.WorkspaceStateFile(rc, stateFile, g.env.Workdir)
	local := crafting.NewFileStore(path)
	cp, err := g.craftingControlPlane(rc, path, g.craftingScope(local))
	if err != nil {
		return nil, nil, err
	}
	var st crafting.Store = local
	runID := g.attestationID
	if runID == "" {
		runID = g.env.Getenv("CUSTODY_ATTESTATION_ID")
	}
	if runID != "" {
		if cp == nil {
			return nil, nil, usageErrorf("--attestation-id %s: remote state needs a control plane", runID)
		}
		st = crafting.NewRemoteStore(cp, runID)
	}
	mopts := materials.Options{Now: g.env.Now, Keychain: materials.DockerConfigKeychain(g.dockerConfigDir())}
	if cp != nil {
		mopts.Uploader = cp
	}
	if g.env.Terminal && !g.json() {
		mopts.Progress = g.env.Stderr
	}
	c, err := crafting.New(crafting.Options{
		Store:     st,
		Materials: materials.New(mopts),
		Getenv:    g.env.Getenv,
		Now:       g.env.Now,
		Version:   g.env.Version,
		Workdir:   g.env.Workdir,
		Warn:      func(msg string) { g.warn("%s", msg) },
		Runner:    &rc,
	})
	if err != nil {
		return nil, nil, fmt.Errorf("set up crafting: %w", err)
	}
	return c, cp, nil
}

// dockerConfigDir is where `docker login` keeps credentials: DOCKER_CONFIG, else ~/.docker.
func (g *globals) dockerConfigDir() string {
	if dir := g.env.Getenv("DOCKER_CONFIG"); dir != "" {
		return dir
	}
	return filepath.Join(g.env.Getenv("HOME"), ".docker")
}

// info writes a status line to stderr, as in the seed ("INF material added to attestation").
func (g *globals) info(format string, args ...any) {
	printLine(g.env.Stderr, "INF "+format, args...)
}

// warn writes a warning to stderr: something went wrong that the command works around.
func (g *globals) warn(format string, args ...any) {
	printLine(g.env.Stderr, "WRN "+format, args...)
}

// parseAnnotations reads repeated --annotation name=value flags.
func parseAnnotations(flags []string) (map[string]string, error) {
	if len(flags) == 0 {
		return nil, nil
	}
	out := map[string]string{}
	for _, f := range flags {
		k, v, ok := strings.Cut(f, "=")
		if !ok || k == "" {
			return nil, usageErrorf("--annotation %q: want name=value", f)
		}
		if _, dup := out[k]; dup {
			return nil, usageErrorf("--annotation %s given twice", k)
		}
		out[k] = v
	}
	return out, nil
}
