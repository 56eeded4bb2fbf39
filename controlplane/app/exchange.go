package app

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/custody-dev/custody/controlplane/auth"
	"github.com/custody-dev/custody/controlplane/oidc"
	"github.com/custody-dev/custody/controlplane/store"
	"github.com/custody-dev/custody/wire"
)

// ExchangedTTL is the longest a credential exchanged for an ID token lives; it never outlives the
// ID token.
const ExchangedTTL = 15 * time.Minute

// maxPolicyFailures bounds the policies a refusal details.
const maxPolicyFailures = 10

// ExchangeOIDC exchanges a CI job's OIDC ID token for a credential scoped to one workflow: the token
// must verify (its issuer on the allow list, its signature, audience and times), one of the
// workflow's trust policies must match its claims, and it must not have been exchanged before. There
// is no principal: an unknown workflow, or one that has no policy, is refused exactly as one whose
// policies do not match, so the route tells nothing of names. Every exchange is logged, never the
// token.
func (a *App) ExchangeOIDC(ctx context.Context, req wire.ExchangeOIDC) (*wire.Exchanged, error) {
	if err := checkName("project", req.Project); err != nil {
		return nil, err
	}
	if err := checkName("workflow", req.Workflow); err != nil {
		return nil, err
	}
	log := a.log.With("project", req.Project, "workflow", req.Workflow)
	out, tok, err := a.exchange(ctx, req)
	if tok != nil {
		log = log.With("issuer", tok.Issuer, "subject", tok.Subject, "jti", tok.ID)
	}
	if err != nil {
		outcome := "error"
		if e, ok := AsError(err); ok {
			outcome = e.Code
		}
		log.Warn("oidc exchange refused", "outcome", outcome, "reason", err.Error())
		return nil, err
	}
	log.Info("oidc exchange", "outcome", "exchanged", "expires", out.ExpiresAt)
	return out, nil
}

// exchange does ExchangeOIDC's work; tok is the verified token once there is one.
func (a *App) exchange(ctx context.Context, req wire.ExchangeOIDC) (*wire.Exchanged, *oidc.Token, error) {
	if req.Token == "" {
		return nil, nil, oidcInvalid("no token: send the CI's OIDC ID token")
	}
	if a.oidc == nil {
		return nil, nil, oidcInvalid("this control plane trusts no OIDC issuer (custodyd --oidc-issuer)")
	}
	tok, err := a.oidc.Verify(ctx, req.Token)
	switch {
	case errors.Is(err, oidc.ErrInvalid):
		return nil, nil, oidcInvalid(err.Error())
	case errors.Is(err, oidc.ErrUnavailable):
		return nil, nil, newError(http.StatusServiceUnavailable, wire.CodeServiceUnavailable, "%v: retry later", err)
	case err != nil:
		return nil, nil, fmt.Errorf("verify ID token: %w", err)
	}
	pr, w, policies, err := a.trustedBy(ctx, req)
	if err != nil {
		return nil, tok, err
	}
	if err := matchPolicies(req, tok, policies); err != nil {
		return nil, tok, err
	}

	now := a.now().UTC()
	secret, hash, err := auth.NewToken()
	if err != nil {
		return nil, tok, err
	}
	expires := now.Add(ExchangedTTL)
	if tok.Expiry.Before(expires) {
		expires = tok.Expiry
	}
	t := &store.Token{ID: newID(), Name: workloadName(tok.Subject), Hash: hash, OrgID: pr.OrgID, ProjectID: pr.ID, WorkflowID: w.ID,
		ExpiresAt: expires, CreatedAt: now, WorkloadIssuer: tok.Issuer, WorkloadClaims: tok.Payload}
	err = a.store.CreateExchangedToken(ctx, t, &store.IDTokenUse{Issuer: tok.Issuer, ID: tok.ID, ExpiresAt: tok.Expiry})
	if errors.Is(err, store.ErrExists) {
		return nil, tok, newError(http.StatusUnauthorized, wire.CodeOIDCTokenReplayed,
			"this ID token (jti %s) was exchanged before: a token is exchanged once; get a fresh one", tok.ID)
	}
	if err != nil {
		return nil, tok, fmt.Errorf("exchange: %w", err)
	}
	return &wire.Exchanged{Token: secret, ExpiresAt: t.ExpiresAt, Project: pr.Name, Workflow: w.Name, Issuer: tok.Issuer, Subject: tok.Subject}, tok, nil
}

