package attestation

import (
	"context"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/hex"
	"fmt"
	"io"
	"strings"
)

// ArtifactDigest is a digest of an artifact, to find among a statement's subjects.
type ArtifactDigest struct {
	// Algorithm is "sha256" or "sha512", as in-toto names them.
	Algorithm string
	// Hex is the digest in lowercase hex.
	Hex string
}

func (d ArtifactDigest) String() string { return d.Algorithm + ":" + d.Hex }

// artifactAlgorithms are the digests verification takes, and their sizes.
var artifactAlgorithms = map[string]int{"sha256": sha256.Size, "sha512": sha512.Size}

// ParseArtifactDigest parses "sha256:<64 hex characters>" or "sha512:<128 hex characters>".
func ParseArtifactDigest(s string) (ArtifactDigest, error) {
	alg, h, ok := strings.Cut(s, ":")
	size, known := artifactAlgorithms[alg]
	if !ok || !known {
		return ArtifactDigest{}, fmt.Errorf("artifact digest %q: want sha256:<64 hex characters> or sha512:<128 hex characters>", clip(s))
	}
	h = strings.ToLower(h)
	if b, err := hex.DecodeString(h); err != nil || len(b) != size {
		return ArtifactDigest{}, fmt.Errorf("artifact digest %q: want %d hex characters after %s:", clip(s), 2*size, alg)
	}
	return ArtifactDigest{Algorithm: alg, Hex: h}, nil
}

// HashArtifact reads r to its end, in one pass, and returns its sha256 and sha512 digests: a
// statement's subject may name either. It stops when ctx is cancelled.
func HashArtifact(ctx context.Context, r io.Reader) ([]ArtifactDigest, error) {
	h256, h512 := sha256.New(), sha512.New()
	buf := make([]byte, 1<<20)
	for {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		n, err := r.Read(buf)
		h256.Write(buf[:n])
		h512.Write(buf[:n])
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("hash artifact: %w", err)
		}
	}
	return []ArtifactDigest{
		{Algorithm: "sha256", Hex: hex.EncodeToString(h256.Sum(nil))},
		{Algorithm: "sha512", Hex: hex.EncodeToString(h512.Sum(nil))},
	}, nil
}
