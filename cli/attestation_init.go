package cli

import (
	"github.com/spf13/cobra"

	"github.com/custody-dev/custody/contract"
	"github.com/custody-dev/custody/crafting"
)

type initFlags struct {
	workflow, project, contractFile string
	revision                        int
	dryRun, replace                 bool
}

func newInitCmd(g *globals) *cobra.Command {
	var f initFlags
	cmd := &cobra.Command{
		Use:   "init",
		Short: "Start an attestation for a run of a workflow",
		Long: `Start an attestation: load the workflow's contract, check the runner it demands, and record the runner
context, the environment variables the contract allows and the git head of the workspace.

Without a control plane the contract comes from --contract FILE and nothing leaves the machine.`,
		Example: `  custody attestation init --workflow build-and-test --project skynet --contract contract.yaml`,
		Args:    noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if f.workflow == "" || f.project == "" {
				return usageErrorf("--workflow and --project are required")
			}
			if f.contractFile == "" {
				return usageErrorf("--contract FILE is required without a control plane")
			}
			if f.revision != 0 {
				return usageErrorf("--revision needs a control plane: a local contract file has no revisions")
			}
			ct, err := contract.ParseFile(f.contractFile)
			if err != nil {
				return err
			}
			c, err := g.crafter()
			if err != nil {
				return err
			}
			_, err = c.Init(cmd.Context(), crafting.InitOptions{
				Workflow: f.workflow, Project: f.project, Contract: ct, DryRun: f.dryRun, Replace: f.replace,
			})
			if err != nil {
				return err
			}
			s, err := c.Status(cmd.Context())
			if err != nil {
				return err
			}
			if g.json() {
				return writeJSON(g.env.Stdout, s)
			}
			g.info("Attestation initialized! now you can check its status or add materials to it")
			renderRun(g.env.Stdout, s, false)
			return nil
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&f.workflow, "workflow", "", "name of the workflow (required)")
	fl.StringVar(&f.project, "project", "", "name of the workflow's project (required)")
	fl.StringVar(&f.contractFile, "contract", "", "contract file (YAML or JSON)")
	fl.IntVar(&f.revision, "revision", 0, "contract revision (default: the latest; needs a control plane)")
	fl.BoolVar(&f.dryRun, "dry-run", false, "store nothing, and do not fail on a runner or environment the contract does not get")
	fl.BoolVar(&f.replace, "replace", false, "discard an attestation in progress")
	return cmd
}
