// Package store is the control plane's persistence: one repository interface, implemented on SQLite
// (embedded default) and PostgreSQL, with one set of versioned migrations.
package store

import (
	"context"
	"errors"
	"time"
)

// Errors every implementation returns, to be told apart with errors.Is.
var (
	// ErrNotFound: no such record.
	ErrNotFound = errors.New("not found")
	// ErrExists: a record with the same unique key exists.
	ErrExists = errors.New("already exists")
	// ErrStale: a compare-and-swap lost (remote state written since it was read).
	ErrStale = errors.New("stale")
)

// Org is an organization: the top scope of projects and tokens.
type Org struct {
	ID        string
	Name      string
	CreatedAt time.Time
}

// Project groups workflows.
type Project struct {
	ID        string
	OrgID     string
	Name      string
	CreatedAt time.Time
}

// Workflow is one pipeline, unique by name in its project, bound to a contract with numbered revisions.
type Workflow struct {
	ID          string
	ProjectID   string
	Name        string
	Description string
	CreatedAt   time.Time
}

// ContractRevision is one immutable revision of a workflow's contract, numbered from 1.
type ContractRevision struct {
	WorkflowID string
	Revision   int
	// Body is the contract as uploaded (YAML or JSON), kept byte for byte.
	Body []byte
	// Digest is "sha256:<hex>" of Body.
	Digest    string
	CreatedAt time.Time
}

// PublicKey is a key trusted for key-signed pushes of a workflow.
type PublicKey struct {
	ID         string
	WorkflowID string
	// PEM is the public key in PEM (a cosign.pub).
	PEM []byte
	// Hint is the key hint a bundle signed by it carries (attestation.KeyHint).
	Hint      string
	CreatedAt time.Time
}

// Token is an API token, stored only as the hash of its secret. Its scope is the narrowest of the
// IDs set: a workflow, else a project, else the org.
type Token struct {
	ID         string
	Name       string
	Hash       []byte // sha256 of the secret
	OrgID      string
	ProjectID  string // "" for an org-wide token
	WorkflowID string // "" unless scoped to one workflow
	Admin      bool
	ExpiresAt  time.Time // zero: never
	RevokedAt  time.Time // zero: not revoked
	CreatedAt  time.Time
	// WorkloadIssuer and WorkloadClaims are set on a credential exchanged for a CI's ID token
	// (a workload credential): the token's verified issuer and claims, its JSON payload byte for byte.
	WorkloadIssuer string
	WorkloadClaims []byte
}

// TrustPolicy lets the CI jobs whose ID token Issuer signed, with claims matching Claims (claim name
// to value or path.Match pattern), exchange it for a credential of the workflow.
type TrustPolicy struct {
	ID         string
	WorkflowID string
	Issuer     string
	Claims     map[string]string
	CreatedAt  time.Time
}

// IDTokenUse records that the ID token ID (its jti) of Issuer was exchanged; it is kept until the
// token expires, so the token is exchanged once, on every replica.
type IDTokenUse struct {
	Issuer    string
	ID        string
	ExpiresAt time.Time
}

// RunState is the state of a workflow run.
type RunState string

// The states of a run. A run starts initialized and ends in exactly one of the others.
const (
	RunInitialized RunState = "initialized"
	RunSucceeded   RunState = "succeeded"
	RunFailed      RunState = "failed"
	RunCancelled   RunState = "cancelled"
	RunExpired     RunState = "expired"
)

// Run is one run of a workflow, from init to push, reset or expiry.
type Run struct {
	ID               string
	WorkflowID       string
	ContractRevision int
	State            RunState
	Reason           string
	RunnerType       string
	RunnerURL        string
	CreatedAt        time.Time
	// ExpiresAt is when an initialized run becomes expired.
	ExpiresAt  time.Time
	FinishedAt time.Time // zero while initialized
	// AttestationDigest is set when the run succeeded.
	AttestationDigest string
	// RemoteState is the crafting state kept for the run (remote-state runs), and its digest.
	RemoteState       []byte
	RemoteStateDigest string
	// GitBranch and GitCommit are the branch and head commit the run built, as its runner context
	// or its attestation told them; "" when unknown.
	GitBranch string
	GitCommit string
}

// Attestation is a stored, verified bundle, addressed by the sha256 of its DSSE envelope.
type Attestation struct {
	Digest     string
	RunID      string
	WorkflowID string
	Bundle     []byte
	CreatedAt  time.Time
	// Materials index the attestation by the digests it mentions.
	Materials []MaterialRef
	// GitBranch and GitCommit are the run's, as the attestation records them: PutAttestation sets
	// those of the two that are not empty on the run.
	GitBranch string
	GitCommit string
}

