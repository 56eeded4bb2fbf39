package client

import (
	"context"
	"fmt"
	"net/http"
	"net/url"

	"github.com/custody-dev/custody/wire"
)

// ExchangeOIDC exchanges a CI job's OIDC ID token for a control-plane credential scoped to one
// workflow (POST /v1/auth/oidc). The client's own token, if it has one, is not sent. A refusal is an
// *Error: wire.CodeOIDCTokenInvalid, wire.CodeOIDCTokenReplayed or wire.CodeTrustPolicyUnmatched
// (whose detail names the claims that failed).
func (c *Client) ExchangeOIDC(ctx context.Context, req wire.ExchangeOIDC) (*wire.Exchanged, error) {
	body, err := jsonBody(req)
	if err != nil {
		return nil, err
	}
	var out wire.Exchanged
	if err := c.call(ctx, request{method: http.MethodPost, path: "/v1/auth/oidc", body: body, contentType: "application/json", public: true}, &out); err != nil {
		return nil, fmt.Errorf("exchange the OIDC token for a credential of %s/%s: %w", req.Project, req.Workflow, err)
	}
	return &out, nil
}

// ListTrustPolicies lists a workflow's OIDC trust policies.
func (c *Client) ListTrustPolicies(ctx context.Context, project, workflow string) ([]wire.TrustPolicy, error) {
	var out []wire.TrustPolicy
	return out, c.getJSON(ctx, workflowPath(project, workflow)+"/trust", nil, &out)
}

// AddTrustPolicy adds an OIDC trust policy to a workflow: ID tokens of its issuer whose claims match
// may be exchanged for credentials of the workflow.
func (c *Client) AddTrustPolicy(ctx context.Context, project, workflow string, p wire.TrustPolicy) (*wire.TrustPolicy, error) {
	var out wire.TrustPolicy
	return &out, c.sendJSON(ctx, http.MethodPost, workflowPath(project, workflow)+"/trust", p, &out)
}

// RemoveTrustPolicy removes a workflow's OIDC trust policy, named by its ID.
func (c *Client) RemoveTrustPolicy(ctx context.Context, project, workflow, id string) error {
	return c.call(ctx, request{method: http.MethodDelete, path: workflowPath(project, workflow) + "/trust/" + url.PathEscape(id)}, nil)
}
