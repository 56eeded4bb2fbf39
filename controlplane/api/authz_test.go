package api_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/custody-dev/custody/attestation"
	"github.com/custody-dev/custody/client"
	"github.com/custody-dev/custody/controlplane/api"
	"github.com/custody-dev/custody/controlplane/auth"
	"github.com/custody-dev/custody/crafting"
	"github.com/custody-dev/custody/internal/cptest"
	"github.com/custody-dev/custody/internal/oidctest"
	"github.com/custody-dev/custody/signing"
	"github.com/custody-dev/custody/wire"
)

// The authorization matrix: every route the server serves × every kind of credential. A denied call
// gets 401 (no usable token), 404 (a token that may not see the project or workflow the route names:
// answered as if it did not exist, so a scoped token learns nothing of the others) or 403 (a token
// that sees it but may not do this), and changes nothing in the store or the CAS; the right
// credentials succeed. A route added without a row here fails the test.

// rule says who may call a route.
type rule int

const (
	public   rule = iota // no token needed
	anyone               // any valid token
	admin                // admin tokens only
	project              // tokens that may act on project alpha
	workflow             // tokens that may run workflow alpha/build
)

// scope is what a credential is, once (if) it authenticates.
type scope struct {
	authn             bool
	admin             bool
	project, workflow string // "" for org-wide
}

func (s scope) orgWide() bool { return s.authn && s.project == "" }

// mayRun reports whether the scope may read and run workflow project/workflow.
func (s scope) mayRun(project, workflow string) bool {
	return s.orgWide() || s.project == project && (s.workflow == "" || s.workflow == workflow)
}

// mayProject reports whether the scope may act on the whole project.
func (s scope) mayProject(project string) bool {
	return s.orgWide() || s.project == project && s.workflow == ""
}

// sees reports whether the scope may know that in (a project "p", a workflow "p/w", or "" for
// nothing in particular) exists.
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

type credential struct {
	name  string
	scope scope
	// authorization is the Authorization header value; "" sends none.
	authorization func(f *fixture) string
}

func bearerOf(name string) func(f *fixture) string {
	return func(f *fixture) string { return "Bearer " + f.secrets[name] }
}

var credentials = []credential{
	{name: "no token", authorization: func(*fixture) string { return "" }},
	{name: "malformed", authorization: func(*fixture) string { return "Bearer cst_garbage" }},
	{name: "Bearer missing", authorization: func(f *fixture) string { return f.secrets["admin"] }},
	{name: "Basic scheme", authorization: func(f *fixture) string {
		return "Basic " + base64.StdEncoding.EncodeToString([]byte("admin:"+f.secrets["admin"]))
	}},
	{name: "wrong prefix", authorization: func(f *fixture) string {
		return "Bearer ghp_" + strings.TrimPrefix(f.secrets["admin"], wire.TokenPrefix)
	}},
	{name: "unknown token", authorization: bearerOf("unknown")},
	{name: "expired admin", authorization: bearerOf("expired")},
	{name: "revoked admin", authorization: bearerOf("revoked")},
	{name: "other project", scope: scope{authn: true, project: "beta"}, authorization: bearerOf("beta")},
	{name: "other project's workflow", scope: scope{authn: true, project: "beta", workflow: "build"}, authorization: bearerOf("beta/build")},
	{name: "other workflow", scope: scope{authn: true, project: "alpha", workflow: "other"}, authorization: bearerOf("alpha/other")},
	{name: "right workflow", scope: scope{authn: true, project: "alpha", workflow: "build"}, authorization: bearerOf("alpha/build")},
	{name: "project", scope: scope{authn: true, project: "alpha"}, authorization: bearerOf("alpha")},
	{name: "org", scope: scope{authn: true}, authorization: bearerOf("org")},
	{name: "admin", scope: scope{authn: true, admin: true}, authorization: bearerOf("admin")},
}

// authzContract requires a file and a string; the dockerfile is optional.
const authzContract = buildContract + `    - name: dockerfile
      type: ARTIFACT
      optional: true
`

