package attestation

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"

	intoto "github.com/in-toto/attestation/go/v1"
	protobundle "github.com/sigstore/protobuf-specs/gen/pb-go/bundle/v1"
	"github.com/sigstore/sigstore-go/pkg/bundle"
	"google.golang.org/protobuf/encoding/protojson"
)

// Media types of what custody reads and writes.
const (
	// PayloadType is the DSSE payload type of an in-toto statement.
	PayloadType = "application/vnd.in-toto+json"
	// BundleMediaType is the Sigstore bundle version custody writes.
	BundleMediaType = "application/vnd.dev.sigstore.bundle.v0.3+json"
	// DSSEMediaType names a bare DSSE envelope (no Sigstore bundle around it).
	DSSEMediaType = "application/vnd.dsse.envelope.v1+json"
	// bundleMediaTypePrefix starts every Sigstore bundle media type (v0.1 to v0.3 and later).
	bundleMediaTypePrefix = "application/vnd.dev.sigstore.bundle"
)

// MaxSize bounds an attestation custody reads: 32 MiB, far above any real statement.
const MaxSize = 32 << 20

// ErrNotAttestation is wrapped by Read's error when the data is not a DSSE envelope nor a Sigstore
// bundle at all (as opposed to one that is broken).
var ErrNotAttestation = errors.New("not an attestation")

// Envelope is a DSSE envelope, its payload and signatures decoded from base64.
type Envelope struct {
	PayloadType string
	Payload     []byte
	Signatures  []Signature
}

// Signature is one DSSE signature.
type Signature struct {
	KeyID string
	Sig   []byte
}

// Document is an attestation as read: a Sigstore bundle or a bare DSSE envelope, and its statement.
type Document struct {
	// MediaType is the bundle's media type, or DSSEMediaType for a bare envelope.
	MediaType string
	// Bundle is the parsed bundle; nil for a bare envelope.
	Bundle *bundle.Bundle
	// Envelope is the DSSE envelope (the bundle's content, or the document itself).
	Envelope Envelope
	// Statement is the decoded in-toto statement: valid, with subjects. It is not yet verified.
	Statement *intoto.Statement
}

// ReadFrom reads at most MaxSize bytes from r and parses them with Read.
func ReadFrom(r io.Reader) (*Document, error) {
	data, err := io.ReadAll(io.LimitReader(r, MaxSize+1))
	if err != nil {
		return nil, fmt.Errorf("read attestation: %w", err)
	}
	return Read(data)
}

// Read parses data as a Sigstore bundle (v0.1, v0.2 or v0.3) holding a DSSE envelope, or as a bare
// DSSE envelope ({payloadType, payload, signatures}), and decodes the in-toto statement inside. Data
// that is neither gives an error wrapping ErrNotAttestation; a bundle or envelope that is broken (bad
// payload type, payload, statement, no subjects...) gives an error naming the reason.
func Read(data []byte) (*Document, error) {
	doc, err := ReadEnvelope(data)
	if err != nil {
		return nil, err
	}
	if doc.Statement, err = decodeStatement(doc.Envelope); err != nil {
		return nil, err
	}
	return doc, nil
}

// ReadEnvelope is Read without decoding the statement (Statement is nil): what a verifier needs to
// check the signature first, so unsigned or foreign input costs no statement parsing. The payload
// type must be an in-toto statement's.
func ReadEnvelope(data []byte) (*Document, error) {
	if len(data) > MaxSize {
		return nil, fmt.Errorf("%w: larger than %d MiB", ErrNotAttestation, MaxSize>>20)
	}
	var top map[string]json.RawMessage
	if err := json.Unmarshal(data, &top); err != nil {
		return nil, fmt.Errorf("%w: not a JSON object: %w", ErrNotAttestation, err)
	}
	var doc *Document
	var err error
	switch mediaType, isBundle := bundleMediaType(top); {
	case isBundle:
		doc, err = readBundle(data, mediaType)
	case hasAll(top, "payloadType", "payload", "signatures"):
		doc, err = readEnvelope(data)
	default:
		return nil, fmt.Errorf("%w: JSON is neither a Sigstore bundle (mediaType %s...) nor a DSSE envelope (payloadType, payload, signatures)",
			ErrNotAttestation, bundleMediaTypePrefix)
	}
	if err != nil {
		return nil, err
	}
	if err := checkSignatures(doc.Envelope.Signatures); err != nil {
		return nil, err
	}
	if doc.Envelope.PayloadType != PayloadType {
		return nil, fmt.Errorf("DSSE payloadType %q, want %s", doc.Envelope.PayloadType, PayloadType)
	}
	return doc, nil
}

// bundleMediaType reports whether top has a string mediaType naming a Sigstore bundle.
func bundleMediaType(top map[string]json.RawMessage) (string, bool) {
	raw, ok := top["mediaType"]
	if !ok {
		return "", false
	}
	var mediaType string
	if json.Unmarshal(raw, &mediaType) != nil {
		return "", false
	}
	return mediaType, strings.HasPrefix(mediaType, bundleMediaTypePrefix)
}

