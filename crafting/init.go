package crafting

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"sort"
	"strings"

	"github.com/custody-dev/custody/attestation"
	"github.com/custody-dev/custody/contract"
	"github.com/custody-dev/custody/wire"
)

// InitOptions start a run.
type InitOptions struct {
	Workflow string
	Project  string
	// Contract is the workflow's contract at Revision (0 for a local contract file).
	Contract *contract.Contract
	Revision int
	// RunID is the control plane's run id; "" generates a local one.
	RunID string
	// DryRun records the run without failing on a runner or environment the contract does not get.
	DryRun bool
	// Replace discards a run in progress instead of refusing.
	Replace bool
}

// Init starts a run: checks the runner the contract demands, records the runner context, the
// allowed environment and the git head, and saves the state.
func (c *Crafter) Init(ctx context.Context, opts InitOptions) (*State, error) {
	if opts.Workflow == "" || opts.Project == "" {
		return nil, inputErrorf("init: a workflow and a project are required")
	}
	if opts.Contract == nil {
		return nil, inputErrorf("init: no contract: give one with --contract FILE")
	}
	_, base, err := c.runInProgress(ctx, opts.Replace)
	if err != nil {
		return nil, err
	}

	rc := c.runner
	unsatisfied := &UnsatisfiedError{Op: "init"}
	switch want := opts.Contract.Spec.Runner; {
	case want != nil && (want.Type != rc.Type || len(rc.Missing) > 0):
		unsatisfied.RunnerWant, unsatisfied.Runner = string(want.Type), string(rc.Type)
		if want.Type == rc.Type {
			unsatisfied.RunnerMissing = rc.Missing
		}
	case len(rc.Missing) > 0:
		c.warn(fmt.Sprintf("%s does not set %s here: the attestation records the runner without them", rc.Name, strings.Join(rc.Missing, ", ")))
	}
	env := map[string]string{}
	for _, name := range opts.Contract.Spec.EnvAllowList {
		if v, ok := lookup(c.getenv, name); ok {
			if reason, secret := secretValue(v); secret {
				return nil, inputErrorf("init: the contract's envAllowList names %s, which holds %s: custody never records "+
					"credentials in an attestation; remove %s from envAllowList or keep the credential in another variable", name, reason, name)
			}
			env[name] = v
		} else {
			unsatisfied.Env = append(unsatisfied.Env, name)
		}
	}
	if !opts.DryRun && (unsatisfied.RunnerWant != "" || len(unsatisfied.Env) > 0) {
		return nil, unsatisfied
	}
	head, err := gitHead(c.workdir)
	if err != nil && !opts.DryRun {
		return nil, fmt.Errorf("init: %w", err)
	}

	runID := opts.RunID
	if runID == "" {
		if runID, err = newRunID(); err != nil {
			return nil, err
		}
	}
	st := &State{
		Version:          StateVersion,
		RunID:            runID,
		Workflow:         opts.Workflow,
		Project:          opts.Project,
		Contract:         *opts.Contract,
		ContractRevision: opts.Revision,
		DryRun:           opts.DryRun,
		InitializedAt:    c.now().UTC(),
		Git:              head,
		CLIVersion:       c.version,
	}
	if len(env) > 0 {
		st.Env = env
	}
	if rc.Detected() {
		st.Runner = &attestation.Runner{Type: string(rc.Type), URL: rc.URL, Environment: rc.Environment}
	}
	if _, err := c.store.Save(ctx, st, base); err != nil {
		if errors.Is(err, ErrStale) {
			return nil, fmt.Errorf("init: %w in %s (started while this init ran)", ErrRunInProgress, c.store.Location())
		}
		return nil, fmt.Errorf("init: save state to %s: %w", c.store.Location(), err)
	}
	return st, nil
}

// runInProgress checks the store holds no run, or that replace allows discarding it, and returns
// the run to discard (nil when there is none, or it cannot be read) and the digest to replace.
func (c *Crafter) runInProgress(ctx context.Context, replace bool) (old *State, base string, err error) {
	old, base, err = c.store.Load(ctx)
	switch {
	case errors.Is(err, ErrNoState):
		return nil, "", nil
	case err != nil && !replace:
		return nil, "", fmt.Errorf("init: %w (use --replace to start over)", err)
	case err != nil:
		base, err = c.rawDigest(ctx)
		return nil, base, err
	case !replace:
		return nil, "", fmt.Errorf("init: %w in %s: push or reset it first, or use --replace to discard it", ErrRunInProgress, c.store.Location())
	}
	return old, base, nil
}

// rawDigest is the digest of a state that exists but cannot be read, so --replace can overwrite it.
func (c *Crafter) rawDigest(ctx context.Context) (string, error) {
	if r, ok := c.store.(interface {
		rawDigest(context.Context) (string, error)
	}); ok {
		return r.rawDigest(ctx)
	}
	return "", errors.New("the state in progress cannot be read")
}

// lookup distinguishes an unset variable from an empty one where getenv allows (it does not: an
// empty value counts as unset, as in CI systems that blank masked variables).
func lookup(getenv func(string) string, name string) (string, bool) {
	v := getenv(name)
	return v, v != ""
}

// sortedKeys returns m's keys in order, for deterministic messages.
func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// secretValue reports whether v, the value of a variable envAllowList names, holds one of custody's
// own credentials, whatever the variable is called: a custody API token, or a private key in PEM (a
// cosign key handed to push as env://VAR under any name). reason says which. Init refuses to record
// one, as the contract refuses the names of contract.SecretEnv.
func secretValue(v string) (reason string, ok bool) {
	switch {
	case wire.TokenPattern.MatchString(v):
		return "a custody API token", true
	case privateKeyPEM.MatchString(v):
		return "a private key", true
	}
	return "", false
}

// privateKeyPEM starts a PEM private key: PKCS #8, EC, RSA, OpenSSH, cosign's encrypted ones.
var privateKeyPEM = regexp.MustCompile(`-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----`)
