package crafting

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"

	"github.com/custody-dev/custody/attestation"
	"github.com/custody-dev/custody/attestation/satisfy"
	"github.com/custody-dev/custody/client"
	"github.com/custody-dev/custody/contract"
	"github.com/custody-dev/custody/signing"
	"github.com/custody-dev/custody/wire"
)

// Signer signs an in-toto statement and returns the Sigstore bundle's JSON.
type Signer interface {
	Sign(ctx context.Context, statement []byte) ([]byte, error)
}

// Destination stores a signed attestation: a file offline, the control plane online.
type Destination interface {
	Store(ctx context.Context, a *Pushed) error
}

// PushOptions finish a run.
type PushOptions struct {
	Signer Signer
	// Keyless, when Signer is nil, signs keyless: the control plane certifies a key made for this
	// signature and timestamps the signature (signing.KeylessSigner).
	Keyless     *client.Client
	Destination Destination
	// Annotations give values to the contract's run-level annotations.
	Annotations map[string]string
	// Authenticated, when set, resolves the credential the push stores with and returns the CI job
	// it was exchanged for (nil: a custody token). The predicate then records the runner as
	// authenticated by that job's verified OIDC token, which the control plane checks against the
	// runner context before it stores the attestation. Not asked for a dry run, nor on a runner
	// whose context the control plane does not check (AuthenticatedRunners).
	Authenticated func(ctx context.Context) (*CIJob, error)
}

// CIJob is the CI job a credential was exchanged for: the issuer and subject of the OIDC token the
// control plane verified.
type CIJob struct{ Issuer, Subject string }

// AuthenticatedRunners are the runners whose context the control plane checks against the claims
// of the CI's OIDC token (the repository, the run): the only ones a predicate records as
// authenticated.
var AuthenticatedRunners = []contract.RunnerType{contract.RunnerGitHubAction, contract.RunnerGitLabPipeline}

// Pushed is a signed attestation.
type Pushed struct {
	Statement []byte
	Bundle    []byte
	Predicate *attestation.Predicate
	State     *State
	// Digest is the attestation's digest: its DSSE envelope's.
	Digest string
	// Certificate is what the control plane certified, for a keyless signature; nil with a key.
	Certificate *wire.Certificate
}

// Push checks the contract is satisfied, renders the in-toto statement, signs it, hands it to the
// destination and then clears the state. Nothing is cleared unless the attestation was stored.
func (c *Crafter) Push(ctx context.Context, opts PushOptions) (*Pushed, error) {
	if opts.Signer == nil && opts.Keyless == nil || opts.Destination == nil {
		return nil, fmt.Errorf("push: a signer and a destination are required")
	}
	st, base, err := c.store.Load(ctx)
	if err != nil {
		return nil, fmt.Errorf("push: %w", err)
	}
	for _, a := range st.Contract.Spec.Annotations {
		if given, ok := opts.Annotations[a.Name]; ok && a.Value != "" && given != a.Value {
			return nil, inputErrorf("push: annotation %s is fixed to %q by the contract", a.Name, a.Value)
		}
	}
	p := c.predicate(st, opts.Annotations)
	if err := authenticate(ctx, st, p, opts.Authenticated); err != nil {
		return nil, err
	}
	subjects := attestation.SubjectsFrom(st.Materials)
	if u := unsatisfied(st, subjects, p); u != nil {
		return nil, u
	}
	statement, err := attestation.NewStatement(subjects, p)
	if err != nil {
		return nil, fmt.Errorf("push: render statement: %w", err)
	}
	payload, err := attestation.MarshalStatement(statement)
	if err != nil {
		return nil, fmt.Errorf("push: %w", err)
	}
	if err := attestation.CheckStatementSize(payload); err != nil {
		return nil, &InputError{Err: fmt.Errorf("push: %w: record fewer or shorter materials, annotations or environment values", err)}
	}
	signer, authority, err := pushSigner(st, opts)
	if err != nil {
		return nil, err
	}
	bundle, err := signer.Sign(ctx, payload)
	if err != nil {
		return nil, fmt.Errorf("push: sign: %w", err)
	}
	doc, err := attestation.Read(bundle)
	if err != nil {
		return nil, fmt.Errorf("push: read back the bundle: %w", err)
	}
	pushed := &Pushed{Statement: payload, Bundle: bundle, Predicate: p, State: st, Digest: doc.Envelope.Digest()}
	if authority != nil {
		pushed.Certificate = authority.Issued
	}
	if err := opts.Destination.Store(ctx, pushed); err != nil {
		return nil, fmt.Errorf("push: store attestation: %w", err)
	}
	if err := c.store.Delete(ctx, base); err != nil {
		return pushed, fmt.Errorf("push: attestation stored, but clearing the state in %s failed: %w", c.store.Location(), err)
	}
	return pushed, nil
}