func hasAll(top map[string]json.RawMessage, keys ...string) bool {
	for _, k := range keys {
		if _, ok := top[k]; !ok {
			return false
		}
	}
	return true
}

func readBundle(data []byte, mediaType string) (*Document, error) {
	b := &bundle.Bundle{}
	if err := b.UnmarshalJSON(data); err != nil {
		return nil, fmt.Errorf("Sigstore bundle %s: %w", mediaType, err)
	}
	content, ok := b.Content.(*protobundle.Bundle_DsseEnvelope)
	if !ok {
		return nil, fmt.Errorf("%w: Sigstore bundle %s holds a message signature (cosign sign-blob), not a DSSE envelope",
			ErrNotAttestation, mediaType)
	}
	env := content.DsseEnvelope
	if env == nil {
		return nil, fmt.Errorf("Sigstore bundle %s: empty dsseEnvelope", mediaType)
	}
	doc := &Document{MediaType: mediaType, Bundle: b, Envelope: Envelope{PayloadType: env.GetPayloadType(), Payload: env.GetPayload()}}
	for _, s := range env.GetSignatures() {
		doc.Envelope.Signatures = append(doc.Envelope.Signatures, Signature{KeyID: s.GetKeyid(), Sig: s.GetSig()})
	}
	return doc, nil
}

// wireEnvelope is a DSSE envelope as JSON.
type wireEnvelope struct {
	PayloadType string `json:"payloadType"`
	Payload     string `json:"payload"`
	Signatures  []struct {
		KeyID string `json:"keyid"`
		Sig   string `json:"sig"`
	} `json:"signatures"`
}

func readEnvelope(data []byte) (*Document, error) {
	var w wireEnvelope
	if err := json.Unmarshal(data, &w); err != nil {
		return nil, fmt.Errorf("DSSE envelope: %w", err)
	}
	payload, err := decodeBase64(w.Payload)
	if err != nil {
		return nil, fmt.Errorf("DSSE envelope: payload is not base64: %w", err)
	}
	doc := &Document{MediaType: DSSEMediaType, Envelope: Envelope{PayloadType: w.PayloadType, Payload: payload}}
	for i, s := range w.Signatures {
		sig, err := decodeBase64(s.Sig)
		if err != nil {
			return nil, fmt.Errorf("DSSE envelope: signature %d is not base64: %w", i+1, err)
		}
		doc.Envelope.Signatures = append(doc.Envelope.Signatures, Signature{KeyID: s.KeyID, Sig: sig})
	}
	return doc, nil
}

// decodeBase64 accepts the standard and the URL-safe alphabet, padded or not, as DSSE allows.
func decodeBase64(s string) ([]byte, error) {
	var firstErr error
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.URLEncoding, base64.RawStdEncoding, base64.RawURLEncoding} {
		b, err := enc.DecodeString(s)
		if err == nil {
			return b, nil
		}
		if firstErr == nil {
			firstErr = err
		}
	}
	return nil, firstErr
}

func checkSignatures(sigs []Signature) error {
	if len(sigs) == 0 {
		return errors.New("DSSE envelope has no signatures")
	}
	for i, s := range sigs {
		if len(s.Sig) == 0 {
			return fmt.Errorf("DSSE envelope: signature %d is empty", i+1)
		}
	}
	return nil
}

// ParseStatement decodes and checks an in-toto statement (v1 or v0.1) as a DSSE payload: it must
// have subjects, each with a valid digest.
func ParseStatement(payload []byte) (*intoto.Statement, error) {
	return decodeStatement(Envelope{PayloadType: PayloadType, Payload: payload})
}

// legacyStatementType is in-toto Statement v0.1, still written by older tools.
const legacyStatementType = "https://in-toto.io/Statement/v0.1"

func decodeStatement(env Envelope) (*intoto.Statement, error) {
	if env.PayloadType != PayloadType {
		return nil, fmt.Errorf("DSSE payloadType %q, want %s", env.PayloadType, PayloadType)
	}
	if len(env.Payload) == 0 {
		return nil, errors.New("DSSE payload is empty")
	}
	st := &intoto.Statement{}
	if err := (protojson.UnmarshalOptions{DiscardUnknown: true}).Unmarshal(env.Payload, st); err != nil {
		return nil, fmt.Errorf("DSSE payload is not an in-toto statement: %w", err)
	}
	if t := st.GetType(); t != intoto.StatementTypeUri && t != legacyStatementType {
		return nil, fmt.Errorf("in-toto statement _type %q, want %s or %s", t, intoto.StatementTypeUri, legacyStatementType)
	}
	if len(st.GetSubject()) == 0 {
		return nil, errors.New("in-toto statement has no subjects")
	}
	if err := st.Validate(); err != nil {
		return nil, fmt.Errorf("in-toto statement: %w", err)
	}
	return st, nil
}
