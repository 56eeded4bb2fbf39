// Package cptest runs a real control plane in-process for tests: the app, the HTTP API and the web UI over a
// SQLite store and a filesystem CAS in a temp directory (or a store the test gives), on 127.0.0.1.
package cptest

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/custody-dev/custody/cas"
	casfs "github.com/custody-dev/custody/cas/fs"
	"github.com/custody-dev/custody/client"
	"github.com/custody-dev/custody/controlplane/api"
	"github.com/custody-dev/custody/controlplane/app"
	"github.com/custody-dev/custody/controlplane/ca"
	"github.com/custody-dev/custody/controlplane/oidc"
	"github.com/custody-dev/custody/controlplane/store"
	"github.com/custody-dev/custody/controlplane/store/sqlite"
	"github.com/custody-dev/custody/controlplane/trustroot"
	"github.com/custody-dev/custody/controlplane/tsa"
	"github.com/custody-dev/custody/controlplane/ui"
	"github.com/custody-dev/custody/wire"
)

// Server is a running control plane.
type Server struct {
	URL        string
	AdminToken string
	App        *app.App
	Store      store.Store
	CAS        cas.Backend
	Dir        string
	// TrustedRoot is the trusted_root.json of the control plane's CA and TSA (nil with NoKeyless).
	TrustedRoot []byte

	mu    sync.Mutex
	calls []Call
}

// Options configure New.
type Options struct {
	// Store replaces the SQLite store (e.g. a PostgreSQL one).
	Store store.Store
	// Now is the control plane's clock.
	Now func() time.Time
	// MaxBlobSize bounds uploads; 0 is the API's default.
	MaxBlobSize int64
	// BodyBudget bounds the request bodies held at once; 0 is the API's default.
	BodyBudget int64
	// RunTTL is how long runs stay initialized.
	RunTTL time.Duration
	// NoKeyless starts the control plane without a CA and TSA: it issues no certificates.
	NoKeyless bool
	// Keyless replaces the CA and TSA Keyless(t) generates (KeylessAt gives ones with a clock of
	// the test's own).
	Keyless *app.Keyless
	// OIDCIssuers are the OIDC issuers (internal/oidctest's URLs) whose ID tokens the control plane
	// exchanges for workflow credentials, with the audience OIDCAudience ("custody" when empty), on
	// the control plane's clock. None: every exchange is refused.
	OIDCIssuers  []string
	OIDCAudience string
	// Logger receives the control plane's log; nil discards it.
	Logger *slog.Logger
	// Record keeps every request the control plane answers (Calls), so a test sees which credential
	// each call carried.
	Record bool
}

// Call is a request the control plane answered.
type Call struct {
	Method, Path string
	// Bearer is the token the request carried ("" without one).
	Bearer string
	Status int
}

// New starts a control plane, bootstraps its admin token, and stops it when the test ends.
func New(t testing.TB, opts Options) *Server {
	t.Helper()
	ctx := context.Background()
	dir := t.TempDir()
	st := opts.Store
	if st == nil {
		var err error
		if st, err = sqlite.Open(ctx, filepath.Join(dir, "custody.db")); err != nil {
			t.Fatalf("open sqlite store: %v", err)
		}
	}
	t.Cleanup(func() { st.Close() })
	blobs, err := casfs.New(filepath.Join(dir, "cas"))
	if err != nil {
		t.Fatalf("open filesystem CAS: %v", err)
	}
	t.Cleanup(func() { blobs.Close() })
	srv := httptest.NewUnstartedServer(nil)
	var keyless *app.Keyless
	switch {
	case opts.NoKeyless:
	case opts.Keyless != nil:
		keyless = opts.Keyless
	default:
		keyless = Keyless(t)
	}
	audience := opts.OIDCAudience
	if audience == "" {
		audience = "custody"
	}
	verifier, err := oidc.New(oidc.Config{Issuers: opts.OIDCIssuers, Audience: audience, Now: opts.Now})
	if err != nil {
		t.Fatal(err)
	}
	baseURL := "http://" + srv.Listener.Addr().String()
	a, err := app.New(app.Config{Store: st, CAS: blobs, Now: opts.Now, RunTTL: opts.RunTTL, BaseURL: baseURL,
		Keyless: keyless, OIDC: verifier, Logger: opts.Logger})
	if err != nil {
		t.Fatal(err)
	}
	token, err := a.Bootstrap(ctx)
	if err != nil {
		t.Fatalf("bootstrap: %v", err)
	}
	out := &Server{AdminToken: token, App: a, Store: st, CAS: blobs, Dir: dir}
	pages, err := ui.New(ui.Config{App: a, BaseURL: baseURL, Log: opts.Logger})
	if err != nil {
		t.Fatal(err)
	}
	h := ui.Beside(api.New(api.Config{App: a, Log: opts.Logger, MaxBlobSize: opts.MaxBlobSize, BodyBudget: opts.BodyBudget}), pages)
	if opts.Record {
		h = out.record(h)
	}
	srv.Config.Handler = h
	srv.Start()
	t.Cleanup(srv.Close)
	out.URL = srv.URL
	if keyless != nil {
		out.TrustedRoot = keyless.TrustedRoot
	}
	return out
}

