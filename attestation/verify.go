package attestation

import (
	"context"
	"crypto"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"time"

	intoto "github.com/in-toto/attestation/go/v1"
	protobundle "github.com/sigstore/protobuf-specs/gen/pb-go/bundle/v1"
	protocommon "github.com/sigstore/protobuf-specs/gen/pb-go/common/v1"
	protodsse "github.com/sigstore/protobuf-specs/gen/pb-go/dsse"
	"github.com/sigstore/sigstore-go/pkg/bundle"
	"github.com/sigstore/sigstore-go/pkg/root"
	"github.com/sigstore/sigstore-go/pkg/verify"
	"github.com/sigstore/sigstore/pkg/cryptoutils"
	"github.com/sigstore/sigstore/pkg/signature"
)

// VerifyOptions say what a bundle must satisfy.
type VerifyOptions struct {
	// PublicKey is the PEM public key (a cosign.pub) a key-signed bundle must be signed by.
	PublicKey []byte
	// TrustedMaterial is what a certificate-signed (keyless) bundle must chain to: certificate
	// authorities, timestamp authorities, transparency and certificate logs, as a trusted_root.json
	// gives them (root.NewTrustedRootFromJSON). It may also resolve a key-signed bundle's key hint.
	// Give PublicKey or TrustedMaterial, not both.
	TrustedMaterial root.TrustedMaterial
	// Identity is who a certificate-signed bundle's certificate must name. TrustedMaterial needs an
	// identity policy: Identity, Workflow, or UnsafeAnyIdentity.
	Identity *CertificateIdentity
	// UnsafeAnyIdentity accepts a certificate of any identity the trusted CAs certified (sigstore-go's
	// WithoutIdentitiesUnsafe): anyone those CAs issue certificates to could have signed.
	UnsafeAnyIdentity bool
	// Workflow, when set, is the custody workflow the predicate must be about. Without Identity, a
	// certificate's SAN must also be that workflow's identity (WorkflowIdentityURI) under the
	// certificate's own OIDC issuer.
	Workflow *WorkflowRef
	// PredicateType is the predicate type the statement must have; "" means custody's PredicateType.
	PredicateType string
	// ArtifactPath, when set, names a file whose digest (sha256 or sha512) must be a subject.
	ArtifactPath string
	// ArtifactDigest, when set, is a digest ("sha256:<hex>" or "sha512:<hex>") that must be a subject.
	ArtifactDigest string
}

// Result is what a verified bundle establishes.
type Result struct {
	MediaType string
	Statement *intoto.Statement
	// Predicate is the custody predicate; nil when the statement's predicate type is not custody's.
	Predicate *Predicate
	Subjects  []Subject
	// KeyHint is a key-signed bundle's public key hint (see KeyHint).
	KeyHint string
	// Signer is who signed a certificate-signed bundle; nil for a key-signed one.
	Signer *SignerInfo
}

// SignerInfo is what a verified certificate says of its holder, and when it signed.
type SignerInfo struct {
	// SAN is the certificate's subject alternative name (custody's: the workflow identity URI).
	SAN string
	// Issuer is the OIDC issuer of Fulcio's extension (custody's: the control plane URL).
	Issuer string
	// Timestamps are the verified times the signature was observed (RFC 3161 timestamps and
	// transparency-log integrated times); the certificate chain was valid at each.
	Timestamps []time.Time
}