// pushSigner returns the signer of a push: the one given, or a keyless signer whose key the control
// plane certifies for the run (which must be the control plane's: not a dry run).
func pushSigner(st *State, opts PushOptions) (Signer, *client.RunAuthority, error) {
	if opts.Signer != nil {
		return opts.Signer, nil, nil
	}
	if st.DryRun || st.RunID == "" {
		return nil, nil, inputErrorf("push: a dry run is not a run of the control plane, which certifies keyless keys for its runs only: sign it with --key")
	}
	authority := opts.Keyless.RunAuthority(st.RunID)
	signer, err := signing.NewKeylessSigner(authority, nil)
	if err != nil {
		return nil, nil, fmt.Errorf("push: %w", err)
	}
	return signer, authority, nil
}

// authenticate records the predicate's runner as authenticated when the push's credential was
// exchanged for the CI job's OIDC token, on a runner whose context the control plane checks.
func authenticate(ctx context.Context, st *State, p *attestation.Predicate, job func(context.Context) (*CIJob, error)) error {
	if job == nil || st.DryRun || st.Runner == nil || !slices.Contains(AuthenticatedRunners, contract.RunnerType(st.Runner.Type)) {
		return nil
	}
	j, err := job(ctx)
	if err != nil {
		return fmt.Errorf("push: %w", err)
	}
	if j == nil || j.Issuer == "" || j.Subject == "" {
		return nil
	}
	r := *st.Runner
	r.Authenticated, r.Issuer, r.Subject = true, j.Issuer, j.Subject
	p.Runner = &r
	return nil
}

// unsatisfied applies the rule the control plane applies before storing (attestation/satisfy) to
// the statement about to be signed: what it refuses is never signed.
func unsatisfied(st *State, subjects []attestation.Subject, p *attestation.Predicate) *UnsatisfiedError {
	var u *satisfy.Unsatisfied
	if !errors.As(satisfy.Check(&st.Contract, st.ContractRevision, subjects, p), &u) {
		return nil
	}
	e := &UnsatisfiedError{Op: "push", Materials: u.Missing, Annotations: u.Annotations, Problems: u.Problems}
	if u.More > 0 {
		e.Problems = append(e.Problems, fmt.Sprintf("and %d more problems", u.More))
	}
	return e
}

// predicate renders the run as the custody predicate.
func (c *Crafter) predicate(st *State, pushAnnotations map[string]string) *attestation.Predicate {
	annotations := map[string]string{}
	for _, a := range st.Contract.Spec.Annotations {
		annotations[a.Name] = a.Value
	}
	maps.Copy(annotations, pushAnnotations)
	if len(annotations) == 0 {
		annotations = nil
	}
	return &attestation.Predicate{
		Workflow: attestation.Workflow{
			Name: st.Workflow, Project: st.Project, RunID: st.RunID,
			ContractName: st.Contract.Metadata.Name, ContractRevision: st.ContractRevision,
		},
		Runner:        st.Runner,
		Git:           st.Git,
		Materials:     st.Materials,
		Annotations:   annotations,
		Env:           st.Env,
		InitializedAt: st.InitializedAt,
		FinishedAt:    c.now().UTC(),
		Builder:       attestation.Builder{ID: "https://custody.dev/cli", Version: c.version},
	}
}
