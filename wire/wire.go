// Package wire holds the JSON types of custody's control-plane API (/v1), shared by the server
// (controlplane/api) and the client (client). It imports nothing of custody's but contract names.
package wire

import (
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"
)

// ProblemType prefixes the type URI of every problem document.
const ProblemType = "https://custody.dev/problems/"

// Problem is an RFC 9457 problem document; Code is stable and machine-readable.
type Problem struct {
	Type   string `json:"type"`
	Title  string `json:"title"`
	Status int    `json:"status"`
	Detail string `json:"detail,omitempty"`
	Code   string `json:"code"`
}

// Stable problem codes.
const (
	CodeBadRequest         = "bad_request"
	CodeInvalidContract    = "invalid_contract"
	CodeUnauthenticated    = "unauthenticated"
	CodeForbidden          = "forbidden"
	CodeNotFound           = "not_found"
	CodeConflict           = "conflict"
	CodeStaleState         = "stale_state"
	CodeRunFinished        = "run_finished"
	CodeDigestMismatch     = "digest_mismatch"
	CodeTooLarge           = "too_large"
	CodeRequestTimeout     = "request_timeout"
	CodeUnverifiable       = "unverifiable_attestation"
	CodeContractUnmet      = "contract_not_satisfied"
	CodeInternal           = "internal"
	CodeUnsupportedMedia   = "unsupported_media_type"
	CodeMethodNotAllowed   = "method_not_allowed"
	CodeServiceUnavailable = "unavailable"

	// CodeMaterialNotClaimable: a pushed attestation says it uploaded a blob that no credential
	// allowed to give it to the run's workflow uploaded (docs/api.md, "Blobs and claims").
	CodeMaterialNotClaimable = "material_not_claimable"

	// CodeKeylessUnavailable: the control plane issues no certificates or timestamps (keyless signing
	// is off).
	CodeKeylessUnavailable = "keyless_unavailable"

	// CodeOIDCTokenInvalid: an ID token presented for exchange does not verify (signature, issuer not
	// allowed, audience, expiry, algorithm, unknown key).
	CodeOIDCTokenInvalid = "oidc_token_invalid"
	// CodeOIDCTokenReplayed: the ID token was exchanged before.
	CodeOIDCTokenReplayed = "oidc_token_replayed"
	// CodeTrustPolicyUnmatched: no trust policy of the workflow matches the ID token; the detail names
	// each claim that failed and its value.
	CodeTrustPolicyUnmatched = "trust_policy_unmatched"
	// CodeRunnerNotAuthenticated: a pushed attestation records its runner as authenticated, and the
	// pusher is not the CI job whose verified OIDC token that runner context names.
	CodeRunnerNotAuthenticated = "runner_not_authenticated"
)

// Project is a project.
type Project struct {
	ID        string    `json:"id"`
	Name      string    `json:"name"`
	CreatedAt time.Time `json:"createdAt"`
}

// CreateProject is the body of POST /v1/projects.
type CreateProject struct {
	Name string `json:"name"`
}

// Workflow is a workflow and its latest contract revision.
type Workflow struct {
	ID             string    `json:"id"`
	Project        string    `json:"project"`
	Name           string    `json:"name"`
	Description    string    `json:"description,omitempty"`
	ContractName   string    `json:"contractName"`
	LatestRevision int       `json:"latestRevision"`
	CreatedAt      time.Time `json:"createdAt"`
}

// CreateWorkflow is the body of POST /v1/projects/{project}/workflows. Contract is the contract's
// YAML or JSON; empty means the default contract (no materials).
type CreateWorkflow struct {
	Name        string `json:"name"`
	Description string `json:"description,omitempty"`
	Contract    string `json:"contract,omitempty"`
}

// ContractRevision is one revision of a workflow's contract, as uploaded.
type ContractRevision struct {
	Revision  int       `json:"revision"`
	Digest    string    `json:"digest"`
	Contract  string    `json:"contract"`
	CreatedAt time.Time `json:"createdAt"`
}

// UpdateContract is the body of POST .../contract: the next revision.
type UpdateContract struct {
	Contract string `json:"contract"`
}

// PublicKey is a key trusted for key-signed pushes.
type PublicKey struct {
	ID        string    `json:"id"`
	Hint      string    `json:"hint"`
	PEM       string    `json:"pem"`
	CreatedAt time.Time `json:"createdAt"`
}

// AddPublicKey is the body of POST .../keys.
type AddPublicKey struct {
	PEM string `json:"pem"`
}