// Errors of Verify, to tell failures apart with errors.Is. Each error's message says what its kind
// says, with the values involved.
var (
	ErrSignature     = errors.New("signature does not verify")
	ErrPredicateType = errors.New("wrong predicate type")
	ErrNotSubject    = errors.New("artifact is not a subject")
	// ErrWorkflow: the predicate is about another workflow than the one asked for.
	ErrWorkflow = errors.New("attestation of another workflow")
	// ErrIdentity: the certificate names another identity than the policy wants.
	ErrIdentity = errors.New("certificate for another identity")
	// ErrUntrustedCA: the certificate does not chain to a CA of the trusted material.
	ErrUntrustedCA = errors.New("certificate from a CA that is not trusted")
	// ErrNoTimestamp: a certificate-signed bundle has no verified timestamp, so its certificate cannot
	// be checked at signing time (custody never checks one at the current time).
	ErrNoTimestamp = errors.New("no verified timestamp")
	// ErrTimestampOutsideCertificate: a verified timestamp is outside the certificate's validity.
	ErrTimestampOutsideCertificate = errors.New("timestamp outside the certificate's validity")
	// ErrCAValidity: the certificate chains to a trusted CA that was not valid at signing time.
	ErrCAValidity = errors.New("trusted CA not valid at signing time")
	// ErrTransparencyLog: a transparency log entry of the bundle does not verify.
	ErrTransparencyLog = errors.New("transparency log entry does not verify")
	// ErrCertificateTransparency: a signed certificate timestamp of the certificate does not verify.
	ErrCertificateTransparency = errors.New("certificate transparency does not verify")
	// ErrKeyNotGiven: the bundle is signed with a key the verifier was not given.
	ErrKeyNotGiven = errors.New("signed with a key that was not given")
	// ErrTrustedRootNotGiven: the bundle is signed with a certificate and the verifier has only a key.
	ErrTrustedRootNotGiven = errors.New("signed with a certificate, and no trusted root was given")
)

// reasonCodes name the kinds of refusal for machines (custody attestation verify -o json).
var reasonCodes = []struct {
	kind error
	code string
}{
	{ErrSignature, "signature"},
	{ErrKeyNotGiven, "key-not-given"},
	{ErrTrustedRootNotGiven, "trusted-root-not-given"},
	{ErrUntrustedCA, "untrusted-ca"},
	{ErrTransparencyLog, "transparency-log"},
	{ErrNoTimestamp, "no-timestamp"},
	{ErrTimestampOutsideCertificate, "timestamp-outside-certificate"},
	{ErrCAValidity, "ca-validity"},
	{ErrCertificateTransparency, "certificate-transparency"},
	{ErrIdentity, "identity"},
	{ErrNotSubject, "not-a-subject"},
	{ErrPredicateType, "predicate-type"},
	{ErrWorkflow, "workflow"},
	{ErrNotAttestation, "not-an-attestation"},
}

// ReasonCode returns the code of the kind of a verification error ("signature", "untrusted-ca", ...),
// or "" when it is of none of Verify's kinds (a broken bundle, an I/O error).
func ReasonCode(err error) string {
	for _, r := range reasonCodes {
		if errors.Is(err, r.kind) {
			return r.code
		}
	}
	return ""
}

// KeyHint returns the key id custody and cosign write in a key-signed bundle's
// verificationMaterial.publicKey.hint: the standard base64 of the sha256 of the key's DER
// (PKIX, SubjectPublicKeyInfo) encoding.
func KeyHint(pub crypto.PublicKey) (string, error) {
	der, err := cryptoutils.MarshalPublicKeyToDER(pub)
	if err != nil {
		return "", fmt.Errorf("encode public key: %w", err)
	}
	sum := sha256.Sum256(der)
	return base64.StdEncoding.EncodeToString(sum[:]), nil
}

// Verifier verifies bundles against one trusted key or one set of trusted material, with one
// policy. It is safe for concurrent use.
type Verifier struct {
	opts     VerifyOptions
	tm       root.TrustedMaterial
	keyHint  string // our key's hint; empty with trusted material
	keyed    *verify.Verifier
	identity *verify.CertificateIdentity
}