// fixture is a control plane with two projects (alpha: workflows build and other; beta: build), a
// token of every scope, an initialized run of alpha/build with remote state, and an attestation of
// alpha/build and of beta/build that mention the same dockerfile.
type fixture struct {
	srv    *cptest.Server
	admin  *client.Client
	signer *signing.KeySigner
	// secrets maps a credential to its token.
	secrets map[string]string
	run     wire.InitializedRun
	// attestation is alpha/build's; rootfs is its own artifact; dockerfile is in both projects'.
	attestation, rootfs, dockerfile string
	// betaBlob was uploaded by beta/build's token and claimed by no attestation.
	betaBlob string
	n        int
	// issuer signs ID tokens alpha/build's trust policy matches.
	issuer *oidctest.Issuer
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	ctx := t.Context()
	clk := newClock()
	issuer := oidctest.New(t)
	issuer.Now = clk.Now
	srv := cptest.New(t, cptest.Options{Now: clk.Now, OIDCIssuers: []string{issuer.URL}})
	signer, pub := newSigner(t)
	f := &fixture{srv: srv, admin: srv.Admin(t), signer: signer, secrets: map[string]string{"admin": srv.AdminToken}, issuer: issuer}
	for _, wf := range []string{"alpha/build", "alpha/other", "beta/build"} {
		p, w, _ := strings.Cut(wf, "/")
		f.secrets[wf] = srv.Workflow(t, p, w, authzContract, pub)
	}
	for name, req := range map[string]wire.CreateToken{
		"alpha": {Project: "alpha"}, "beta": {Project: "beta"}, "org": {},
		"expired": {Admin: true, ExpiresIn: "1h"}, "revoked": {Admin: true},
	} {
		tok, err := f.admin.CreateToken(ctx, req)
		if err != nil {
			t.Fatal(err)
		}
		f.secrets[name] = tok.Secret
		if name == "revoked" {
			if err := f.admin.RevokeToken(ctx, tok.ID); err != nil {
				t.Fatal(err)
			}
		}
	}
	unknown, _, err := auth.NewToken()
	if err != nil {
		t.Fatal(err)
	}
	f.secrets["unknown"] = unknown

	for _, p := range []string{"alpha", "beta"} {
		run := f.newRun(t, p)
		adds := append(buildAdds(t, p+" rootfs"), crafting.AddOptions{Name: "dockerfile", Value: writeTemp(t, "Dockerfile", "FROM scratch")})
		bundle := craft{Run: run.Run, Contract: run.Contract, Signer: signer, Adds: adds, Uploader: f.admin}.bundle(t)
		pushed, err := f.admin.Push(ctx, run.Run.ID, bundle)
		if err != nil {
			t.Fatal(err)
		}
		if p == "alpha" {
			f.attestation = pushed.Digest
		}
	}
	if _, err := f.admin.AddTrustPolicy(ctx, "alpha", "build", wire.TrustPolicy{Issuer: issuer.URL, Claims: map[string]string{"repository": "acme/app"}}); err != nil {
		t.Fatal(err)
	}
	f.rootfs, f.dockerfile = digestOf([]byte("alpha rootfs")), digestOf([]byte("FROM scratch"))
	// beta/build's pipeline names alpha's rootfs in an attestation of its own: a mention, which opens
	// nothing to beta; and uploads a blob of its own, which alpha's runs may not claim.
	beta := f.srv.Client(t, f.secrets["beta/build"])
	mention := f.newRun(t, "beta")
	bundle := statement{Run: mention.Run, Materials: []attestation.Material{rootfs(f.rootfs, false), buildRef}}.sign(t, signer)
	if _, err := beta.Push(ctx, mention.Run.ID, bundle); err != nil {
		t.Fatal(err)
	}
	up, err := beta.UploadBlob(ctx, func() (io.Reader, error) { return strings.NewReader("beta's own"), nil })
	if err != nil {
		t.Fatal(err)
	}
	f.betaBlob = string(up.Digest)
	f.run = f.newRun(t, "alpha")
	if _, err := f.admin.PutState(ctx, f.run.Run.ID, "", []byte(`{"materials":[]}`)); err != nil {
		t.Fatal(err)
	}
	clk.Advance(2 * time.Hour) // the "expired" token expires
	return f
}

