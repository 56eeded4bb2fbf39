package cli

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/custody-dev/custody/client"
	"github.com/custody-dev/custody/crafting"
)

// maxAttestMaterials bounds the materials of one attest: as many as the largest statement the
// control plane takes indexes (bench/load -push-large).
const maxAttestMaterials = 1024

// maxResetReason bounds the reason attest gives the control plane for a run it abandons.
const maxResetReason = 1024

func newAttestCmd(g *globals) *cobra.Command {
	var (
		f                     initFlags
		key, bundlePath       string
		materials, annotation []string
	)
	cmd := &cobra.Command{
		Use:   "attest",
		Short: "Init, add the materials and push, in one step",
		Long: `Run a whole attestation in one step: init (as custody attestation init), add each --material NAME=VALUE
in order (as custody attestation add --name NAME --value VALUE), then push (as custody attestation push).

If a step fails after init, the run is reset (marked failed in the control plane, with the error as the reason)
and the local state cleared, so the workspace is as it was and a later attest starts afresh. A dry run needs
--key: the control plane certifies keyless keys for its own runs only.`,
		Example: `  custody attestation attest --workflow build-and-test --project skynet \
    --material rootfs=rootfs.tar.gz --material build-ref=$GITHUB_SHA --bundle attestation.sigstore.json
  custody attestation attest --workflow build-and-test --project skynet --contract contract.yaml \
    --material rootfs=rootfs.tar.gz --key cosign.key`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := g.runWorkflow(&f); err != nil {
				return err
			}
			adds, err := parseMaterials(materials)
			if err != nil {
				return err
			}
			given, err := parseAnnotations(annotation)
			if err != nil {
				return err
			}
			if f.dryRun && key == "" {
				return usageErrorf("--dry-run signs with --key: the control plane certifies keyless keys for its own runs only")
			}
			c, cp, err := g.crafter()
			if err != nil {
				return err
			}
			if key == "" && cp == nil {
				return usageErrorf("--key is required without a control plane: keyless signing needs one (custody login, or CUSTODY_CONTROL_PLANE)")
			}
			res, err := g.attest(cmd.Context(), c, cp, f, adds, func() (*crafting.PushResult, error) {
				return g.push(cmd.Context(), c, cp, key, bundlePath, given)
			})
			if err != nil {
				return err
			}
			return g.renderPush(res)
		},
	}
	f.register(cmd, " (needs --key)")
	fl := cmd.Flags()
	fl.StringArrayVar(&materials, "material", nil, "a material to add, NAME=VALUE (repeatable; in order)")
	fl.StringArrayVar(&annotation, "annotation", nil, "value of a contract annotation, name=value (repeatable)")
	fl.StringVar(&key, "key", "", "sign with this cosign private key instead of keyless: a file or env://VAR (password in COSIGN_PASSWORD)")
	fl.StringVar(&bundlePath, "bundle", "", "write the Sigstore bundle to this file (default: stdout)")
	return cmd
}

// attest starts a run, adds the materials and pushes; once the run started, a failure resets it.
func (g *globals) attest(ctx context.Context, c *crafting.Crafter, cp *client.Client, f initFlags, adds []crafting.AddOptions,
	push func() (*crafting.PushResult, error)) (*crafting.PushResult, error) {
	if err := g.startRun(ctx, c, cp, f); err != nil {
		return nil, err
	}
	s, err := c.Status(ctx)
	if err != nil {
		return nil, g.abandon(ctx, c, cp, err)
	}
	g.info("attestation %s initialized", s.State.RunID)
	for _, a := range adds {
		m, err := c.Add(ctx, a)
		if err != nil {
			return nil, g.abandon(ctx, c, cp, fmt.Errorf("--material %s: %w", a.Name, err))
		}
		g.info("material %s (%s) added to attestation", m.Name, m.Kind)
	}
	res, err := push()
	if err != nil {
		return nil, g.abandon(ctx, c, cp, err)
	}
	return res, nil
}

// abandon resets the run attest started, because of cause, and returns cause: a reset that fails too
// is a warning, since cause is what the user must fix.
func (g *globals) abandon(ctx context.Context, c *crafting.Crafter, cp *client.Client, cause error) error {
	state := "failed"
	if errors.Is(cause, context.Canceled) {
		state = "cancelled"
	}
	reason := "custody attestation attest failed: " + strings.ReplaceAll(cause.Error(), "\n", " ")
	if len(reason) > maxResetReason {
		reason = strings.ToValidUTF8(reason[:maxResetReason], "")
	}
	var err error
	if cp != nil {
		_, err = c.ResetOnline(context.WithoutCancel(ctx), cp, state, reason)
	} else {
		_, err = c.Reset(context.WithoutCancel(ctx))
	}
	if err != nil {
		g.warn("the run was not reset (custody attestation reset clears it): %v", err)
	} else {
		g.info("attestation reset (%s)", state)
	}
	return cause
}

// parseMaterials reads repeated --material NAME=VALUE flags.
func parseMaterials(flags []string) ([]crafting.AddOptions, error) {
	if len(flags) > maxAttestMaterials {
		return nil, usageErrorf("%d materials: at most %d in one attest", len(flags), maxAttestMaterials)
	}
	out := make([]crafting.AddOptions, 0, len(flags))
	seen := map[string]bool{}
	for _, m := range flags {
		name, value, ok := strings.Cut(m, "=")
		name, value = strings.TrimSpace(name), strings.TrimSpace(value)
		if !ok || name == "" || value == "" {
			return nil, usageErrorf("--material %q: want NAME=VALUE", m)
		}
		if seen[name] {
			return nil, usageErrorf("--material %s given twice", name)
		}
		seen[name] = true
		out = append(out, crafting.AddOptions{Name: name, Value: value})
	}
	return out, nil
}