// errNoPolicy is the refusal of a workflow that does not exist or has no policy: the same words for
// both.
func errNoPolicy(req wire.ExchangeOIDC, tok *oidc.Token) error {
	return newError(http.StatusForbidden, wire.CodeTrustPolicyUnmatched,
		"no trust policy of workflow %s/%s matches this token (issuer %s, subject %s): an admin adds one with "+
			"`custody workflow trust add %s --project %s --issuer %s --claim ...`",
		req.Project, req.Workflow, tok.Issuer, shorten(tok.Subject), req.Workflow, req.Project, tok.Issuer)
}

// trustedBy finds the workflow of the default org that req names, and its trust policies. A project
// or workflow that does not exist has no policies.
func (a *App) trustedBy(ctx context.Context, req wire.ExchangeOIDC) (*store.Project, *store.Workflow, []store.TrustPolicy, error) {
	org, err := a.store.GetOrgByName(ctx, DefaultOrg)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("exchange: %w", err)
	}
	pr, err := a.store.GetProject(ctx, org.ID, req.Project)
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil, nil, nil
	}
	if err != nil {
		return nil, nil, nil, fmt.Errorf("exchange: %w", err)
	}
	w, err := a.store.GetWorkflow(ctx, pr.ID, req.Workflow)
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil, nil, nil
	}
	if err != nil {
		return nil, nil, nil, fmt.Errorf("exchange: %w", err)
	}
	policies, err := a.store.ListTrustPolicies(ctx, w.ID)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("exchange: %w", err)
	}
	return pr, w, policies, nil
}

// matchPolicies returns nil when one of the policies matches tok, else the refusal naming, for each
// policy, the claims that failed and the token's values.
func matchPolicies(req wire.ExchangeOIDC, tok *oidc.Token, policies []store.TrustPolicy) error {
	if len(policies) == 0 {
		return errNoPolicy(req, tok)
	}
	var failures []string
	for i, tp := range policies {
		failed := mismatch(tp, tok)
		if len(failed) == 0 {
			return nil
		}
		if i < maxPolicyFailures {
			failures = append(failures, fmt.Sprintf("policy %d: %s", i+1, strings.Join(failed, ", ")))
		}
	}
	if len(policies) > maxPolicyFailures {
		failures = append(failures, fmt.Sprintf("and %d more", len(policies)-maxPolicyFailures))
	}
	return newError(http.StatusForbidden, wire.CodeTrustPolicyUnmatched,
		"no trust policy of workflow %s/%s matches this token (issuer %s, subject %s); the token's claims that failed: %s",
		req.Project, req.Workflow, tok.Issuer, shorten(tok.Subject), strings.Join(failures, "; "))
}

func oidcInvalid(msg string) error {
	return newError(http.StatusUnauthorized, wire.CodeOIDCTokenInvalid, "%s", msg)
}

// workloadName names a workload credential in token lists: its subject, as text a token's name may
// hold.
func workloadName(subject string) string {
	name := "workload " + strings.ReplaceAll(strings.ToValidUTF8(subject, "?"), "\x00", "?")
	if len(name) > maxTokenName {
		name = strings.ToValidUTF8(name[:maxTokenName], "")
	}
	return name
}

// PruneIDTokenUses forgets the uses of ID tokens that have expired: they can no longer be presented.
func (a *App) PruneIDTokenUses(ctx context.Context) (int, error) {
	return a.store.PruneIDTokenUses(ctx, a.now().UTC())
}
