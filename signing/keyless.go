package signing

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"math/big"

	"github.com/digitorus/timestamp"
	"github.com/secure-systems-lab/go-securesystemslib/dsse"
	protobundle "github.com/sigstore/protobuf-specs/gen/pb-go/bundle/v1"
	protocommon "github.com/sigstore/protobuf-specs/gen/pb-go/common/v1"

	"github.com/custody-dev/custody/attestation"
)

// Authority certifies an ephemeral key and timestamps a signature: the control plane, for one run.
type Authority interface {
	// Certificate returns the certificate chain (DER, the leaf first) for the key that signed
	// csrDER, a PKCS #10 request.
	Certificate(ctx context.Context, csrDER []byte) ([][]byte, error)
	// Timestamp returns the RFC 3161 reply (a DER TimeStampResp) to requestDER.
	Timestamp(ctx context.Context, requestDER []byte) ([]byte, error)
}

// KeylessSigner signs with a key that lives for one signature: it makes an ECDSA P-256 key, has the
// authority certify it (a certificate valid for minutes, naming the workflow), signs the DSSE
// envelope, has the signature timestamped, and forgets the key. The Sigstore bundle v0.3 carries the
// leaf certificate and the RFC 3161 timestamp, so it verifies at the time it was signed, long after
// the certificate expired, with the authority's trusted root.
type KeylessSigner struct {
	authority Authority
	rand      io.Reader
}

var _ Signer = (*KeylessSigner)(nil)

// NewKeylessSigner returns a signer certified by authority; random is the source of the key and the
// nonce (nil: crypto/rand).
func NewKeylessSigner(authority Authority, random io.Reader) (*KeylessSigner, error) {
	if authority == nil {
		return nil, errors.New("keyless signer: no authority")
	}
	if random == nil {
		random = rand.Reader
	}
	return &KeylessSigner{authority: authority, rand: random}, nil
}

// Sign signs statementJSON as Sign of KeySigner does, with a fresh certified key, and timestamps the
// signature.
func (k *KeylessSigner) Sign(ctx context.Context, statementJSON []byte) ([]byte, error) {
	if len(statementJSON) == 0 {
		return nil, errors.New("sign: empty statement")
	}
	if _, err := attestation.ParseStatement(statementJSON); err != nil {
		return nil, fmt.Errorf("sign: %w", err)
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), k.rand)
	if err != nil {
		return nil, fmt.Errorf("sign: ephemeral key: %w", err)
	}
	leaf, err := k.certify(ctx, key)
	if err != nil {
		return nil, fmt.Errorf("sign: %w", err)
	}
	pae := dsse.PAE(attestation.PayloadType, statementJSON)
	digest := sha256.Sum256(pae)
	sig, err := ecdsa.SignASN1(k.rand, key, digest[:])
	if err != nil {
		return nil, fmt.Errorf("sign: %w", err)
	}
	stamp, err := k.timestamp(ctx, sig)
	if err != nil {
		return nil, fmt.Errorf("sign: %w", err)
	}
	return encodeBundle(&protobundle.VerificationMaterial{
		Content: &protobundle.VerificationMaterial_Certificate{Certificate: &protocommon.X509Certificate{RawBytes: leaf}},
		TimestampVerificationData: &protobundle.TimestampVerificationData{
			Rfc3161Timestamps: []*protocommon.RFC3161SignedTimestamp{{SignedTimestamp: stamp}},
		},
	}, statementJSON, sig)
}

// certify has the authority certify key and returns the leaf's DER, once it checked the leaf is for
// key: an authority that answers another key's certificate is refused before anything is signed.
func (k *KeylessSigner) certify(ctx context.Context, key *ecdsa.PrivateKey) ([]byte, error) {
	csr, err := x509.CreateCertificateRequest(k.rand, &x509.CertificateRequest{}, key)
	if err != nil {
		return nil, fmt.Errorf("certificate request: %w", err)
	}
	chain, err := k.authority.Certificate(ctx, csr)
	if err != nil {
		return nil, fmt.Errorf("certificate: %w", err)
	}
	if len(chain) == 0 {
		return nil, errors.New("certificate: the authority answered no certificate")
	}
	leaf, err := x509.ParseCertificate(chain[0])
	if err != nil {
		return nil, fmt.Errorf("certificate: %w", err)
	}
	if pub, ok := leaf.PublicKey.(*ecdsa.PublicKey); !ok || !pub.Equal(key.Public()) {
		return nil, errors.New("certificate: the authority certified another key than the one asked for")
	}
	return chain[0], nil
}

// timestamp has the authority timestamp sig (a sha256 imprint, with a nonce) and returns its reply,
// once it checked the reply is for sig and this request.
func (k *KeylessSigner) timestamp(ctx context.Context, sig []byte) ([]byte, error) {
	nonce, err := rand.Int(k.rand, new(big.Int).Lsh(big.NewInt(1), 64))
	if err != nil {
		return nil, fmt.Errorf("timestamp nonce: %w", err)
	}
	req, err := timestamp.CreateRequest(bytes.NewReader(sig), &timestamp.RequestOptions{Hash: crypto.SHA256, Certificates: true, Nonce: nonce})
	if err != nil {
		return nil, fmt.Errorf("timestamp request: %w", err)
	}
	reply, err := k.authority.Timestamp(ctx, req)
	if err != nil {
		return nil, fmt.Errorf("timestamp: %w", err)
	}
	ts, err := timestamp.ParseResponse(reply)
	if err != nil {
		return nil, fmt.Errorf("timestamp: the authority's reply: %w", err)
	}
	want := sha256.Sum256(sig)
	if !bytes.Equal(ts.HashedMessage, want[:]) || ts.Nonce == nil || ts.Nonce.Cmp(nonce) != 0 {
		return nil, errors.New("timestamp: the authority's reply is not for this signature")
	}
	return reply, nil
}
