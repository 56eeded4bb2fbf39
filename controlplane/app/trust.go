package app

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"path"
	"regexp"
	"slices"
	"strings"

	"github.com/custody-dev/custody/controlplane/auth"
	"github.com/custody-dev/custody/controlplane/oidc"
	"github.com/custody-dev/custody/controlplane/store"
	"github.com/custody-dev/custody/wire"
)

// Bounds of trust policies.
const (
	maxTrustPolicies = 100
	maxPolicyClaims  = 32
	maxClaimValue    = 1024
	maxIssuerURL     = 1024
)

// claimName is what a policy may name: JWT claim names as CI issuers write them. '=' is not among
// them: the CLI splits name=value at the first one.
var claimName = regexp.MustCompile(`^[A-Za-z0-9_.:/-]{1,128}$`)

// identifyingClaims name who a token is about: the repository or project (by name or by its owner's
// ID, which survives renames), or the subject that embeds it. A policy must pin one, or it trusts
// every repository of its issuer (every one of github.com).
var identifyingClaims = []string{"repository", "repository_owner_id", "project_path", "sub"}

// unmatchable are claims a policy may not name: the issuer is the policy's own field, the audience
// is the control plane's, the times and the ID change with every token.
var unmatchable = []string{"iss", "aud", "exp", "nbf", "iat", "jti"}

// ListTrustPolicies lists a workflow's trust policies: whoever sees the workflow sees them.
func (a *App) ListTrustPolicies(ctx context.Context, p auth.Principal, project, workflow string) ([]wire.TrustPolicy, error) {
	_, w, err := a.workflow(ctx, p, project, workflow)
	if err != nil {
		return nil, err
	}
	ps, err := a.store.ListTrustPolicies(ctx, w.ID)
	if err != nil {
		return nil, fmt.Errorf("list trust policies: %w", err)
	}
	out := []wire.TrustPolicy{}
	for i := range ps {
		out = append(out, toTrustPolicy(&ps[i]))
	}
	return out, nil
}

// AddTrustPolicy lets the CI jobs whose ID tokens match req exchange them for credentials of the
// workflow (admin).
func (a *App) AddTrustPolicy(ctx context.Context, p auth.Principal, project, workflow string, req wire.TrustPolicy) (*wire.TrustPolicy, error) {
	_, w, err := a.workflow(ctx, p, project, workflow)
	if err != nil {
		return nil, err
	}
	if err := requireAdmin(p); err != nil {
		return nil, err
	}
	if req.ID != "" || !req.CreatedAt.IsZero() {
		return nil, badRequest("trust policy: id and createdAt are the control plane's to set: send issuer and claims")
	}
	if err := a.checkPolicy(req); err != nil {
		return nil, err
	}
	existing, err := a.store.ListTrustPolicies(ctx, w.ID)
	if err != nil {
		return nil, fmt.Errorf("add trust policy: %w", err)
	}
	for _, e := range existing {
		if e.Issuer == req.Issuer && maps.Equal(e.Claims, req.Claims) {
			return nil, conflict(wire.CodeConflict, "workflow %s/%s already has this trust policy (%s)", project, workflow, e.ID)
		}
	}
	if len(existing) >= maxTrustPolicies {
		return nil, badRequest("workflow %s/%s has %d trust policies, the most it may have: remove one first", project, workflow, len(existing))
	}
	tp := &store.TrustPolicy{ID: newID(), WorkflowID: w.ID, Issuer: req.Issuer, Claims: req.Claims, CreatedAt: a.now().UTC()}
	if err := a.store.AddTrustPolicy(ctx, tp); err != nil {
		return nil, fmt.Errorf("add trust policy: %w", err)
	}
	a.log.Info("trust policy added", "project", project, "workflow", workflow, "id", tp.ID, "issuer", tp.Issuer, "claims", tp.Claims)
	out := toTrustPolicy(tp)
	return &out, nil
}

// RemoveTrustPolicy deletes a workflow's trust policy (admin): ID tokens only it matched are no
// longer exchanged. Credentials exchanged before live out their (at most 15) minutes.
func (a *App) RemoveTrustPolicy(ctx context.Context, p auth.Principal, project, workflow, id string) (*wire.TrustPolicy, error) {
	_, w, err := a.workflow(ctx, p, project, workflow)
	if err != nil {
		return nil, err
	}
	if err := requireAdmin(p); err != nil {
		return nil, err
	}
	tp, err := a.store.RemoveTrustPolicy(ctx, w.ID, id)
	if errors.Is(err, store.ErrNotFound) {
		return nil, notFound("workflow %s/%s has no trust policy %s: `custody workflow trust list` shows them", project, workflow, id)
	}
	if err != nil {
		return nil, fmt.Errorf("remove trust policy: %w", err)
	}
	a.log.Info("trust policy removed", "project", project, "workflow", workflow, "id", tp.ID, "issuer", tp.Issuer, "claims", tp.Claims)
	out := toTrustPolicy(tp)
	return &out, nil
}