// record wraps the API so that every request it answers is kept.
func (s *Server) record(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rw := &statusWriter{ResponseWriter: w, status: http.StatusOK}
		h.ServeHTTP(rw, r)
		bearer, _ := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		s.mu.Lock()
		s.calls = append(s.calls, Call{Method: r.Method, Path: r.URL.Path, Bearer: bearer, Status: rw.status})
		s.mu.Unlock()
	})
}

// Calls returns the requests answered so far, in the order they finished (Options.Record).
func (s *Server) Calls() []Call {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.calls)
}

// Exchanges counts the OIDC exchanges the control plane granted (Options.Record).
func (s *Server) Exchanges() int {
	n := 0
	for _, c := range s.Calls() {
		if c.Method == http.MethodPost && c.Path == "/v1/auth/oidc" && c.Status == http.StatusCreated {
			n++
		}
	}
	return n
}

// statusWriter records the status of an answer.
type statusWriter struct {
	http.ResponseWriter
	status int
	wrote  bool
}

func (w *statusWriter) WriteHeader(code int) {
	if !w.wrote {
		w.status, w.wrote = code, true
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	w.wrote = true
	return w.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the connection (deadlines, flushes).
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// Keyless generates a CA and a TSA in memory, as custodyd does in its data directory, with their
// trusted root. They keep the wall clock whatever the control plane's clock: a timestamp's PKCS #7
// signing time is the wall clock's (digitorus/pkcs7), held to the TSA certificate's validity, and
// the certificates the CA issues must be valid at the timestamps. Nothing a test asserts depends on
// the time they read.
func Keyless(t testing.TB) *app.Keyless {
	t.Helper()
	return KeylessAt(t, time.Now)
}

// KeylessAt is Keyless with the CA and TSA on the clock now, for both the certificates they make
// and the times they sign. A clock behind the wall clock issues certificates that have expired by
// the time a test verifies them (the TSA certificate stays valid at the wall clock, as the
// timestamps' PKCS #7 signing time needs).
func KeylessAt(t testing.TB, now func() time.Time) *app.Keyless {
	t.Helper()
	authority, _, err := ca.Generate("custody test", now)
	if err != nil {
		t.Fatal(err)
	}
	stamps, _, err := tsa.Generate("custody test", now)
	if err != nil {
		t.Fatal(err)
	}
	tr, err := trustroot.Build(authority.Entries(nil), []trustroot.Entry{{Chain: stamps.Chain, Start: stamps.Chain[0].NotBefore}})
	if err != nil {
		t.Fatal(err)
	}
	return &app.Keyless{CA: authority, TSA: stamps, TrustedRoot: tr}
}

// Client returns a client of the server with token, retrying quickly.
func (s *Server) Client(t testing.TB, token string) *client.Client {
	t.Helper()
	c, err := client.New(s.URL, token, client.WithRetry(client.Retry{Deadline: 2 * time.Second, Min: 10 * time.Millisecond, Max: 100 * time.Millisecond}))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// Admin returns a client with the admin token.
func (s *Server) Admin(t testing.TB) *client.Client { return s.Client(t, s.AdminToken) }

// Workflow creates project/workflow with the contract (YAML or JSON; "" for the default), trusts the
// PEM public key when given, and returns a token scoped to the workflow.
func (s *Server) Workflow(t testing.TB, project, workflow, contract string, publicKeyPEM []byte) string {
	t.Helper()
	ctx := context.Background()
	admin := s.Admin(t)
	if _, err := admin.CreateProject(ctx, project); err != nil && client.Code(err) != wire.CodeConflict {
		t.Fatalf("create project %s: %v", project, err)
	}
	if _, err := admin.CreateWorkflow(ctx, project, wire.CreateWorkflow{Name: workflow, Contract: contract}); err != nil {
		t.Fatalf("create workflow %s: %v", workflow, err)
	}
	if len(publicKeyPEM) > 0 {
		if _, err := admin.AddKey(ctx, project, workflow, string(publicKeyPEM)); err != nil {
			t.Fatalf("add key: %v", err)
		}
	}
	tok, err := admin.CreateToken(ctx, wire.CreateToken{Project: project, Workflow: workflow})
	if err != nil {
		t.Fatalf("create token: %v", err)
	}
	return tok.Secret
}

// Trust adds a trust policy to project/workflow: ID tokens of issuer whose claims match claims may
// be exchanged for credentials of the workflow (Options.OIDCIssuers must list the issuer).
func (s *Server) Trust(t testing.TB, project, workflow, issuer string, claims map[string]string) {
	t.Helper()
	if _, err := s.Admin(t).AddTrustPolicy(context.Background(), project, workflow, wire.TrustPolicy{Issuer: issuer, Claims: claims}); err != nil {
		t.Fatalf("trust policy of %s/%s: %v", project, workflow, err)
	}
}

// ReadFile is os.ReadFile that fails the test.
func ReadFile(t testing.TB, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
