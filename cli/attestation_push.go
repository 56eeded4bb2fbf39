package cli

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/custody-dev/custody/attestation"
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
and store it in the control plane, which verifies it before it keeps it. The bundle is also written to --bundle,
once the control plane stored it (a refused push writes no file); without a control plane (or in a dry run) it
goes to --bundle, or to stdout.

The key is a cosign key reference: a cosign.key file or env://VAR; its password is read from COSIGN_PASSWORD,
or, when that is unset, asked for on a terminal outside CI.`,
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
			c, cp, err := g.crafter()
			if err != nil {
				return err
			}
			// The key is loaded first: a wrong password must fail before anything is rendered.
			keyOpts := signing.KeyOptions{Getenv: g.env.Getenv}
			if ask := g.passwordPrompt(cmd.Context()); ask != nil {
				keyOpts.Password = func() ([]byte, error) { return ask(promptPassword) }
			}
			signer, err := signing.LoadKey(cmd.Context(), key, keyOpts)
			if err != nil {
				return &crafting.InputError{Err: fmt.Errorf("push: %w", err)}
			}
			dest := &destinations{file: &bundleFile{path: bundlePath, g: g}}
			if cp != nil {
				dest.cp = &crafting.ControlPlaneDestination{Client: cp}
			}
			pushed, err := c.Push(cmd.Context(), crafting.PushOptions{Signer: signer, Destination: dest, Annotations: given})
			if err != nil {
				return err
			}
			doc, err := attestation.Read(pushed.Bundle)
			if err != nil {
				return fmt.Errorf("push: read back the bundle: %w", err)
			}
			out := map[string]string{"runID": pushed.State.RunID, "digest": doc.Envelope.Digest()}
			if bundlePath != "" {
				out["bundle"] = bundlePath
			}
			if dest.cp != nil && dest.cp.Result != nil {
				out["runURL"] = dest.cp.Result.RunURL
			}
			if g.json() && (bundlePath != "" || out["runURL"] != "") {
				return writeJSON(g.env.Stdout, out)
			}
			if bundlePath != "" {
				g.info("attestation signed and written to %s (%s)", bundlePath, out["digest"])
			}
			if out["runURL"] != "" {
				g.info("attestation %s pushed: %s", out["digest"], out["runURL"])
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

// destinations stores a pushed attestation in the control plane (unless the run is a dry run) and in
// the --bundle file; with neither, the bundle goes to stdout. Online, the file appears only once the
// control plane stored the bundle: a refused push leaves no file that looks like a result.
type destinations struct {
	cp   *crafting.ControlPlaneDestination
	file *bundleFile
}

func (d *destinations) Store(ctx context.Context, p *crafting.Pushed) error {
	if d.cp == nil || p.State.DryRun {
		return d.file.Store(ctx, p)
	}
	if d.file.path == "" {
		return d.cp.Store(ctx, p)
	}
	// Staged first, so a --bundle path that cannot be written fails before anything is stored.
	staged, err := atomicfile.Stage(d.file.path, p.Bundle, 0o644)
	if err != nil {
		return fmt.Errorf("--bundle: %w", err)
	}
	defer staged.Discard()
	if err := d.cp.Store(ctx, p); err != nil {
		return err
	}
	if err := staged.Commit(); err != nil {
		return fmt.Errorf("the control plane stored the attestation, but --bundle was not written (custody attestation get fetches it): %w", err)
	}
	return nil
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
