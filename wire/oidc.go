package wire

import "time"

// The OIDC exchange of issue 8 (docs/api.md). This file holds the client's copy of the types the
// server side declares in wire.go; the two are folded into wire.go at merge.

// Problem codes of the OIDC exchange.
const (
	// CodeOIDCTokenInvalid: the ID token's signature, issuer, audience, expiry or algorithm is refused (401).
	CodeOIDCTokenInvalid = "oidc_token_invalid"
	// CodeOIDCTokenReplayed: the ID token (its jti) was exchanged before (401).
	CodeOIDCTokenReplayed = "oidc_token_replayed"
	// CodeTrustPolicyUnmatched: no trust policy of the workflow matches the token's claims (403).
	CodeTrustPolicyUnmatched = "trust_policy_unmatched"
)

// ExchangeOIDC is the body of POST /v1/auth/oidc (public: no bearer token).
type ExchangeOIDC struct {
	Token    string `json:"token"` // the CI's OIDC ID token (a JWT)
	Project  string `json:"project"`
	Workflow string `json:"workflow"`
}

// Exchanged answers it: a control-plane credential scoped to that workflow only.
type Exchanged struct {
	Token     string    `json:"token"`     // cst_..., shown once
	ExpiresAt time.Time `json:"expiresAt"` // at most 15 minutes after the exchange, never after the ID token's exp
	Project   string    `json:"project"`
	Workflow  string    `json:"workflow"`
	Issuer    string    `json:"issuer"`
	Subject   string    `json:"subject"`
}

// TrustPolicy is a workflow's OIDC trust policy (GET/POST /v1/projects/{p}/workflows/{w}/trust, DELETE .../trust/{id}).
type TrustPolicy struct {
	ID        string            `json:"id,omitempty"`
	Issuer    string            `json:"issuer"`
	Claims    map[string]string `json:"claims"` // claim name -> value or glob (path.Match syntax)
	CreatedAt time.Time         `json:"createdAt,omitempty"`
}
