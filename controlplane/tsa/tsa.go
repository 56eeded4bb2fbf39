// Package tsa is the control plane's RFC 3161 timestamp authority: a root and a timestamping
// certificate (ECDSA P-256) that sign the time at which a signature existed, so a verifier accepts
// a short-lived certificate at that time, long after it expired. Requests are parsed and responses
// made by github.com/digitorus/timestamp, as sigstore's timestamp-authority does; its request checks
// are sigstore's own (pkg/verification), and its chain is held to the rules of sigstore's
// pkg/x509 VerifyCertChain (RFC 3161 2.3), judged at the authority's clock rather than the wall clock.
package tsa

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
	"slices"
	"time"

	"github.com/digitorus/timestamp"
	"github.com/sigstore/sigstore/pkg/cryptoutils"
	"github.com/sigstore/timestamp-authority/v2/pkg/verification"

	"github.com/custody-dev/custody/internal/input"
	"github.com/custody-dev/custody/internal/pki"
)

const (
	// RootValidity and LeafValidity are the lives of a generated chain. The timestamping
	// certificate must be valid at every timestamp it signs.
	RootValidity = 10 * 365 * 24 * time.Hour
	LeafValidity = RootValidity
	// MaxRequestSize bounds a timestamp request (DER). A request holds a digest of at most 64
	// bytes, a policy and a nonce: a few hundred bytes.
	MaxRequestSize = 1 << 10
	// Accuracy is the accuracy the timestamps state: their time is in whole seconds.
	Accuracy = time.Second
	// clockSkew backdates the certificates, so a verifier whose clock is a little behind accepts them.
	clockSkew = time.Minute
)

// Policy is the TSA policy under which every timestamp is made: the default policy of sigstore's
// timestamp-authority, whose behaviour this authority follows. A request may name it or none.
var Policy = asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 57264, 2}

// Authority makes timestamps with its timestamping certificate.
type Authority struct {
	// Chain is the timestamping certificate first, the root last.
	Chain []*x509.Certificate
	key   crypto.Signer
	now   func() time.Time
}

// RequestError is a timestamp request the authority refuses: the client's fault, with the RFC 3161
// failure it amounts to.
type RequestError struct {
	Failure timestamp.FailureInfo
	Reason  string
}

func (e *RequestError) Error() string { return "timestamp request: " + e.Reason }

// Generate makes a new root and timestamping certificate. It returns the root's key too.
func Generate(name string, now func() time.Time) (*Authority, crypto.Signer, error) {
	t := now().UTC()
	root, rootKey, err := pki.NewRoot(pkix.Name{CommonName: name + " timestamping root", Organization: []string{name}}, t.Add(-clockSkew), t.Add(RootValidity), 0)
	if err != nil {
		return nil, nil, fmt.Errorf("generate TSA: %w", err)
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, fmt.Errorf("generate TSA: key: %w", err)
	}
	// RFC 3161 2.3: one extended key usage, timeStamping, critical. crypto/x509 marks the
	// extension critical only when it comes as an extra extension.
	eku, err := asn1.Marshal([]asn1.ObjectIdentifier{oidTimeStamping})
	if err != nil {
		return nil, nil, fmt.Errorf("generate TSA: %w", err)
	}
	leaf, err := pki.Create(&x509.Certificate{
		Subject:   pkix.Name{CommonName: name + " timestamping", Organization: []string{name}},
		NotBefore: t.Add(-clockSkew), NotAfter: t.Add(LeafValidity),
		KeyUsage:              x509.KeyUsageDigitalSignature,
		BasicConstraintsValid: true, IsCA: false,
		ExtraExtensions: []pkix.Extension{{Id: oidExtKeyUsage, Critical: true, Value: eku}},
	}, root, key.Public(), rootKey)
	if err != nil {
		return nil, nil, fmt.Errorf("generate TSA: timestamping certificate: %w", err)
	}
	a, err := New([]*x509.Certificate{leaf, root}, key, now)
	return a, rootKey, err
}

// New returns the authority of chain (timestamping certificate first, root last) and its key. It
// refuses what sigstore's timestamp-authority refuses (pkg/x509 VerifyCertChain: a chain that does
// not verify for timestamping, a leaf with another or a non-critical extended key usage, a CA
// leaf, a key that is not the leaf's or is weak), and a chain not valid at now.
func New(chain []*x509.Certificate, key crypto.Signer, now func() time.Time) (*Authority, error) {
	if len(chain) < 2 || key == nil {
		return nil, errors.New("TSA: a certificate chain (the timestamping certificate, up to its root) and its key are required")
	}
	roots, inters := x509.NewCertPool(), x509.NewCertPool()
	roots.AddCert(chain[len(chain)-1])
	for _, c := range chain[1 : len(chain)-1] {
		inters.AddCert(c)
	}
	if _, err := chain[0].Verify(x509.VerifyOptions{Roots: roots, Intermediates: inters, CurrentTime: now(),
		KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageTimeStamping}}); err != nil {
		return nil, fmt.Errorf("TSA: the chain does not verify for timestamping: %w", err)
	}
	if err := timestampingChain(chain, key); err != nil {
		return nil, fmt.Errorf("TSA: %q: %w", chain[0].Subject.CommonName, err)
	}
	return &Authority{Chain: chain, key: key, now: now}, nil
}

