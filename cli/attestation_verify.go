package cli

import (
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"github.com/custody-dev/custody/attestation"
	"github.com/custody-dev/custody/cas"
	"github.com/custody-dev/custody/signing"
)

// verdict is the outcome of one bundle.
type verdict struct {
	Bundle   string   `json:"bundle"`
	Verified bool     `json:"verified"`
	Error    string   `json:"error,omitempty"`
	Workflow string   `json:"workflow,omitempty"`
	Project  string   `json:"project,omitempty"`
	RunID    string   `json:"runID,omitempty"`
	Subjects []string `json:"subjects,omitempty"`
}

func newVerifyCmd(g *globals) *cobra.Command {
	var (
		key, artifact string
		bundles       []string
	)
	cmd := &cobra.Command{
		Use:   "verify [BUNDLE...]",
		Short: "Verify attestation bundles offline",
		Long: `Verify Sigstore bundles (or DSSE envelopes) offline: the signature against the public key, the payload
type, the custody predicate type, and with --artifact that the file's sha256 is a subject. Every bundle gets a
verdict; the exit code is non-zero if any fails.`,
		Example: `  custody attestation verify --key cosign.pub --artifact rootfs.tar.gz attestation.sigstore.json`,
		RunE: func(cmd *cobra.Command, args []string) error {
			bundles = append(bundles, args...)
			if key == "" {
				return usageErrorf("--key is required")
			}
			if len(bundles) == 0 {
				return usageErrorf("no bundle to verify: give bundle files as arguments or with --bundle")
			}
			pub, err := signing.ReadPublicKeyFile(key)
			if err != nil {
				return usageErrorf("--key: %v", err)
			}
			v, err := attestation.NewVerifier(attestation.VerifyOptions{PublicKey: pub})
			if err != nil {
				return fmt.Errorf("verify: %w", err)
			}
			var digest string
			if artifact != "" {
				// Hash the artifact once for every bundle.
				hashed, err := cas.HashFile(artifact, nil)
				if err != nil {
					return usageErrorf("--artifact: %v", err)
				}
				digest = hashed.Digest.Hex()
			}
			var verdicts []verdict
			failed := 0
			for _, path := range bundles {
				vd := verifyOne(cmd, v, path, digest)
				if !vd.Verified {
					failed++
				}
				verdicts = append(verdicts, vd)
				if !g.json() {
					printVerdict(g, vd)
				}
			}
			if g.json() {
				if err := writeJSON(g.env.Stdout, verdicts); err != nil {
					return err
				}
			}
			if failed > 0 {
				return &VerificationError{Failed: failed, Total: len(bundles)}
			}
			return nil
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&key, "key", "", "PEM public key the bundles must be signed by (a cosign.pub)")
	fl.StringVar(&artifact, "artifact", "", "file whose sha256 must be a subject of each statement")
	fl.StringArrayVar(&bundles, "bundle", nil, "bundle file to verify (repeatable; arguments work too)")
	return cmd
}

func verifyOne(cmd *cobra.Command, v *attestation.Verifier, path, artifactSHA256 string) verdict {
	vd := verdict{Bundle: path}
	data, err := os.ReadFile(path)
	if err != nil {
		vd.Error = err.Error()
		return vd
	}
	res, err := v.Verify(cmd.Context(), data, artifactSHA256)
	if err != nil {
		vd.Error = err.Error()
		return vd
	}
	vd.Verified = true
	if p := res.Predicate; p != nil {
		vd.Workflow, vd.Project, vd.RunID = p.Workflow.Name, p.Workflow.Project, p.Workflow.RunID
	}
	for _, s := range res.Subjects {
		vd.Subjects = append(vd.Subjects, s.String())
	}
	return vd
}

func printVerdict(g *globals, vd verdict) {
	if !vd.Verified {
		fmt.Fprintf(g.env.Stdout, "FAIL %s: %s\n", vd.Bundle, vd.Error)
		return
	}
	fmt.Fprintf(g.env.Stdout, "OK   %s: Verified OK (workflow %s, project %s, run %s)\n", vd.Bundle, vd.Workflow, vd.Project, vd.RunID)
	for _, s := range vd.Subjects {
		fmt.Fprintf(g.env.Stdout, "     subject %s\n", s)
	}
}