func (f *fixture) newRun(t *testing.T, project string) wire.InitializedRun {
	t.Helper()
	run, err := f.admin.InitRun(t.Context(), wire.InitRun{Project: project, Workflow: "build"})
	if err != nil {
		t.Fatal(err)
	}
	return *run
}

func (f *fixture) unique(prefix string) string {
	f.n++
	return fmt.Sprintf("%s-%d", prefix, f.n)
}

func writeTemp(t testing.TB, name, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// route is one row of the matrix: a request to a served route, who may make it, and the status of
// an allowed call. visible, when set, checks an allowed answer shows only what the scope may see.
type route struct {
	pattern string // as api.Server.Routes lists it
	note    string
	who     rule
	// in is what the request names: a project, a workflow (project/workflow) or "" (nothing a scope
	// hides: a denied call is 403).
	in      string
	status  int
	build   func(t *testing.T, f *fixture) call
	visible func(t *testing.T, f *fixture, s scope, a answer)
}

func get(path string) func(*testing.T, *fixture) call {
	return func(*testing.T, *fixture) call { return call{method: http.MethodGet, path: path} }
}

func jsonBody(method, path string, body func(t *testing.T, f *fixture) any) func(*testing.T, *fixture) call {
	return func(t *testing.T, f *fixture) call {
		c := jsonCall(method, path, "", body(t, f))
		c.header.Del("Authorization")
		return c
	}
}

const alphaBuild = "/v1/projects/alpha/workflows/build"

var matrix = []route{
	{pattern: "GET /healthz", who: public, status: 200, build: get("/healthz")},
	{pattern: "GET /readyz", who: public, status: 200, build: get("/readyz")},
	{pattern: "GET /v1/openapi.yaml", who: public, status: 200, build: get("/v1/openapi.yaml")},
	{pattern: "GET /v1/whoami", who: anyone, status: 200, build: get("/v1/whoami")},
	{pattern: "GET /v1/trusted-root", who: public, status: 200, build: get("/v1/trusted-root")},
	{pattern: "POST /v1/timestamp", who: anyone, status: 200, build: func(t *testing.T, _ *fixture) call {
		return call{method: http.MethodPost, path: "/v1/timestamp", body: timestampRequest(t, []byte("a signature")),
			header: http.Header{"Content-Type": {wire.TimestampQueryType}}}
	}},

	{pattern: "POST /v1/projects", who: admin, status: 201,
		build: jsonBody("POST", "/v1/projects", func(_ *testing.T, f *fixture) any { return wire.CreateProject{Name: f.unique("p")} })},
	{pattern: "GET /v1/projects", who: anyone, status: 200, build: get("/v1/projects"), visible: visibleProjects},
	{pattern: "POST /v1/projects/{project}/workflows", who: admin, in: "alpha", status: 201,
		build: jsonBody("POST", "/v1/projects/alpha/workflows", func(_ *testing.T, f *fixture) any { return wire.CreateWorkflow{Name: f.unique("w")} })},
	{pattern: "GET /v1/projects/{project}/workflows", who: project, in: "alpha", status: 200, build: get("/v1/projects/alpha/workflows")},
	{pattern: "GET /v1/projects/{project}/workflows/{workflow}", who: workflow, in: "alpha/build", status: 200, build: get(alphaBuild)},
	{pattern: "GET /v1/projects/{project}/workflows/{workflow}/contract", who: workflow, in: "alpha/build", status: 200, build: get(alphaBuild + "/contract?revision=1")},
	{pattern: "POST /v1/projects/{project}/workflows/{workflow}/contract", who: admin, in: "alpha/build", status: 201,
		build: jsonBody("POST", alphaBuild+"/contract", func(*testing.T, *fixture) any { return wire.UpdateContract{Contract: authzContract} })},
	{pattern: "GET /v1/projects/{project}/workflows/{workflow}/keys", who: workflow, in: "alpha/build", status: 200, build: get(alphaBuild + "/keys")},
	{pattern: "POST /v1/projects/{project}/workflows/{workflow}/keys", who: admin, in: "alpha/build", status: 201,
		build: jsonBody("POST", alphaBuild+"/keys", func(t *testing.T, _ *fixture) any {
			_, pub := newSigner(t)
			return wire.AddPublicKey{PEM: string(pub)}
		})},
	{pattern: "DELETE /v1/projects/{project}/workflows/{workflow}/keys/{id}", who: admin, in: "alpha/build", status: 204, build: func(t *testing.T, f *fixture) call {
		_, pub := newSigner(t)
		k, err := f.admin.AddKey(t.Context(), "alpha", "build", string(pub))
		if err != nil {
			t.Fatal(err)
		}
		return call{method: http.MethodDelete, path: alphaBuild + "/keys/" + k.ID}
	}},
	{pattern: "GET /v1/projects/{project}/workflows/{workflow}/runs", who: workflow, in: "alpha/build", status: 200, build: get(alphaBuild + "/runs")},
	{pattern: "GET /v1/projects/{project}/workflows/{workflow}/trust", who: workflow, in: "alpha/build", status: 200, build: get(alphaBuild + "/trust")},
	{pattern: "POST /v1/projects/{project}/workflows/{workflow}/trust", who: admin, in: "alpha/build", status: 201,
		build: jsonBody("POST", alphaBuild+"/trust", func(_ *testing.T, f *fixture) any {
			return wire.TrustPolicy{Issuer: f.issuer.URL, Claims: map[string]string{"repository": "acme/" + f.unique("app")}}
		})},
	{pattern: "DELETE /v1/projects/{project}/workflows/{workflow}/trust/{id}", who: admin, in: "alpha/build", status: 204, build: func(t *testing.T, f *fixture) call {
		tp, err := f.admin.AddTrustPolicy(t.Context(), "alpha", "build", wire.TrustPolicy{Issuer: f.issuer.URL, Claims: map[string]string{"repository": "acme/" + f.unique("app")}})
		if err != nil {
			t.Fatal(err)
		}
		return call{method: http.MethodDelete, path: alphaBuild + "/trust/" + tp.ID}
	}},
	// The exchange takes no token: whatever Authorization comes, the ID token in the body decides.
	{pattern: "POST /v1/auth/oidc", who: public, status: 201, build: jsonBody("POST", "/v1/auth/oidc", func(t *testing.T, f *fixture) any {
		return wire.ExchangeOIDC{Token: f.issuer.Token(t, oidctest.GitHubClaims("acme/app", "refs/heads/main")), Project: "alpha", Workflow: "build"}
	})},

	{pattern: "POST /v1/tokens", who: admin, in: "alpha/build", status: 201,
		build: jsonBody("POST", "/v1/tokens", func(*testing.T, *fixture) any { return wire.CreateToken{Project: "alpha", Workflow: "build"} })},
	{pattern: "GET /v1/tokens", who: admin, status: 200, build: get("/v1/tokens")},
	{pattern: "DELETE /v1/tokens/{id}", who: admin, status: 204, build: func(t *testing.T, f *fixture) call {
		tok, err := f.admin.CreateToken(t.Context(), wire.CreateToken{Project: "alpha"})
		if err != nil {
			t.Fatal(err)
		}
		return call{method: http.MethodDelete, path: "/v1/tokens/" + tok.ID}
	}},

	{pattern: "POST /v1/runs", who: workflow, in: "alpha/build", status: 201,
		build: jsonBody("POST", "/v1/runs", func(*testing.T, *fixture) any { return wire.InitRun{Project: "alpha", Workflow: "build"} })},
	{pattern: "POST /v1/runs", note: "dry run", who: workflow, in: "alpha/build", status: 201,
		build: jsonBody("POST", "/v1/runs", func(*testing.T, *fixture) any {
			return wire.InitRun{Project: "alpha", Workflow: "build", DryRun: true}
		})},
	{pattern: "POST /v1/runs", note: "creating its workflow", who: project, in: "alpha", status: 201,
		build: jsonBody("POST", "/v1/runs", func(_ *testing.T, f *fixture) any {
			return wire.InitRun{Project: "alpha", Workflow: f.unique("new"), Contract: authzContract}
		})},
	{pattern: "GET /v1/runs", who: anyone, status: 200, visible: visibleRuns, build: get("/v1/runs?limit=1000")},
	{pattern: "GET /v1/runs/{id}", who: workflow, in: "alpha/build", status: 200, build: func(_ *testing.T, f *fixture) call {
		return call{method: http.MethodGet, path: "/v1/runs/" + f.run.Run.ID}
	}},
	{pattern: "POST /v1/runs/{id}/reset", who: workflow, in: "alpha/build", status: 200, build: func(t *testing.T, f *fixture) call {
		return jsonBody("POST", "/v1/runs/"+f.newRun(t, "alpha").Run.ID+"/reset", func(*testing.T, *fixture) any {
			return wire.FinishRun{Reason: "tests failed"}
		})(t, f)
	}},
	{pattern: "GET /v1/runs/{id}/state", who: workflow, in: "alpha/build", status: 200, build: func(_ *testing.T, f *fixture) call {
		return call{method: http.MethodGet, path: "/v1/runs/" + f.run.Run.ID + "/state"}
	}},
	{pattern: "PUT /v1/runs/{id}/state", who: workflow, in: "alpha/build", status: 200, build: func(t *testing.T, f *fixture) call {
		return jsonBody("PUT", "/v1/runs/"+f.newRun(t, "alpha").Run.ID+"/state", func(*testing.T, *fixture) any {
			return wire.PutRemoteState{State: []byte(`{"materials":[]}`)}
		})(t, f)
	}},
	{pattern: "POST /v1/runs/{id}/attestation", who: workflow, in: "alpha/build", status: 201, build: func(t *testing.T, f *fixture) call {
		run := f.newRun(t, "alpha")
		bundle := craft{Run: run.Run, Contract: run.Contract, Signer: f.signer, Adds: buildAdds(t, "rootfs")}.bundle(t)
		return call{method: http.MethodPost, path: "/v1/runs/" + run.Run.ID + "/attestation", body: bundle,
			header: http.Header{"Content-Type": {attestation.BundleMediaType}}}
	}},

	{pattern: "POST /v1/runs/{id}/certificate", who: workflow, in: "alpha/build", status: 201, build: func(t *testing.T, f *fixture) call {
		return jsonBody("POST", "/v1/runs/"+f.newRun(t, "alpha").Run.ID+"/certificate", func(t *testing.T, _ *fixture) any {
			return wire.CertificateRequest{CSR: string(newCSR(t))}
		})(t, f)
	}},
	{pattern: "POST /v1/runs/{id}/attestation", note: "keyless", who: workflow, in: "alpha/build", status: 201, build: func(t *testing.T, f *fixture) call {
		run := f.newRun(t, "alpha")
		signer, err := signing.NewKeylessSigner(f.admin.RunAuthority(run.Run.ID), nil)
		if err != nil {
			t.Fatal(err)
		}
		bundle := craft{Run: run.Run, Contract: run.Contract, Signer: signer, Adds: buildAdds(t, "rootfs")}.bundle(t)
		return call{method: http.MethodPost, path: "/v1/runs/" + run.Run.ID + "/attestation", body: bundle,
			header: http.Header{"Content-Type": {attestation.BundleMediaType}}}
	}},
	{pattern: "POST /v1/runs/{id}/attestation", note: "claiming another project's upload", who: workflow, in: "alpha/build", status: 422,
		build: func(t *testing.T, f *fixture) call {
			run := f.newRun(t, "alpha")
			bundle := statement{Run: run.Run, Materials: []attestation.Material{rootfs(f.betaBlob, true), buildRef}}.sign(t, f.signer)
			return call{method: http.MethodPost, path: "/v1/runs/" + run.Run.ID + "/attestation", body: bundle,
				header: http.Header{"Content-Type": {attestation.BundleMediaType}}}
		},
		visible: func(t *testing.T, _ *fixture, _ scope, a answer) {
			if a.problem.Code != wire.CodeMaterialNotClaimable {
				t.Errorf("claiming beta's upload: %s, want %s", a, wire.CodeMaterialNotClaimable)
			}
		}},

	{pattern: "GET /v1/attestations", who: workflow, in: "alpha/build", status: 200, build: get("/v1/attestations?project=alpha&workflow=build")},
	{pattern: "GET /v1/attestations", note: "by material digest", who: anyone, status: 200, visible: visibleAttestations,
		build: func(_ *testing.T, f *fixture) call {
			return call{method: http.MethodGet, path: "/v1/attestations?digest=" + url.QueryEscape(f.dockerfile)}
		}},
	{pattern: "GET /v1/attestations/{digest}", who: workflow, in: "alpha/build", status: 200, build: func(_ *testing.T, f *fixture) call {
		return call{method: http.MethodGet, path: "/v1/attestations/" + f.attestation}
	}},
	{pattern: "GET /v1/attestations/{digest}/bundle", who: workflow, in: "alpha/build", status: 200, build: func(_ *testing.T, f *fixture) call {
		return call{method: http.MethodGet, path: "/v1/attestations/" + f.attestation + "/bundle"}
	}},

	{pattern: "POST /v1/blobs", who: anyone, status: 201, build: func(_ *testing.T, f *fixture) call {
		body := []byte(f.unique("blob"))
		return call{method: http.MethodPost, path: "/v1/blobs", body: body, header: http.Header{
			"Content-Type": {"application/octet-stream"}, wire.DigestHeader: {digestOf(body)}}}
	}},
	// A blob is addressed by content, not in a project: refused alike whether stored or not (403).
	{pattern: "GET /v1/blobs/{digest}", note: "attested artifact", who: workflow, status: 200, build: func(_ *testing.T, f *fixture) call {
		return call{method: http.MethodGet, path: "/v1/blobs/" + f.rootfs}
	}},
}

// visibleProjects: a project token sees its project, an org-wide token all, a workflow token none.
func visibleProjects(t *testing.T, _ *fixture, s scope, a answer) {
	var ps []wire.Project
	if err := json.Unmarshal(a.body, &ps); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"alpha", "beta"} {
		got := slices.ContainsFunc(ps, func(p wire.Project) bool { return p.Name == name })
		if want := s.mayProject(name); got != want {
			t.Errorf("project %s listed: %v, want %v (%s)", name, got, want, a)
		}
	}
	if !s.orgWide() && len(ps) > 1 {
		t.Errorf("a scoped token lists %d projects: %s", len(ps), a)
	}
}

