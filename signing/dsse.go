package signing

import (
	"bytes"
	"context"
	"crypto"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/secure-systems-lab/go-securesystemslib/dsse"
	protobundle "github.com/sigstore/protobuf-specs/gen/pb-go/bundle/v1"
	protocommon "github.com/sigstore/protobuf-specs/gen/pb-go/common/v1"
	protodsse "github.com/sigstore/protobuf-specs/gen/pb-go/dsse"
	"github.com/sigstore/sigstore/pkg/signature"
	"github.com/sigstore/sigstore/pkg/signature/options"
	"google.golang.org/protobuf/encoding/protojson"

	"github.com/custody-dev/custody/attestation"
)

// KeySigner signs with a long-lived key into a Sigstore bundle v0.3 whose verification material is
// the key's hint (attestation.KeyHint). The bundle has no transparency log entry and no timestamp:
// it is made offline and verified with the public key.
type KeySigner struct {
	sv   signature.SignerVerifier
	pub  crypto.PublicKey
	hint string
}

var _ Signer = (*KeySigner)(nil)

// NewKeySigner wraps a loaded signer.
func NewKeySigner(sv signature.SignerVerifier) (*KeySigner, error) {
	if sv == nil {
		return nil, errors.New("key signer: no key")
	}
	pub, err := sv.PublicKey()
	if err != nil {
		return nil, fmt.Errorf("key signer: public key: %w", err)
	}
	hint, err := attestation.KeyHint(pub)
	if err != nil {
		return nil, fmt.Errorf("key signer: %w", err)
	}
	return &KeySigner{sv: sv, pub: pub, hint: hint}, nil
}

// PublicKey returns the signer's public key.
func (k *KeySigner) PublicKey() crypto.PublicKey { return k.pub }

// Hint returns the key hint written in the bundles.
func (k *KeySigner) Hint() string { return k.hint }

// Sign wraps statementJSON in a DSSE envelope (payloadType application/vnd.in-toto+json), signs its
// PAE encoding, checks the signature, and returns the Sigstore bundle's JSON.
func (k *KeySigner) Sign(ctx context.Context, statementJSON []byte) ([]byte, error) {
	if len(statementJSON) == 0 {
		return nil, errors.New("sign: empty statement")
	}
	if _, err := attestation.ParseStatement(statementJSON); err != nil {
		return nil, fmt.Errorf("sign: %w", err)
	}
	pae := dsse.PAE(attestation.PayloadType, statementJSON)
	sig, err := k.sv.SignMessage(bytes.NewReader(pae), options.WithContext(ctx))
	if err != nil {
		return nil, fmt.Errorf("sign: %w", err)
	}
	if err := k.sv.VerifySignature(bytes.NewReader(sig), bytes.NewReader(pae), options.WithContext(ctx)); err != nil {
		return nil, fmt.Errorf("sign: the new signature does not verify with the key: %w", err)
	}
	return encodeBundle(&protobundle.VerificationMaterial{
		Content: &protobundle.VerificationMaterial_PublicKey{PublicKey: &protocommon.PublicKeyIdentifier{Hint: k.hint}},
	}, statementJSON, sig)
}

// encodeBundle returns the compact JSON of a Sigstore bundle v0.3 holding the DSSE envelope of
// statementJSON signed with sig, verified with vm. It refuses to hand out a bundle custody itself
// could not read back.
func encodeBundle(vm *protobundle.VerificationMaterial, statementJSON, sig []byte) ([]byte, error) {
	pb := &protobundle.Bundle{
		MediaType:            attestation.BundleMediaType,
		VerificationMaterial: vm,
		Content: &protobundle.Bundle_DsseEnvelope{DsseEnvelope: &protodsse.Envelope{
			Payload:     statementJSON,
			PayloadType: attestation.PayloadType,
			Signatures:  []*protodsse.Signature{{Sig: sig}},
		}},
	}
	raw, err := protojson.Marshal(pb)
	if err != nil {
		return nil, fmt.Errorf("sign: encode bundle: %w", err)
	}
	var out bytes.Buffer
	if err := json.Compact(&out, raw); err != nil {
		return nil, fmt.Errorf("sign: encode bundle: %w", err)
	}
	if _, err := attestation.Read(out.Bytes()); err != nil {
		return nil, fmt.Errorf("sign: %w", err)
	}
	return out.Bytes(), nil
}
