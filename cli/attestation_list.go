package cli

import (
	"github.com/jedib0t/go-pretty/v6/table"
	"github.com/spf13/cobra"
)

func newListCmd(g *globals) *cobra.Command {
	var project, workflow, digest string
	var limit int
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List a workflow's runs, or the attestations mentioning a digest",
		Long: `With --workflow and --project: the workflow's runs, newest first, with their state and attestation digest.
With --digest: the attestations that mention that artifact or image digest ("which attestations mention this?").`,
		Example: `  custody attestation list --workflow build-and-test --project skynet
  custody attestation list --digest sha256:f8a581d4bce57f792444b2230b5706a6f902fbac19a374e76f6a56f030d35cf2`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cp, err := g.requireControlPlane()
			if err != nil {
				return err
			}
			switch {
			case digest != "":
				atts, err := cp.ListAttestations(cmd.Context(), project, workflow, digest, limit)
				if err != nil {
					return err
				}
				return g.show(atts, func() {
					t := newTable(g.env.Stdout)
					t.AppendHeader(table.Row{"Attestation", "Project", "Workflow", "Run", "Created At"})
					for _, a := range atts {
						t.AppendRow(table.Row{a.Digest, a.Project, a.Workflow, a.RunID, formatTime(a.CreatedAt)})
					}
					t.Render()
				})
			case workflow != "" && project != "":
				runs, err := cp.ListRuns(cmd.Context(), project, workflow, limit)
				if err != nil {
					return err
				}
				return g.show(runs, func() {
					t := newTable(g.env.Stdout)
					t.AppendHeader(table.Row{"Run", "State", "Revision", "Created At", "Attestation", "Reason"})
					for _, r := range runs {
						t.AppendRow(table.Row{r.ID, r.State, r.ContractRevision, formatTime(r.CreatedAt), r.AttestationDigest, r.Reason})
					}
					t.Render()
				})
			}
			return usageErrorf("give --workflow and --project, or --digest")
		},
	}
	cmd.Flags().StringVar(&project, "project", "", "project of the workflow")
	cmd.Flags().StringVar(&workflow, "workflow", "", "workflow whose runs to list")
	cmd.Flags().StringVar(&digest, "digest", "", "material digest (sha256:...) to find attestations of")
	cmd.Flags().IntVar(&limit, "limit", 50, "at most this many")
	return cmd
}

func newGetCmd(g *globals) *cobra.Command {
	var output string
	cmd := &cobra.Command{
		Use:   "get DIGEST",
		Short: "Fetch a stored attestation",
		Long: `Fetch an attestation by its digest (the sha256 of its DSSE envelope). --output bundle prints the Sigstore
bundle exactly as it was pushed, to verify with custody or cosign.`,
		Example: `  custody attestation get sha256:... --output bundle > attestation.sigstore.json`,
		Args:    exactArgs(1, "an attestation digest"),
		RunE: func(cmd *cobra.Command, args []string) error {
			cp, err := g.requireControlPlane()
			if err != nil {
				return err
			}
			switch output {
			case "bundle":
				b, err := cp.GetBundle(cmd.Context(), args[0])
				if err != nil {
					return err
				}
				_, err = g.env.Stdout.Write(b)
				return err
			case "json", "table":
				a, err := cp.GetAttestation(cmd.Context(), args[0])
				if err != nil {
					return err
				}
				if output == "json" {
					return writeJSON(g.env.Stdout, a)
				}
				t := newTable(g.env.Stdout)
				t.AppendRows([]table.Row{{"Digest", a.Digest}, {"Project", a.Project}, {"Workflow", a.Workflow},
					{"Run", a.RunID}, {"Created At", formatTime(a.CreatedAt)}})
				t.Render()
				return nil
			}
			return usageErrorf("--output %q: want table, json or bundle", output)
		},
	}
	// Shadows the global --output: get also prints the bundle itself.
	cmd.Flags().StringVarP(&output, "output", "o", "table", "table, json, or bundle (the Sigstore bundle as pushed)")
	return cmd
}
