package ui_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/custody-dev/custody/attestation"
	"github.com/custody-dev/custody/controlplane/app"
	"github.com/custody-dev/custody/controlplane/ui"
	"github.com/custody-dev/custody/internal/cptest"
	"github.com/custody-dev/custody/internal/oidctest"
	"github.com/custody-dev/custody/wire"
)

// The authorization matrix of the API (controlplane/api/authz_test.go), extended to every page of the
// UI: every route × every kind of session. A page asks the app as the API does, so a denied page
// answers as the API would: a GET without a session is sent to the sign-in page (a form posted
// without one gets 401), a page naming what the token may not see is 404, one it sees but may not
// use 403; and a denied request changes nothing. A route added without a row fails the test.

type rule int

const (
	public   rule = iota // no session needed
	anyone               // any session
	admin                // admin tokens only
	project              // tokens that may act on project alpha
	workflow             // tokens that may run workflow alpha/build
)

type scope struct {
	authn             bool
	admin             bool
	project, workflow string
}

func (s scope) orgWide() bool { return s.authn && s.project == "" }

func (s scope) mayRun(project, workflow string) bool {
	return s.orgWide() || s.project == project && (s.workflow == "" || s.workflow == workflow)
}

func (s scope) mayProject(project string) bool {
	return s.orgWide() || s.project == project && s.workflow == ""
}

func (s scope) sees(in string) bool {
	project, workflow, _ := strings.Cut(in, "/")
	switch {
	case in == "":
		return s.authn
	case workflow == "":
		return s.orgWide() || s.project == project
	}
	return s.mayRun(project, workflow)
}

func (s scope) may(r rule) bool {
	switch r {
	case public:
		return true
	case anyone:
		return s.authn
	case admin:
		return s.admin
	case project:
		return s.mayProject("alpha")
	case workflow:
		return s.mayRun("alpha", "build")
	}
	panic("unknown rule")
}

// credential is a kind of browser: one signed in with a token of a scope, or one whose session does
// not hold (never signed in, a forged cookie, signed out, its token revoked since).
type credential struct {
	name  string
	scope scope
	// token names the fixture's token it signs in with; "" signs in with none.
	token string
	// spoil, when set, breaks the session after signing in.
	spoil func(t *testing.T, f *fixture, b *browser)
}

var credentials = []credential{
	{name: "no session"},
	{name: "forged cookie", token: "admin", spoil: func(t *testing.T, f *fixture, b *browser) {
		u, _ := url.Parse(f.srv.URL + "/ui/")
		b.c.Jar.SetCookies(u, []*http.Cookie{{Name: "custody_session", Value: strings.Repeat("A", 43), Path: "/"}})
	}},
	{name: "signed out", token: "admin", spoil: func(t *testing.T, f *fixture, b *browser) {
		stale := b.cookie("custody_session")
		if p := b.post("/ui/signout", nil); p.status != http.StatusSeeOther {
			t.Fatalf("sign out: %d", p.status)
		}
		u, _ := url.Parse(f.srv.URL + "/ui/")
		b.c.Jar.SetCookies(u, []*http.Cookie{{Name: "custody_session", Value: stale, Path: "/"}}) // kept by an attacker
	}},
	{name: "token revoked since", token: "revoked"},
	{name: "other project", scope: scope{authn: true, project: "beta"}, token: "beta"},
	{name: "other project's workflow", scope: scope{authn: true, project: "beta", workflow: "build"}, token: "beta/build"},
	{name: "other workflow", scope: scope{authn: true, project: "alpha", workflow: "other"}, token: "alpha/other"},
	{name: "right workflow", scope: scope{authn: true, project: "alpha", workflow: "build"}, token: "alpha/build"},
	{name: "project", scope: scope{authn: true, project: "alpha"}, token: "alpha"},
	{name: "org", scope: scope{authn: true}, token: "org"},
	{name: "admin", scope: scope{authn: true, admin: true}, token: "admin"},
}