// NewVerifier builds a verifier. It refuses one that trusts nothing, one given both a key and
// trusted material, and one that would accept a certificate of any identity without saying so
// (UnsafeAnyIdentity).
func NewVerifier(opts VerifyOptions) (*Verifier, error) {
	opts.ArtifactPath, opts.ArtifactDigest = "", ""
	if opts.PredicateType == "" {
		opts.PredicateType = PredicateType
	}
	v := &Verifier{opts: opts}
	switch {
	case len(opts.PublicKey) > 0 && opts.TrustedMaterial != nil:
		return nil, errors.New("verify: give a public key or trusted material, not both")
	case len(opts.PublicKey) > 0:
		tm, hint, err := publicKeyMaterial(opts.PublicKey)
		if err != nil {
			return nil, err
		}
		v.tm, v.keyHint = tm, hint
		if opts.Identity != nil || opts.UnsafeAnyIdentity {
			return nil, errors.New("verify: a certificate identity policy needs trusted material (a trusted root), not a public key")
		}
	case opts.TrustedMaterial != nil:
		v.tm = opts.TrustedMaterial
		if opts.Identity == nil && opts.Workflow == nil && !opts.UnsafeAnyIdentity {
			return nil, errors.New("verify: no identity policy for certificates: give the certificate identity (or a workflow), " +
				"or accept any identity the trusted CAs certified with UnsafeAnyIdentity")
		}
	default:
		return nil, errors.New("verify: nothing to trust: give the signer's public key, or trusted material (a trusted root) for keyless bundles")
	}
	if opts.Identity != nil {
		if opts.UnsafeAnyIdentity {
			return nil, errors.New("verify: give a certificate identity or UnsafeAnyIdentity, not both")
		}
		p, err := opts.Identity.policy()
		if err != nil {
			return nil, fmt.Errorf("verify: %w", err)
		}
		v.identity = &p
	}
	if w := opts.Workflow; w != nil {
		if w.Project == "" || w.Name == "" {
			return nil, errors.New("verify: a workflow needs its project and its name")
		}
		if opts.PredicateType != PredicateType {
			return nil, fmt.Errorf("verify: a workflow is named by custody's predicate (%s), not %s", PredicateType, opts.PredicateType)
		}
	}
	// Key-signed bundles from custody carry no timestamps; the key has no validity window.
	// The predicate is decoded from the verified payload (predicateOf) in one pass: sigstore-go's
	// statement, with it, would be decoded into protobuf Structs, then re-encoded to be read.
	keyed, err := verify.NewVerifier(v.tm, verify.WithNoObserverTimestamps(), verify.WithoutStatementPredicate())
	if err != nil {
		return nil, fmt.Errorf("verify: %w", err)
	}
	v.keyed = keyed
	return v, nil
}

// publicKeyMaterial trusts the PEM key for whatever hint a bundle names: like cosign --key, the key
// the user gives is the one that must verify; the hint is only a hint.
func publicKeyMaterial(pemKey []byte) (root.TrustedMaterial, string, error) {
	pub, err := cryptoutils.UnmarshalPEMToPublicKey(pemKey)
	if err != nil {
		return nil, "", fmt.Errorf("verify: public key: %w", err)
	}
	verifier, err := signature.LoadDefaultVerifier(pub)
	if err != nil {
		return nil, "", fmt.Errorf("verify: public key: %w", err)
	}
	hint, err := KeyHint(pub)
	if err != nil {
		return nil, "", fmt.Errorf("verify: %w", err)
	}
	key := root.NewExpiringKey(verifier, time.Time{}, time.Time{})
	tm := root.NewTrustedPublicKeyMaterial(func(string) (root.TimeConstrainedVerifier, error) { return key, nil })
	return tm, hint, nil
}

// Verify reads bundleBytes and checks it against opts (see Verifier.VerifyDigests). A bare DSSE
// envelope is verified as if it were in a bundle naming the trusted key.
func Verify(ctx context.Context, bundleBytes []byte, opts VerifyOptions) (*Result, error) {
	v, err := NewVerifier(opts)
	if err != nil {
		return nil, err
	}
	digests, err := artifactDigests(ctx, opts)
	if err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	doc, err := Read(bundleBytes)
	if err != nil {
		return nil, fmt.Errorf("verify: %w", err)
	}
	return v.VerifyDigests(ctx, doc, digests)
}

