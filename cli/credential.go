package cli

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"time"

	"github.com/custody-dev/custody/client"
	"github.com/custody-dev/custody/crafting"
	"github.com/custody-dev/custody/internal/atomicfile"
	"github.com/custody-dev/custody/internal/input"
	"github.com/custody-dev/custody/runner"
	"github.com/custody-dev/custody/wire"
)

// CredentialError is a command that could not get a credential for the control plane: the runner
// gives no OIDC token, or the one it gave was already exchanged for a credential that no longer
// serves. The message says what to change.
type CredentialError struct{ Err error }

func (e *CredentialError) Error() string { return e.Err.Error() }
func (e *CredentialError) Unwrap() error { return e.Err }

// credentialSuffix names the credential kept beside a state file.
const credentialSuffix = ".credential"

// maxKeptCredential bounds the kept credential custody reads: a token and a few names.
const maxKeptCredential = 64 << 10

// credentialMargin is how long before its expiry a kept credential stops serving: a push that
// starts with it must finish with it.
const credentialMargin = 30 * time.Second

// keptCredential is the credential an OIDC exchange gave, kept beside the state (mode 0600) so the
// steps of one job (init, add, push) use one exchange. It is never printed.
type keptCredential struct {
	ControlPlane string    `json:"controlPlane"`
	Project      string    `json:"project"`
	Workflow     string    `json:"workflow"`
	Token        string    `json:"token"`
	ExpiresAt    time.Time `json:"expiresAt"`
	Issuer       string    `json:"issuer,omitempty"`
	Subject      string    `json:"subject,omitempty"`
	ExchangedAt  time.Time `json:"exchangedAt"`
	// IDToken is the digest of the ID token exchanged (never the token): the same token again is
	// a replay the control plane refuses.
	IDToken string `json:"idToken"`
	// Job is the digest of the runner context of the job that exchanged it: a workspace a later job
	// reuses (a self-hosted runner) does not hand that job another job's identity.
	Job string `json:"job"`
}

// runScope is the workflow a credential is exchanged for.
type runScope struct{ project, workflow string }

func (s runScope) known() bool { return s.project != "" && s.workflow != "" }

// oidcCredential gets a command's credential from the runner's OIDC token on first use: the kept
// credential while it serves this control plane and workflow, else an exchange, kept for the next
// steps. A runner that gives this job no token falls back to the config file's token.
type oidcCredential struct {
	g      *globals
	url    string
	source runner.TokenSource
	// path is the kept credential's file.
	path string
	// scope resolves the workflow: init's flags, else the state's, else CUSTODY_PROJECT and
	// CUSTODY_WORKFLOW; a zero scope when none is known.
	scope func(context.Context) runScope
	// fallback is the config file's token.
	fallback string
	// job identifies the job (jobDigest).
	job string

	// mu guards the credential once had: a command uses one.
	mu  sync.Mutex
	got string
	// exchanged is the CI job the credential was exchanged for; nil for the config file's token.
	exchanged *crafting.CIJob
}

// jobDigest identifies a job by its runner context: type, run URL and the variables recorded.
func jobDigest(rc runner.Context) string {
	h := sha256.New()
	fmt.Fprintf(h, "%s\n%s\n", rc.Type, rc.URL)
	for _, k := range slices.Sorted(maps.Keys(rc.Environment)) {
		fmt.Fprintf(h, "%s=%q\n", k, rc.Environment[k])
	}
	return "sha256:" + hex.EncodeToString(h.Sum(nil))
}

// token returns the command's credential, the same one at every call once had.
func (o *oidcCredential) token(ctx context.Context) (string, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.got != "" {
		return o.got, nil
	}
	tok, exchanged, err := o.resolve(ctx)
	if err != nil {
		return "", err
	}
	o.got, o.exchanged = tok, exchanged
	return tok, nil
}

