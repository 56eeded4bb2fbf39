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
COSIGN_PASSWORD (set it, empty for none), and cosign.pub. cosign reads both, and custody reads cosign's.`,
		Example: `  COSIGN_PASSWORD=s3cret custody generate-key-pair`,
		Args:    noArgs,
		RunE: func(*cobra.Command, []string) error {
			if _, ok := g.env.lookupEnv(signing.PasswordEnv); !ok {
				return usageErrorf("%s is not set: set it to the key's password (empty for none)", signing.PasswordEnv)
			}
			if dir == "" {
				dir = g.env.Workdir
			}
			pair, err := signing.GenerateKeyPair(dir, signing.EnvPassword(g.env.Getenv), force)
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