// Token describes an API token (never its secret, except once in CreatedToken).
type Token struct {
	ID        string     `json:"id"`
	Name      string     `json:"name,omitempty"`
	Project   string     `json:"project,omitempty"`
	Workflow  string     `json:"workflow,omitempty"`
	Admin     bool       `json:"admin"`
	ExpiresAt *time.Time `json:"expiresAt,omitempty"`
	RevokedAt *time.Time `json:"revokedAt,omitempty"`
	CreatedAt time.Time  `json:"createdAt"`
}

// CreateToken is the body of POST /v1/tokens. ExpiresIn is a Go duration ("720h"); empty: never.
type CreateToken struct {
	Name      string `json:"name,omitempty"`
	Project   string `json:"project,omitempty"`
	Workflow  string `json:"workflow,omitempty"`
	Admin     bool   `json:"admin,omitempty"`
	ExpiresIn string `json:"expiresIn,omitempty"`
}

// CreatedToken is a new token with its secret, shown once.
type CreatedToken struct {
	Token
	Secret string `json:"secret"`
}

// WhoAmI describes the calling token.
type WhoAmI struct {
	Token
	Org string `json:"org"`
}

// Runner is the CI runner a run reports.
type Runner struct {
	Type string `json:"type,omitempty"`
	URL  string `json:"url,omitempty"`
}

// InitRun is the body of POST /v1/runs.
type InitRun struct {
	Project  string `json:"project"`
	Workflow string `json:"workflow"`
	// Revision pins a contract revision; 0 takes the latest.
	Revision int `json:"revision,omitempty"`
	// Contract creates the workflow with it when the workflow does not exist yet.
	Contract string `json:"contract,omitempty"`
	// DryRun checks everything and stores nothing.
	DryRun bool   `json:"dryRun,omitempty"`
	Runner Runner `json:"runner"`
	// RemoteState keeps the crafting state in the control plane.
	RemoteState bool `json:"remoteState,omitempty"`
	// Git is the branch and commit the run builds, as the runner context tells them.
	Git *GitRef `json:"git,omitempty"`
}

// GitRef is the branch and commit a run built; either may be unknown ("").
type GitRef struct {
	Branch string `json:"branch,omitempty"`
	Commit string `json:"commit,omitempty"`
}

// MaxGitBranch bounds a GitRef's branch, in bytes.
const MaxGitBranch = 1024

// CheckBranch says what is wrong with a branch: more than MaxGitBranch bytes, not UTF-8, a NUL.
func (g GitRef) CheckBranch() error {
	switch b := g.Branch; {
	case len(b) > MaxGitBranch:
		return fmt.Errorf("git.branch: %d bytes, at most %d", len(b), MaxGitBranch)
	case !utf8.ValidString(b):
		return errors.New("git.branch: not valid UTF-8")
	case strings.IndexByte(b, 0) >= 0:
		return fmt.Errorf("git.branch %q: holds a NUL byte", b)
	}
	return nil
}

// CheckCommit says what is wrong with a commit other than "": not 40 (SHA-1) or 64 (SHA-256)
// lowercase hex digits.
func (g GitRef) CheckCommit() error {
	if c := g.Commit; c != "" && (len(c) != 40 && len(c) != 64 || strings.Trim(c, "0123456789abcdef") != "") {
		return fmt.Errorf("git.commit %.80q: want 40 or 64 lowercase hex digits", c)
	}
	return nil
}

// Run is a workflow run.
type Run struct {
	ID                string     `json:"id"`
	Project           string     `json:"project"`
	Workflow          string     `json:"workflow"`
	WorkflowID        string     `json:"workflowID"`
	ContractRevision  int        `json:"contractRevision"`
	State             string     `json:"state"`
	Reason            string     `json:"reason,omitempty"`
	Runner            Runner     `json:"runner"`
	CreatedAt         time.Time  `json:"createdAt"`
	ExpiresAt         time.Time  `json:"expiresAt"`
	FinishedAt        *time.Time `json:"finishedAt,omitempty"`
	AttestationDigest string     `json:"attestationDigest,omitempty"`
	URL               string     `json:"url"`
	// Git is the branch and commit the run built, when its runner context or attestation told them.
	Git *GitRef `json:"git,omitempty"`
}

// InitializedRun answers POST /v1/runs.
type InitializedRun struct {
	Run      Run     `json:"run"`
	Contract string  `json:"contract"`
	DryRun   bool    `json:"dryRun,omitempty"`
	Signing  Signing `json:"signing"`
}