// fixture is a control plane with two projects (alpha: build and other; beta: build), a token of
// every scope, a keyless attestation of alpha/build and of beta/build naming the same rootfs, two
// revisions of alpha/build's contract, a trusted key and a trust policy.
type fixture struct {
	srv     *cptest.Server
	secrets map[string]string
	alpha   pushed
	rootfs  string
	keyID   string
	issuer  *oidctest.Issuer
	n       int
	// browsers are the credentials' signed-in browsers.
	browsers map[string]*browser
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	ctx := context.Background()
	issuer := oidctest.New(t)
	srv := cptest.New(t, cptest.Options{OIDCIssuers: []string{issuer.URL}})
	f := &fixture{srv: srv, secrets: map[string]string{"admin": srv.AdminToken}, issuer: issuer, browsers: map[string]*browser{}}
	for _, wf := range []string{"alpha/build", "alpha/other", "beta/build"} {
		p, w, _ := strings.Cut(wf, "/")
		f.secrets[wf] = srv.Workflow(t, p, w, buildContract, nil)
	}
	admin := srv.Admin(t)
	revoked := ""
	for name, req := range map[string]wire.CreateToken{"alpha": {Project: "alpha"}, "beta": {Project: "beta"}, "org": {}, "revoked": {Admin: true}} {
		tok, err := admin.CreateToken(ctx, req)
		if err != nil {
			t.Fatal(err)
		}
		f.secrets[name] = tok.Secret
		if name == "revoked" {
			revoked = tok.ID
		}
	}
	f.alpha = pushKeyless(t, srv, f.secrets["alpha/build"], "alpha", "build", "the rootfs", nil)
	f.rootfs = digestOf([]byte("the rootfs"))
	// beta/build's attestation names alpha's rootfs too: a mention, which opens nothing to beta.
	pushKeyless(t, srv, f.secrets["beta/build"], "beta", "build", "beta's own", func(p *attestation.Predicate) {
		p.Materials[0].Digest, p.Materials[0].File.Uploaded = f.rootfs, false
	})
	if _, err := admin.UpdateContract(ctx, "alpha", "build", buildContract+"    - name: dockerfile\n      type: ARTIFACT\n      optional: true\n"); err != nil {
		t.Fatal(err)
	}
	k, err := admin.AddKey(ctx, "alpha", "build", newPublicKeyPEM(t))
	if err != nil {
		t.Fatal(err)
	}
	f.keyID = k.ID
	f.trustPolicy(t)
	for _, c := range credentials {
		b := newBrowser(t, srv)
		if c.token != "" {
			b.mustSignIn(f.secrets[c.token])
		}
		if c.spoil != nil {
			c.spoil(t, f, b)
		}
		f.browsers[c.name] = b
	}
	if err := admin.RevokeToken(ctx, revoked); err != nil {
		t.Fatal(err)
	}
	return f
}

func (f *fixture) unique(prefix string) string {
	f.n++
	return fmt.Sprintf("%s-%d", prefix, f.n)
}

func (f *fixture) trustPolicy(t *testing.T) *wire.TrustPolicy {
	t.Helper()
	tp, err := f.srv.Admin(t).AddTrustPolicy(context.Background(), "alpha", "build",
		wire.TrustPolicy{Issuer: f.issuer.URL, Claims: map[string]string{"repository": "acme/" + f.unique("app")}})
	if err != nil {
		t.Fatal(err)
	}
	return tp
}

// call is a request of a row: a GET of path, or a POST of form.
type call struct {
	method, path string
	form         url.Values
	// fresh, when set, sends the call from a browser newly signed in with the credential's token
	// (signing out would end the shared one).
	fresh bool
}

type route struct {
	pattern string // as ui.Handler.Routes lists it
	note    string
	who     rule
	in      string // what the page names: "alpha", "alpha/build" or "" (a denied page is then 403)
	status  int
	build   func(t *testing.T, f *fixture) call
	visible func(t *testing.T, f *fixture, s scope, p page)
}

func get(path string) func(*testing.T, *fixture) call {
	return func(*testing.T, *fixture) call { return call{method: http.MethodGet, path: path} }
}

const alphaBuild = "/ui/projects/alpha/workflows/build"