// timestampingChain applies the rules of sigstore's VerifyCertChain (RFC 3161 2.3) that are not the
// chain's validity, which New checks at its own clock (VerifyCertChain would judge it at the wall
// clock): CA certificates above the leaf, intermediates allowed to issue timestamping certificates,
// a leaf that is no CA, with one extended key usage, timeStamping, marked critical, for key.
func timestampingChain(chain []*x509.Certificate, key crypto.Signer) error {
	for _, c := range chain[1:] {
		if !c.IsCA {
			return fmt.Errorf("%q is not a CA certificate", c.Subject.CommonName)
		}
	}
	for _, c := range chain[1 : len(chain)-1] {
		if !slices.Contains(c.ExtKeyUsage, x509.ExtKeyUsageTimeStamping) {
			return fmt.Errorf("intermediate %q may not issue timestamping certificates (no timeStamping extended key usage)", c.Subject.CommonName)
		}
	}
	leaf := chain[0]
	switch {
	case leaf.IsCA:
		return errors.New("the timestamping certificate is a CA: it must be an end-entity certificate")
	case len(leaf.ExtKeyUsage)+len(leaf.UnknownExtKeyUsage) != 1 || leaf.ExtKeyUsage[0] != x509.ExtKeyUsageTimeStamping:
		return errors.New("the timestamping certificate must have exactly one extended key usage, timeStamping")
	}
	critical := false
	for _, ext := range leaf.Extensions {
		if ext.Id.Equal(oidExtKeyUsage) {
			critical = ext.Critical
		}
	}
	if !critical {
		return errors.New("the timestamping certificate's extended key usage must be critical")
	}
	if err := cryptoutils.EqualKeys(leaf.PublicKey, key.Public()); err != nil {
		return fmt.Errorf("the key is not the timestamping certificate's: %w", err)
	}
	return cryptoutils.ValidatePubKey(key.Public())
}

// The extended key usage extension (RFC 5280 4.2.1.12) and its timeStamping purpose.
var (
	oidExtKeyUsage  = asn1.ObjectIdentifier{2, 5, 29, 37}
	oidTimeStamping = asn1.ObjectIdentifier{1, 3, 6, 1, 5, 5, 7, 3, 8}
)

// Timestamp answers a DER time-stamp request (application/timestamp-query) with a DER time-stamp
// response (application/timestamp-reply) granting a token over the request's digest at now: the
// digest by SHA-256, SHA-384 or SHA-512, the nonce echoed, the timestamping certificate included
// when the request asks for it. A request the authority refuses is a *RequestError.
func (a *Authority) Timestamp(reqDER []byte) ([]byte, error) {
	if len(reqDER) > MaxRequestSize {
		return nil, &RequestError{timestamp.BadDataFormat, fmt.Sprintf("%d bytes, larger than the limit of %s", len(reqDER), input.Size(MaxRequestSize))}
	}
	req, err := timestamp.ParseRequest(reqDER)
	if err != nil {
		return nil, &RequestError{timestamp.BadDataFormat, fmt.Sprintf("not an RFC 3161 request: %v", err)}
	}
	if err := verification.VerifyRequest(req); err != nil {
		return nil, &RequestError{timestamp.BadAlgorithm, fmt.Sprintf("%s digest: %v", req.HashAlgorithm, err)}
	}
	if len(req.TSAPolicyOID) > 0 && !req.TSAPolicyOID.Equal(Policy) {
		return nil, &RequestError{timestamp.UnacceptedPolicy, fmt.Sprintf("policy %s: this authority timestamps under %s only", req.TSAPolicyOID, Policy)}
	}
	if len(req.Extensions) > 0 {
		return nil, &RequestError{timestamp.UnacceptedExtension, fmt.Sprintf("extension %s: no extension is accepted", req.Extensions[0].Id)}
	}
	if req.Nonce != nil && req.Nonce.Sign() < 0 {
		return nil, &RequestError{timestamp.BadDataFormat, "a negative nonce"}
	}
	at := a.now().UTC()
	if leaf := a.Chain[0]; at.Before(leaf.NotBefore) || at.After(leaf.NotAfter) {
		return nil, fmt.Errorf("TSA: the timestamping certificate is valid from %s to %s, not at %s",
			leaf.NotBefore.Format(time.RFC3339), leaf.NotAfter.Format(time.RFC3339), at.Format(time.RFC3339))
	}
	ts := timestamp.Timestamp{
		HashAlgorithm:     req.HashAlgorithm,
		HashedMessage:     req.HashedMessage,
		Time:              at,
		Accuracy:          Accuracy,
		Nonce:             req.Nonce,
		Policy:            Policy,
		AddTSACertificate: req.Certificates,
	}
	resp, err := ts.CreateResponseWithOpts(a.Chain[0], a.key, crypto.SHA256)
	if err != nil {
		return nil, fmt.Errorf("TSA: sign the timestamp: %w", err)
	}
	return resp, nil
}
