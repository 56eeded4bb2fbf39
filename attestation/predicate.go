// Package attestation models custody's in-toto statement and predicate, reads DSSE envelopes and
// Sigstore bundles, and verifies them.
package attestation

import (
	"time"

	"github.com/custody-dev/custody/contract"
)

// PredicateType is the in-toto predicate type of every custody attestation.
const PredicateType = "https://custody.dev/attestation/v1"

// Predicate is the body of a custody attestation: how a run of a workflow went and what it produced.
type Predicate struct {
	Workflow      Workflow          `json:"workflow"`
	Runner        *Runner           `json:"runner,omitempty"`
	Git           *Git              `json:"git,omitempty"`
	Materials     []Material        `json:"materials"`
	Annotations   map[string]string `json:"annotations,omitempty"`
	Env           map[string]string `json:"env,omitempty"`
	InitializedAt time.Time         `json:"initializedAt"`
	FinishedAt    time.Time         `json:"finishedAt"`
	Builder       Builder           `json:"builder"`
}

// Workflow identifies the workflow, its contract and the run.
type Workflow struct {
	Name             string `json:"name"`
	Project          string `json:"project"`
	RunID            string `json:"runID,omitempty"`
	ContractName     string `json:"contractName,omitempty"`
	ContractRevision int    `json:"contractRevision,omitempty"`
}

// Runner describes the CI runner the run happened on.
type Runner struct {
	Type string `json:"type"`
	// URL links to the job or pipeline run, when the runner tells it.
	URL string `json:"url,omitempty"`
	// Environment is what the runner said about itself (repository, ref, job, ...).
	Environment map[string]string `json:"environment,omitempty"`
	// Authenticated records that the control plane checked this context against the CI's OIDC
	// token: the push's credential was exchanged for a token of Issuer naming Subject, which the
	// control plane verified, and the context names that token's repository and run (docs/attestation.md).
	// The control plane refuses a push that claims it without such a credential.
	Authenticated bool `json:"authenticated,omitempty"`
	// Issuer and Subject are the verified token's iss and sub, set with Authenticated.
	Issuer  string `json:"issuer,omitempty"`
	Subject string `json:"subject,omitempty"`
}

// ClaimsAuthenticated reports whether the runner claims to be authenticated: Authenticated, or an
// issuer or subject, which only an authenticated runner has.
func (r *Runner) ClaimsAuthenticated() bool {
	return r != nil && (r.Authenticated || r.Issuer != "" || r.Subject != "")
}

// Git is the head of the workspace's git repository at init.
type Git struct {
	Commit      string      `json:"commit"`
	AuthorName  string      `json:"authorName,omitempty"`
	AuthorEmail string      `json:"authorEmail,omitempty"`
	Date        time.Time   `json:"date"`
	Message     string      `json:"message,omitempty"`
	Remotes     []GitRemote `json:"remotes,omitempty"`
}

// GitRemote is a remote of the repository, its URL stripped of credentials.
type GitRemote struct {
	Name string `json:"name"`
	URL  string `json:"url"`
}

// Builder names the tool that produced the attestation.
type Builder struct {
	ID      string `json:"id"`
	Version string `json:"version"`
}

// Material is one piece of evidence as it was recorded: in the workspace state and in the predicate.
type Material struct {
	Name string        `json:"name"`
	Kind contract.Kind `json:"kind"`
	// Value is the string for STRING, the resolved reference (repository@digest) for an image,
	// and the file's base name for file kinds.
	Value string `json:"value"`
	// Digest is "sha256:<hex>" of the file's bytes or the image's manifest; empty for STRING.
	Digest      string            `json:"digest,omitempty"`
	Output      bool              `json:"output,omitempty"`
	Annotations map[string]string `json:"annotations,omitempty"`
	File        *File             `json:"file,omitempty"`
	Image       *Image            `json:"image,omitempty"`
	// Validated records what validation established (format, spec version, counts, tool ...).
	Validated map[string]string `json:"validated,omitempty"`
	AddedAt   time.Time         `json:"addedAt"`
}

// File describes a file material.
type File struct {
	Name string `json:"name"`
	Size int64  `json:"size"`
	// Uploaded is true once the bytes are in the control plane's content-addressed store.
	Uploaded bool `json:"uploaded,omitempty"`
}

// Image describes a container image material.
type Image struct {
	// Repository is the fully qualified repository (registry/namespace/name).
	Repository string `json:"repository"`
	Tag        string `json:"tag,omitempty"`
	Digest     string `json:"digest"`
	// Source is "registry" or "oci-layout".
	Source string `json:"source"`
}
