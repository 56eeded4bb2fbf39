package cli

import (
	"context"

	"github.com/spf13/cobra"

	"github.com/custody-dev/custody/client"
	"github.com/custody-dev/custody/crafting"
)

type initFlags struct {
	workflow, project, contractFile string
	revision                        int
	dryRun, replace, remoteState    bool
}

func newInitCmd(g *globals) *cobra.Command {
	var f initFlags
	cmd := &cobra.Command{
		Use:   "init",
		Short: "Start an attestation for a run of a workflow",
		Long: `Start an attestation: tell the control plane a run starts and fetch the workflow's contract (the latest
revision, or --revision), check the runner it demands, and record the runner context, the environment variables
the contract allows and the git head of the workspace.

With --contract FILE, a workflow that does not exist yet is created with that contract. Without a control plane
(no --control-plane, CUSTODY_CONTROL_PLANE or custody login) the contract comes from --contract FILE and nothing
leaves the machine.`,
		Example: `  custody attestation init --workflow build-and-test --project skynet
  custody attestation init --workflow build-and-test --project skynet --contract contract.yaml --dry-run`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := g.runWorkflow(&f); err != nil {
				return err
			}
			c, cp, err := g.crafter()
			if err != nil {
				return err
			}
			if err := g.startRun(cmd.Context(), c, cp, f); err != nil {
				return err
			}
			s, err := c.Status(cmd.Context())
			if err != nil {
				return err
			}
			if err := g.reportToActions(actionReport{status: s, exportRunID: f.remoteState}); err != nil {
				return err
			}
			if g.json() {
				return writeJSON(g.env.Stdout, s)
			}
			g.info("Attestation initialized! now you can check its status or add materials to it")
			if f.remoteState {
				g.info("state kept in the control plane: pass --attestation-id %s (or CUSTODY_ATTESTATION_ID) to the next steps", s.State.RunID)
			}
			renderRun(g.env.Stdout, s, false)
			return nil
		},
	}
	f.register(cmd, "")
	fl := cmd.Flags()
	fl.BoolVar(&f.replace, "replace", false, "discard an attestation in progress")
	fl.BoolVar(&f.remoteState, "remote-state", false, "keep the state in the control plane, so jobs on other runners can add to it")
	return cmd
}

// register defines the flags init and attest share; dryRun adds to the help of --dry-run.
func (f *initFlags) register(cmd *cobra.Command, dryRun string) {
	fl := cmd.Flags()
	fl.StringVar(&f.workflow, "workflow", "", "name of the workflow (required; env CUSTODY_WORKFLOW)")
	fl.StringVar(&f.project, "project", "", "name of the workflow's project (required; env CUSTODY_PROJECT)")
	fl.StringVar(&f.contractFile, "contract", "", "contract file (YAML or JSON): creates the workflow if it does not exist; offline, the contract")
	fl.IntVar(&f.revision, "revision", 0, "contract revision (default: the latest)")
	fl.BoolVar(&f.dryRun, "dry-run", false, "store nothing"+dryRun+", and do not fail on a runner or environment the contract does not get")
}

// startRun starts a run: online through the control plane cp (nil: offline, from --contract).
// runWorkflow completes the workflow and project a run starts for from CUSTODY_WORKFLOW and
// CUSTODY_PROJECT, requires both, and makes them the workflow a CI token is exchanged for.
func (g *globals) runWorkflow(f *initFlags) error {
	if f.workflow == "" {
		f.workflow = g.env.Getenv("CUSTODY_WORKFLOW")
	}
	if f.project == "" {
		f.project = g.env.Getenv("CUSTODY_PROJECT")
	}
	if f.workflow == "" || f.project == "" {
		return usageErrorf("--workflow and --project are required (or CUSTODY_WORKFLOW and CUSTODY_PROJECT)")
	}
	g.initScope = runScope{project: f.project, workflow: f.workflow}
	return nil
}

func (g *globals) startRun(ctx context.Context, c *crafting.Crafter, cp *client.Client, f initFlags) error {
	opts := crafting.InitOptions{Workflow: f.workflow, Project: f.project, DryRun: f.dryRun, Replace: f.replace}
	var err error
	if cp == nil {
		if f.contractFile == "" {
			return usageErrorf("--contract FILE is required without a control plane")
		}
		if f.revision != 0 || f.remoteState {
			return usageErrorf("--revision and --remote-state need a control plane")
		}
		if opts.Contract, _, err = readContract(ctx, "--contract", f.contractFile); err != nil {
			return err
		}
		_, err = c.Init(ctx, opts)
		return err
	}
	online := crafting.OnlineInit{InitOptions: opts, RemoteState: f.remoteState}
	online.Revision = f.revision
	if f.contractFile != "" {
		// Checked here too, so a broken file fails before the control plane is asked.
		if _, online.ContractBody, err = readContract(ctx, "--contract", f.contractFile); err != nil {
			return err
		}
	}
	_, err = c.InitOnline(ctx, cp, online)
	return err
}
