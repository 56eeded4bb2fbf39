package cli

import (
	"github.com/spf13/cobra"
)

func newStatusCmd(g *globals) *cobra.Command {
	var full bool
	cmd := &cobra.Command{
		Use:   "status",
		Short: "Show the attestation in progress and its materials",
		Args:  noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, _, err := g.crafter()
			if err != nil {
				return err
			}
			s, err := c.Status(cmd.Context())
			if err != nil {
				return err
			}
			if err := g.reportToActions(actionReport{status: s, summary: true}); err != nil {
				return err
			}
			if g.json() {
				return writeJSON(g.env.Stdout, s)
			}
			renderRun(g.env.Stdout, s, full)
			return nil
		},
	}
	cmd.Flags().BoolVar(&full, "full", false, "show the value of every material")
	return cmd
}
