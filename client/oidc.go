package client

import (
	"context"
	"fmt"
	"net/http"

	"github.com/custody-dev/custody/wire"
)

// ExchangeOIDC exchanges a CI's OIDC ID token for a short-lived credential scoped to one workflow
// (POST /v1/auth/oidc). The call is public: it never sends the client's own token.
func (c *Client) ExchangeOIDC(ctx context.Context, req wire.ExchangeOIDC) (*wire.Exchanged, error) {
	body, err := jsonBody(req)
	if err != nil {
		return nil, err
	}
	var out wire.Exchanged
	err = c.call(ctx, request{method: http.MethodPost, path: "/v1/auth/oidc", body: body, contentType: "application/json", public: true}, &out)
	if err != nil {
		return nil, fmt.Errorf("exchange the OIDC token: %w", err)
	}
	return &out, nil
}
