package attestation

import (
	"context"
	"crypto"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
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
	// PublicKey is the PEM public key (a cosign.pub) the bundle must be signed by.
	PublicKey []byte
	// TrustedMaterial replaces PublicKey with any sigstore-go trusted material that resolves the
	// bundle's key hint. It is the seam of keyless verification (certificates, timestamps and an
	// identity policy), which is not wired yet: today a certificate-signed bundle is refused.
	TrustedMaterial root.TrustedMaterial
	// ArtifactPath, when set, names a file whose sha256 must be a subject of the statement.
	ArtifactPath string
	// ArtifactDigest, when set, is a "sha256:<hex>" digest that must be a subject of the statement.
	ArtifactDigest string
}

// Result is what a verified bundle establishes.
type Result struct {
	MediaType string
	Statement *intoto.Statement
	Predicate *Predicate
	Subjects  []Subject
	// KeyHint is the bundle's public key hint (see KeyHint).
	KeyHint string
}

// Errors of Verify, to tell failures apart with errors.Is.
var (
	ErrSignature     = errors.New("signature does not verify")
	ErrPredicateType = errors.New("wrong predicate type")
	ErrNotSubject    = errors.New("artifact is not a subject")
)

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

// Verifier verifies custody bundles against one trusted key (or trusted material).
type Verifier struct {
	tm      root.TrustedMaterial
	keyHint string // our key's hint; empty with custom trusted material
	sv      *verify.Verifier
}

