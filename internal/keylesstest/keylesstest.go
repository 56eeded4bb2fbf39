// Package keylesstest is a virtual custody certificate authority and RFC 3161 timestamp authority for
// tests and benchmarks: it makes keyless bundles shaped like custodyd's (a v0.3 Sigstore bundle with
// a short-lived leaf certificate naming a SAN URI and Fulcio's OIDC issuer extension, a DSSE envelope
// and an RFC 3161 timestamp over its signature, no transparency log entry), at the times a test
// chooses, and the trusted root (sigstore-go material or trusted_root.json bytes) that verifies them.
//
// It is built on the same parts as sigstore-go's pkg/testing/ca (crypto/x509 and digitorus/timestamp,
// which sigstore's timestamp authority uses) rather than on VirtualSigstore itself, which fixes every
// time to time.Now and issues e-mail SANs with the deprecated issuer extension. Nothing here reads
// the clock: every time is given (digitorus/pkcs7 alone stamps the wall clock in a timestamp's
// signature, which the TSA's certificates accept whatever it says).
package keylesstest

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"net/url"
	"time"

	"github.com/digitorus/timestamp"
	"github.com/secure-systems-lab/go-securesystemslib/dsse"
	protobundle "github.com/sigstore/protobuf-specs/gen/pb-go/bundle/v1"
	protocommon "github.com/sigstore/protobuf-specs/gen/pb-go/common/v1"
	protodsse "github.com/sigstore/protobuf-specs/gen/pb-go/dsse"
	"github.com/sigstore/sigstore-go/pkg/root"
	"google.golang.org/protobuf/encoding/protojson"

	"github.com/custody-dev/custody/attestation"
	"github.com/custody-dev/custody/contract"
)

// Lifetimes of what the authority makes, as custodyd's (controlplane/ca).
const (
	// LeafValidity is how long a signing certificate is valid after it is issued.
	LeafValidity = 10 * time.Minute
	// Backdate is how long before the signing time a leaf is valid from.
	Backdate = time.Minute
	// chainValidity is the life of the CA and TSA chains, from an hour before the authority's start.
	chainValidity = 10 * 365 * 24 * time.Hour
)

// The TSA's certificates are valid from 1970 to RFC 5280's "no well-defined expiration" date:
// digitorus/pkcs7 signs a timestamp's PKCS #7 signing time with the wall clock, and verifiers hold it
// to the TSA certificate's validity, so any narrower window would tie tests to the clock they run at.
var (
	tsaValidFrom  = time.Date(1970, 1, 1, 0, 0, 0, 0, time.UTC)
	tsaValidUntil = time.Date(9999, 12, 31, 23, 59, 59, 0, time.UTC)
)

// OIDIssuerV2 is Fulcio's OIDC issuer extension (a DER UTF8String), which sigstore-go and cosign read.
var OIDIssuerV2 = asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 57264, 1, 8}

// Authority is a CA (root and intermediate) and a TSA (root and leaf), all ECDSA P-256.
type Authority struct {
	// Name is the organisation of the certificates and the URI host of the trusted root's entries.
	Name string
	// CARoot and CAIntermediate issue the signing certificates.
	CARoot, CAIntermediate *x509.Certificate
	// TSARoot and TSALeaf sign the timestamps.
	TSARoot, TSALeaf *x509.Certificate
	// CAValidFrom and CAValidUntil are the CA's validity in the trusted root (validFor); a zero
	// CAValidUntil leaves it open, as for a CA in service. A test moves them to make a trusted root
	// whose CA validity ended before a signing time.
	CAValidFrom, CAValidUntil time.Time

	caKey, tsaKey *ecdsa.PrivateKey
}

// New makes an authority whose CA chain is valid from an hour before start for ten years (its TSA's
// whatever the time).
func New(name string, start time.Time) (*Authority, error) {
	from := start.Add(-time.Hour).UTC().Truncate(time.Second)
	until := from.Add(chainValidity)
	a := &Authority{Name: name, CAValidFrom: from}
	var err error
	var caRootKey, tsaRootKey *ecdsa.PrivateKey
	if a.CARoot, caRootKey, err = selfSigned(name+" CA root", name, from, until); err != nil {
		return nil, err
	}
	if a.CAIntermediate, a.caKey, err = issue(&x509.Certificate{
		Subject:   pkix.Name{CommonName: name + " CA intermediate", Organization: []string{name}},
		NotBefore: from, NotAfter: until,
		KeyUsage:    x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageCodeSigning},
		IsCA:        true, BasicConstraintsValid: true, MaxPathLenZero: true,
	}, a.CARoot, caRootKey); err != nil {
		return nil, err
	}
	if a.TSARoot, tsaRootKey, err = selfSigned(name+" TSA root", name, tsaValidFrom, tsaValidUntil); err != nil {
		return nil, err
	}
	// RFC 3161 wants the timestamping EKU alone, and critical.
	eku, err := asn1.Marshal([]asn1.ObjectIdentifier{{1, 3, 6, 1, 5, 5, 7, 3, 8}})
	if err != nil {
		return nil, fmt.Errorf("keylesstest: %w", err)
	}
	if a.TSALeaf, a.tsaKey, err = issue(&x509.Certificate{
		Subject:   pkix.Name{CommonName: name + " TSA", Organization: []string{name}},
		NotBefore: tsaValidFrom, NotAfter: tsaValidUntil,
		KeyUsage:        x509.KeyUsageDigitalSignature,
		ExtraExtensions: []pkix.Extension{{Id: asn1.ObjectIdentifier{2, 5, 29, 37}, Critical: true, Value: eku}},
	}, a.TSARoot, tsaRootKey); err != nil {
		return nil, err
	}
	return a, nil
}