// visibleRuns: the runs list shows a token the runs of its scope, and only those.
func visibleRuns(t *testing.T, _ *fixture, s scope, a answer) {
	var runs []wire.Run
	if err := json.Unmarshal(a.body, &runs); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{"alpha", "beta"} {
		got := slices.ContainsFunc(runs, func(r wire.Run) bool { return r.Project == p && r.Workflow == "build" })
		if want := s.mayRun(p, "build"); got != want {
			t.Errorf("runs of %s/build shown: %v, want %v: %s", p, got, want, a)
		}
	}
	for _, r := range runs {
		if !s.mayRun(r.Project, r.Workflow) {
			t.Errorf("run of %s/%s shown: %s", r.Project, r.Workflow, a)
		}
	}
}

// visibleAttestations: a search by digest shows only the attestations the token may read.
func visibleAttestations(t *testing.T, _ *fixture, s scope, a answer) {
	var atts []wire.Attestation
	if err := json.Unmarshal(a.body, &atts); err != nil {
		t.Fatal(err)
	}
	want := 0
	for _, p := range []string{"alpha", "beta"} {
		if s.mayRun(p, "build") {
			want++
		}
	}
	if len(atts) != want {
		t.Errorf("%d attestations found, want %d: %s", len(atts), want, a)
	}
	for _, att := range atts {
		if !s.mayRun(att.Project, att.Workflow) {
			t.Errorf("attestation of %s/%s shown: %s", att.Project, att.Workflow, a)
		}
	}
}

