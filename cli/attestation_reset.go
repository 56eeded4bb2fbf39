package cli

import (
	"github.com/spf13/cobra"

	"github.com/custody-dev/custody/crafting"
)

func newResetCmd(g *globals) *cobra.Command {
	var reason string
	var cancelled bool
	cmd := &cobra.Command{
		Use:   "reset",
		Short: "Abandon the attestation in progress",
		Long: `Tell the control plane the run failed (or, with --cancelled, was cancelled), with a reason, and clear the
local state.`,
		Example: `  custody attestation reset --reason "tests failed"`,
		Args:    noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, cp, err := g.crafter()
			if err != nil {
				return err
			}
			state := "failed"
			if cancelled {
				state = "cancelled"
			}
			var st *crafting.State
			if cp != nil {
				st, err = c.ResetOnline(cmd.Context(), cp, state, reason)
			} else {
				st, err = c.Reset(cmd.Context())
			}
			if err != nil {
				return err
			}
			g.forgetCredential()
			if err := g.reportToActions(actionReport{status: &crafting.Status{State: st}}); err != nil {
				return err
			}
			if g.json() {
				return writeJSON(g.env.Stdout, map[string]string{"runID": st.RunID, "state": state, "reason": reason})
			}
			g.info("attestation %s reset (%s)", st.RunID, state)
			return nil
		},
	}
	cmd.Flags().StringVar(&reason, "reason", "", "why the run is abandoned")
	cmd.Flags().BoolVar(&cancelled, "cancelled", false, "mark the run cancelled rather than failed")
	return cmd
}