// Signing says what certificate to sign with and when.
type Signing struct {
	// SAN is the leaf's SAN URI, e.g. https://custody.example/projects/P/workflows/W
	// (attestation.WorkflowIdentityURI).
	SAN string
	// Issuer goes in Fulcio's OIDC issuer extension, e.g. https://custody.example.
	Issuer string
	// At is the signing time: the leaf is valid from At-Backdate to At+LeafValidity.
	At time.Time
	// TimestampAt is the time the TSA says it saw the signature; zero means At.
	TimestampAt time.Time
	// NoTimestamp leaves the bundle without an RFC 3161 timestamp.
	NoTimestamp bool
}

// Sign signs statement (an in-toto statement's JSON) with a fresh key and a leaf certificate for
// s.SAN and s.Issuer, timestamps the signature, and returns the Sigstore bundle's JSON.
func (a *Authority) Sign(statement []byte, s Signing) ([]byte, error) {
	san, err := url.Parse(s.SAN)
	if err != nil || san.Scheme == "" {
		return nil, fmt.Errorf("keylesstest: SAN %q: want an absolute URI", s.SAN)
	}
	issuer, err := asn1.MarshalWithParams(s.Issuer, "utf8")
	if err != nil {
		return nil, fmt.Errorf("keylesstest: issuer: %w", err)
	}
	at := s.At.UTC()
	leaf, key, err := issue(&x509.Certificate{
		NotBefore: at.Add(-Backdate), NotAfter: at.Add(LeafValidity),
		KeyUsage:              x509.KeyUsageDigitalSignature,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageCodeSigning},
		BasicConstraintsValid: true,
		URIs:                  []*url.URL{san},
		ExtraExtensions:       []pkix.Extension{{Id: OIDIssuerV2, Value: issuer}},
	}, a.CAIntermediate, a.caKey)
	if err != nil {
		return nil, err
	}
	sig, err := signPAE(key, statement)
	if err != nil {
		return nil, err
	}
	vm := &protobundle.VerificationMaterial{
		Content: &protobundle.VerificationMaterial_Certificate{Certificate: &protocommon.X509Certificate{RawBytes: leaf.Raw}},
	}
	if !s.NoTimestamp {
		tsAt := s.TimestampAt
		if tsAt.IsZero() {
			tsAt = at
		}
		tsr, err := a.Timestamp(sig, tsAt)
		if err != nil {
			return nil, err
		}
		vm.TimestampVerificationData = &protobundle.TimestampVerificationData{
			Rfc3161Timestamps: []*protocommon.RFC3161SignedTimestamp{{SignedTimestamp: tsr}},
		}
	}
	pb := &protobundle.Bundle{
		MediaType:            attestation.BundleMediaType,
		VerificationMaterial: vm,
		Content: &protobundle.Bundle_DsseEnvelope{DsseEnvelope: &protodsse.Envelope{
			Payload: statement, PayloadType: attestation.PayloadType, Signatures: []*protodsse.Signature{{Sig: sig}},
		}},
	}
	raw, err := protojson.Marshal(pb)
	if err != nil {
		return nil, fmt.Errorf("keylesstest: encode bundle: %w", err)
	}
	var out bytes.Buffer
	if err := json.Compact(&out, raw); err != nil {
		return nil, fmt.Errorf("keylesstest: encode bundle: %w", err)
	}
	return out.Bytes(), nil
}

// Timestamp returns an RFC 3161 timestamp response over signature, saying it was seen at t.
func (a *Authority) Timestamp(signature []byte, t time.Time) ([]byte, error) {
	sum := sha256.Sum256(signature)
	ts := timestamp.Timestamp{
		HashAlgorithm: crypto.SHA256, HashedMessage: sum[:], Time: t.UTC(),
		Policy: asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 57264, 2}, AddTSACertificate: true,
	}
	tsr, err := ts.CreateResponseWithOpts(a.TSALeaf, a.tsaKey, crypto.SHA256)
	if err != nil {
		return nil, fmt.Errorf("keylesstest: timestamp: %w", err)
	}
	return tsr, nil
}