func TestAuthorizationMatrix(t *testing.T) {
	t.Parallel()
	served := api.New(api.Config{}).Routes()
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

	f := newFixture(t)
	for _, r := range matrix {
		name := r.pattern
		if r.note != "" {
			name += " (" + r.note + ")"
		}
		for _, cred := range credentials {
			t.Run(name+"/"+cred.name, func(t *testing.T) {
				c := r.build(t, f)
				if c.header == nil {
					c.header = http.Header{}
				}
				if v := cred.authorization(f); v != "" {
					c.header.Set("Authorization", v)
				}
				before := snapshot(t, f.srv)
				a := send(t, f.srv, c)
				changed := snapshot(t, f.srv) != before
				allowed := cred.scope.may(r.who)
				switch {
				case allowed && a.status != r.status:
					t.Fatalf("%s may call it: got %s, want %d", cred.name, a, r.status)
				case allowed && c.method == http.MethodGet && changed:
					t.Errorf("a GET changed the store")
				case allowed:
					if r.visible != nil {
						r.visible(t, f, cred.scope, a)
					}
				case !cred.scope.authn:
					mustProblem(t, a, http.StatusUnauthorized, wire.CodeUnauthenticated)
					if !strings.HasPrefix(a.header.Get("WWW-Authenticate"), "Bearer") {
						t.Errorf("401 without WWW-Authenticate: Bearer")
					}
				case !cred.scope.sees(r.in):
					mustProblem(t, a, http.StatusNotFound, wire.CodeNotFound)
				default:
					mustProblem(t, a, http.StatusForbidden, wire.CodeForbidden)
				}
				if !allowed && changed {
					t.Errorf("a denied call changed the store or the CAS")
				}
				if secret := f.secrets["admin"]; strings.Contains(string(a.body), secret) && cred.name != "admin" {
					t.Errorf("the answer holds the admin token")
				}
			})
		}
	}
}

