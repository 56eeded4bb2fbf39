package client

import (
	"bytes"
	"context"
	"encoding/pem"
	"fmt"
	"io"
	"net/http"
	"net/url"

	"github.com/custody-dev/custody/wire"
)

// Certificate asks the control plane to certify the key that signed csrPEM for the run: the chain
// of a short-lived signing certificate naming the run's workflow.
func (c *Client) Certificate(ctx context.Context, runID string, csrPEM []byte) (*wire.Certificate, error) {
	var out wire.Certificate
	err := c.sendJSON(ctx, http.MethodPost, "/v1/runs/"+url.PathEscape(runID)+"/certificate", wire.CertificateRequest{CSR: string(csrPEM)}, &out)
	if err != nil {
		return nil, fmt.Errorf("certificate: %w", err)
	}
	return &out, nil
}

// MaxTimestampReply bounds an RFC 3161 reply the client reads: a signed token and its certificates.
const MaxTimestampReply = 64 << 10

// MaxTrustedRoot bounds a trusted root the client reads.
const MaxTrustedRoot = 4 << 20

// Timestamp sends an RFC 3161 timestamp request (DER) and returns the reply (DER), as a timestamp
// authority does over HTTP.
func (c *Client) Timestamp(ctx context.Context, requestDER []byte) ([]byte, error) {
	b, err := c.raw(ctx, request{method: http.MethodPost, path: "/v1/timestamp", contentType: wire.TimestampQueryType,
		body: func() (io.Reader, error) { return bytes.NewReader(requestDER), nil }}, MaxTimestampReply)
	if err != nil {
		return nil, fmt.Errorf("timestamp: %w", err)
	}
	return b, nil
}

// TrustedRoot returns the control plane's Sigstore trusted root (trusted_root.json): the chains of
// its certificate authorities and timestamp authorities, with their validity windows.
func (c *Client) TrustedRoot(ctx context.Context) ([]byte, error) {
	b, err := c.raw(ctx, request{method: http.MethodGet, path: "/v1/trusted-root"}, MaxTrustedRoot)
	if err != nil {
		return nil, fmt.Errorf("trusted root: %w", err)
	}
	return b, nil
}

// raw sends req and returns a 2xx answer's body, at most limit bytes.
func (c *Client) raw(ctx context.Context, req request, limit int64) ([]byte, error) {
	resp, err := c.do(ctx, req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		return nil, problemOf(resp)
	}
	b, err := io.ReadAll(io.LimitReader(resp.Body, limit+1))
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", req.method, req.path, err)
	}
	if int64(len(b)) > limit {
		return nil, fmt.Errorf("%s %s: the answer is larger than %d bytes", req.method, req.path, limit)
	}
	return b, nil
}

// RunAuthority is the control plane certifying keys and timestamping signatures for one run: the
// authority of a keyless signer (signing.KeylessSigner).
type RunAuthority struct {
	c     *Client
	runID string
	// Issued is the control plane's answer to the last certificate request.
	Issued *wire.Certificate
}

// RunAuthority returns the authority of the run for keyless signing.
func (c *Client) RunAuthority(runID string) *RunAuthority { return &RunAuthority{c: c, runID: runID} }

// Certificate sends csrDER, PEM-encoded, and returns the chain the control plane issued, DER, the
// leaf first.
func (r *RunAuthority) Certificate(ctx context.Context, csrDER []byte) ([][]byte, error) {
	cert, err := r.c.Certificate(ctx, r.runID, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE REQUEST", Bytes: csrDER}))
	if err != nil {
		return nil, err
	}
	ders := make([][]byte, 0, len(cert.Chain))
	for i, p := range cert.Chain {
		b, rest := pem.Decode([]byte(p))
		if b == nil || b.Type != "CERTIFICATE" || len(bytes.TrimSpace(rest)) > 0 {
			return nil, fmt.Errorf("certificate: the control plane's certificate %d is not one PEM certificate", i+1)
		}
		ders = append(ders, b.Bytes)
	}
	r.Issued = cert
	return ders, nil
}

// Timestamp is Client.Timestamp.
func (r *RunAuthority) Timestamp(ctx context.Context, requestDER []byte) ([]byte, error) {
	return r.c.Timestamp(ctx, requestDER)
}
