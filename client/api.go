package client

import (
	"context"
	"net/http"
	"net/url"
	"strconv"

	"github.com/custody-dev/custody/wire"
)

func workflowPath(project, workflow string) string {
	return "/v1/projects/" + url.PathEscape(project) + "/workflows/" + url.PathEscape(workflow)
}

// WhoAmI describes the client's token.
func (c *Client) WhoAmI(ctx context.Context) (*wire.WhoAmI, error) {
	var out wire.WhoAmI
	return &out, c.getJSON(ctx, "/v1/whoami", nil, &out)
}

// CreateProject creates a project.
func (c *Client) CreateProject(ctx context.Context, name string) (*wire.Project, error) {
	var out wire.Project
	return &out, c.sendJSON(ctx, http.MethodPost, "/v1/projects", wire.CreateProject{Name: name}, &out)
}

// ListProjects lists projects.
func (c *Client) ListProjects(ctx context.Context) ([]wire.Project, error) {
	var out []wire.Project
	return out, c.getJSON(ctx, "/v1/projects", nil, &out)
}

// CreateWorkflow creates a workflow in a project with its first contract.
func (c *Client) CreateWorkflow(ctx context.Context, project string, req wire.CreateWorkflow) (*wire.Workflow, error) {
	var out wire.Workflow
	return &out, c.sendJSON(ctx, http.MethodPost, "/v1/projects/"+url.PathEscape(project)+"/workflows", req, &out)
}

// ListWorkflows lists a project's workflows.
func (c *Client) ListWorkflows(ctx context.Context, project string) ([]wire.Workflow, error) {
	var out []wire.Workflow
	return out, c.getJSON(ctx, "/v1/projects/"+url.PathEscape(project)+"/workflows", nil, &out)
}

// GetWorkflow returns a workflow.
func (c *Client) GetWorkflow(ctx context.Context, project, workflow string) (*wire.Workflow, error) {
	var out wire.Workflow
	return &out, c.getJSON(ctx, workflowPath(project, workflow), nil, &out)
}

// GetContract returns revision n (0: latest) of a workflow's contract.
func (c *Client) GetContract(ctx context.Context, project, workflow string, n int) (*wire.ContractRevision, error) {
	var out wire.ContractRevision
	q := url.Values{}
	if n > 0 {
		q.Set("revision", strconv.Itoa(n))
	}
	return &out, c.getJSON(ctx, workflowPath(project, workflow)+"/contract", q, &out)
}

// UpdateContract uploads the next revision of a workflow's contract.
func (c *Client) UpdateContract(ctx context.Context, project, workflow, contract string) (*wire.ContractRevision, error) {
	var out wire.ContractRevision
	return &out, c.sendJSON(ctx, http.MethodPost, workflowPath(project, workflow)+"/contract", wire.UpdateContract{Contract: contract}, &out)
}

// AddKey trusts a public key (PEM) for a workflow's key-signed pushes.
func (c *Client) AddKey(ctx context.Context, project, workflow, pem string) (*wire.PublicKey, error) {
	var out wire.PublicKey
	return &out, c.sendJSON(ctx, http.MethodPost, workflowPath(project, workflow)+"/keys", wire.AddPublicKey{PEM: pem}, &out)
}

// ListKeys lists a workflow's trusted keys.
func (c *Client) ListKeys(ctx context.Context, project, workflow string) ([]wire.PublicKey, error) {
	var out []wire.PublicKey
	return out, c.getJSON(ctx, workflowPath(project, workflow)+"/keys", nil, &out)
}

// ListRuns lists a workflow's runs, newest first.
func (c *Client) ListRuns(ctx context.Context, project, workflow string, limit int) ([]wire.Run, error) {
	var out []wire.Run
	q := url.Values{}
	if limit > 0 {
		q.Set("limit", strconv.Itoa(limit))
	}
	return out, c.getJSON(ctx, workflowPath(project, workflow)+"/runs", q, &out)
}

// CreateToken issues a token; its secret is in the answer, once.
func (c *Client) CreateToken(ctx context.Context, req wire.CreateToken) (*wire.CreatedToken, error) {
	var out wire.CreatedToken
	return &out, c.sendJSON(ctx, http.MethodPost, "/v1/tokens", req, &out)
}

// ListTokens lists the org's tokens.
func (c *Client) ListTokens(ctx context.Context) ([]wire.Token, error) {
	var out []wire.Token
	return out, c.getJSON(ctx, "/v1/tokens", nil, &out)
}

// RemoveKey stops trusting a workflow's key, named by its ID.
func (c *Client) RemoveKey(ctx context.Context, project, workflow, id string) error {
	return c.call(ctx, request{method: http.MethodDelete, path: workflowPath(project, workflow) + "/keys/" + url.PathEscape(id)}, nil)
}

// RevokeToken revokes a token.
func (c *Client) RevokeToken(ctx context.Context, id string) error {
	return c.call(ctx, request{method: http.MethodDelete, path: "/v1/tokens/" + url.PathEscape(id)}, nil)
}

// InitRun starts a run.
func (c *Client) InitRun(ctx context.Context, req wire.InitRun) (*wire.InitializedRun, error) {
	var out wire.InitializedRun
	return &out, c.sendJSON(ctx, http.MethodPost, "/v1/runs", req, &out)
}

// GetRun returns a run.
func (c *Client) GetRun(ctx context.Context, id string) (*wire.Run, error) {
	var out wire.Run
	return &out, c.getJSON(ctx, "/v1/runs/"+url.PathEscape(id), nil, &out)
}

// ResetRun marks a run failed or cancelled.
func (c *Client) ResetRun(ctx context.Context, id string, req wire.FinishRun) (*wire.Run, error) {
	var out wire.Run
	return &out, c.sendJSON(ctx, http.MethodPost, "/v1/runs/"+url.PathEscape(id)+"/reset", req, &out)
}

// GetState returns a run's remote state.
func (c *Client) GetState(ctx context.Context, id string) (*wire.RemoteState, error) {
	var out wire.RemoteState
	return &out, c.getJSON(ctx, "/v1/runs/"+url.PathEscape(id)+"/state", nil, &out)
}

// PutState replaces a run's remote state if it is still at base; a stale base is an *Error with
// code wire.CodeStaleState.
func (c *Client) PutState(ctx context.Context, id, base string, state []byte) (*wire.RemoteState, error) {
	var out wire.RemoteState
	return &out, c.sendJSON(ctx, http.MethodPut, "/v1/runs/"+url.PathEscape(id)+"/state", wire.PutRemoteState{Base: base, State: state}, &out)
}

// ListAttestations lists a workflow's attestations, or those mentioning a material digest.
func (c *Client) ListAttestations(ctx context.Context, project, workflow, digest string, limit int) ([]wire.Attestation, error) {
	var out []wire.Attestation
	q := url.Values{}
	for k, v := range map[string]string{"project": project, "workflow": workflow, "digest": digest} {
		if v != "" {
			q.Set(k, v)
		}
	}
	if limit > 0 {
		q.Set("limit", strconv.Itoa(limit))
	}
	return out, c.getJSON(ctx, "/v1/attestations", q, &out)
}

// GetAttestation describes a stored attestation.
func (c *Client) GetAttestation(ctx context.Context, digest string) (*wire.Attestation, error) {
	var out wire.Attestation
	return &out, c.getJSON(ctx, "/v1/attestations/"+url.PathEscape(digest), nil, &out)
}