// TestHiddenLooksAbsent: for a scoped token, what it may not see answers exactly like what does not
// exist (status, code and detail, names aside), so probing tells it nothing.
func TestHiddenLooksAbsent(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	absentRun, absentDigest := "00000000-0000-4000-8000-000000000000", digestOf([]byte("no such attestation"))
	initCall := func(workflow, contract string) call {
		return jsonCall(http.MethodPost, "/v1/runs", "", wire.InitRun{Project: "alpha", Workflow: workflow, Contract: contract})
	}
	for _, tc := range []struct {
		token          string
		hidden, absent call
		// names maps the hidden call's names to the absent one's, to compare the details.
		names []string
	}{
		{"beta", get("/v1/projects/alpha/workflows")(t, f), get("/v1/projects/gamma/workflows")(t, f), []string{"alpha", "gamma"}},
		{"beta/build", get(alphaBuild)(t, f), get("/v1/projects/gamma/workflows/build")(t, f), []string{"alpha", "gamma"}},
		{"alpha/other", get(alphaBuild+"/contract")(t, f), get("/v1/projects/alpha/workflows/nope/contract")(t, f), []string{"build", "nope"}},
		{"alpha/other", initCall("build", ""), initCall("nope", ""), []string{"build", "nope"}},
		{"alpha/other", initCall("build", authzContract), initCall("nope", authzContract), []string{"build", "nope"}},
		{"beta", get("/v1/runs/"+f.run.Run.ID)(t, f), get("/v1/runs/"+absentRun)(t, f), []string{f.run.Run.ID, absentRun}},
		{"alpha/other", get("/v1/attestations/"+f.attestation+"/bundle")(t, f), get("/v1/attestations/"+absentDigest+"/bundle")(t, f),
			[]string{f.attestation, absentDigest}},
		{"beta", get("/v1/attestations?project=alpha&workflow=build")(t, f), get("/v1/attestations?project=gamma&workflow=build")(t, f),
			[]string{"alpha", "gamma"}},
	} {
		authorize := func(c call) call {
			if c.header == nil {
				c.header = http.Header{}
			}
			c.header.Set("Authorization", "Bearer "+f.secrets[tc.token])
			return c
		}
		hidden, absent := send(t, f.srv, authorize(tc.hidden)), send(t, f.srv, authorize(tc.absent))
		detail := strings.ReplaceAll(hidden.problem.Detail, tc.names[0], tc.names[1])
		if hidden.status != absent.status || hidden.problem.Code != absent.problem.Code || detail != absent.problem.Detail || hidden.status < 400 {
			t.Errorf("%s: %s %s answers %s, but absent %s %s answers %s", tc.token, tc.hidden.method, tc.hidden.path, hidden,
				tc.absent.method, tc.absent.path, absent)
		}
	}
}

