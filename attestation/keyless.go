package attestation

import (
	"crypto/x509"
	"encoding/asn1"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/sigstore/sigstore-go/pkg/bundle"
	"github.com/sigstore/sigstore-go/pkg/root"
	"github.com/sigstore/sigstore-go/pkg/verify"
)

// oidSCTList is the X.509 extension of embedded signed certificate timestamps (RFC 6962).
var oidSCTList = asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 11129, 2, 4, 2}

// certSigned is what a certificate-signed bundle carries, which sets what it must prove.
type certSigned struct {
	leaf          *x509.Certificate
	intermediates []*x509.Certificate
	tlogEntries   int
	scts          bool
}

func certSignedOf(b *bundle.Bundle) (*certSigned, error) {
	vc, err := b.VerificationContent()
	if err != nil {
		return nil, fmt.Errorf("verify: certificate: %w", err)
	}
	leaf := vc.Certificate()
	if leaf == nil {
		return nil, errors.New("verify: the bundle has neither a public key nor a certificate")
	}
	entries, err := b.TlogEntries()
	if err != nil {
		return nil, fmt.Errorf("verify: %w: %w", ErrTransparencyLog, err)
	}
	c := &certSigned{leaf: leaf, intermediates: vc.Intermediates(), tlogEntries: len(entries)}
	for _, ext := range leaf.Extensions {
		c.scts = c.scts || ext.Id.Equal(oidSCTList)
	}
	return c, nil
}

// options are the rules of verification for what the bundle carries: at least one observer
// timestamp (an RFC 3161 timestamp or a log's integrated time; never the current time), every
// transparency log entry it carries, and, when its certificate embeds signed certificate
// timestamps, one of them.
func (c *certSigned) options() []verify.VerifierOption {
	opts := []verify.VerifierOption{verify.WithObserverTimestamps(1), verify.WithoutStatementPredicate()}
	if c.tlogEntries > 0 {
		opts = append(opts, verify.WithTransparencyLog(c.tlogEntries))
	}
	if c.scts {
		opts = append(opts, verify.WithSignedCertificateTimestamps(1))
	}
	return opts
}

// verifyCertificateSigned verifies a certificate-signed bundle with sigstore-go: the signature, the
// chain to a CA of the trusted material at every verified timestamp, the log entries, the SCTs. The
// identity policy is applied by the caller to the certificate summary. A failure is explained with
// its own reason (diagnose).
func (v *Verifier) verifyCertificateSigned(b *bundle.Bundle) (*verify.VerificationResult, error) {
	if v.opts.TrustedMaterial == nil {
		return nil, &reasonError{kind: ErrTrustedRootNotGiven, msg: "verify: the bundle is signed with a certificate (keyless), not a key: " +
			"verify it with the trusted root of its certificate authority and the identity it must name"}
	}
	c, err := certSignedOf(b)
	if err != nil {
		return nil, err
	}
	sv, err := verify.NewVerifier(v.tm, c.options()...)
	if err != nil {
		return nil, fmt.Errorf("verify: %w", err)
	}
	vr, err := sv.Verify(b, verify.NewPolicy(verify.WithoutArtifactUnsafe(), verify.WithoutIdentitiesUnsafe()))
	if err != nil {
		return nil, v.diagnose(b, c, err)
	}
	return vr, nil
}

// diagnose says why sigstore-go refused a certificate-signed bundle, checking each part alone in
// the order a user can act on: the signature, the CA that issued the certificate, the log entries,
// the timestamps, the certificate and its CA at those times, the SCTs. What it cannot pin down it reports as
// sigstore-go did.
func (v *Verifier) diagnose(b *bundle.Bundle, c *certSigned, refused error) error {
	sig, err := b.SignatureContent()
	if err != nil {
		return fmt.Errorf("verify: %w", err)
	}
	vc, err := b.VerificationContent()
	if err != nil {
		return fmt.Errorf("verify: %w", err)
	}
	if err := verify.VerifySignature(sig, vc, v.tm); err != nil {
		return &reasonError{kind: ErrSignature, msg: fmt.Sprintf(
			"verify: signature does not verify with the certificate's key (altered, or signed by another key): %v", err)}
	}
	if err := v.untrustedCA(c); err != nil {
		return err
	}
	var times []time.Time
	if c.tlogEntries > 0 {
		logged, err := verify.VerifyTlogEntry(b, v.tm, c.tlogEntries, true)
		if err != nil {
			if t, outside := c.firstOutside(integratedTimes(b)); outside {
				return outsideError(c.leaf, t, "the transparency log integrated it")
			}
			return &reasonError{kind: ErrTransparencyLog, msg: fmt.Sprintf("verify: transparency log entry does not verify: %v", err)}
		}
		for _, ts := range logged {
			times = append(times, ts.Time)
		}
	}
	stamped, stampErrs, err := verify.VerifySignedTimestamp(b, v.tm)
	if err != nil {
		return fmt.Errorf("verify: timestamps: %w", err)
	}
	for _, ts := range stamped {
		times = append(times, ts.Time)
	}
	if len(times) == 0 {
		msg := fmt.Sprintf("verify: no verified timestamp of the signature, so the certificate (valid %s to %s) cannot be checked at signing time "+
			"(custody never checks it at the current time)", stamp(c.leaf.NotBefore), stamp(c.leaf.NotAfter))
		if len(stampErrs) > 0 {
			msg += fmt.Sprintf(": %v", errors.Join(stampErrs...))
		}
		return &reasonError{kind: ErrNoTimestamp, msg: msg}
	}
	if t, outside := c.firstOutside(times); outside {
		return outsideError(c.leaf, t, "it was timestamped")
	}
	for _, t := range times {
		if err := v.caValidAt(c, t); err != nil {
			return err
		}
	}
	if c.scts {
		return &reasonError{kind: ErrCertificateTransparency, msg: fmt.Sprintf("verify: signed certificate timestamp: %v", refused)}
	}
	return fmt.Errorf("verify: %w", refused)
}

