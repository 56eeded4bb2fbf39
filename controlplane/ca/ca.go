// Package ca is the control plane's certificate authority for keyless signing: a root and an
// intermediate (ECDSA P-256) that issue short-lived code-signing certificates to an identity, for a
// key its holder proved it has (a CSR signed with it). The leaves carry the identity as a SAN URI and
// its OIDC issuer in Fulcio's extension, so cosign and sigstore-go verify them like Fulcio's.
//
// Issue 7 wires it into custodyd; this package is the authority alone.
package ca

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"errors"
	"fmt"
	"net/url"
	"time"

	"github.com/sigstore/sigstore-go/pkg/fulcio/certificate"

	"github.com/custody-dev/custody/internal/pki"
)

// Validity of what the authority makes.
const (
	// LeafValidity is how long an issued certificate is valid: long enough to sign, no longer.
	LeafValidity = 10 * time.Minute
	// RootValidity and IntermediateValidity are the lives of a generated chain.
	RootValidity         = 10 * 365 * 24 * time.Hour
	IntermediateValidity = 5 * 365 * 24 * time.Hour
	// clockSkew backdates every certificate, so a verifier whose clock is a little behind accepts it.
	clockSkew = time.Minute
)

// OIDIssuerV2 is Fulcio's extension naming the OIDC issuer of the identity (a DER UTF8String).
var OIDIssuerV2 = asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 57264, 1, 8}

// Authority issues leaf certificates with its intermediate.
type Authority struct {
	// Chain is the issuing certificate first, then up to the root.
	Chain []*x509.Certificate
	key   crypto.Signer
	now   func() time.Time
}

// Identity is what a leaf certifies.
type Identity struct {
	// URI is the identity, the leaf's SAN URI (e.g. <control-plane>/projects/P/workflows/W).
	URI string
	// Issuer is who vouched for it, in Fulcio's OIDC issuer extension (the control plane's URL for
	// a custody token; the OIDC issuer for a verified workload).
	Issuer string
	// CI holds Fulcio's CI extensions of a verified workload (WorkloadIdentity); nil for a token.
	CI *certificate.Extensions
}

// Generate makes a new root and intermediate.
func Generate(name string, now func() time.Time) (*Authority, crypto.Signer, error) {
	t := now().UTC()
	root, rootKey, err := pki.NewRoot(pkix.Name{CommonName: name + " root", Organization: []string{name}}, t.Add(-clockSkew), t.Add(RootValidity), 1)
	if err != nil {
		return nil, nil, fmt.Errorf("generate CA: %w", err)
	}
	a, err := newIntermediate(name, root, rootKey, now)
	if err != nil {
		return nil, nil, fmt.Errorf("generate CA: %w", err)
	}
	return a, rootKey, nil
}

// newIntermediate makes a new issuing key and intermediate under root, valid IntermediateValidity
// from now or until the root expires, whichever comes first.
func newIntermediate(name string, root *x509.Certificate, rootKey crypto.Signer, now func() time.Time) (*Authority, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("intermediate key: %w", err)
	}
	t := now().UTC()
	notAfter := t.Add(IntermediateValidity)
	if root.NotAfter.Before(notAfter) {
		notAfter = root.NotAfter
	}
	inter, err := pki.Create(&x509.Certificate{
		Subject:   pkix.Name{CommonName: name + " intermediate", Organization: []string{name}},
		NotBefore: t.Add(-clockSkew), NotAfter: notAfter,
		KeyUsage:    x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageCodeSigning},
		IsCA:        true, BasicConstraintsValid: true, MaxPathLen: 0, MaxPathLenZero: true,
	}, root, key.Public(), rootKey)
	if err != nil {
		return nil, fmt.Errorf("intermediate: %w", err)
	}
	return New([]*x509.Certificate{inter, root}, key, now)
}

// New returns the authority of chain (issuing certificate first, root last) and the issuing key.
// It refuses a chain that does not verify, an issuing certificate that may not sign certificates,
// or a key that is not the issuing certificate's.
func New(chain []*x509.Certificate, key crypto.Signer, now func() time.Time) (*Authority, error) {
	if len(chain) == 0 || key == nil {
		return nil, errors.New("CA: a certificate chain and its issuing key are required")
	}
	issuing := chain[0]
	if !issuing.IsCA || issuing.KeyUsage&x509.KeyUsageCertSign == 0 {
		return nil, fmt.Errorf("CA: %q is not a CA certificate that may sign certificates", issuing.Subject.CommonName)
	}
	if !publicKeysEqual(issuing.PublicKey, key.Public()) {
		return nil, fmt.Errorf("CA: the key is not the key of %q", issuing.Subject.CommonName)
	}
	roots, inters := x509.NewCertPool(), x509.NewCertPool()
	roots.AddCert(chain[len(chain)-1])
	for _, c := range chain[1 : len(chain)-1] {
		inters.AddCert(c)
	}
	if _, err := issuing.Verify(x509.VerifyOptions{Roots: roots, Intermediates: inters, CurrentTime: now(),
		KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageAny}}); err != nil {
		return nil, fmt.Errorf("CA: the chain does not verify: %w", err)
	}
	return &Authority{Chain: chain, key: key, now: now}, nil
}