var matrix = []route{
	{pattern: "GET /ui/static/{file}", who: public, status: 200, build: get("/ui/static/style.css")},
	{pattern: "GET /ui/signin", who: public, status: 200, build: get("/ui/signin")},
	{pattern: "POST /ui/signin", note: "with the credential's own token", who: anyone, status: 303, build: func(*testing.T, *fixture) call {
		return call{method: http.MethodPost, path: "/ui/signin", fresh: true}
	}},
	{pattern: "POST /ui/signout", who: anyone, status: 303, build: func(*testing.T, *fixture) call {
		return call{method: http.MethodPost, path: "/ui/signout", fresh: true}
	}},
	{pattern: "GET /ui/{$}", who: anyone, status: 200, build: get("/ui/"), visible: visibleProjects},
	{pattern: "GET /ui/projects/{project}", who: project, in: "alpha", status: 200, build: get("/ui/projects/alpha")},
	{pattern: "GET /ui/projects/{project}/workflows/{workflow}", who: workflow, in: "alpha/build", status: 200, build: get(alphaBuild)},
	{pattern: "GET /ui/projects/{project}/workflows/{workflow}/contract", who: workflow, in: "alpha/build", status: 200, build: get(alphaBuild + "/contract?revision=1")},
	{pattern: "GET /ui/projects/{project}/workflows/{workflow}/contract/diff", who: workflow, in: "alpha/build", status: 200, build: get(alphaBuild + "/contract/diff?from=1&to=2")},
	{pattern: "GET /ui/projects/{project}/workflows/{workflow}/keys", who: workflow, in: "alpha/build", status: 200, build: get(alphaBuild + "/keys")},
	{pattern: "GET /ui/projects/{project}/workflows/{workflow}/keys/{id}/pem", who: workflow, in: "alpha/build", status: 200, build: func(_ *testing.T, f *fixture) call {
		return call{method: http.MethodGet, path: alphaBuild + "/keys/" + f.keyID + "/pem"}
	}},
	{pattern: "POST /ui/projects/{project}/workflows/{workflow}/keys", who: admin, in: "alpha/build", status: 303, build: func(t *testing.T, _ *fixture) call {
		return call{method: http.MethodPost, path: alphaBuild + "/keys", form: url.Values{"pem": {newPublicKeyPEM(t)}}}
	}},
	{pattern: "POST /ui/projects/{project}/workflows/{workflow}/keys/{id}/remove", who: admin, in: "alpha/build", status: 303, build: func(t *testing.T, f *fixture) call {
		k, err := f.srv.Admin(t).AddKey(context.Background(), "alpha", "build", newPublicKeyPEM(t))
		if err != nil {
			t.Fatal(err)
		}
		return call{method: http.MethodPost, path: alphaBuild + "/keys/" + k.ID + "/remove"}
	}},
	{pattern: "GET /ui/projects/{project}/workflows/{workflow}/trust", who: workflow, in: "alpha/build", status: 200, build: get(alphaBuild + "/trust")},
	{pattern: "POST /ui/projects/{project}/workflows/{workflow}/trust", who: admin, in: "alpha/build", status: 303, build: func(_ *testing.T, f *fixture) call {
		return call{method: http.MethodPost, path: alphaBuild + "/trust", form: url.Values{"issuer": {f.issuer.URL}, "claims": {"repository=acme/" + f.unique("app")}}}
	}},
	{pattern: "POST /ui/projects/{project}/workflows/{workflow}/trust/{id}/remove", who: admin, in: "alpha/build", status: 303, build: func(t *testing.T, f *fixture) call {
		return call{method: http.MethodPost, path: alphaBuild + "/trust/" + f.trustPolicy(t).ID + "/remove"}
	}},
	{pattern: "GET /ui/runs/{id}", who: workflow, in: "alpha/build", status: 200, build: func(_ *testing.T, f *fixture) call {
		return call{method: http.MethodGet, path: "/ui/runs/" + f.alpha.run.ID}
	}},
	{pattern: "GET /ui/attestations/{digest}/bundle", who: workflow, in: "alpha/build", status: 200, build: func(_ *testing.T, f *fixture) call {
		return call{method: http.MethodGet, path: "/ui/attestations/" + f.alpha.digest + "/bundle"}
	}},
	// A blob is addressed by content, not in a project: refused alike whether stored or not (403).
	{pattern: "GET /ui/blobs/{digest}", who: workflow, status: 200, build: func(_ *testing.T, f *fixture) call {
		return call{method: http.MethodGet, path: "/ui/blobs/" + f.rootfs + "?name=rootfs.tar.gz"}
	}},
	{pattern: "GET /ui/search", who: anyone, status: 200, visible: visibleSearch, build: func(_ *testing.T, f *fixture) call {
		return call{method: http.MethodGet, path: "/ui/search?digest=" + url.QueryEscape(f.rootfs)}
	}},
	{pattern: "GET /ui/admin/tokens", who: admin, status: 200, build: get("/ui/admin/tokens")},
	{pattern: "POST /ui/admin/tokens", who: admin, in: "alpha/build", status: 201, build: func(*testing.T, *fixture) call {
		return call{method: http.MethodPost, path: "/ui/admin/tokens", form: url.Values{"project": {"alpha"}, "workflow": {"build"}}}
	}},
	{pattern: "POST /ui/admin/tokens/{id}/revoke", who: admin, status: 303, build: func(t *testing.T, f *fixture) call {
		tok, err := f.srv.Admin(t).CreateToken(context.Background(), wire.CreateToken{Project: "alpha"})
		if err != nil {
			t.Fatal(err)
		}
		return call{method: http.MethodPost, path: "/ui/admin/tokens/" + tok.ID + "/revoke"}
	}},
}

// visibleProjects: the home page links the projects the token may act on, and no other.
func visibleProjects(t *testing.T, _ *fixture, s scope, p page) {
	for _, name := range []string{"alpha", "beta"} {
		got := strings.Contains(p.body, `href="/ui/projects/`+name+`"`)
		if want := s.mayProject(name); got != want {
			t.Errorf("project %s listed: %v, want %v", name, got, want)
		}
	}
}

