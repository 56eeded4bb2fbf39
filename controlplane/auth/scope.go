package auth

import (
	"time"

	"github.com/custody-dev/custody/controlplane/store"
)

// Principal is who calls: a verified token, whose scope says what the request may do, and, when the
// token was exchanged for a CI's ID token, the workload that token identified (its issuer and
// verified claims). Workloads are authorized by the same scope rules; Kind tells them apart where
// what is certified differs (the identity in a keyless certificate).
type Principal struct {
	Token store.Token
	// Workload is the CI job a workload credential was exchanged for; nil for other tokens.
	Workload *Workload
}

// Kind is the kind of identity a principal is.
type Kind string

const (
	// KindToken is a principal holding a control-plane token.
	KindToken Kind = "token"
	// KindWorkload is a CI job holding a credential exchanged for its verified OIDC ID token.
	KindWorkload Kind = "workload"
)

// Kind returns the kind of identity p is.
func (p Principal) Kind() Kind {
	if p.Workload != nil {
		return KindWorkload
	}
	return KindToken
}

// Check reports why a token cannot be used at now, or nil.
func Check(t *store.Token, now time.Time) error {
	switch {
	case !t.RevokedAt.IsZero():
		return ErrRevoked
	case !t.ExpiresAt.IsZero() && !now.Before(t.ExpiresAt):
		return ErrExpired
	}
	return nil
}

// Admin reports whether the principal may manage its org: projects, workflows, contracts, keys, tokens.
func (p Principal) Admin() bool { return p.Token.Admin }

// Org reports whether the principal belongs to org.
func (p Principal) Org(orgID string) bool { return p.Token.OrgID == orgID }

// OrgWide reports whether the token is scoped to its whole org (no project, no workflow).
func (p Principal) OrgWide() bool { return p.Token.ProjectID == "" && p.Token.WorkflowID == "" }

// Project reports whether the principal may read and act on everything in a project: an org-wide
// token of the project's org, or a project token of that project. Workflow tokens may not.
func (p Principal) Project(orgID, projectID string) bool {
	return p.Org(orgID) && p.Token.WorkflowID == "" && (p.Token.ProjectID == "" || p.Token.ProjectID == projectID)
}

// SeesProject reports whether the principal may know a project exists: an org-wide token sees every
// project of its org, a project or workflow token its own. What a principal may not see is answered
// like what does not exist.
func (p Principal) SeesProject(orgID, projectID string) bool {
	return p.Org(orgID) && (p.Token.ProjectID == "" || p.Token.ProjectID == projectID)
}

// Workflow reports whether the principal may run (init, add, push, reset) a workflow, and so see it.
func (p Principal) Workflow(orgID, projectID, workflowID string) bool {
	if !p.Org(orgID) {
		return false
	}
	if p.Token.WorkflowID != "" {
		return p.Token.WorkflowID == workflowID && (p.Token.ProjectID == "" || p.Token.ProjectID == projectID)
	}
	return p.Token.ProjectID == "" || p.Token.ProjectID == projectID
}