// TestBearerScheme: the scheme is case-insensitive (RFC 9110); a bare or empty one is refused.
func TestBearerScheme(t *testing.T) {
	t.Parallel()
	srv := cptest.New(t, cptest.Options{})
	for _, tc := range []struct {
		authorization string
		status        int
	}{
		{"Bearer " + srv.AdminToken, 200},
		{"bearer " + srv.AdminToken, 200},
		{"BEARER  " + srv.AdminToken + " ", 200},
		{"Bearer", 401},
		{"Bearer ", 401},
		{"Token " + srv.AdminToken, 401},
		{srv.AdminToken, 401},
		{"Bearer " + srv.AdminToken + "x", 401},
		{"Bearer " + srv.AdminToken[:len(srv.AdminToken)-1] + "!", 401},
	} {
		a := send(t, srv, call{method: http.MethodGet, path: "/v1/whoami", header: http.Header{"Authorization": {tc.authorization}}})
		if a.status != tc.status {
			t.Errorf("Authorization %q: %s, want %d", redact(tc.authorization, srv.AdminToken), a, tc.status)
		}
		if a.status == 401 && a.problem.Code != wire.CodeUnauthenticated {
			t.Errorf("Authorization %q: %s, want code unauthenticated", redact(tc.authorization, srv.AdminToken), a)
		}
	}
}