// MaterialRef is one material digest an attestation mentions.
type MaterialRef struct {
	Digest string // "sha256:<hex>"
	Name   string
	Kind   string
	// Output: the material is an output of the run, so its digest is a subject of the statement.
	// Mentions indexed before schema migration 4 read as false.
	Output bool
	// Claimed: the attestation claims the blob of this digest (a file uploaded for it, by a
	// credential allowed to give it to the attestation's readers), so whoever may read the
	// attestation may read the blob. A mention that is not claimed opens nothing.
	Claimed bool
}

// BlobUpload records that a credential of a scope uploaded a blob. The CAS keeps one copy of the
// content; the store keeps one upload per digest and uploader scope.
type BlobUpload struct {
	Digest     string // "sha256:<hex>"
	OrgID      string
	ProjectID  string    // "" for an org-wide credential
	WorkflowID string    // "" unless the credential is scoped to one workflow
	CreatedAt  time.Time // the first upload by this scope
}

// Session is a signed-in session of the web UI. Its cookie holds a random id; the store keeps only the
// id's hash, and the token the session was opened with by its ID (never the token's secret), so every
// replica finds it and signing out ends it everywhere.
type Session struct {
	IDHash    []byte // sha256 of the session id
	TokenID   string
	CreatedAt time.Time
	ExpiresAt time.Time
}

// Position is a place in a list ordered newest first, by creation time and then key (a run's ID, an
// attestation's digest), both descending: the list goes on with the rows after it in that order.
type Position struct {
	CreatedAt time.Time
	Key       string
}

// RunFilter selects runs; empty fields do not filter.
type RunFilter struct {
	OrgID      string
	ProjectID  string
	WorkflowID string
	State      RunState
	RunnerType string
	Branch     string
	// After pages: the runs after this position; nil starts with the newest.
	After *Position
	Limit int // 0: a default of 50
}

// RunListing is a listed run, without its remote state, with its workflow's and project's names.
type RunListing struct {
	Run
	Workflow  string
	ProjectID string
	Project   string
}

// AttestationFilter selects attestations; empty fields do not filter.
type AttestationFilter struct {
	OrgID      string
	ProjectID  string
	WorkflowID string
	// Digest selects the attestations that mention it: a material's or a subject's digest.
	Digest string
	// After pages: the attestations after this position; nil starts with the newest.
	After *Position
	Limit int // 0: a default of 50
}

// AttestationListing is a listed attestation, without its bundle, with its workflow's and
// project's names and its run's git branch and commit. With a Digest filter its Materials are the
// mentions of that digest (by name); without one, none.
type AttestationListing struct {
	Attestation
	Workflow  string
	ProjectID string
	Project   string
}