// artifactDigests returns the digests the options ask to be a subject, or none.
func artifactDigests(ctx context.Context, opts VerifyOptions) ([]ArtifactDigest, error) {
	switch {
	case opts.ArtifactPath != "" && opts.ArtifactDigest != "":
		return nil, errors.New("verify: give an artifact file or an artifact digest, not both")
	case opts.ArtifactPath != "":
		f, err := os.Open(opts.ArtifactPath)
		if err != nil {
			return nil, fmt.Errorf("verify: artifact: %w", err)
		}
		defer f.Close()
		digests, err := HashArtifact(ctx, f)
		if err != nil {
			return nil, fmt.Errorf("verify: artifact %s: %w", opts.ArtifactPath, err)
		}
		return digests, nil
	case opts.ArtifactDigest != "":
		d, err := ParseArtifactDigest(opts.ArtifactDigest)
		if err != nil {
			return nil, err
		}
		return []ArtifactDigest{d}, nil
	}
	return nil, nil
}

// Verify checks bundleBytes; artifact, when not empty, is a digest that must be a subject (see
// VerifyDocument).
func (v *Verifier) Verify(ctx context.Context, bundleBytes []byte, artifact string) (*Result, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	doc, err := Read(bundleBytes)
	if err != nil {
		return nil, fmt.Errorf("verify: %w", err)
	}
	return v.VerifyDocument(ctx, doc, artifact)
}

// VerifyDocument is Verify of an attestation already read (a caller that read it to learn its digest
// does not parse it again, once per key it tries). The document may come from ReadEnvelope: the
// statement is decoded only once the signature verified. artifact, when not empty, is a digest that
// must be a subject: "sha256:<hex>", "sha512:<hex>", or a bare sha256 hex.
func (v *Verifier) VerifyDocument(ctx context.Context, doc *Document, artifact string) (*Result, error) {
	var digests []ArtifactDigest
	if artifact != "" {
		if !strings.Contains(artifact, ":") {
			artifact = "sha256:" + artifact
		}
		d, err := ParseArtifactDigest(artifact)
		if err != nil {
			return nil, fmt.Errorf("verify: %w", err)
		}
		digests = []ArtifactDigest{d}
	}
	return v.VerifyDigests(ctx, doc, digests)
}

// VerifyDigests checks, in order: the signature and, for a certificate-signed bundle, its chain,
// timestamps, transparency log entries and identity (by sigstore-go); then that one of digests (the
// digests of one artifact, any algorithm) is a subject, the predicate type, and the workflow.
func (v *Verifier) VerifyDigests(ctx context.Context, doc *Document, digests []ArtifactDigest) (*Result, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	res := &Result{MediaType: doc.MediaType}
	var vr *verify.VerificationResult
	var err error
	switch b := doc.Bundle; {
	case b == nil && v.keyHint == "":
		return nil, &reasonError{kind: ErrKeyNotGiven, msg: "verify: a bare DSSE envelope carries no certificate: verify it with the signer's public key"}
	case b == nil:
		if b, err = v.wrapEnvelope(doc); err != nil {
			return nil, err
		}
		res.KeyHint = v.keyHint
		vr, err = v.verifyKeySigned(b)
	case b.GetVerificationMaterial().GetPublicKey() != nil:
		res.KeyHint = b.GetVerificationMaterial().GetPublicKey().GetHint()
		vr, err = v.verifyKeySigned(b)
	default:
		vr, err = v.verifyCertificateSigned(b)
		if err == nil {
			res.Signer, err = v.signer(vr)
		}
	}
	if err != nil {
		return nil, err
	}
	if err := checkUnambiguous(doc.Envelope.Payload); err != nil {
		return nil, fmt.Errorf("verify: in-toto statement: %w", err)
	}
	res.Statement = vr.Statement
	res.Subjects = StatementSubjects(vr.Statement)
	if len(digests) > 0 && !hasSubject(res.Subjects, digests) {
		return nil, notSubjectError(digests[0], res.Subjects)
	}
	if got := vr.Statement.GetPredicateType(); got != v.opts.PredicateType {
		return nil, &reasonError{kind: ErrPredicateType, msg: fmt.Sprintf("verify: predicate type %q, want %q", clip(got), v.opts.PredicateType)}
	}
	if v.opts.PredicateType == PredicateType {
		if res.Predicate, err = predicateOf(doc.Envelope.Payload); err != nil {
			return nil, fmt.Errorf("verify: %w", err)
		}
	}
	if err := v.checkWorkflow(res.Predicate); err != nil {
		return nil, err
	}
	return res, nil
}

