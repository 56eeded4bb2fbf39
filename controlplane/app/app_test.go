package app_test

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	casfs "github.com/custody-dev/custody/cas/fs"
	"github.com/custody-dev/custody/controlplane/app"
	"github.com/custody-dev/custody/controlplane/auth"
	"github.com/custody-dev/custody/controlplane/store"
	"github.com/custody-dev/custody/controlplane/store/sqlite"
	"github.com/custody-dev/custody/internal/testclock"
	"github.com/custody-dev/custody/wire"
)

// env is an App over a real SQLite store and filesystem CAS in a temp dir.
type env struct {
	app   *app.App
	store store.Store
	clock *testclock.Clock
	admin auth.Principal
	// adminToken is the bootstrap admin's secret.
	adminToken string
}

func newEnv(t *testing.T) *env {
	t.Helper()
	ctx := context.Background()
	dir := t.TempDir()
	clk := testclock.New(time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC))
	st, err := sqlite.Open(ctx, filepath.Join(dir, "custody.db"), sqlite.WithClock(clk.Now))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	blobs, err := casfs.New(filepath.Join(dir, "cas"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { blobs.Close() })
	a, err := app.New(app.Config{Store: st, CAS: blobs, Now: clk.Now, BaseURL: "https://custody.example/"})
	if err != nil {
		t.Fatal(err)
	}
	token, err := a.Bootstrap(ctx)
	if err != nil {
		t.Fatal(err)
	}
	e := &env{app: a, store: st, clock: clk, adminToken: token}
	e.admin = e.principal(t, token)
	return e
}

func (e *env) principal(t *testing.T, token string) auth.Principal {
	t.Helper()
	p, err := e.app.Authenticate(context.Background(), token)
	if err != nil {
		t.Fatalf("authenticate: %v", err)
	}
	return p
}

// token creates a token and returns its principal.
func (e *env) token(t *testing.T, req wire.CreateToken) (auth.Principal, string) {
	t.Helper()
	tok, err := e.app.CreateToken(context.Background(), e.admin, req)
	if err != nil {
		t.Fatal(err)
	}
	return e.principal(t, tok.Secret), tok.Secret
}

func (e *env) workflow(t *testing.T, project, workflow string) {
	t.Helper()
	ctx := context.Background()
	if _, err := e.app.CreateProject(ctx, e.admin, wire.CreateProject{Name: project}); err != nil && code(err) != wire.CodeConflict {
		t.Fatal(err)
	}
	if _, err := e.app.CreateWorkflow(ctx, e.admin, project, wire.CreateWorkflow{Name: workflow}); err != nil {
		t.Fatal(err)
	}
}

func code(err error) string {
	if e, ok := app.AsError(err); ok {
		return e.Code
	}
	return ""
}

func wantCode(t *testing.T, err error, status int, c string) {
	t.Helper()
	e, ok := app.AsError(err)
	if !ok || e.Status != status || e.Code != c {
		t.Fatalf("error = %v, want %d %s", err, status, c)
	}
}

func TestNewRefusesMissingParts(t *testing.T) {
	t.Parallel()
	if _, err := app.New(app.Config{}); err == nil {
		t.Error("an App without a store and a CAS")
	}
}

func TestBootstrap(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e := newEnv(t)
	if !e.admin.Admin() || !e.admin.OrgWide() {
		t.Fatalf("bootstrap token = %+v, want an org-wide admin", e.admin.Token)
	}
	// A restart with an admin token in place prints none.
	if again, err := e.app.Bootstrap(ctx); err != nil || again != "" {
		t.Fatalf("second bootstrap = %q, %v", again, err)
	}
	// With every admin token revoked, the next start issues one, so the org is never locked out.
	if err := e.app.RevokeToken(ctx, e.admin, e.admin.Token.ID); err != nil {
		t.Fatal(err)
	}
	fresh, err := e.app.Bootstrap(ctx)
	if err != nil || fresh == "" || fresh == e.adminToken {
		t.Fatalf("bootstrap after revocation = %q, %v", fresh, err)
	}
	if p := e.principal(t, fresh); !p.Admin() {
		t.Fatal("the new bootstrap token is not an admin")
	}
	// An expired admin token does not count either.
	if _, err := e.app.CreateToken(ctx, e.principal(t, fresh), wire.CreateToken{Admin: true, ExpiresIn: "1h"}); err != nil {
		t.Fatal(err)
	}
	if err := e.app.RevokeToken(ctx, e.principal(t, fresh), e.principal(t, fresh).Token.ID); err != nil {
		t.Fatal(err)
	}
	e.clock.Advance(2 * time.Hour)
	if last, err := e.app.Bootstrap(ctx); err != nil || last == "" {
		t.Fatalf("bootstrap with only an expired admin token = %q, %v", last, err)
	}
}