// ciJob returns the CI job the command's credential was exchanged for (getting it first), or nil
// when it is the config file's token: the job a pushed predicate records its runner as
// authenticated by.
func (o *oidcCredential) ciJob(ctx context.Context) (*crafting.CIJob, error) {
	if _, err := o.token(ctx); err != nil {
		return nil, err
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.exchanged, nil
}

// resolve gets the credential: the kept one while it serves, else an exchange of the runner's
// token, else the config file's; and the CI job an exchanged one names.
func (o *oidcCredential) resolve(ctx context.Context) (string, *crafting.CIJob, error) {
	now := time.Now()
	if o.g.env.Now != nil {
		now = o.g.env.Now()
	}
	sc := o.scope(ctx)
	kept := readKeptCredential(ctx, o.path)
	if kept != nil && kept.Job != o.job {
		kept = nil // another job's: never used, replaced by this job's exchange
	}
	if kept != nil && kept.ControlPlane == o.url && now.Add(credentialMargin).Before(kept.ExpiresAt) &&
		(!sc.known() || sc == runScope{kept.Project, kept.Workflow}) {
		if err := o.g.mask(kept.Token); err != nil { // each step's log is masked on its own
			return "", nil, err
		}
		return kept.Token, kept.ciJob(), nil
	}
	if !sc.known() {
		if o.fallback != "" {
			return o.fallback, nil, nil
		}
		return "", nil, &CredentialError{Err: fmt.Errorf("no token for the control plane at %s: the runner's OIDC token is exchanged "+
			"for one workflow, and none is known here: run custody attestation init --workflow W --project P first, set "+
			"CUSTODY_WORKFLOW and CUSTODY_PROJECT, or pass --token", o.url)}
	}
	idToken, err := o.source.Token(ctx)
	if errors.Is(err, runner.ErrNoToken) && o.fallback != "" {
		return o.fallback, nil, nil
	}
	if err != nil {
		return "", nil, &CredentialError{Err: err}
	}
	if err := o.g.mask(idToken); err != nil {
		return "", nil, err
	}
	idDigest := idTokenDigest(idToken)
	if kept != nil && kept.IDToken == idDigest {
		return "", nil, &CredentialError{Err: reused(kept, sc, now)}
	}
	public, err := o.g.newClient(o.url, "")
	if err != nil {
		return "", nil, err
	}
	ex, err := public.ExchangeOIDC(ctx, wire.ExchangeOIDC{Token: idToken, Project: sc.project, Workflow: sc.workflow})
	if client.Code(err) == wire.CodeTrustPolicyUnmatched {
		return "", nil, fmt.Errorf("%w; custody workflow trust list %s --project %s shows the workflow's policies", err, sc.workflow, sc.project)
	}
	if err != nil {
		return "", nil, err
	}
	if !wire.TokenPattern.MatchString(ex.Token) || len(ex.Token) != len(wire.TokenPrefix)+43 || ex.ExpiresAt.IsZero() {
		return "", nil, fmt.Errorf("exchange the OIDC token: the control plane's answer holds no custody token with its expiry")
	}
	if err := o.g.mask(ex.Token); err != nil {
		return "", nil, err
	}
	k := keptCredential{ControlPlane: o.url, Project: sc.project, Workflow: sc.workflow, Token: ex.Token, ExpiresAt: ex.ExpiresAt,
		Issuer: ex.Issuer, Subject: ex.Subject, ExchangedAt: now.UTC(), IDToken: idDigest, Job: o.job}
	o.keep(k)
	return ex.Token, k.ciJob(), nil
}

// ciJob is the CI job the credential was exchanged for, as the control plane answered; nil when
// the answer named none (a credential kept by an older custody).
func (k *keptCredential) ciJob() *crafting.CIJob {
	if k.Issuer == "" || k.Subject == "" {
		return nil
	}
	return &crafting.CIJob{Issuer: k.Issuer, Subject: k.Subject}
}

// idTokenDigest is what is kept of an ID token: its digest.
func idTokenDigest(idToken string) string {
	sum := sha256.Sum256([]byte(idToken))
	return "sha256:" + hex.EncodeToString(sum[:])
}

// reused says why a token exchanged once cannot serve again.
func reused(kept *keptCredential, sc runScope, now time.Time) error {
	if sc != (runScope{kept.Project, kept.Workflow}) {
		return fmt.Errorf("this job's OIDC token was exchanged at %s for workflow %s of project %s, and the control plane "+
			"exchanges a token once: attest workflow %s of project %s in another job", kept.ExchangedAt.Format(time.RFC3339),
			kept.Workflow, kept.Project, sc.workflow, sc.project)
	}
	expiry := "expired at " + kept.ExpiresAt.UTC().Format(time.RFC3339)
	if kept.ExpiresAt.After(now) {
		expiry = fmt.Sprintf("expires at %s, in less than %s: too soon for this step", kept.ExpiresAt.UTC().Format(time.RFC3339), credentialMargin)
	}
	return fmt.Errorf("the credential this job's OIDC token was exchanged for %s, and the control plane exchanges a token once: "+
		"run the job's custody steps within the credential's lifetime, or split them across jobs (each job gets a token of its own)", expiry)
}

// keep writes the credential beside the state, mode 0600. A credential that cannot be kept still
// serves this command; the next step exchanges again.
func (o *oidcCredential) keep(k keptCredential) {
	b, err := json.MarshalIndent(k, "", "  ")
	if err == nil {
		if err = os.MkdirAll(filepath.Dir(o.path), 0o755); err == nil {
			err = atomicfile.Write(o.path, append(b, '\n'), 0o600)
		}
	}
	if err != nil {
		o.g.warn("the credential exchanged for the runner's OIDC token could not be kept in %s: the next step exchanges a token again: %v", o.path, err)
	}
}

// readKeptCredential reads the kept credential; nil when there is none or it cannot be read (an
// exchange then replaces it).
func readKeptCredential(ctx context.Context, path string) *keptCredential {
	b, err := input.ReadFile(ctx, path, maxKeptCredential)
	if err != nil {
		return nil
	}
	var k keptCredential
	if json.Unmarshal(b, &k) != nil || k.Token == "" {
		return nil
	}
	return &k
}

// forgetCredential removes the credential kept beside the state, once the state is cleared.
func (g *globals) forgetCredential() {
	if g.credentialPath == "" {
		return
	}
	if err := os.Remove(g.credentialPath); err != nil && !errors.Is(err, fs.ErrNotExist) {
		g.warn("remove the kept credential %s: %v", g.credentialPath, err)
	}
}

// craftingScope resolves the workflow of a crafting command: init's flags, else the workspace's
// state, else CUSTODY_PROJECT and CUSTODY_WORKFLOW.
func (g *globals) craftingScope(store *crafting.FileStore) func(context.Context) runScope {
	return func(ctx context.Context) runScope {
		if g.initScope.known() {
			return g.initScope
		}
		if st, _, err := store.Load(ctx); err == nil {
			return runScope{st.Project, st.Workflow}
		}
		return runScope{g.env.Getenv("CUSTODY_PROJECT"), g.env.Getenv("CUSTODY_WORKFLOW")}
	}
}