// Signing tells the CLI how the control plane accepts signatures.
type Signing struct {
	// KeyHints are the hints of the public keys trusted for this workflow.
	KeyHints []string `json:"keyHints"`
	// Keyless is true when the control plane issues signing certificates.
	Keyless bool `json:"keyless"`
}

// FinishRun is the body of POST /v1/runs/{id}/reset.
type FinishRun struct {
	// State is "failed" (default) or "cancelled".
	State  string `json:"state,omitempty"`
	Reason string `json:"reason,omitempty"`
}

// RemoteState is a run's crafting state kept by the control plane.
type RemoteState struct {
	// Digest is "sha256:<hex>" of State; "" when there is none.
	Digest string `json:"digest"`
	State  []byte `json:"state,omitempty"`
}

// PutRemoteState is the body of PUT /v1/runs/{id}/state: Base is the digest the change was based on.
type PutRemoteState struct {
	Base  string `json:"base"`
	State []byte `json:"state"`
}

// Attestation is a stored attestation.
type Attestation struct {
	Digest    string    `json:"digest"`
	RunID     string    `json:"runID"`
	Project   string    `json:"project"`
	Workflow  string    `json:"workflow"`
	CreatedAt time.Time `json:"createdAt"`
	// Git is the branch and commit of the attestation's run, when known (lists only).
	Git *GitRef `json:"git,omitempty"`
	// Mentions are the attestation's materials whose digest a search named (digest searches only).
	Mentions []Mention `json:"mentions,omitempty"`
}

// Mention is a material of an attestation that names a digest.
type Mention struct {
	Name string `json:"name"`
	Kind string `json:"kind"`
	// Subject: the material is an output, so the digest is a subject of the attestation's statement
	// (false for attestations stored before control planes recorded it).
	Subject bool `json:"subject,omitempty"`
}

// Pushed answers POST /v1/runs/{id}/attestation.
type Pushed struct {
	Digest  string `json:"digest"`
	Created bool   `json:"created"`
	RunURL  string `json:"runURL"`
	// PageURL is the run's page in custodyd's web UI, for people.
	PageURL string `json:"pageURL"`
}

// Blob answers a CAS upload.
type Blob struct {
	Digest string `json:"digest"`
	Size   int64  `json:"size"`
}

// DigestHeader carries a blob's digest: as a request header, or as a trailer when the client only
// knows it once the body is sent (it hashes while uploading).
const DigestHeader = "Custody-Digest"

// TokenPrefix starts every API token, so secret scanners can find leaked ones.
const TokenPrefix = "cst_"

// TokenPattern matches a token anywhere in a text: the prefix and 32 bytes in unpadded base64url
// (controlplane/auth makes them).
var TokenPattern = regexp.MustCompile(TokenPrefix + `[A-Za-z0-9_-]{43}`)

// RedactTokens returns s with every token in it redacted (RedactToken): a message that quotes what a
// user typed or a server said must not print a secret.
func RedactTokens(s string) string { return TokenPattern.ReplaceAllStringFunc(s, RedactToken) }

// RedactToken shows a token in messages: its prefix and first characters only.
func RedactToken(token string) string {
	if len(token) <= len(TokenPrefix)+4 {
		return TokenPrefix + "…"
	}
	return token[:len(TokenPrefix)+4] + "…"
}

// CertificateRequest is the body of POST /v1/runs/{id}/certificate: a PKCS #10 request, PEM
// ("CERTIFICATE REQUEST"), signed by the ephemeral key the certificate is for (its proof of
// possession).
type CertificateRequest struct {
	CSR string `json:"csr"`
}

// Certificate answers a certificate request: the chain, PEM, the leaf first, then the intermediate
// and the root; and what the leaf says.
type Certificate struct {
	Chain []string `json:"chain"`
	// Identity is the leaf's SAN URI, Issuer its Fulcio OIDC issuer extension.
	Identity  string    `json:"identity"`
	Issuer    string    `json:"issuer"`
	NotBefore time.Time `json:"notBefore"`
	NotAfter  time.Time `json:"notAfter"`
}

// Media types of the RFC 3161 timestamp protocol (POST /v1/timestamp) and of a trusted root
// (GET /v1/trusted-root).
const (
	TimestampQueryType = "application/timestamp-query"
	TimestampReplyType = "application/timestamp-reply"
	TrustedRootType    = "application/vnd.dev.sigstore.trustedroot+json;version=0.1"
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
