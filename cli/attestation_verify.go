package cli

import (
	"context"
	"errors"
	"fmt"

	"github.com/sigstore/sigstore-go/pkg/root"
	"github.com/spf13/cobra"

	"github.com/custody-dev/custody/attestation"
	"github.com/custody-dev/custody/contract"
	"github.com/custody-dev/custody/crafting"
	"github.com/custody-dev/custody/internal/input"
)

// maxTrustedRootSize bounds a trusted_root.json: Sigstore's public-good root is 8 KiB, and a root
// keeping every rotated chain for years stays far below.
const maxTrustedRootSize = 1 << 20

// verifyFlags are the flags of custody attestation verify.
type verifyFlags struct {
	key, trustedRoot               string
	workflow, project              string
	identity, identityRegexp       string
	issuer, issuerRegexp           string
	anyIdentity                    bool
	predicateType                  string
	artifact, digest, contractFile string
	bundles                        []string
}

func newVerifyCmd(g *globals) *cobra.Command {
	f := &verifyFlags{}
	cmd := &cobra.Command{
		Use:   "verify [BUNDLE...]",
		Short: "Verify attestation bundles offline",
		Long: `Verify Sigstore bundles (or DSSE envelopes) offline, many at once and in parallel.

A key-signed bundle is verified with --key. A keyless bundle (a certificate from custodyd, Fulcio or any
CA) is verified with --trusted-root: its certificate must chain to a CA of the trusted root at a verified
timestamp (an RFC 3161 timestamp or a transparency log's integrated time; never the current time), every
transparency log entry it carries must verify, and its certificate must name the identity asked for:
--workflow/--project (custody's identity, see docs/verification.md), or --certificate-identity[-regexp]
with --certificate-oidc-issuer[-regexp] (cosign's meaning). --insecure-ignore-identity accepts any identity
the trusted root's CAs certified: anyone they issue certificates to could have signed.

Then the statement must have the predicate type (--type, custody's by default), the artifact (--artifact
or --digest) must be one of its subjects, its predicate must be about the workflow (--workflow), and with
--contract it must satisfy the contract at the predicate's revision. Every bundle gets one line, in the
order given (-o json: an array with the reason of each failure); the exit code is 7 if any fails.`,
		Example: `  custody attestation verify --key cosign.pub --artifact rootfs.tar.gz attestation.sigstore.json
  custody attestation verify --trusted-root trusted_root.json --workflow build-and-test --project skynet \
    --artifact rootfs.tar.gz attestation.sigstore.json
  custody attestation verify --trusted-root trusted_root.json --contract contract.yaml \
    --certificate-identity-regexp '^https://custody.example/projects/skynet/' \
    --certificate-oidc-issuer https://custody.example bundles/*.json`,
		RunE: func(cmd *cobra.Command, args []string) error {
			f.bundles = append(f.bundles, args...)
			b, err := f.batch(cmd.Context(), g)
			if err != nil {
				return err
			}
			return b.run(cmd.Context(), g, f.bundles)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&f.key, "key", "", "PEM public key key-signed bundles must be signed by (a cosign.pub)")
	fl.StringVar(&f.trustedRoot, "trusted-root", "", "Sigstore trusted_root.json keyless bundles must chain to (custody trusted-root writes custodyd's)")
	fl.StringVar(&f.workflow, "workflow", "", "workflow the attestations must be about, and (keyless) whose identity the certificates must name; with --project")
	fl.StringVar(&f.project, "project", "", "project of --workflow")
	fl.StringVar(&f.identity, "certificate-identity", "", "SAN the certificates must name (as cosign)")
	fl.StringVar(&f.identityRegexp, "certificate-identity-regexp", "", "regular expression the certificates' SAN must match (unanchored, as cosign)")
	fl.StringVar(&f.issuer, "certificate-oidc-issuer", "", "OIDC issuer the certificates must name (Fulcio's extension; custody's: the control plane URL)")
	fl.StringVar(&f.issuerRegexp, "certificate-oidc-issuer-regexp", "", "regular expression the certificates' OIDC issuer must match (unanchored)")
	fl.BoolVar(&f.anyIdentity, "insecure-ignore-identity", false, "UNSAFE: accept a certificate of any identity the trusted root's CAs certified")
	fl.StringVar(&f.predicateType, "type", "", "predicate type the statements must have (default "+attestation.PredicateType+")")
	fl.StringVar(&f.artifact, "artifact", "", "file whose digest (sha256 or sha512) must be a subject of each statement")
	fl.StringVar(&f.digest, "digest", "", "digest that must be a subject of each statement: sha256:<hex> or sha512:<hex>")
	fl.StringVar(&f.contractFile, "contract", "", "contract (YAML) each attestation must satisfy at its predicate's revision")
	fl.StringArrayVar(&f.bundles, "bundle", nil, "bundle file to verify (repeatable; arguments work too)")
	return cmd
}

// batch checks the flags and reads what they name (key, trusted root, contract, artifact), once for
// every bundle.
func (f *verifyFlags) batch(ctx context.Context, g *globals) (*verifyBatch, error) {
	if len(f.bundles) == 0 {
		return nil, usageErrorf("no bundle to verify: give bundle files as arguments or with --bundle")
	}
	opts, err := f.options(g)
	if err != nil {
		return nil, err
	}
	switch {
	case f.key != "":
		if opts.PublicKey, err = readInput(ctx, "--key", f.key, maxPublicKeySize); err != nil {
			return nil, err
		}
	default:
		raw, err := readInput(ctx, "--trusted-root", f.trustedRoot, maxTrustedRootSize)
		if err != nil {
			return nil, err
		}
		tr, err := root.NewTrustedRootFromJSON(raw)
		if err != nil {
			return nil, &crafting.InputError{Err: fmt.Errorf("--trusted-root %s: not a Sigstore trusted root: %w", f.trustedRoot, err)}
		}
		opts.TrustedMaterial = tr
	}
	b := &verifyBatch{}
	if b.verifier, err = attestation.NewVerifier(opts); err != nil {
		return nil, usageErrorf("%v", err) // what NewVerifier refuses comes from the flags
	}
	if f.contractFile != "" {
		if b.contract, _, err = readContract(ctx, "--contract", f.contractFile); err != nil {
			return nil, err
		}
	}
	switch {
	case f.artifact != "":
		if b.digests, err = hashArtifact(ctx, f.artifact); err != nil {
			return nil, err
		}
	case f.digest != "":
		d, err := attestation.ParseArtifactDigest(f.digest)
		if err != nil {
			return nil, usageErrorf("--digest: %v", err)
		}
		b.digests = []attestation.ArtifactDigest{d}
	}
	return b, nil
}

// options turns the flags into the verifier's options, refusing combinations that mean nothing or
// would verify less than they seem to.
func (f *verifyFlags) options(g *globals) (attestation.VerifyOptions, error) {
	opts := attestation.VerifyOptions{PredicateType: f.predicateType, UnsafeAnyIdentity: f.anyIdentity}
	identityFlags := f.identity != "" || f.identityRegexp != "" || f.issuer != "" || f.issuerRegexp != "" || f.anyIdentity
	switch {
	case f.key != "" && f.trustedRoot != "":
		return opts, usageErrorf("give --key (key-signed bundles) or --trusted-root (keyless bundles), not both")
	case f.key == "" && f.trustedRoot == "":
		return opts, usageErrorf("give --key (key-signed bundles) or --trusted-root (keyless bundles)")
	case f.key != "" && identityFlags:
		return opts, usageErrorf("--certificate-identity, --certificate-oidc-issuer and --insecure-ignore-identity apply to keyless bundles: give --trusted-root, not --key")
	case f.artifact != "" && f.digest != "":
		return opts, usageErrorf("give --artifact or --digest, not both")
	case (f.workflow == "") != (f.project == ""):
		return opts, usageErrorf("--workflow and --project go together")
	case f.identity != "" && f.identityRegexp != "":
		return opts, usageErrorf("give --certificate-identity or --certificate-identity-regexp, not both")
	case f.issuer != "" && f.issuerRegexp != "":
		return opts, usageErrorf("give --certificate-oidc-issuer or --certificate-oidc-issuer-regexp, not both")
	case f.anyIdentity && (f.identity != "" || f.identityRegexp != "" || f.issuer != "" || f.issuerRegexp != "" || f.workflow != ""):
		return opts, usageErrorf("--insecure-ignore-identity accepts any identity: give it alone, without an identity")
	case f.predicateType != "" && f.predicateType != attestation.PredicateType && (f.workflow != "" || f.contractFile != ""):
		return opts, usageErrorf("--workflow and --contract check custody's predicate: they do not go with --type %s", f.predicateType)
	}
	if f.workflow != "" {
		opts.Workflow = &attestation.WorkflowRef{Project: f.project, Name: f.workflow}
		for _, n := range [][2]string{{"--workflow", f.workflow}, {"--project", f.project}} {
			if !contract.IsDNS1123Label(n[1]) {
				return opts, usageErrorf("%s %q: not a name custody gives (a DNS-1123 label: lowercase letters, digits and '-', at most 63)", n[0], n[1])
			}
		}
	}
	if f.trustedRoot == "" {
		return opts, nil
	}
	switch {
	case f.identity != "" || f.identityRegexp != "":
		if f.issuer == "" && f.issuerRegexp == "" {
			return opts, usageErrorf("--certificate-identity needs the issuer too: --certificate-oidc-issuer or --certificate-oidc-issuer-regexp")
		}
		opts.Identity = &attestation.CertificateIdentity{SAN: f.identity, SANRegexp: f.identityRegexp, Issuer: f.issuer, IssuerRegexp: f.issuerRegexp}
	case f.issuer != "" || f.issuerRegexp != "":
		if f.workflow == "" || f.issuerRegexp != "" {
			return opts, usageErrorf("the issuer needs the identity too: --certificate-identity[-regexp], " +
				"or --workflow and --project (with --certificate-oidc-issuer, not a regexp)")
		}
		opts.Identity = &attestation.CertificateIdentity{SAN: attestation.WorkflowIdentityURI(f.issuer, f.project, f.workflow), Issuer: f.issuer}
	case f.workflow != "":
		// The workflow's identity under the configured control plane, if any; else under the
		// certificate's own issuer (attestation.VerifyOptions.Workflow).
		url, _, err := g.connection()
		if err != nil {
			return opts, err
		}
		if url != "" {
			opts.Identity = &attestation.CertificateIdentity{SAN: attestation.WorkflowIdentityURI(url, f.project, f.workflow), Issuer: url}
		}
	case !f.anyIdentity:
		return opts, usageErrorf("keyless bundles need an identity policy: --workflow and --project, or --certificate-identity[-regexp] " +
			"with --certificate-oidc-issuer[-regexp]; or, to accept any identity the trusted root's CAs certified, --insecure-ignore-identity (unsafe)")
	}
	return opts, nil
}

// hashArtifact returns the sha256 and sha512 of the --artifact file, stopping when ctx is cancelled.
func hashArtifact(ctx context.Context, path string) ([]attestation.ArtifactDigest, error) {
	f, release, err := input.Open(ctx, path)
	if err != nil {
		if errors.Is(err, context.Canceled) {
			return nil, fmt.Errorf("--artifact: %w", err)
		}
		return nil, usageErrorf("--artifact: %v", err)
	}
	defer release()
	digests, err := attestation.HashArtifact(ctx, f)
	if err != nil {
		return nil, fmt.Errorf("--artifact: %s: %w", path, err)
	}
	return digests, nil
}
