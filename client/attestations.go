package client

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"

	"github.com/custody-dev/custody/attestation"
	"github.com/custody-dev/custody/wire"
)

// Push stores a run's attestation bundle. Pushing the same bundle again is safe: the answer says
// whether it was created now.
func (c *Client) Push(ctx context.Context, runID string, bundle []byte) (*wire.Pushed, error) {
	resp, err := c.do(ctx, request{method: http.MethodPost, path: "/v1/runs/" + url.PathEscape(runID) + "/attestation",
		contentType: attestation.BundleMediaType, body: func() (io.Reader, error) { return bytes.NewReader(bundle), nil }})
	if err != nil {
		return nil, fmt.Errorf("push: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		return nil, fmt.Errorf("push: %w", problemOf(resp))
	}
	var out wire.Pushed
	if err := decodeAnswer(resp, &out); err != nil {
		return nil, fmt.Errorf("push: %w", err)
	}
	return &out, nil
}

// GetBundle returns an attestation's bundle exactly as pushed, after checking it is the attestation
// asked for (its envelope digest).
func (c *Client) GetBundle(ctx context.Context, digest string) ([]byte, error) {
	resp, err := c.do(ctx, request{method: http.MethodGet, path: "/v1/attestations/" + url.PathEscape(digest) + "/bundle"})
	if err != nil {
		return nil, fmt.Errorf("get bundle: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		return nil, fmt.Errorf("get bundle %s: %w", digest, problemOf(resp))
	}
	b, err := io.ReadAll(io.LimitReader(resp.Body, attestation.MaxSize+1))
	if err != nil {
		return nil, fmt.Errorf("get bundle %s: %w", digest, err)
	}
	doc, err := attestation.Read(b)
	if err != nil {
		return nil, fmt.Errorf("get bundle %s: %w", digest, err)
	}
	if got := doc.Envelope.Digest(); got != digest {
		return nil, fmt.Errorf("get bundle %s: the control plane answered attestation %s", digest, got)
	}
	return b, nil
}