// NewVerifier builds a verifier. It refuses to build one that trusts nothing: give a public key, or
// trusted material.
func NewVerifier(opts VerifyOptions) (*Verifier, error) {
	v := &Verifier{}
	switch {
	case len(opts.PublicKey) > 0 && opts.TrustedMaterial != nil:
		return nil, errors.New("verify: give a public key or trusted material, not both")
	case len(opts.PublicKey) > 0:
		tm, hint, err := publicKeyMaterial(opts.PublicKey)
		if err != nil {
			return nil, err
		}
		v.tm, v.keyHint = tm, hint
	case opts.TrustedMaterial != nil:
		v.tm = opts.TrustedMaterial
	default:
		return nil, errors.New("verify: no public key: give the signer's public key (keyless verification is not supported yet)")
	}
	// Key-signed bundles from custody carry no timestamps; the key has no validity window.
	// The predicate is decoded from the verified payload (predicateOf) in one pass: sigstore-go's
	// statement, with it, would be decoded into protobuf Structs, then re-encoded to be read.
	sv, err := verify.NewVerifier(v.tm, verify.WithNoObserverTimestamps(), verify.WithoutStatementPredicate())
	if err != nil {
		return nil, fmt.Errorf("verify: %w", err)
	}
	v.sv = sv
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

// Verify reads bundleBytes and checks, in order: the signature (by sigstore-go), the predicate type,
// and, when asked, that the artifact is a subject. A bare DSSE envelope is verified as if it were in
// a bundle naming the trusted key.
func Verify(ctx context.Context, bundleBytes []byte, opts VerifyOptions) (*Result, error) {
	v, err := NewVerifier(opts)
	if err != nil {
		return nil, err
	}
	artifact, err := artifactDigest(opts)
	if err != nil {
		return nil, err
	}
	return v.Verify(ctx, bundleBytes, artifact)
}

// artifactDigest returns the hex sha256 the options ask to be a subject, or "".
func artifactDigest(opts VerifyOptions) (string, error) {
	switch {
	case opts.ArtifactPath != "" && opts.ArtifactDigest != "":
		return "", errors.New("verify: give an artifact file or an artifact digest, not both")
	case opts.ArtifactPath != "":
		f, err := os.Open(opts.ArtifactPath)
		if err != nil {
			return "", fmt.Errorf("verify: artifact: %w", err)
		}
		defer f.Close()
		h := sha256.New()
		if _, err := io.Copy(h, f); err != nil {
			return "", fmt.Errorf("verify: artifact %s: %w", opts.ArtifactPath, err)
		}
		return hex.EncodeToString(h.Sum(nil)), nil
	case opts.ArtifactDigest != "":
		return ParseArtifactDigest(opts.ArtifactDigest)
	}
	return "", nil
}

// ParseArtifactDigest checks d is "sha256:" and 64 hex characters and returns the lowercase hex.
func ParseArtifactDigest(d string) (string, error) {
	h, ok := strings.CutPrefix(d, "sha256:")
	if !ok {
		return "", fmt.Errorf("artifact digest %q: want sha256:<64 hex characters>", d)
	}
	h = strings.ToLower(h)
	if b, err := hex.DecodeString(h); err != nil || len(b) != sha256.Size {
		return "", fmt.Errorf("artifact digest %q: want 64 hex characters after sha256:", d)
	}
	return h, nil
}

// Verify checks bundleBytes; artifactSHA256, when not empty, is the hex sha256 that must be a subject.
func (v *Verifier) Verify(ctx context.Context, bundleBytes []byte, artifactSHA256 string) (*Result, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	doc, err := Read(bundleBytes)
	if err != nil {
		return nil, fmt.Errorf("verify: %w", err)
	}
	return v.VerifyDocument(ctx, doc, artifactSHA256)
}

// VerifyDocument is Verify of an attestation already read (a caller that read it to learn its digest
// does not parse it again, once per key it tries). The document may come from ReadEnvelope: the
// statement is decoded only once the signature verified.
func (v *Verifier) VerifyDocument(ctx context.Context, doc *Document, artifactSHA256 string) (*Result, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	var err error
	b := doc.Bundle
	if b == nil {
		if b, err = v.wrapEnvelope(doc); err != nil {
			return nil, err
		}
	}
	pk := b.GetVerificationMaterial().GetPublicKey()
	if pk == nil {
		return nil, errors.New("verify: the bundle is signed with a certificate (keyless), not a key: keyless verification is not supported yet")
	}
	res := &Result{MediaType: doc.MediaType, KeyHint: pk.GetHint()}
	artifactPolicy := verify.WithoutArtifactUnsafe()
	if artifactSHA256 != "" {
		digest, err := hex.DecodeString(artifactSHA256)
		if err != nil {
			return nil, fmt.Errorf("verify: artifact digest: %w", err)
		}
		artifactPolicy = verify.WithArtifactDigest("sha256", digest)
	}
	vr, err := v.sv.Verify(b, verify.NewPolicy(artifactPolicy, verify.WithKey()))
	if err != nil {
		return nil, v.explain(b, doc, artifactSHA256, err)
	}
	if err := checkUnambiguous(doc.Envelope.Payload); err != nil {
		return nil, fmt.Errorf("verify: in-toto statement: %w", err)
	}
	res.Statement = vr.Statement
	res.Subjects = StatementSubjects(vr.Statement)
	if got := vr.Statement.GetPredicateType(); got != PredicateType {
		return nil, &reasonError{kind: ErrPredicateType, msg: fmt.Sprintf("verify: predicate type %q, want %q", got, PredicateType)}
	}
	if res.Predicate, err = predicateOf(doc.Envelope.Payload); err != nil {
		return nil, fmt.Errorf("verify: %w", err)
	}
	return res, nil
}

// explain turns a failed sigstore-go verification into the reason a user can act on: when the
// signature alone verifies, the artifact is what is wrong.
func (v *Verifier) explain(b *bundle.Bundle, doc *Document, artifactSHA256 string, err error) error {
	if artifactSHA256 != "" {
		vr, sigErr := v.sv.Verify(b, verify.NewPolicy(verify.WithoutArtifactUnsafe(), verify.WithKey()))
		if sigErr == nil {
			return notSubjectError(artifactSHA256, StatementSubjects(vr.Statement))
		}
		err = sigErr
	}
	return fmt.Errorf("verify: %w (altered, or signed by another key): %w", ErrSignature, err)
}

func notSubjectError(artifactSHA256 string, subjects []Subject) error {
	names := make([]string, 0, len(subjects))
	for _, s := range subjects {
		names = append(names, s.String())
	}
	slices.Sort(names)
	return &reasonError{kind: ErrNotSubject, msg: fmt.Sprintf("verify: artifact sha256:%s is not a subject (subjects: %s)",
		artifactSHA256, strings.Join(names, ", "))}
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