// checkPolicy checks a trust policy before it is stored.
func (a *App) checkPolicy(req wire.TrustPolicy) error {
	if err := checkText("issuer", req.Issuer, maxIssuerURL); err != nil {
		return err
	}
	if a.oidc == nil || !a.oidc.Allowed(req.Issuer) {
		return badRequest("issuer %q is not one this control plane trusts (%s): a policy for it would match nothing", req.Issuer, a.trustedIssuers())
	}
	switch {
	case len(req.Claims) == 0:
		return badRequest("trust policy: no claims: a policy must pin at least one of %s", strings.Join(identifyingClaims, ", "))
	case len(req.Claims) > maxPolicyClaims:
		return badRequest("trust policy: %d claims, at most %d", len(req.Claims), maxPolicyClaims)
	}
	for _, name := range slices.Sorted(maps.Keys(req.Claims)) {
		value := req.Claims[name]
		if !claimName.MatchString(name) {
			return badRequest("claim name %q: want 1 to 128 letters, digits and _ . : / -", name)
		}
		if slices.Contains(unmatchable, name) {
			return badRequest("claim %s: a policy may not match it (iss is the policy's issuer, aud the control plane's, %s change with every token)", name, "exp, nbf, iat and jti")
		}
		if err := checkText("claim "+name, value, maxClaimValue); err != nil {
			return err
		}
		if value == "" {
			return badRequest("claim %s: empty: give the value (or glob) it must have", name)
		}
		if _, err := path.Match(value, ""); err != nil {
			return badRequest("claim %s=%s: not a valid pattern (path.Match syntax: * ? [a-z] \\): %v", name, value, err)
		}
	}
	var pinned []string
	for _, name := range identifyingClaims {
		value, ok := req.Claims[name]
		if !ok {
			continue
		}
		if owner, _, _ := strings.Cut(value, "/"); strings.ContainsAny(owner, `*?[\`) {
			return badRequest("claim %s=%s: the owner (the part before the first /, or the whole value) must be literal: a glob there trusts other owners' repositories", name, value)
		}
		pinned = append(pinned, name)
	}
	if len(pinned) == 0 {
		return badRequest("trust policy: pins none of %s: without one it trusts every repository of %s", strings.Join(identifyingClaims, ", "), req.Issuer)
	}
	return nil
}

// trustedIssuers names the issuers of the allow list in messages.
func (a *App) trustedIssuers() string {
	if a.oidc == nil || len(a.oidc.Issuers()) == 0 {
		return "it trusts none: custodyd --oidc-issuer adds one"
	}
	return "it trusts " + strings.Join(a.oidc.Issuers(), ", ")
}

// mismatch lists what of policy tp the verified token tok does not satisfy: "iss=<issuer>" when the
// policy is another issuer's, else each claim that fails as name=<the token's value>, or name
// (absent) when the token has no such text claim. Empty: the policy matches.
func mismatch(tp store.TrustPolicy, tok *oidc.Token) []string {
	if tp.Issuer != tok.Issuer {
		return []string{"iss=" + tok.Issuer}
	}
	var failed []string
	for _, name := range slices.Sorted(maps.Keys(tp.Claims)) {
		value, ok := tok.Claim(name)
		switch {
		case !ok:
			failed = append(failed, name+" (absent)")
		case !globMatch(tp.Claims[name], value):
			failed = append(failed, name+"="+shorten(value))
		}
	}
	return failed
}

// globMatch is path.Match; a malformed pattern (refused when the policy was added) matches nothing.
func globMatch(pattern, value string) bool {
	ok, err := path.Match(pattern, value)
	return err == nil && ok
}

// shorten bounds a claim value quoted in a message.
func shorten(s string) string {
	const max = 200
	if len(s) <= max {
		return s
	}
	return strings.ToValidUTF8(s[:max], "") + "…"
}

func toTrustPolicy(tp *store.TrustPolicy) wire.TrustPolicy {
	return wire.TrustPolicy{ID: tp.ID, Issuer: tp.Issuer, Claims: tp.Claims, CreatedAt: tp.CreatedAt}
}
