package app

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/custody-dev/custody/controlplane/auth"
	"github.com/custody-dev/custody/controlplane/store"
	"github.com/custody-dev/custody/wire"
)

// CreateToken issues a token scoped to the org, a project or a workflow. Its secret is returned once.
// The scope is looked up first: a project or workflow the caller may not see is not found.
func (a *App) CreateToken(ctx context.Context, p auth.Principal, req wire.CreateToken) (*wire.CreatedToken, error) {
	t := &store.Token{ID: newID(), Name: req.Name, OrgID: p.Token.OrgID, Admin: req.Admin, CreatedAt: a.now().UTC()}
	if req.Workflow != "" && req.Project == "" {
		return nil, badRequest("a workflow token needs its project")
	}
	if req.Project != "" {
		pr, err := a.project(ctx, p, req.Project)
		if err != nil {
			return nil, err
		}
		t.ProjectID = pr.ID
		if req.Workflow != "" {
			_, w, err := a.workflow(ctx, p, req.Project, req.Workflow)
			if err != nil {
				return nil, err
			}
			t.WorkflowID = w.ID
		}
	}
	if err := requireAdmin(p); err != nil {
		return nil, err
	}
	if req.Admin && (req.Project != "" || req.Workflow != "") {
		return nil, badRequest("an admin token is org-wide: drop --project and --workflow, or --admin")
	}
	if err := checkText("name", req.Name, maxTokenName); err != nil {
		return nil, err
	}
	if req.ExpiresIn != "" {
		d, err := time.ParseDuration(req.ExpiresIn)
		if err != nil || d <= 0 {
			return nil, badRequest("expiry %q: want a positive duration such as 720h", req.ExpiresIn)
		}
		t.ExpiresAt = t.CreatedAt.Add(d)
	}
	secret, hash, err := auth.NewToken()
	if err != nil {
		return nil, err
	}
	t.Hash = hash
	if err := a.store.CreateToken(ctx, t); err != nil {
		return nil, fmt.Errorf("create token: %w", err)
	}
	out := a.toToken(t, req.Project, req.Workflow)
	return &wire.CreatedToken{Token: *out, Secret: secret}, nil
}

// ListTokens lists the org's tokens (never their secrets).
func (a *App) ListTokens(ctx context.Context, p auth.Principal) ([]wire.Token, error) {
	if err := requireAdmin(p); err != nil {
		return nil, err
	}
	ts, err := a.store.ListTokens(ctx, p.Token.OrgID)
	if err != nil {
		return nil, fmt.Errorf("list tokens: %w", err)
	}
	out := []wire.Token{}
	for i := range ts {
		project, workflow := a.scopeNames(ctx, &ts[i])
		out = append(out, *a.toToken(&ts[i], project, workflow))
	}
	return out, nil
}

// RevokeToken revokes a token of the org.
func (a *App) RevokeToken(ctx context.Context, p auth.Principal, id string) error {
	if err := requireAdmin(p); err != nil {
		return err
	}
	ts, err := a.store.ListTokens(ctx, p.Token.OrgID)
	if err != nil {
		return fmt.Errorf("revoke token: %w", err)
	}
	for _, t := range ts {
		if t.ID == id {
			if err := a.store.RevokeToken(ctx, id, a.now().UTC()); err != nil {
				return fmt.Errorf("revoke token: %w", err)
			}
			return nil
		}
	}
	return notFound("token %s not found", id)
}

// WhoAmI describes the principal's token.
func (a *App) WhoAmI(ctx context.Context, p auth.Principal) *wire.WhoAmI {
	project, workflow := a.scopeNames(ctx, &p.Token)
	return &wire.WhoAmI{Token: *a.toToken(&p.Token, project, workflow), Org: DefaultOrg}
}

// scopeNames names a token's project and workflow.
func (a *App) scopeNames(ctx context.Context, t *store.Token) (project, workflow string) {
	if t.ProjectID != "" {
		if pr, err := a.store.GetProjectByID(ctx, t.ProjectID); err == nil {
			project = pr.Name
		} else if !errors.Is(err, store.ErrNotFound) {
			a.log.Warn("token scope: project lookup failed", "token", t.ID, "err", err)
		}
	}
	if t.WorkflowID != "" {
		if w, err := a.store.GetWorkflowByID(ctx, t.WorkflowID); err == nil {
			workflow = w.Name
		}
	}
	return project, workflow
}

func (a *App) toToken(t *store.Token, project, workflow string) *wire.Token {
	return &wire.Token{ID: t.ID, Name: t.Name, Project: project, Workflow: workflow, Admin: t.Admin,
		ExpiresAt: optTime(t.ExpiresAt), RevokedAt: optTime(t.RevokedAt), CreatedAt: t.CreatedAt}
}
