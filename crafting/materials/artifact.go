package materials

import (
	"context"

	"github.com/custody-dev/custody/attestation"
	"github.com/custody-dev/custody/contract"
)

func init() {
	register(contract.KindArtifact, craftAnyFile)
	register(contract.KindEvidence, craftAnyFile)
}

// craftAnyFile records any file by its digest: ARTIFACT (something the pipeline built) and EVIDENCE
// (any other file that supports the attestation) differ in meaning, not in handling.
func craftAnyFile(ctx context.Context, c *Crafter, value string) (*attestation.Material, error) {
	return c.craftFile(ctx, value, nil)
}