// Store is the control plane's repository. Implementations are safe for concurrent use.
//
// Create and Add methods fill an empty ID with a random UUID and a zero CreatedAt from the store's
// clock, and normalize the times of the record in place to what reads back: UTC, to the microsecond.
// They return ErrExists when a unique key is taken and ErrNotFound when a record they refer to (org,
// project, workflow, contract revision) does not exist. Lists sort names in byte order and times
// newest first (runs, attestations) or oldest first (keys, tokens).
type Store interface {
	CreateOrg(ctx context.Context, o *Org) error
	GetOrgByName(ctx context.Context, name string) (*Org, error)

	CreateProject(ctx context.Context, p *Project) error
	GetProject(ctx context.Context, orgID, name string) (*Project, error)
	GetProjectByID(ctx context.Context, id string) (*Project, error)
	ListProjects(ctx context.Context, orgID string) ([]Project, error)

	// CreateWorkflow stores the workflow and its first contract revision in one transaction.
	CreateWorkflow(ctx context.Context, w *Workflow, first *ContractRevision) error
	GetWorkflow(ctx context.Context, projectID, name string) (*Workflow, error)
	GetWorkflowByID(ctx context.Context, id string) (*Workflow, error)
	ListWorkflows(ctx context.Context, projectID string) ([]Workflow, error)

	// AddContractRevision stores body as the next revision of the workflow's contract and returns it.
	AddContractRevision(ctx context.Context, workflowID string, body []byte, digest string, at time.Time) (*ContractRevision, error)
	// GetContractRevision returns revision n, or the latest for n == 0.
	GetContractRevision(ctx context.Context, workflowID string, n int) (*ContractRevision, error)
	// LatestRevisions returns the latest contract revision of each of a project's workflows, in no
	// particular order, without their bodies (GetContractRevision has them).
	LatestRevisions(ctx context.Context, projectID string) ([]ContractRevision, error)

	// AddPublicKey returns ErrExists if the workflow already trusts a key with the same Hint.
	AddPublicKey(ctx context.Context, k *PublicKey) error
	ListPublicKeys(ctx context.Context, workflowID string) ([]PublicKey, error)
	// RemovePublicKey stops trusting a workflow's key and returns it: ErrNotFound if the workflow
	// trusts no key of that ID.
	RemovePublicKey(ctx context.Context, workflowID, id string) (*PublicKey, error)

	CreateToken(ctx context.Context, t *Token) error
	GetTokenByHash(ctx context.Context, hash []byte) (*Token, error)
	// RevokeToken is idempotent: revoking a revoked token keeps the first time.
	RevokeToken(ctx context.Context, id string, at time.Time) error
	ListTokens(ctx context.Context, orgID string) ([]Token, error)

	// AddTrustPolicy stores a workflow's trust policy: ErrNotFound if the workflow does not exist.
	AddTrustPolicy(ctx context.Context, p *TrustPolicy) error
	// ListTrustPolicies lists a workflow's trust policies, oldest first.
	ListTrustPolicies(ctx context.Context, workflowID string) ([]TrustPolicy, error)
	// RemoveTrustPolicy deletes a workflow's trust policy and returns it: ErrNotFound if the
	// workflow has no policy of that ID.
	RemoveTrustPolicy(ctx context.Context, workflowID, id string) (*TrustPolicy, error)
	// CreateExchangedToken stores t, a credential exchanged for an ID token, and records the ID
	// token's use, in one transaction: ErrExists, and nothing stored, when the ID token (its issuer
	// and jti) was used before: a replay.
	CreateExchangedToken(ctx context.Context, t *Token, use *IDTokenUse) error
	// PruneIDTokenUses forgets the uses of ID tokens that expired before now, returning how many.
	PruneIDTokenUses(ctx context.Context, now time.Time) (int, error)

	CreateRun(ctx context.Context, r *Run) error
	GetRun(ctx context.Context, id string) (*Run, error)
	// ListRuns lists the runs f selects, newest first (by CreatedAt, then ID), without their remote
	// state (GetRun has it). Each filter is one index range: a page costs its rows, however deep.
	ListRuns(ctx context.Context, f RunFilter) ([]RunListing, error)
	// FinishRun moves an initialized run to state (failed or cancelled) with a reason; ErrStale if
	// the run is no longer initialized.
	FinishRun(ctx context.Context, id string, state RunState, reason string, at time.Time) error
	// ExpireRuns marks initialized runs whose ExpiresAt is before now as expired, returning how many.
	ExpireRuns(ctx context.Context, now time.Time) (int, error)
	// SetRemoteState replaces a run's remote state if its digest is still base ("" for none); ErrStale otherwise.
	SetRemoteState(ctx context.Context, runID, base string, state []byte, digest string) error

	// PutAttestation stores a verified attestation, indexes its materials and marks its run succeeded,
	// in one transaction. Storing the same digest again returns created=false and changes nothing.
	// ErrStale if the run is neither initialized nor succeeded with this digest; ErrNotFound if no run.
	PutAttestation(ctx context.Context, a *Attestation) (created bool, err error)
	GetAttestation(ctx context.Context, digest string) (*Attestation, error)
	// ListAttestations lists the attestations f selects, newest first (by CreatedAt, then Digest),
	// without bundles (GetAttestation has them): a page costs its rows, however deep.
	ListAttestations(ctx context.Context, f AttestationFilter) ([]AttestationListing, error)
	// ImportRuns stores runs as they are given (state, times, branch) and atts, the attestations of
	// those that succeeded, indexed as PutAttestation indexes them, in one transaction and a few
	// statements per thousand rows: how a restore, or a benchmark, loads many. It checks no state
	// transition; ErrExists or ErrNotFound as CreateRun and PutAttestation, and then nothing is stored.
	ImportRuns(ctx context.Context, runs []Run, atts []Attestation) error
	// BlobClaimed reports whether an attestation of one of the workflows claims the blob (a
	// MaterialRef with Claimed).
	BlobClaimed(ctx context.Context, digest string, workflowIDs []string) (bool, error)

	// AddBlobUpload records an upload. The same digest and scope again changes nothing: the first
	// time is kept. ErrNotFound if the org does not exist.
	AddBlobUpload(ctx context.Context, u *BlobUpload) error
	// ListBlobUploads lists the org's recorded uploads of the digests, by digest, then project, then
	// workflow.
	ListBlobUploads(ctx context.Context, orgID string, digests []string) ([]BlobUpload, error)

	// CreateSession stores a web UI session: ErrExists if its hash is taken, ErrNotFound if its token
	// does not exist.
	CreateSession(ctx context.Context, s *Session) error
	// GetSession returns the session whose id hashes to idHash, with the token it was opened with
	// (expired and revoked ones too: the caller decides), or ErrNotFound.
	GetSession(ctx context.Context, idHash []byte) (*Session, *Token, error)
	// DeleteSession ends a session; ending one that does not exist is not an error.
	DeleteSession(ctx context.Context, idHash []byte) error
	// PruneSessions deletes the sessions that expired before now, returning how many.
	PruneSessions(ctx context.Context, now time.Time) (int, error)

	Ping(ctx context.Context) error
	Close() error
}