// visibleSearch: a search by digest lists only the runs the token may read.
func visibleSearch(t *testing.T, f *fixture, s scope, p page) {
	for _, project := range []string{"alpha", "beta"} {
		got := strings.Contains(p.body, project+"/build</td>")
		if want := s.mayRun(project, "build"); got != want {
			t.Errorf("a run of %s/build listed: %v, want %v", project, got, want)
		}
	}
}

// state is what a denied request must not change: tokens, keys, trust policies.
func state(t *testing.T, f *fixture) string {
	t.Helper()
	ctx := context.Background()
	st := f.srv.Store
	org, err := st.GetOrgByName(ctx, app.DefaultOrg)
	if err != nil {
		t.Fatal(err)
	}
	pr, err := st.GetProject(ctx, org.ID, "alpha")
	if err != nil {
		t.Fatal(err)
	}
	w, err := st.GetWorkflow(ctx, pr.ID, "build")
	if err != nil {
		t.Fatal(err)
	}
	ts, err := st.ListTokens(ctx, org.ID)
	if err != nil {
		t.Fatal(err)
	}
	ks, err := st.ListPublicKeys(ctx, w.ID)
	if err != nil {
		t.Fatal(err)
	}
	ps, err := st.ListTrustPolicies(ctx, w.ID)
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	for _, tok := range ts {
		fmt.Fprintf(&b, "token %s %s|", tok.ID, tok.RevokedAt.Format(time.RFC3339Nano))
	}
	for _, k := range ks {
		fmt.Fprintf(&b, "key %s|", k.ID)
	}
	for _, p := range ps {
		fmt.Fprintf(&b, "policy %s|", p.ID)
	}
	rev, err := st.GetContractRevision(ctx, w.ID, 0)
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprintf(&b, "revision %d", rev.Revision)
	return b.String()
}

func TestPagesAuthorizationMatrix(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	h, err := ui.New(ui.Config{App: f.srv.App, BaseURL: f.srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	served := h.Routes()
	for _, p := range served {
		if !slices.ContainsFunc(matrix, func(r route) bool { return r.pattern == p }) {
			t.Errorf("route %s has no row in the authorization matrix", p)
		}
	}
	for _, r := range matrix {
		if !slices.Contains(served, r.pattern) {
			t.Errorf("matrix row %s: no such route", r.pattern)
		}
	}
	for _, r := range matrix {
		name := r.pattern
		if r.note != "" {
			name += " (" + r.note + ")"
		}
		for _, cred := range credentials {
			t.Run(name+"/"+cred.name, func(t *testing.T) {
				c := r.build(t, f)
				b := f.browsers[cred.name]
				if c.fresh {
					b = newBrowser(t, f.srv)
					if cred.token != "" {
						b.signIn(f.secrets[cred.token])
					}
					if cred.spoil != nil {
						cred.spoil(t, f, b)
					}
				}
				before := state(t, f)
				var p page
				switch {
				case c.method == http.MethodGet:
					p = b.get(c.path)
				case c.path == "/ui/signin":
					b.get("/ui/signin")
					token := "cst_garbage"
					if cred.scope.authn {
						token = f.secrets[cred.token]
					}
					p = b.post(c.path, url.Values{"token": {token}})
				default:
					p = b.post(c.path, c.form)
				}
				changed := state(t, f) != before
				allowed := cred.scope.may(r.who)
				switch {
				case allowed && p.status != r.status:
					t.Fatalf("%s may: got %d, want %d\n%s", cred.name, p.status, r.status, p.body)
				case allowed && c.method == http.MethodGet && changed:
					t.Errorf("a GET changed the store")
				case allowed:
					if r.visible != nil {
						r.visible(t, f, cred.scope, p)
					}
				case !cred.scope.authn && c.method == http.MethodGet:
					if loc := p.header.Get("Location"); p.status != http.StatusSeeOther || !strings.HasPrefix(loc, "/ui/signin?next=") {
						t.Errorf("without a session: %d to %q, want 303 to the sign-in page", p.status, loc)
					}
				case !cred.scope.authn:
					if p.status != http.StatusUnauthorized {
						t.Errorf("a form without a session: %d, want 401\n%s", p.status, p.body)
					}
				case !cred.scope.sees(r.in):
					if p.status != http.StatusNotFound {
						t.Errorf("%s may not see %s: %d, want 404\n%s", cred.name, r.in, p.status, p.body)
					}
				default:
					if p.status != http.StatusForbidden {
						t.Errorf("%s sees %s but may not: %d, want 403\n%s", cred.name, r.in, p.status, p.body)
					}
				}
				if !allowed && changed {
					t.Errorf("a denied request changed the store")
				}
				if csp := p.header.Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'self'") {
					t.Errorf("Content-Security-Policy %q", csp)
				}
				if secret := f.secrets["admin"]; strings.Contains(p.body, secret) {
					t.Errorf("the page holds the admin token")
				}
			})
		}
	}
}
