package cli

import (
	"context"

	"github.com/spf13/cobra"

	"github.com/custody-dev/custody/client"
	"github.com/custody-dev/custody/crafting"
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
and store it in the control plane, which verifies it before it keeps it. The bundle is also written to --bundle,
once the control plane stored it (a refused push writes no file); without a control plane (or in a dry run) it
goes to --bundle, or to stdout.

Online, it signs keyless by default: a key made for this one signature, a certificate from the control plane
valid for minutes that names the workflow, and an RFC 3161 timestamp of the signature, so anyone verifies the
bundle offline with the control plane's trusted root (custody trusted-root) long after the certificate expired.

With --key it signs with a cosign key instead (offline, and for a dry run, a key is required): a cosign.key file
or env://VAR; its password is read from COSIGN_PASSWORD, or, when that is unset, asked for on a terminal
outside CI.`,
		Example: `  custody attestation push --bundle attestation.sigstore.json
  COSIGN_PASSWORD=... custody attestation push --key cosign.key --bundle attestation.sigstore.json`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			given, err := parseAnnotations(annotations)
			if err != nil {
				return err
			}
			c, cp, err := g.crafter()
			if err != nil {
				return err
			}
			res, err := g.push(cmd.Context(), c, cp, key, bundlePath, given)
			if err != nil {
				return err
			}
			g.forgetCredential() // the state is cleared: the job's credential has served
			return g.renderPush(res)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&key, "key", "", "sign with this cosign private key instead of keyless: a file or env://VAR (password in COSIGN_PASSWORD)")
	fl.StringVar(&bundlePath, "bundle", "", "write the Sigstore bundle to this file (default: stdout)")
	fl.StringArrayVar(&annotations, "annotation", nil, "value of a contract annotation, name=value (repeatable)")
	return cmd
}

// push signs the run with the key (a cosign key reference), or keyless through the control plane cp,
// and stores it where the flags say.
func (g *globals) push(ctx context.Context, c *crafting.Crafter, cp *client.Client, key, bundlePath string, annotations map[string]string) (*crafting.PushResult, error) {
	if key == "" && cp == nil {
		return nil, usageErrorf("--key is required without a control plane: keyless signing needs one (custody login, or CUSTODY_CONTROL_PLANE)")
	}
	req := crafting.PushRequest{Key: key, KeyOptions: signing.KeyOptions{Getenv: g.env.Getenv}, ControlPlane: cp,
		BundlePath: bundlePath, Stdout: g.env.Stdout, Annotations: annotations}
	if g.oidc != nil {
		req.Authenticated = g.oidc.ciJob
	}
	if ask := g.passwordPrompt(ctx); ask != nil {
		req.KeyOptions.Password = func() ([]byte, error) { return ask(promptPassword) }
	}
	return c.PushRun(ctx, req)
}

// renderPush reports a push: to the Actions runner in a GitHub Actions step, then as JSON or lines.
func (g *globals) renderPush(res *crafting.PushResult) error {
	if err := g.reportToActions(actionReport{status: res.Status, push: res, summary: true}); err != nil {
		return err
	}
	if res.Written {
		return nil // the bundle is the output
	}
	if g.json() {
		return writeJSON(g.env.Stdout, res)
	}
	if res.Bundle != "" {
		g.info("attestation signed and written to %s (%s)", res.Bundle, res.Digest)
	}
	if res.Keyless {
		g.info("signed keyless as %s", res.Identity)
	}
	switch {
	case res.PageURL != "":
		g.info("attestation %s pushed: %s", res.Digest, res.PageURL)
	case res.RunURL != "":
		g.info("attestation %s pushed: %s", res.Digest, res.RunURL)
	}
	return nil
}
