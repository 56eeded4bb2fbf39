package cli

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/custody-dev/custody/crafting"
	"github.com/custody-dev/custody/internal/atomicfile"
	"github.com/custody-dev/custody/signing"
)

func newPushCmd(g *globals) *cobra.Command {
	var (
		key, bundlePath string
		annotations     []string
	)
	cmd := &cobra.Command{
		Use:   "push",
		Short: "Sign the attestation and store it",
		Long: `Check every required material is set, render the in-toto statement, sign it into a Sigstore bundle
and store it. Without a control plane the bundle is written to --bundle, or to stdout.

The key is a cosign key reference: a cosign.key file or env://VAR; its password is read from COSIGN_PASSWORD.`,
		Example: `  COSIGN_PASSWORD=... custody attestation push --key cosign.key --bundle attestation.sigstore.json`,
		Args:    noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if key == "" {
				return usageErrorf("--key is required: keyless signing needs a control plane")
			}
			given, err := parseAnnotations(annotations)
			if err != nil {
				return err
			}
			c, err := g.crafter()
			if err != nil {
				return err
			}
			// The key is loaded first: a wrong password must fail before anything is rendered.
			signer, err := signing.LoadKey(key, signing.KeyOptions{Getenv: g.env.Getenv})
			if err != nil {
				return &crafting.InputError{Err: fmt.Errorf("push: %w", err)}
			}
			dest := &bundleFile{path: bundlePath, g: g}
			pushed, err := c.Push(cmd.Context(), crafting.PushOptions{Signer: signer, Destination: dest, Annotations: given})
			if err != nil {
				return err
			}
			sum := sha256.Sum256(pushed.Bundle)
			digest := "sha256:" + hex.EncodeToString(sum[:])
			if g.json() && bundlePath != "" {
				return writeJSON(g.env.Stdout, map[string]string{"runID": pushed.State.RunID, "bundle": bundlePath, "bundleDigest": digest})
			}
			if bundlePath != "" {
				g.info("attestation signed and written to %s (%s)", bundlePath, digest)
			}
			return nil
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&key, "key", "", "cosign private key reference: a file or env://VAR (password in COSIGN_PASSWORD)")
	fl.StringVar(&bundlePath, "bundle", "", "write the Sigstore bundle to this file (default: stdout)")
	fl.StringArrayVar(&annotations, "annotation", nil, "value of a contract annotation, name=value (repeatable)")
	return cmd
}

// bundleFile is the offline destination of a push: a file written atomically, or stdout.
type bundleFile struct {
	path string
	g    *globals
}

func (b *bundleFile) Store(_ context.Context, p *crafting.Pushed) error {
	if b.path == "" {
		_, err := b.g.env.Stdout.Write(append(p.Bundle, '\n'))
		return err
	}
	return atomicfile.Write(b.path, p.Bundle, 0o644)
}
