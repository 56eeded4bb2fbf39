package cli

import (
	"github.com/spf13/cobra"

	"github.com/custody-dev/custody/signing"
)

func newGenerateKeyPairCmd(g *globals) *cobra.Command {
	var (
		dir   string
		force bool
	)
	cmd := &cobra.Command{
		Use:   "generate-key-pair",
		Short: "Write a cosign-compatible key pair (cosign.key, cosign.pub)",
		Long: `Write an ECDSA P-256 key pair in cosign's format: cosign.key, encrypted with the password in
COSIGN_PASSWORD (empty for none), and cosign.pub. cosign reads both, and custody reads cosign's.

Without COSIGN_PASSWORD, on a terminal, the password is asked for twice, as cosign does; in CI (CI set) or
without a terminal, COSIGN_PASSWORD must be set.`,
		Example: `  custody generate-key-pair                          # on a terminal: asks for the password
  COSIGN_PASSWORD=s3cret custody generate-key-pair   # in a script`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			password := signing.EnvPassword(g.env.Getenv)
			if _, ok := g.env.lookupEnv(signing.PasswordEnv); !ok {
				ask := g.passwordPrompt(cmd.Context())
				if ask == nil {
					return usageErrorf("%s is not set: set it to the key's password (empty for none)", signing.PasswordEnv)
				}
				password = newKeyPassword(ask)
			}
			if dir == "" {
				dir = g.env.Workdir
			}
			pair, err := signing.GenerateKeyPair(dir, password, force)
			if err != nil {
				return err
			}
			if g.json() {
				return writeJSON(g.env.Stdout, map[string]string{"privateKey": pair.PrivateKey, "publicKey": pair.PublicKey})
			}
			g.info("private key written to %s", pair.PrivateKey)
			g.info("public key written to %s", pair.PublicKey)
			return nil
		},
	}
	cmd.Flags().StringVar(&dir, "dir", "", "directory to write the key pair in (default: the current directory)")
	cmd.Flags().BoolVar(&force, "force", false, "overwrite an existing key pair")
	return cmd
}
