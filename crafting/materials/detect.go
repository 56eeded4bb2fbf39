package materials

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/google/go-containerregistry/pkg/name"

	"github.com/custody-dev/custody/attestation"
	"github.com/custody-dev/custody/contract"
	"github.com/custody-dev/custody/internal/input"
)

// fileDetectOrder is the fixed order in which `add` without a kind asks kinds whether they claim a
// file, most specific first. A kind claims a file from its sniffed prefix alone (sniff.go), so the
// file is read whole once, by the kind that claims it, and a large artifact no kind claims is only
// hashed. A file no kind claims is an ARTIFACT. Documented in docs/materials.md; keep the two in step.
var fileDetectOrder = []struct {
	kind   contract.Kind
	claims func(*sniffed) bool
}{
	// Before ATTESTATION, which claims the first line of any .intoto.jsonl: a bare statement or JSON
	// Lines of SLSA provenance (a single envelope or bundle stays ATTESTATION's).
	{contract.KindSLSAProvenance, claimsSLSAProvenance},
	{contract.KindAttestation, claimsAttestation},
	{contract.KindSBOMCycloneDXJSON, claimsCycloneDX},
	{contract.KindSBOMSPDXJSON, claimsSPDX},
	{contract.KindCSAFVEX, claimsCSAF},
	{contract.KindOpenVEX, claimsOpenVEX},
	{contract.KindSARIF, claimsSARIF},
	{contract.KindJUnitXML, claimsJUnit},
	{contract.KindHelmChart, claimsHelmChart},
	{contract.KindJaCoCoXML, claimsJaCoCo},
	{contract.KindCoberturaXML, claimsCobertura},
	{contract.KindZAPDASTZip, claimsZAPDASTZip},
}

// fileExtension matches a value ending in a file extension: a dot after a name, then a letter and
// at most 9 letters or digits (README.md, app.tar.gz; not v1.2.3 nor 1.0.0-rc.1).
var fileExtension = regexp.MustCompile(`[^./\\]\.[A-Za-z][A-Za-z0-9]{0,9}$`)

// looksLikePath reports a value that names a file: it holds a path separator (and is not a URL), or
// ends in a file extension. A missing one is an error, not a STRING.
func looksLikePath(value string) bool {
	if strings.Contains(value, "://") {
		return false
	}
	return strings.ContainsAny(value, "/"+string(filepath.Separator)) || fileExtension.MatchString(value)
}

// Detect finds the kind of value and crafts it:
//  1. an existing directory is an OCI image layout (CONTAINER_IMAGE);
//  2. an existing file is tried against each kind of fileDetectOrder whose format its first bytes
//     fit; the first kind that accepts it wins; a file that is plainly of a kind but broken is an
//     error; a file no kind claims is an ARTIFACT;
//  3. a value that parses as an image reference with a tag or digest is a CONTAINER_IMAGE: if the
//     registry refuses it, that is an error with the registry's reason, never a STRING;
//  4. a value that looks like a path (a separator, or a file extension) but does not exist is an
//     error;
//  5. anything else is a STRING.
func (c *Crafter) Detect(ctx context.Context, value string) (*attestation.Material, error) {
	info, statErr := os.Stat(value)
	switch {
	case statErr == nil && info.IsDir():
		return c.Craft(ctx, contract.KindContainerImage, value)
	case statErr == nil:
		return c.detectFile(ctx, value)
	case looksLikeImage(value):
		return c.Craft(ctx, contract.KindContainerImage, value)
	case looksLikePath(value):
		hint := ""
		if strings.Contains(value, "/") {
			hint = " (an image reference needs a tag or digest: name:tag or name@sha256:...)"
		}
		return nil, fmt.Errorf("%q looks like a file path, but %w; to record it as text, add it with --kind STRING%s", value, statErr, hint)
	default:
		return c.Craft(ctx, contract.KindString, value)
	}
}

func (c *Crafter) detectFile(ctx context.Context, path string) (*attestation.Material, error) {
	s, err := sniffPath(ctx, path)
	if err != nil {
		return nil, err
	}
	for _, candidate := range fileDetectOrder {
		if !candidate.claims(s) {
			continue
		}
		m, err := c.Craft(ctx, candidate.kind, path)
		if err == nil {
			return m, nil
		}
		if !errors.Is(err, ErrNotThisKind) {
			return nil, err
		}
	}
	return c.Craft(ctx, contract.KindArtifact, path)
}

// sniffPath opens the file at path and sniffs it.
func sniffPath(ctx context.Context, path string) (*sniffed, error) {
	f, release, err := input.Open(ctx, path)
	if err != nil {
		return nil, fmt.Errorf("open file: %w", err)
	}
	defer release()
	return sniffFile(f)
}

// looksLikeImage reports whether value parses as an image reference with an explicit tag or digest.
func looksLikeImage(value string) bool {
	_, err := name.ParseReference(value, name.StrictValidation)
	return err == nil
}