// TrustedRoot returns the authority's trusted root: its CA (with CAValidFrom and CAValidUntil) and
// its TSA, no transparency or certificate log.
func (a *Authority) TrustedRoot() (*root.TrustedRoot, error) {
	ca := &root.FulcioCertificateAuthority{
		Root: a.CARoot, Intermediates: []*x509.Certificate{a.CAIntermediate},
		ValidityPeriodStart: a.CAValidFrom, ValidityPeriodEnd: a.CAValidUntil, URI: "https://" + a.host() + "/ca",
	}
	tsa := &root.SigstoreTimestampingAuthority{
		Root: a.TSARoot, Leaf: a.TSALeaf, ValidityPeriodStart: a.TSARoot.NotBefore, URI: "https://" + a.host() + "/tsa",
	}
	tr, err := root.NewTrustedRoot(root.TrustedRootMediaType01, []root.CertificateAuthority{ca}, nil,
		[]root.TimestampingAuthority{tsa}, nil)
	if err != nil {
		return nil, fmt.Errorf("keylesstest: trusted root: %w", err)
	}
	return tr, nil
}

// TrustedRootJSON returns TrustedRoot as a trusted_root.json (what cosign --trusted-root reads).
func (a *Authority) TrustedRootJSON() ([]byte, error) {
	tr, err := a.TrustedRoot()
	if err != nil {
		return nil, err
	}
	b, err := tr.MarshalJSON()
	if err != nil {
		return nil, fmt.Errorf("keylesstest: trusted root: %w", err)
	}
	return b, nil
}

func (a *Authority) host() string { return url.PathEscape(a.Name) + ".invalid" }

// Statement returns the canonical JSON of a custody-shaped in-toto statement: a run of workflow
// project/name whose one output is an artifact file named artifact with the content's sha256.
func Statement(project, workflow, artifact string, content []byte, at time.Time) ([]byte, error) {
	sum := sha256.Sum256(content)
	digest := fmt.Sprintf("sha256:%x", sum)
	p := &attestation.Predicate{
		Workflow: attestation.Workflow{Name: workflow, Project: project, RunID: "run-1", ContractName: workflow, ContractRevision: 1},
		Materials: []attestation.Material{{
			Name: "artifact", Kind: contract.KindArtifact, Value: artifact, Digest: digest, Output: true,
			File: &attestation.File{Name: artifact, Size: int64(len(content))}, AddedAt: at.UTC(),
		}},
		InitializedAt: at.UTC(), FinishedAt: at.UTC(), Builder: attestation.Builder{ID: "custody", Version: "keylesstest"},
	}
	st, err := attestation.NewStatement(attestation.SubjectsFrom(p.Materials), p)
	if err != nil {
		return nil, fmt.Errorf("keylesstest: %w", err)
	}
	return attestation.MarshalStatement(st)
}

func signPAE(key *ecdsa.PrivateKey, statement []byte) ([]byte, error) {
	sum := sha256.Sum256(dsse.PAE(attestation.PayloadType, statement))
	sig, err := ecdsa.SignASN1(rand.Reader, key, sum[:])
	if err != nil {
		return nil, fmt.Errorf("keylesstest: sign: %w", err)
	}
	return sig, nil
}

func selfSigned(cn, org string, from, until time.Time) (*x509.Certificate, *ecdsa.PrivateKey, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, fmt.Errorf("keylesstest: %w", err)
	}
	tmpl := &x509.Certificate{
		Subject:   pkix.Name{CommonName: cn, Organization: []string{org}},
		NotBefore: from, NotAfter: until,
		KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
		IsCA:     true, BasicConstraintsValid: true, MaxPathLen: 1,
	}
	cert, err := create(tmpl, tmpl, key.Public(), key)
	return cert, key, err
}

// issue makes a fresh key and a certificate for it from tmpl, signed by parent's key.
func issue(tmpl, parent *x509.Certificate, parentKey crypto.Signer) (*x509.Certificate, *ecdsa.PrivateKey, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, fmt.Errorf("keylesstest: %w", err)
	}
	cert, err := create(tmpl, parent, key.Public(), parentKey)
	return cert, key, err
}

func create(tmpl, parent *x509.Certificate, pub crypto.PublicKey, signer crypto.Signer) (*x509.Certificate, error) {
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		return nil, fmt.Errorf("keylesstest: %w", err)
	}
	tmpl.SerialNumber = serial
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, pub, signer)
	if err != nil {
		return nil, fmt.Errorf("keylesstest: certificate %q: %w", tmpl.Subject.CommonName, err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, errors.Join(errors.New("keylesstest: parse the new certificate"), err)
	}
	return cert, nil
}