func TestAuthenticate(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e := newEnv(t)
	_, expiring := e.token(t, wire.CreateToken{ExpiresIn: "1h"})
	revokedP, revoked := e.token(t, wire.CreateToken{})
	if err := e.app.RevokeToken(ctx, e.admin, revokedP.Token.ID); err != nil {
		t.Fatal(err)
	}
	unknown, _, err := auth.NewToken()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.app.Authenticate(ctx, expiring); err != nil {
		t.Fatalf("token before its expiry: %v", err)
	}
	e.clock.Advance(time.Hour)
	for _, tc := range []struct{ name, token, detail string }{
		{"none", "", "no token"},
		{"malformed", "cst_garbage", "malformed"},
		{"unknown", unknown, "unknown token"},
		{"expired", expiring, "expired"},
		{"revoked", revoked, "revoked"},
	} {
		_, err := e.app.Authenticate(ctx, tc.token)
		wantCode(t, err, 401, wire.CodeUnauthenticated)
		if e, _ := app.AsError(err); e.Msg == "" || !strings.Contains(e.Msg, tc.detail) {
			t.Errorf("%s: message %q does not say %q", tc.name, e.Msg, tc.detail)
		}
	}
}

func TestCreateTokenRefusals(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e := newEnv(t)
	e.workflow(t, "alpha", "build")
	project, _ := e.token(t, wire.CreateToken{Project: "alpha"})
	for _, tc := range []struct {
		name   string
		p      auth.Principal
		req    wire.CreateToken
		status int
		code   string
	}{
		{"admin scoped to a project", e.admin, wire.CreateToken{Admin: true, Project: "alpha"}, 400, wire.CodeBadRequest},
		{"workflow without project", e.admin, wire.CreateToken{Workflow: "build"}, 400, wire.CodeBadRequest},
		{"zero expiry", e.admin, wire.CreateToken{ExpiresIn: "0s"}, 400, wire.CodeBadRequest},
		{"expiry not a duration", e.admin, wire.CreateToken{ExpiresIn: "30 days"}, 400, wire.CodeBadRequest},
		{"unknown project", e.admin, wire.CreateToken{Project: "gamma"}, 404, wire.CodeNotFound},
		{"unknown workflow", e.admin, wire.CreateToken{Project: "alpha", Workflow: "deploy"}, 404, wire.CodeNotFound},
		{"by a project token", project, wire.CreateToken{Project: "alpha"}, 403, wire.CodeForbidden},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before, err := e.store.ListTokens(ctx, e.admin.Token.OrgID)
			if err != nil {
				t.Fatal(err)
			}
			_, err = e.app.CreateToken(ctx, tc.p, tc.req)
			wantCode(t, err, tc.status, tc.code)
			after, err := e.store.ListTokens(ctx, e.admin.Token.OrgID)
			if err != nil || len(after) != len(before) {
				t.Fatalf("tokens %d → %d (%v)", len(before), len(after), err)
			}
		})
	}
}

func TestExpireRuns(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e := newEnv(t)
	e.workflow(t, "alpha", "build")
	early, err := e.app.InitRun(ctx, e.admin, wire.InitRun{Project: "alpha", Workflow: "build"})
	if err != nil {
		t.Fatal(err)
	}
	e.clock.Advance(12 * time.Hour)
	late, err := e.app.InitRun(ctx, e.admin, wire.InitRun{Project: "alpha", Workflow: "build"})
	if err != nil {
		t.Fatal(err)
	}
	reset, err := e.app.InitRun(ctx, e.admin, wire.InitRun{Project: "alpha", Workflow: "build"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.app.ResetRun(ctx, e.admin, reset.Run.ID, wire.FinishRun{Reason: "r"}); err != nil {
		t.Fatal(err)
	}
	e.clock.Advance(12*time.Hour + time.Second) // early is past the default 24h, late is not
	if n, err := e.app.ExpireRuns(ctx); err != nil || n != 1 {
		t.Fatalf("expire = %d, %v; want 1", n, err)
	}
	for id, want := range map[string]string{early.Run.ID: "expired", late.Run.ID: "initialized", reset.Run.ID: "failed"} {
		run, err := e.app.GetRun(ctx, e.admin, id)
		if err != nil || run.State != want {
			t.Errorf("run = %+v, %v; want %s", run, err, want)
		}
	}
	if n, err := e.app.ExpireRuns(ctx); err != nil || n != 0 {
		t.Fatalf("second sweep = %d, %v; want 0", n, err)
	}
	_, err = e.app.ResetRun(ctx, e.admin, early.Run.ID, wire.FinishRun{})
	wantCode(t, err, 409, wire.CodeRunFinished)
}

// TestParallelInitsCreateOneWorkflow: inits with a contract racing to create the same workflow all
// succeed and share it.
func TestParallelInitsCreateOneWorkflow(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e := newEnv(t)
	if _, err := e.app.CreateProject(ctx, e.admin, wire.CreateProject{Name: "alpha"}); err != nil {
		t.Fatal(err)
	}
	p, _ := e.token(t, wire.CreateToken{Project: "alpha"})
	const contract = "apiVersion: custody.dev/v1\nkind: Contract\nmetadata: {name: deploy}\n"
	var wg sync.WaitGroup
	errs := make([]error, 16)
	ids := make([]string, 16)
	for i := range errs {
		wg.Go(func() {
			run, err := e.app.InitRun(ctx, p, wire.InitRun{Project: "alpha", Workflow: "deploy", Contract: contract})
			errs[i] = err
			if err == nil {
				ids[i] = run.Run.WorkflowID
			}
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
	for _, id := range ids {
		if id != ids[0] {
			t.Fatalf("runs on different workflows: %v", ids)
		}
	}
	ws, err := e.app.ListWorkflows(ctx, p, "alpha")
	if err != nil || len(ws) != 1 {
		t.Fatalf("workflows = %+v, %v", ws, err)
	}
}