// verifyKeySigned verifies a key-signed bundle: the key must be ours, or one the trusted material
// resolves.
func (v *Verifier) verifyKeySigned(b *bundle.Bundle) (*verify.VerificationResult, error) {
	if v.keyHint == "" {
		hint := b.GetVerificationMaterial().GetPublicKey().GetHint()
		if _, err := v.tm.PublicKeyVerifier(hint); err != nil {
			return nil, &reasonError{kind: ErrKeyNotGiven, msg: fmt.Sprintf(
				"verify: the bundle is signed with a key (hint %q), not a certificate: verify it with the signer's public key", clip(hint))}
		}
	}
	vr, err := v.keyed.Verify(b, verify.NewPolicy(verify.WithoutArtifactUnsafe(), verify.WithKey()))
	if err != nil {
		return nil, fmt.Errorf("verify: %w (altered, or signed by another key): %w", ErrSignature, err)
	}
	return vr, nil
}

// signer applies the identity policy to a verified certificate and returns what it says.
func (v *Verifier) signer(vr *verify.VerificationResult) (*SignerInfo, error) {
	if vr.Signature == nil || vr.Signature.Certificate == nil {
		return nil, errors.New("verify: sigstore-go verified a certificate-signed bundle without a certificate summary")
	}
	cert := *vr.Signature.Certificate
	if err := v.checkIdentity(cert); err != nil {
		return nil, err
	}
	s := &SignerInfo{SAN: cert.SubjectAlternativeName, Issuer: cert.Issuer}
	for _, ts := range vr.VerifiedTimestamps {
		s.Timestamps = append(s.Timestamps, ts.Timestamp)
	}
	return s, nil
}

func hasSubject(subjects []Subject, digests []ArtifactDigest) bool {
	for _, s := range subjects {
		for _, d := range digests {
			if strings.EqualFold(s.Digest[d.Algorithm], d.Hex) {
				return true
			}
		}
	}
	return false
}

// maxListedSubjects bounds the subjects an error lists.
const maxListedSubjects = 10

func notSubjectError(d ArtifactDigest, subjects []Subject) error {
	names := make([]string, 0, len(subjects))
	for _, s := range subjects {
		names = append(names, clip(s.String()))
	}
	slices.Sort(names)
	if n := len(names); n > maxListedSubjects {
		names = append(names[:maxListedSubjects], fmt.Sprintf("and %d more", n-maxListedSubjects))
	}
	return &reasonError{kind: ErrNotSubject, msg: fmt.Sprintf("verify: artifact %s is not a subject (subjects: %s)",
		d, strings.Join(names, ", "))}
}

// reasonError is an error whose message already says what its kind says; errors.Is finds the kind.
type reasonError struct {
	kind error
	msg  string
}

func (e *reasonError) Error() string        { return e.msg }
func (e *reasonError) Is(target error) bool { return target == e.kind }

// wrapEnvelope puts a bare DSSE envelope in a v0.3 bundle naming the trusted key, so sigstore-go
// verifies it like any other.
func (v *Verifier) wrapEnvelope(doc *Document) (*bundle.Bundle, error) {
	env := &protodsse.Envelope{PayloadType: doc.Envelope.PayloadType, Payload: doc.Envelope.Payload}
	for _, s := range doc.Envelope.Signatures {
		env.Signatures = append(env.Signatures, &protodsse.Signature{Keyid: s.KeyID, Sig: s.Sig})
	}
	pb := &protobundle.Bundle{
		MediaType: BundleMediaType,
		VerificationMaterial: &protobundle.VerificationMaterial{
			Content: &protobundle.VerificationMaterial_PublicKey{PublicKey: &protocommon.PublicKeyIdentifier{Hint: v.keyHint}},
		},
		Content: &protobundle.Bundle_DsseEnvelope{DsseEnvelope: env},
	}
	b, err := bundle.NewBundle(pb)
	if err != nil {
		return nil, fmt.Errorf("verify: DSSE envelope: %w", err)
	}
	return b, nil
}
