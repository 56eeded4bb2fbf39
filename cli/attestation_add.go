package cli

import (
	"github.com/spf13/cobra"

	"github.com/custody-dev/custody/contract"
	"github.com/custody-dev/custody/crafting"
)

func newAddCmd(g *globals) *cobra.Command {
	var (
		opts        crafting.AddOptions
		kind        string
		annotations []string
	)
	cmd := &cobra.Command{
		Use:   "add",
		Short: "Add a material to the attestation",
		Long: `Add one material. A file is hashed (and uploaded where a control plane keeps artifacts), an image
reference is resolved to its repository digest with the local registry keychain, an SBOM, test report, VEX or
SARIF document is validated with its format's own library.

Without --name the kind is detected (see docs/materials.md) and the material fills the one unset contract
material of that kind, or gets a name of its own.`,
		Example: `  custody attestation add --name rootfs --value rootfs.tar.gz
  custody attestation add --name build-ref --value 80e461e9b385c6986cdb8096c9dc99928943d667
  custody attestation add --value junit.xml`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if opts.Value == "" {
				return usageErrorf("--value is required")
			}
			opts.Kind = contract.Kind(kind)
			var err error
			if opts.Annotations, err = parseAnnotations(annotations); err != nil {
				return err
			}
			c, _, err := g.crafter()
			if err != nil {
				return err
			}
			m, err := c.Add(cmd.Context(), opts)
			if err != nil {
				return err
			}
			if g.json() {
				return writeJSON(g.env.Stdout, m)
			}
			g.info("material %s (%s) added to attestation", m.Name, m.Kind)
			return nil
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&opts.Name, "name", "", "name of the material, as in the contract")
	fl.StringVar(&opts.Value, "value", "", "the material: a file path, an image reference or a string (required)")
	fl.StringVar(&kind, "kind", "", "kind of the material (default: the contract's, or detected)")
	fl.StringArrayVar(&annotations, "annotation", nil, "annotation of the material, name=value (repeatable)")
	return cmd
}