func redact(s, secret string) string { return strings.ReplaceAll(s, secret, wire.RedactToken(secret)) }

// TestBlobReadScope: org-wide tokens read any blob; scoped ones only what their attestations
// mention, refused the same whether the blob exists or not.
func TestBlobReadScope(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	srv := cptest.New(t, cptest.Options{})
	token := srv.Workflow(t, "alpha", "build", "", nil)
	admin := srv.Admin(t)
	org, err := admin.CreateToken(ctx, wire.CreateToken{})
	if err != nil {
		t.Fatal(err)
	}
	up, err := srv.Client(t, token).UploadBlob(ctx, func() (io.Reader, error) { return strings.NewReader("unattested"), nil })
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, token, digest string
		status              int
	}{
		{"org token, stored blob", org.Secret, string(up.Digest), 200},
		{"org token, absent blob", org.Secret, digestOf([]byte("absent")), 404},
		{"workflow token, its own unattested upload", token, string(up.Digest), 403},
		{"workflow token, absent blob", token, digestOf([]byte("absent")), 403},
		{"workflow token, not a digest", token, "sha256:short", 400},
	} {
		a := send(t, srv, call{method: http.MethodGet, path: "/v1/blobs/" + tc.digest, header: http.Header{"Authorization": {"Bearer " + tc.token}}})
		if a.status != tc.status {
			t.Errorf("%s: %s, want %d", tc.name, a, tc.status)
		}
	}
}