// untrustedCA returns ErrUntrustedCA when no CA of the trusted material could have issued the
// certificate, at any time: no chain to it at either end of the certificate's validity, whatever
// the CA's validity in the trusted root, and no certificate of it signed the leaf.
func (v *Verifier) untrustedCA(c *certSigned) error {
	var cas []string
	for _, ca := range v.tm.FulcioCertificateAuthorities() {
		fca, ok := ca.(*root.FulcioCertificateAuthority)
		if !ok || fca.Root == nil {
			return nil // a CA of another kind: leave the reason to sigstore-go
		}
		cas = append(cas, fmt.Sprintf("%q", fca.Root.Subject.String()))
		loose := withIntermediates(fca, c.intermediates)
		loose.ValidityPeriodStart, loose.ValidityPeriodEnd = time.Time{}, time.Time{}
		for _, at := range []time.Time{c.leaf.NotBefore, c.leaf.NotAfter} {
			if _, err := loose.Verify(c.leaf, at); err == nil {
				return nil
			}
		}
		for _, issuer := range append([]*x509.Certificate{fca.Root}, loose.Intermediates...) {
			if c.leaf.CheckSignatureFrom(issuer) == nil {
				return nil
			}
		}
	}
	trusted := "none"
	if len(cas) > 0 {
		trusted = strings.Join(cas, ", ")
	}
	return &reasonError{kind: ErrUntrustedCA, msg: fmt.Sprintf(
		"verify: the certificate was issued by %q, which does not chain to a CA of the trusted root (trusted CAs: %s)",
		clip(c.leaf.Issuer.String()), trusted)}
}

// caValidAt explains a certificate a trusted CA issued that does not chain at t: the CA's validity
// in the trusted root, or its certificates, do not cover t.
func (v *Verifier) caValidAt(c *certSigned, t time.Time) error {
	var reason error
	for _, ca := range v.tm.FulcioCertificateAuthorities() {
		fca, ok := ca.(*root.FulcioCertificateAuthority)
		if !ok || fca.Root == nil {
			if _, err := ca.Verify(c.leaf, t); err == nil {
				return nil
			}
			continue
		}
		strict := withIntermediates(fca, c.intermediates) // as sigstore-go verifies
		if _, err := strict.Verify(c.leaf, t); err == nil {
			return nil
		}
		loose := strict
		loose.ValidityPeriodStart, loose.ValidityPeriodEnd = time.Time{}, time.Time{}
		if _, err := loose.Verify(c.leaf, t); err == nil {
			reason = &reasonError{kind: ErrCAValidity, msg: fmt.Sprintf(
				"verify: the certificate was issued by the trusted CA %q, whose validity in the trusted root is %s to %s: it does not cover the signing time %s",
				fca.Root.Subject.String(), stamp(fca.ValidityPeriodStart), stamp(fca.ValidityPeriodEnd), stamp(t))}
		} else if reason == nil {
			reason = &reasonError{kind: ErrCAValidity, msg: fmt.Sprintf(
				"verify: the certificate does not chain to a CA of the trusted root at the signing time %s (its certificates are not valid then): %v", stamp(t), err)}
		}
	}
	return reason
}

func withIntermediates(ca *root.FulcioCertificateAuthority, more []*x509.Certificate) root.FulcioCertificateAuthority {
	c := *ca
	c.Intermediates = append(append([]*x509.Certificate{}, ca.Intermediates...), more...)
	return c
}

// firstOutside returns the first of times outside the leaf's validity.
func (c *certSigned) firstOutside(times []time.Time) (time.Time, bool) {
	for _, t := range times {
		if t.Before(c.leaf.NotBefore) || t.After(c.leaf.NotAfter) {
			return t, true
		}
	}
	return time.Time{}, false
}

func integratedTimes(b *bundle.Bundle) []time.Time {
	entries, err := b.TlogEntries()
	if err != nil {
		return nil
	}
	var times []time.Time
	for _, e := range entries {
		if t := e.IntegratedTime(); !t.IsZero() {
			times = append(times, t)
		}
	}
	return times
}

func outsideError(leaf *x509.Certificate, t time.Time, what string) error {
	return &reasonError{kind: ErrTimestampOutsideCertificate, msg: fmt.Sprintf(
		"verify: %s at %s, outside the certificate's validity (%s to %s)", what, stamp(t), stamp(leaf.NotBefore), stamp(leaf.NotAfter))}
}

// stamp formats a time for a message; the zero time is an open end.
func stamp(t time.Time) string {
	if t.IsZero() {
		return "(open)"
	}
	return t.UTC().Format(time.RFC3339)
}