// Issue certifies identity for the key that signed csrDER (PKCS #10): a leaf valid LeafValidity
// from now, for code signing only, naming the identity as its SAN URI and its issuer in Fulcio's
// extension. It returns the leaf, then the chain.
func (a *Authority) Issue(csrDER []byte, id Identity) ([]*x509.Certificate, error) {
	pub, err := ProofOfPossession(csrDER)
	if err != nil {
		return nil, &RequestError{Err: err}
	}
	uri, err := url.Parse(id.URI)
	if err != nil || uri.Scheme == "" || uri.Host == "" {
		return nil, fmt.Errorf("issue: identity %q: want an absolute URI", id.URI)
	}
	if id.Issuer == "" {
		return nil, errors.New("issue: the identity's issuer is required")
	}
	issuer, err := asn1.MarshalWithParams(id.Issuer, "utf8")
	if err != nil {
		return nil, fmt.Errorf("issue: issuer: %w", err)
	}
	ci, err := ciExtensions(id.CI)
	if err != nil {
		return nil, fmt.Errorf("issue: %w", err)
	}
	t := a.now().UTC()
	issuing := a.Chain[0]
	if t.Before(issuing.NotBefore) || !t.Before(issuing.NotAfter) {
		return nil, fmt.Errorf("issue: the CA's certificate %q is valid from %s to %s, not now (%s): rotate the CA (custodyd ca rotate)",
			issuing.Subject.CommonName, issuing.NotBefore.Format(time.RFC3339), issuing.NotAfter.Format(time.RFC3339), t.Format(time.RFC3339))
	}
	// A leaf never outlives its issuer: a verifier would refuse the chain past the issuer's end.
	leaf, err := pki.Create(&x509.Certificate{
		NotBefore: later(t.Add(-clockSkew), issuing.NotBefore), NotAfter: earlier(t.Add(LeafValidity), issuing.NotAfter),
		KeyUsage:              x509.KeyUsageDigitalSignature,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageCodeSigning},
		BasicConstraintsValid: true, IsCA: false,
		URIs:            []*url.URL{uri},
		ExtraExtensions: append([]pkix.Extension{{Id: OIDIssuerV2, Value: issuer}}, ci...),
	}, a.Chain[0], pub, a.key)
	if err != nil {
		return nil, fmt.Errorf("issue: %w", err)
	}
	return append([]*x509.Certificate{leaf}, a.Chain...), nil
}

// RequestError is a certificate request Issue refuses: the requester's fault (not a proof of
// possession, or a key the CA does not certify), not the authority's.
type RequestError struct{ Err error }

func (e *RequestError) Error() string { return e.Err.Error() }
func (e *RequestError) Unwrap() error { return e.Err }

// ProofOfPossession parses a PKCS #10 request and checks it is signed by the key it names: the
// requester holds that key. It returns the key (ECDSA P-256 or P-384, or Ed25519).
func ProofOfPossession(csrDER []byte) (crypto.PublicKey, error) {
	csr, err := x509.ParseCertificateRequest(csrDER)
	if err != nil {
		return nil, fmt.Errorf("certificate request: %w", err)
	}
	if err := csr.CheckSignature(); err != nil {
		return nil, fmt.Errorf("certificate request: not signed by the key it names: %w", err)
	}
	switch k := csr.PublicKey.(type) {
	case *ecdsa.PublicKey:
		if k.Curve != elliptic.P256() && k.Curve != elliptic.P384() {
			return nil, fmt.Errorf("certificate request: ECDSA curve %s: want P-256 or P-384", k.Curve.Params().Name)
		}
	case interface{ Equal(crypto.PublicKey) bool }:
		if csr.PublicKeyAlgorithm != x509.Ed25519 {
			return nil, fmt.Errorf("certificate request: %s keys are not issued certificates: want ECDSA or Ed25519", csr.PublicKeyAlgorithm)
		}
	}
	return csr.PublicKey, nil
}

func publicKeysEqual(a, b crypto.PublicKey) bool {
	k, ok := a.(interface{ Equal(crypto.PublicKey) bool })
	return ok && k.Equal(b)
}

func later(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

func earlier(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}
