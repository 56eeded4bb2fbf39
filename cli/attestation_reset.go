package cli

import (
	"github.com/spf13/cobra"
)

func newResetCmd(g *globals) *cobra.Command {
	var reason string
	cmd := &cobra.Command{
		Use:   "reset",
		Short: "Abandon the attestation in progress",
		Long:  `Mark the run failed or cancelled and clear the local state.`,
		Args:  noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := g.crafter()
			if err != nil {
				return err
			}
			st, err := c.Reset(cmd.Context())
			if err != nil {
				return err
			}
			if g.json() {
				return writeJSON(g.env.Stdout, map[string]string{"runID": st.RunID, "reason": reason})
			}
			g.info("attestation %s reset", st.RunID)
			return nil
		},
	}
	cmd.Flags().StringVar(&reason, "reason", "", "why the run is abandoned")
	return cmd
}
