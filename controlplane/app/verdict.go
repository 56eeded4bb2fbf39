package app

import (
	"context"
	"crypto/x509"
	"fmt"
	"time"

	"github.com/sigstore/sigstore-go/pkg/fulcio/certificate"

	"github.com/custody-dev/custody/attestation"
	"github.com/custody-dev/custody/controlplane/auth"
	"github.com/custody-dev/custody/controlplane/ca"
	"github.com/custody-dev/custody/controlplane/store"
	"github.com/custody-dev/custody/wire"
)

// Verdict is the control plane's judgement of a stored attestation, made again from its bundle, now,
// by the verifier a push goes through: the keys the workflow trusts now, the control plane's
// trusted root.
type Verdict struct {
	Attestation wire.Attestation
	// Bundle is the stored bundle, byte for byte.
	Bundle []byte
	// Verified is true when the bundle verified; Problem says why not otherwise.
	Verified bool
	Problem  string
	// Predicate and Subjects are what the statement says: verified when Verified, else decoded from
	// the stored payload as it is (nil when even that fails).
	Predicate *attestation.Predicate
	Subjects  []attestation.Subject
	// KeyHint is a key-signed bundle's key hint.
	KeyHint string
	// Signer is who signed a certificate-signed bundle (verified), and when.
	Signer *attestation.SignerInfo
	// Certificate is a verified signing certificate's summary, with Fulcio's CI extensions of a
	// certificate issued to a CI job.
	Certificate *certificate.Summary
	// CheckedAt is when the verdict was made.
	CheckedAt time.Time
}

// Verdict verifies a stored attestation the principal may read, as a push would be verified now: a
// key-signed bundle against every key its workflow trusts, a certificate-signed one against the
// control plane's trusted root, for the workflow's identity or, for a certificate of a CI issuer the
// control plane trusts, the CI job it names (custodyd certifies such an identity only for a job whose
// verified token matched a trust policy). The statement must be about the attestation's run.
func (a *App) Verdict(ctx context.Context, p auth.Principal, digest string) (*Verdict, error) {
	att, w, pr, err := a.attestation(ctx, p, digest)
	if err != nil {
		return nil, err
	}
	v := &Verdict{Attestation: *toAttestation(att, pr, w), Bundle: att.Bundle, CheckedAt: a.now().UTC()}
	doc, err := attestation.ReadEnvelope(att.Bundle)
	if err != nil {
		v.Problem = fmt.Sprintf("the stored bundle does not read: %v", err)
		return v, nil
	}
	res, err := a.verifyStored(ctx, pr, w, doc)
	if err == nil && (res.Predicate == nil || res.Predicate.Workflow.RunID != att.RunID ||
		res.Predicate.Workflow.Name != w.Name || res.Predicate.Workflow.Project != pr.Name) {
		err = fmt.Errorf("the attestation is not about run %s of %s/%s", att.RunID, pr.Name, w.Name)
	}
	if err != nil {
		v.Problem = err.Error()
		v.decodeUnverified(doc)
		return v, nil
	}
	v.Verified, v.Predicate, v.Subjects, v.KeyHint, v.Signer = true, res.Predicate, res.Subjects, res.KeyHint, res.Signer
	if res.Signer != nil {
		if leaf := leafOf(doc); leaf != nil {
			if s, err := certificate.SummarizeCertificate(leaf); err == nil {
				v.Certificate = &s
			}
		}
	}
	return v, nil
}

// verifyStored picks the identity a certificate must name (see Verdict) and verifies.
func (a *App) verifyStored(ctx context.Context, pr *store.Project, w *store.Workflow, doc *attestation.Document) (*attestation.Result, error) {
	if doc.Bundle == nil {
		return nil, fmt.Errorf("a bare DSSE envelope: no bundle was stored with it")
	}
	if doc.Bundle.GetVerificationMaterial().GetPublicKey() != nil || a.keyless == nil {
		return a.verify(ctx, auth.Principal{}, pr, w, doc)
	}
	id := WorkflowIdentity(a.baseURL, pr.Name, w.Name)
	if leaf := leafOf(doc); leaf != nil {
		if s, err := certificate.SummarizeCertificate(leaf); err == nil && s.Issuer != id.Issuer && a.oidc != nil && a.oidc.Allowed(s.Issuer) {
			id = ca.Identity{URI: s.SubjectAlternativeName, Issuer: s.Issuer}
		}
	}
	return a.verifyIdentity(ctx, pr, w, doc, id)
}

// decodeUnverified reads what the stored statement says, for a verdict that failed: shown as such.
func (v *Verdict) decodeUnverified(doc *attestation.Document) {
	st, err := attestation.ParseStatement(doc.Envelope.Payload)
	if err != nil {
		return
	}
	v.Subjects = attestation.StatementSubjects(st)
	if p, err := attestation.ParsePredicate(st); err == nil {
		v.Predicate = p
	}
}

func leafOf(doc *attestation.Document) *x509.Certificate {
	vc, err := doc.Bundle.VerificationContent()
	if err != nil {
		return nil
	}
	return vc.Certificate()
}
