package materials

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/custody-dev/custody/attestation"
	"github.com/custody-dev/custody/contract"
)

func init() { register(contract.KindAttestation, craftAttestation) }

// claimsAttestation: a top-level mediaType naming a Sigstore bundle, or all of payloadType, payload
// and signatures (a DSSE envelope; also the first line of .intoto.jsonl).
func claimsAttestation(s *sniffed) bool {
	mediaType, _ := s.str("mediaType")
	return strings.HasPrefix(mediaType, bundleMediaTypePrefix) || s.has("payloadType") && s.has("payload") && s.has("signatures")
}

func craftAttestation(ctx context.Context, c *Crafter, value string) (*attestation.Material, error) {
	return c.craftFile(ctx, value, validateAttestation)
}

// bundleMediaTypePrefix starts the mediaType of every Sigstore bundle version.
const bundleMediaTypePrefix = "application/vnd.dev.sigstore.bundle"

// validateAttestation accepts a Sigstore bundle (v0.1 to v0.3) holding a DSSE envelope, or a bare
// DSSE envelope, whose payload is an in-toto statement with subjects (attestation.Read). Detection
// tries this kind first on every JSON file, so it claims a file only by its marker fields: a
// top-level mediaType naming a Sigstore bundle, or all of payloadType, payload and signatures.
// Anything else is not an attestation (ErrNotThisKind); a claimed file that is broken is an error.
// The signature is not verified here: custody records the evidence, verifiers check it.
func validateAttestation(f *os.File) (map[string]string, error) {
	info, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("stat file: %w", err)
	}
	if info.Size() > attestation.MaxSize {
		return nil, fmt.Errorf("larger than %d MiB, not an attestation: %w", attestation.MaxSize>>20, ErrNotThisKind)
	}
	top := scanTopLevel(f, []string{"mediaType"}, []string{"payloadType", "payload", "signatures"})
	mediaType, _ := top.str("mediaType")
	isBundle := strings.HasPrefix(mediaType, bundleMediaTypePrefix)
	isEnvelope := top.has("payloadType") && top.has("payload") && top.has("signatures")
	if !isBundle && !isEnvelope {
		reason := "neither a Sigstore bundle (mediaType " + bundleMediaTypePrefix + "...) nor a DSSE envelope (payloadType, payload, signatures)"
		if top.err != nil {
			reason += " (" + syntaxReason(top.err) + ")"
		}
		return nil, fmt.Errorf("%s: %w", reason, ErrNotThisKind)
	}
	data, err := readDocument(f)
	if err != nil {
		return nil, err
	}
	if err := decodeJSON(bytes.NewReader(data), new(any)); err != nil {
		return nil, fmt.Errorf("claims to be an attestation but is not valid JSON: %s", syntaxReason(err))
	}
	doc, err := attestation.Read(data)
	if err != nil {
		// Left to detection: a valid bundle that holds no attestation (a cosign sign-blob signature).
		if errors.Is(err, attestation.ErrNotAttestation) {
			return nil, fmt.Errorf("%w: %w", err, ErrNotThisKind)
		}
		return nil, err
	}
	format := "Sigstore bundle"
	if doc.Bundle == nil {
		format = "DSSE envelope"
	}
	return map[string]string{
		"format":        format,
		"mediaType":     doc.MediaType,
		"payloadType":   doc.Envelope.PayloadType,
		"statementType": doc.Statement.GetType(),
		"predicateType": doc.Statement.GetPredicateType(),
		"subjectCount":  itoa(len(doc.Statement.GetSubject())),
	}, nil
}
