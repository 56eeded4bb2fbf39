package attestation

import (
	"errors"
	"fmt"
	"net/url"
	"strings"

	"github.com/sigstore/sigstore-go/pkg/fulcio/certificate"
	"github.com/sigstore/sigstore-go/pkg/verify"
)

// CertificateIdentity is who a keyless bundle's certificate must name, with cosign's meaning: the
// SAN (--certificate-identity) or a regular expression it must match (--certificate-identity-regexp,
// unanchored, as in cosign), and the OIDC issuer of Fulcio's extension (--certificate-oidc-issuer)
// or a regular expression it must match. Exactly one of SAN and SANRegexp, and one of Issuer and
// IssuerRegexp, is set.
type CertificateIdentity struct {
	SAN, SANRegexp, Issuer, IssuerRegexp string
}

func (id CertificateIdentity) String() string {
	san := fmt.Sprintf("SAN %q", id.SAN)
	if id.SANRegexp != "" {
		san = fmt.Sprintf("SAN matching %q", id.SANRegexp)
	}
	issuer := fmt.Sprintf("issuer %q", id.Issuer)
	if id.IssuerRegexp != "" {
		issuer = fmt.Sprintf("issuer matching %q", id.IssuerRegexp)
	}
	return san + ", " + issuer
}

// policy compiles the identity into sigstore-go's, refusing one that is not exactly one of each.
func (id CertificateIdentity) policy() (verify.CertificateIdentity, error) {
	if (id.SAN == "") == (id.SANRegexp == "") {
		return verify.CertificateIdentity{}, errors.New("certificate identity: give the SAN or a regular expression for it (one of the two)")
	}
	if (id.Issuer == "") == (id.IssuerRegexp == "") {
		return verify.CertificateIdentity{}, errors.New("certificate identity: give the OIDC issuer or a regular expression for it (one of the two)")
	}
	p, err := verify.NewShortCertificateIdentity(id.Issuer, id.IssuerRegexp, id.SAN, id.SANRegexp)
	if err != nil {
		return verify.CertificateIdentity{}, fmt.Errorf("certificate identity: %w", err)
	}
	return p, nil
}

// WorkflowRef names a custody workflow.
type WorkflowRef struct {
	Project, Name string
}

func (w WorkflowRef) String() string { return w.Project + "/" + w.Name }

// WorkflowIdentityURI is custody's certificate identity of a workflow: the SAN URI custodyd certifies,
// <control-plane-url>/projects/<project>/workflows/<workflow>. The OIDC issuer that goes with it is the
// control plane URL. A trailing slash of the URL is dropped; project and workflow names are DNS-1123
// labels, which need no escaping.
func WorkflowIdentityURI(controlPlaneURL, project, workflow string) string {
	return strings.TrimRight(controlPlaneURL, "/") + "/projects/" + project + "/workflows/" + workflow
}

// checkIdentity applies the verifier's identity policy to a verified certificate.
func (v *Verifier) checkIdentity(cert certificate.Summary) error {
	got := fmt.Sprintf("SAN %q, issuer %q", clip(cert.SubjectAlternativeName), clip(cert.Issuer))
	switch {
	case v.identity != nil:
		if err := v.identity.Verify(cert); err != nil {
			return &reasonError{kind: ErrIdentity, msg: fmt.Sprintf("verify: the certificate is for %s; want %s", got, v.opts.Identity)}
		}
	case v.opts.Workflow != nil:
		// No issuer given: the SAN must be the workflow's identity under the certificate's own
		// issuer, which must be a URL (custodyd's).
		u, err := url.Parse(cert.Issuer)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			return &reasonError{kind: ErrIdentity, msg: fmt.Sprintf("verify: the certificate is for %s; want a custody workflow identity, whose issuer is the control plane's URL", got)}
		}
		want := WorkflowIdentityURI(cert.Issuer, v.opts.Workflow.Project, v.opts.Workflow.Name)
		if cert.SubjectAlternativeName != want {
			return &reasonError{kind: ErrIdentity, msg: fmt.Sprintf("verify: the certificate is for %s; want SAN %q (workflow %s under its issuer)", got, want, v.opts.Workflow)}
		}
	}
	return nil
}

// checkWorkflow requires the predicate to name the workflow asked for.
func (v *Verifier) checkWorkflow(p *Predicate) error {
	w := v.opts.Workflow
	if w == nil {
		return nil
	}
	if p == nil {
		return &reasonError{kind: ErrWorkflow, msg: fmt.Sprintf("verify: the statement has no custody predicate naming workflow %s", w)}
	}
	if p.Workflow.Project != w.Project || p.Workflow.Name != w.Name {
		return &reasonError{kind: ErrWorkflow, msg: fmt.Sprintf("verify: the attestation is about workflow %q in project %q; want %q in %q",
			clip(p.Workflow.Name), clip(p.Workflow.Project), w.Name, w.Project)}
	}
	return nil
}

// clip shortens a value from the bundle for an error message.
func clip(s string) string {
	const max = 200
	if len(s) <= max {
		return s
	}
	return s[:max] + "..."
}
