package app

import (
	"bytes"
	"context"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"net/http"
	"net/url"

	"github.com/sigstore/sigstore-go/pkg/root"

	"github.com/custody-dev/custody/attestation"
	"github.com/custody-dev/custody/controlplane/auth"
	"github.com/custody-dev/custody/controlplane/ca"
	"github.com/custody-dev/custody/controlplane/store"
	"github.com/custody-dev/custody/controlplane/tsa"
	"github.com/custody-dev/custody/wire"
)

// CertificateAuthority issues keyless signing certificates (controlplane/ca).
type CertificateAuthority interface {
	// Issue certifies id for the key that signed csrDER and returns the leaf, then its chain.
	Issue(csrDER []byte, id ca.Identity) ([]*x509.Certificate, error)
}

// TimestampAuthority answers RFC 3161 timestamp requests (controlplane/tsa).
type TimestampAuthority interface {
	Timestamp(requestDER []byte) ([]byte, error)
}

// Keyless is the control plane's signing authority: a CA that certifies the ephemeral keys of runs,
// a timestamp authority, and the trusted root (trusted_root.json) that lists their chains, by which
// the control plane verifies keyless bundles before it stores them, and anyone verifies them offline.
type Keyless struct {
	CA          CertificateAuthority
	TSA         TimestampAuthority
	TrustedRoot []byte
}

// keyless is the parsed Keyless of an App.
type keyless struct {
	Keyless
	trusted root.TrustedMaterial
}

func newKeyless(k *Keyless, baseURL string) (*keyless, error) {
	if k == nil {
		return nil, nil
	}
	if k.CA == nil || k.TSA == nil || len(k.TrustedRoot) == 0 {
		return nil, errors.New("app: keyless signing needs a CA, a timestamp authority and their trusted root")
	}
	if u, err := url.Parse(baseURL); err != nil || u.Scheme == "" || u.Host == "" {
		return nil, fmt.Errorf("app: keyless signing needs the control plane's URL (BaseURL) for the identities it certifies, not %q", baseURL)
	}
	tr, err := root.NewTrustedRootFromJSON(k.TrustedRoot)
	if err != nil {
		return nil, fmt.Errorf("app: trusted root: %w", err)
	}
	return &keyless{Keyless: *k, trusted: tr}, nil
}

// errKeylessOff answers the keyless routes of a control plane that has no authority.
func errKeylessOff() error {
	return newError(http.StatusNotImplemented, wire.CodeKeylessUnavailable,
		"this control plane issues no certificates or timestamps: sign with a key (custody attestation push --key)")
}

// Identity returns the identity a certificate issued to p for workflow w of project pr names. A
// token names the workflow: <control-plane-url>/projects/<project>/workflows/<workflow>, issued by
// the control plane. A workload (a CI job whose OIDC token was verified and matched the workflow's
// trust policy) names itself as Fulcio names it, from its verified claims (ca.Workload): the job
// workflow ref on GitHub, the CI config ref on GitLab, the CI's issuer, Fulcio's CI extensions.
func (a *App) Identity(p auth.Principal, pr *store.Project, w *store.Workflow) (ca.Identity, error) {
	switch p.Kind() {
	case auth.KindWorkload:
		id, err := ca.Workload(p.Workload.Issuer, p.Workload.Claims)
		if err != nil {
			return ca.Identity{}, unprocessable(wire.CodeUnverifiable, "%v", err)
		}
		return id, nil
	default: // auth.KindToken
		return WorkflowIdentity(a.baseURL, pr.Name, w.Name), nil
	}
}

// WorkflowIdentity is the certificate identity of a workflow for a control plane at baseURL
// (attestation.WorkflowIdentityURI, issued by the control plane).
func WorkflowIdentity(baseURL, project, workflow string) ca.Identity {
	return ca.Identity{URI: attestation.WorkflowIdentityURI(baseURL, project, workflow), Issuer: baseURL}
}

// IssueCertificate certifies the key that signed the request's CSR for a run the principal may
// push: a leaf valid ca.LeafValidity naming the run's workflow (Identity). The run must be open.
func (a *App) IssueCertificate(ctx context.Context, p auth.Principal, runID string, req wire.CertificateRequest) (*wire.Certificate, error) {
	if a.keyless == nil {
		return nil, errKeylessOff()
	}
	r, w, pr, err := a.run(ctx, p, runID)
	if err != nil {
		return nil, err
	}
	if r.State != store.RunInitialized {
		return nil, conflict(wire.CodeRunFinished, "run %s is %s: no certificate is issued for it", r.ID, r.State)
	}
	der, err := csrDER(req.CSR)
	if err != nil {
		return nil, err
	}
	id, err := a.Identity(p, pr, w)
	if err != nil {
		return nil, err
	}
	// The CA checks the proof of possession (the CSR's signature) as it issues; a refusal is the
	// requester's.
	chain, err := a.keyless.CA.Issue(der, id)
	var refused *ca.RequestError
	if errors.As(err, &refused) {
		return nil, badRequest("%v", err)
	}
	if err != nil {
		return nil, fmt.Errorf("issue certificate: %w", err)
	}
	out := &wire.Certificate{Identity: id.URI, Issuer: id.Issuer, NotBefore: chain[0].NotBefore, NotAfter: chain[0].NotAfter}
	for _, c := range chain {
		out.Chain = append(out.Chain, string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Raw})))
	}
	a.log.Info("certificate issued", "run", r.ID, "workflow", w.Name, "project", pr.Name, "identity", id.URI,
		"serial", chain[0].SerialNumber.Text(16), "notAfter", chain[0].NotAfter)
	return out, nil
}

// csrDER reads a CSR in PEM: one CERTIFICATE REQUEST block and nothing else.
func csrDER(s string) ([]byte, error) {
	b, rest := pem.Decode([]byte(s))
	switch {
	case b == nil:
		return nil, badRequest("csr: want a PEM CERTIFICATE REQUEST")
	case b.Type != "CERTIFICATE REQUEST" && b.Type != "NEW CERTIFICATE REQUEST":
		return nil, badRequest("csr: a PEM %q block: want CERTIFICATE REQUEST", b.Type)
	case len(bytes.TrimSpace(rest)) > 0:
		return nil, badRequest("csr: data after the CERTIFICATE REQUEST block: send one request")
	}
	return b.Bytes, nil
}

// Timestamp answers an RFC 3161 timestamp request of an authenticated caller.
func (a *App) Timestamp(_ context.Context, _ auth.Principal, requestDER []byte) ([]byte, error) {
	if a.keyless == nil {
		return nil, errKeylessOff()
	}
	reply, err := a.keyless.TSA.Timestamp(requestDER)
	var bad *tsa.RequestError
	if errors.As(err, &bad) {
		return nil, badRequest("%v", err)
	}
	if err != nil {
		return nil, fmt.Errorf("timestamp: %w", err)
	}
	return reply, nil
}

// TrustedRoot returns the trusted root (trusted_root.json) of the control plane's authorities.
func (a *App) TrustedRoot() ([]byte, error) {
	if a.keyless == nil {
		return nil, errKeylessOff()
	}
	return a.keyless.TrustedRoot, nil
}
