package cli

import (
	"fmt"
	"runtime"

	"github.com/spf13/cobra"
)

func newVersionCmd(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print custody's version",
		Args:  noArgs,
		RunE: func(*cobra.Command, []string) error {
			if g.json() {
				return writeJSON(g.env.Stdout, map[string]string{"version": g.env.Version, "go": runtime.Version()})
			}
			fmt.Fprintf(g.env.Stdout, "custody %s (%s)\n", g.env.Version, runtime.Version())
			return nil
		},
	}
}
