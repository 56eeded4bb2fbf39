package cli

import (
	"fmt"

	"github.com/sigstore/sigstore-go/pkg/root"
	"github.com/spf13/cobra"
)

func newTrustedRootCmd(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "trusted-root",
		Short: "Print the control plane's Sigstore trusted root (trusted_root.json)",
		Long: `Print the trusted root of the control plane's certificate authority and timestamp authority: their
chains and validity windows, the retired ones included, in Sigstore's trusted_root.json format. With it, custody
attestation verify --trusted-root, cosign verify-blob-attestation --trusted-root and sigstore-go verify keyless
bundles offline. No token is needed: the trusted root is public. Check it came from your control plane (over
TLS, or compare it with a copy you trust) before you rely on it.`,
		Example: `  custody trusted-root > trusted_root.json
  custody attestation verify --trusted-root trusted_root.json --project skynet --workflow build-and-test attestation.sigstore.json`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			url, _, err := g.connection()
			if err != nil {
				return err
			}
			if url == "" {
				return usageErrorf("no control plane: pass --control-plane URL, set CUSTODY_CONTROL_PLANE, or run custody login")
			}
			cp, err := g.newClient(url, "") // public: no token is sent
			if err != nil {
				return err
			}
			b, err := cp.TrustedRoot(cmd.Context())
			if err != nil {
				return err
			}
			if _, err := root.NewTrustedRootFromJSON(b); err != nil {
				return fmt.Errorf("the control plane at %s answered no trusted root: %w", url, err)
			}
			if len(b) > 0 && b[len(b)-1] != '\n' {
				b = append(b, '\n')
			}
			_, err = g.env.Stdout.Write(b)
			return err
		},
	}
}
