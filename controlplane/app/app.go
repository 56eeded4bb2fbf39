// Package app holds the control plane's use cases: every operation authorizes its principal, checks its
// input and works through the store and the CAS. HTTP lives in controlplane/api; this package knows none.
package app

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"runtime"
	"strings"
	"time"

	"github.com/custody-dev/custody/attestation"
	"github.com/custody-dev/custody/cas"
	"github.com/custody-dev/custody/contract"
	"github.com/custody-dev/custody/controlplane/auth"
	"github.com/custody-dev/custody/controlplane/oidc"
	"github.com/custody-dev/custody/controlplane/store"
	"github.com/custody-dev/custody/internal/budget"
)

// DefaultOrg is the organization a fresh control plane creates.
const DefaultOrg = "default"

// Config wires an App.
type Config struct {
	Store store.Store
	CAS   cas.Backend
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// RunTTL is how long a run may stay initialized before it expires; 0 means 24h.
	RunTTL time.Duration
	// BaseURL is the control plane's external URL, for links (run URLs).
	BaseURL string
	Logger  *slog.Logger
	// PushBudget bounds the bundle bytes verified and stored at once (see pushBudget); 0 means
	// DefaultPushBudget().
	PushBudget int64
	// Keyless, when set, makes the control plane a CA and timestamp authority for keyless signing.
	Keyless *Keyless
	// OIDC verifies the CI ID tokens exchanged for workflow credentials (POST /v1/auth/oidc); nil
	// refuses every exchange.
	OIDC *oidc.Verifier
}

// App is the control plane's use cases.
type App struct {
	store   store.Store
	cas     cas.Backend
	now     func() time.Time
	runTTL  time.Duration
	baseURL string
	log     *slog.Logger
	// contracts caches parsed contract revisions by digest, verifiers trusted keys by id.
	contracts cache[*contract.Contract]
	verifiers cache[*attestation.Verifier]
	pushes    *budget.Budget
	keyless   *keyless
	oidc      *oidc.Verifier
}

// DefaultPushBudget is as many of the largest bundles as there are CPUs but one (at least one): the
// largest pushes leave a CPU to every other request (another project's init waits for no push), and
// small pushes, holding 64 KiB each, run side by side.
func DefaultPushBudget() int64 {
	return int64(max(1, runtime.GOMAXPROCS(0)-1)) * attestation.MaxBundleSize
}

// New returns an App.
func New(cfg Config) (*App, error) {
	if cfg.Store == nil || cfg.CAS == nil {
		return nil, errors.New("app: a store and a CAS are required")
	}
	a := &App{store: cfg.Store, cas: cfg.CAS, now: cfg.Now, runTTL: cfg.RunTTL,
		baseURL: strings.TrimRight(cfg.BaseURL, "/"), log: cfg.Logger, oidc: cfg.OIDC}
	if a.now == nil {
		a.now = time.Now
	}
	if a.runTTL == 0 {
		a.runTTL = 24 * time.Hour
	}
	if a.log == nil {
		a.log = slog.New(slog.DiscardHandler)
	}
	budget := cfg.PushBudget
	if budget <= 0 {
		budget = DefaultPushBudget()
	}
	a.pushes = newPushBudget(budget)
	var err error
	if a.keyless, err = newKeyless(cfg.Keyless, a.baseURL); err != nil {
		return nil, err
	}
	return a, nil
}

// Bootstrap creates the default org on first start and, when the org has no admin token, an admin
// token it returns (once: it is never stored in clear).
func (a *App) Bootstrap(ctx context.Context) (adminToken string, err error) {
	org, err := a.store.GetOrgByName(ctx, DefaultOrg)
	if errors.Is(err, store.ErrNotFound) {
		org = &store.Org{ID: newID(), Name: DefaultOrg, CreatedAt: a.now().UTC()}
		if err := a.store.CreateOrg(ctx, org); err != nil && !errors.Is(err, store.ErrExists) {
			return "", fmt.Errorf("bootstrap: create org: %w", err)
		}
		if org, err = a.store.GetOrgByName(ctx, DefaultOrg); err != nil {
			return "", fmt.Errorf("bootstrap: %w", err)
		}
	} else if err != nil {
		return "", fmt.Errorf("bootstrap: %w", err)
	}
	tokens, err := a.store.ListTokens(ctx, org.ID)
	if err != nil {
		return "", fmt.Errorf("bootstrap: %w", err)
	}
	for _, t := range tokens {
		if t.Admin && auth.Check(&t, a.now()) == nil {
			return "", nil
		}
	}
	secret, hash, err := auth.NewToken()
	if err != nil {
		return "", err
	}
	t := &store.Token{ID: newID(), Name: "bootstrap admin", Hash: hash, OrgID: org.ID, Admin: true, CreatedAt: a.now().UTC()}
	if err := a.store.CreateToken(ctx, t); err != nil {
		return "", fmt.Errorf("bootstrap: create admin token: %w", err)
	}
	return secret, nil
}

// Authenticate resolves a bearer token to its principal.
func (a *App) Authenticate(ctx context.Context, bearer string) (auth.Principal, error) {
	if bearer == "" {
		return auth.Principal{}, unauthenticated("no token: pass one with --token or CUSTODY_TOKEN")
	}
	hash, err := auth.Parse(bearer)
	if err != nil {
		return auth.Principal{}, unauthenticated(err.Error())
	}
	t, err := a.store.GetTokenByHash(ctx, hash)
	if errors.Is(err, store.ErrNotFound) {
		return auth.Principal{}, unauthenticated("unknown token")
	}
	if err != nil {
		return auth.Principal{}, fmt.Errorf("authenticate: %w", err)
	}
	if err := auth.Check(t, a.now()); err != nil {
		return auth.Principal{}, unauthenticated(err.Error())
	}
	w, err := auth.WorkloadOf(t)
	if err != nil {
		return auth.Principal{}, fmt.Errorf("authenticate: %w", err)
	}
	return auth.Principal{Token: *t, Workload: w}, nil
}

// Ready checks the store and the CAS answer.
func (a *App) Ready(ctx context.Context) error {
	if err := a.store.Ping(ctx); err != nil {
		return fmt.Errorf("store: %w", err)
	}
	if _, err := a.cas.Stat(ctx, cas.NewDigest(make([]byte, 32))); err != nil && !errors.Is(err, cas.ErrNotFound) {
		return fmt.Errorf("cas %s: %w", a.cas.Location(), err)
	}
	return nil
}

// ExpireRuns marks overdue runs expired.
func (a *App) ExpireRuns(ctx context.Context) (int, error) {
	return a.store.ExpireRuns(ctx, a.now().UTC())
}

// newID returns a random UUID (version 4).
func newID() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand never fails on supported platforms
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b[:])
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}
