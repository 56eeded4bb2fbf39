package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/custody-dev/custody/attestation"
	"github.com/custody-dev/custody/controlplane/api"
	"github.com/custody-dev/custody/controlplane/store/postgres"
	"github.com/custody-dev/custody/crafting"
	"github.com/custody-dev/custody/internal/cptest"
	"github.com/custody-dev/custody/internal/pgtest"
	"github.com/custody-dev/custody/signing"
	"github.com/custody-dev/custody/wire"
)

// Bad input gets a clear 4xx problem and stores nothing.

// maxBlob is the blob size limit of the bad-input control plane.
const maxBlob = 1024

// threeMistakes is contract/testdata/invalid/three-mistakes.yaml: a misspelt field, an unknown
// type and a duplicate name.
const threeMistakes = `apiVersion: custody.dev/v1
kind: Contract
metadata:
  name: build-and-test
spec:
  materials:
    - name: rootfs
      type: ARTIFACT
      optinal: true
    - name: skynet-sbom
      type: SBOM
    - name: rootfs
      type: STRING
`

type badFixture struct {
	srv          *cptest.Server
	admin, token string // the admin's and alpha/build's tokens
	signer       *signing.KeySigner
	run          wire.InitializedRun
}

func newBadFixture(t *testing.T) *badFixture {
	t.Helper()
	srv := cptest.New(t, cptest.Options{MaxBlobSize: maxBlob})
	signer, pub := newSigner(t)
	f := &badFixture{srv: srv, admin: srv.AdminToken, signer: signer, token: srv.Workflow(t, "alpha", "build", buildContract, pub)}
	run, err := srv.Client(t, f.token).InitRun(t.Context(), wire.InitRun{Project: "alpha", Workflow: "build"})
	if err != nil {
		t.Fatal(err)
	}
	f.run = *run
	return f
}

func raw(method, path, token, contentType string, body []byte) call {
	h := http.Header{"Authorization": {"Bearer " + token}}
	if contentType != "" {
		h.Set("Content-Type", contentType)
	}
	return call{method: method, path: path, header: h, body: body}
}

func TestBadInput(t *testing.T) {
	t.Parallel()
	f := newBadFixture(t)
	long := strings.Repeat("a", 64)
	ctJSON := "application/json"
	post := func(path string, body string) func(*badFixture) call {
		return func(f *badFixture) call { return raw(http.MethodPost, path, f.admin, ctJSON, []byte(body)) }
	}
	getAs := func(path string) func(*badFixture) call {
		return func(f *badFixture) call { return raw(http.MethodGet, path, f.admin, "", nil) }
	}
	contract := func(c string) string { b, _ := json.Marshal(c); return string(b) }
	tests := []struct {
		name   string
		call   func(f *badFixture) call
		status int
		code   string
		// detail holds what the message must name.
		detail []string
	}{
		// Bodies.
		// Bodies past their route's bound: TestRouteBodyBounds.
		{"truncated JSON", post("/v1/projects", `{"name":`), 400, wire.CodeBadRequest, []string{"invalid JSON"}},
		{"two JSON values", post("/v1/projects", `{"name":"a"} {"name":"b"}`), 400, wire.CodeBadRequest, []string{"more than one value"}},
		{"unknown JSON field", post("/v1/projects", `{"name":"a","owner":"x"}`), 400, wire.CodeBadRequest, []string{`"owner"`}},
		{"wrong JSON type", post("/v1/projects", `{"name":5}`), 400, wire.CodeBadRequest, []string{"name"}},
		{"JSON array", post("/v1/projects", `[]`), 400, wire.CodeBadRequest, nil},
		{"empty body", post("/v1/projects", ``), 400, wire.CodeBadRequest, nil},
		{"Content-Type text/plain", func(f *badFixture) call {
			return raw(http.MethodPost, "/v1/projects", f.admin, "text/plain", []byte(`{"name":"a"}`))
		}, 415, wire.CodeUnsupportedMedia, []string{"text/plain"}},
		{"Content-Type form", func(f *badFixture) call {
			return raw(http.MethodPost, "/v1/tokens", f.admin, "application/x-www-form-urlencoded", []byte(`name=a`))
		}, 415, wire.CodeUnsupportedMedia, nil},
		{"Content-Type garbage", func(f *badFixture) call {
			return raw(http.MethodPost, "/v1/projects", f.admin, ";;;", []byte(`{"name":"a"}`))
		}, 415, wire.CodeUnsupportedMedia, nil},

		// Contracts.
		{"invalid contract on workflow create", post("/v1/projects/alpha/workflows", `{"name":"deploy","contract":`+contract(threeMistakes)+`}`),
			422, wire.CodeInvalidContract, []string{"spec.materials[0].optinal", "spec.materials[1].type", `duplicate material name "rootfs"`}},
		{"not a contract on workflow create", post("/v1/projects/alpha/workflows", `{"name":"deploy","contract":"kind: nonsense"}`),
			422, wire.CodeInvalidContract, []string{"apiVersion", "metadata.name", "kind"}},
		{"invalid contract update", post("/v1/projects/alpha/workflows/build/contract", `{"contract":`+contract(threeMistakes)+`}`),
			422, wire.CodeInvalidContract, []string{"optinal"}},
		{"empty contract update", post("/v1/projects/alpha/workflows/build/contract", `{"contract":""}`), 422, wire.CodeInvalidContract, nil},
		{"invalid contract on init", func(f *badFixture) call {
			return raw(http.MethodPost, "/v1/runs", f.token, ctJSON, []byte(`{"project":"alpha","workflow":"deploy","contract":`+contract(threeMistakes)+`}`))
		}, 403, wire.CodeForbidden, nil}, // a workflow token may not create workflows, valid contract or not
		{"invalid contract on init by the admin", post("/v1/runs", `{"project":"alpha","workflow":"deploy","contract":`+contract(threeMistakes)+`}`),
			422, wire.CodeInvalidContract, []string{"optinal"}},

		// Revisions.
		{"unknown revision", getAs("/v1/projects/alpha/workflows/build/contract?revision=9"), 404, wire.CodeNotFound, []string{"revision 9"}},
		{"init at an unknown revision", func(f *badFixture) call {
			return raw(http.MethodPost, "/v1/runs", f.token, ctJSON, []byte(`{"project":"alpha","workflow":"build","revision":9}`))
		}, 404, wire.CodeNotFound, []string{"revision 9"}},
		{"negative revision", getAs("/v1/projects/alpha/workflows/build/contract?revision=-1"), 400, wire.CodeBadRequest, []string{"revision"}},
		{"init at revision -1", func(f *badFixture) call {
			return raw(http.MethodPost, "/v1/runs", f.token, ctJSON, []byte(`{"project":"alpha","workflow":"build","revision":-1}`))
		}, 400, wire.CodeBadRequest, []string{"revision -1"}},
		{"revision not a number", getAs("/v1/projects/alpha/workflows/build/contract?revision=latest"), 400, wire.CodeBadRequest, []string{"revision"}},
		{"limit not a number", getAs("/v1/projects/alpha/workflows/build/runs?limit=many"), 400, wire.CodeBadRequest, []string{"limit"}},
		{"runs past the page bound", getAs("/v1/projects/alpha/workflows/build/runs?limit=1001"), 400, wire.CodeBadRequest, []string{"limit 1001: at most 1000"}},
		{"attestations past the page bound", getAs("/v1/attestations?digest=" + digestOf([]byte("x")) + "&limit=100000000"), 400, wire.CodeBadRequest, []string{"limit 100000000: at most 1000"}},
		{"runs of an unknown state", getAs("/v1/runs?state=running"), 400, wire.CodeBadRequest, []string{`state "running"`}},
		{"runs by a runner past its bound", getAs("/v1/runs?runner=" + strings.Repeat("x", 257)), 400, wire.CodeBadRequest, []string{"runner: 257 bytes, at most 256"}},
		{"runs by a branch past its bound", getAs("/v1/runs?branch=" + strings.Repeat("b", 1025)), 400, wire.CodeBadRequest, []string{"branch: 1025 bytes, at most 1024"}},
		{"runs of a workflow without its project", getAs("/v1/runs?workflow=build"), 400, wire.CodeBadRequest, []string{`workflow "build": name its project too`}},
		{"runs after a made-up cursor", getAs("/v1/runs?cursor=bm9wZQ"), 400, wire.CodeBadRequest, []string{`cursor "bm9wZQ"`}},
		{"runs after a cursor past its bound", getAs("/v1/runs?cursor=" + strings.Repeat("A", 257)), 400, wire.CodeBadRequest, []string{"257 characters, at most 256"}},
		{"init with a commit that is none", post("/v1/runs", `{"project":"alpha","workflow":"build","git":{"commit":"HEAD"}}`), 400, wire.CodeBadRequest, []string{`git.commit "HEAD"`}},
		{"init with a branch past its bound", post("/v1/runs", `{"project":"alpha","workflow":"build","git":{"branch":"`+strings.Repeat("b", 1025)+`"}}`), 400, wire.CodeBadRequest, []string{"git.branch: 1025 bytes, at most 1024"}},

		// Names in bodies.
		{"project ../x", post("/v1/projects", `{"name":"../x"}`), 400, wire.CodeBadRequest, []string{"DNS-1123"}},
		{"project ..", post("/v1/projects", `{"name":".."}`), 400, wire.CodeBadRequest, nil},
		{"project %2e%2e", post("/v1/projects", `{"name":"%2e%2e"}`), 400, wire.CodeBadRequest, nil},
		{"project A_B", post("/v1/projects", `{"name":"A_B"}`), 400, wire.CodeBadRequest, nil},
		{"project of 64 characters", post("/v1/projects", `{"name":"`+long+`"}`), 400, wire.CodeBadRequest, nil},
		{"project empty", post("/v1/projects", `{"name":""}`), 400, wire.CodeBadRequest, nil},
		{"project with a slash", post("/v1/projects", `{"name":"a/b"}`), 400, wire.CodeBadRequest, nil},
		{"project with a NUL", post("/v1/projects", `{"name":"a\u0000b"}`), 400, wire.CodeBadRequest, nil},
		{"project leading dash", post("/v1/projects", `{"name":"-a"}`), 400, wire.CodeBadRequest, nil},
		{"project non-ASCII", post("/v1/projects", `{"name":"ſkynet"}`), 400, wire.CodeBadRequest, nil},
		{"workflow ../x", post("/v1/projects/alpha/workflows", `{"name":"../x"}`), 400, wire.CodeBadRequest, nil},
		{"workflow A_B", post("/v1/projects/alpha/workflows", `{"name":"A_B"}`), 400, wire.CodeBadRequest, nil},
		{"init of workflow ../build", post("/v1/runs", `{"project":"alpha","workflow":"../build","contract":`+contract(buildContract)+`}`), 400, wire.CodeBadRequest, nil},
		{"token for project ..", post("/v1/tokens", `{"project":".."}`), 400, wire.CodeBadRequest, nil},
		{"token expiring never", post("/v1/tokens", `{"expiresIn":"-1h"}`), 400, wire.CodeBadRequest, []string{"-1h"}},

		// Names in paths.
		{"path segment ..", getAs("/v1/projects/../tokens"), 400, wire.CodeBadRequest, []string{"not canonical"}},
		{"path segment .", post("/v1/projects/./alpha/workflows", `{"name":"x"}`), 400, wire.CodeBadRequest, nil},
		{"empty path segment", getAs("/v1/projects//workflows"), 400, wire.CodeBadRequest, nil},
		{"path project %2e%2e", post("/v1/projects/%2e%2e/workflows", `{"name":"x"}`), 400, wire.CodeBadRequest, nil},
		{"path project ..%2Fx", getAs("/v1/projects/..%2Fx/workflows"), 400, wire.CodeBadRequest, nil},
		{"path project a%2Fb", getAs("/v1/projects/a%2Fb/workflows"), 400, wire.CodeBadRequest, nil},
		{"trailing slash", getAs("/v1/projects/"), 400, wire.CodeBadRequest, nil},
		{"path project A_B", getAs("/v1/projects/A_B/workflows"), 400, wire.CodeBadRequest, nil},
		{"path project of 64 characters", getAs("/v1/projects/" + long + "/workflows"), 400, wire.CodeBadRequest, nil},
		{"path workflow %2e%2e", post("/v1/projects/alpha/workflows/%2e%2e/contract", `{"contract":`+contract(buildContract)+`}`), 400, wire.CodeBadRequest, nil},
		{"path workflow ..%2F..%2Ftokens", getAs("/v1/projects/alpha/workflows/..%2F..%2Ftokens"), 400, wire.CodeBadRequest, nil},
		{"unknown project", getAs("/v1/projects/gamma/workflows"), 404, wire.CodeNotFound, []string{"gamma"}},
		{"unknown run", getAs("/v1/runs/00000000-0000-4000-8000-000000000000"), 404, wire.CodeNotFound, nil},
		{"run id ..%2F..", getAs("/v1/runs/..%2F..%2Fv1%2Ftokens"), 400, wire.CodeBadRequest, nil},
		{"run id with a NUL", getAs("/v1/runs/a%00b"), 400, wire.CodeBadRequest, []string{"run id"}},
		{"run id not a UUID", getAs("/v1/runs/latest"), 400, wire.CodeBadRequest, []string{"run id", "UUID"}},
		{"uppercase run id", func(f *badFixture) call {
			return raw(http.MethodGet, "/v1/runs/"+strings.ToUpper(f.run.Run.ID), f.token, "", nil)
		}, 400, wire.CodeBadRequest, []string{"run id"}},
		{"reset of a run id with a NUL", post("/v1/runs/a%00b/reset", `{}`), 400, wire.CodeBadRequest, []string{"run id"}},
		{"state of a run id with a NUL", getAs("/v1/runs/a%00b/state"), 400, wire.CodeBadRequest, []string{"run id"}},
		{"token id ..%2F", func(f *badFixture) call { return raw(http.MethodDelete, "/v1/tokens/..%2F", f.admin, "", nil) }, 400, wire.CodeBadRequest, nil},
		{"unknown token id", func(f *badFixture) call { return raw(http.MethodDelete, "/v1/tokens/nope", f.admin, "", nil) }, 404, wire.CodeNotFound, nil},

		// Digests.
		{"blob sha256:short", getAs("/v1/blobs/sha256:short"), 400, wire.CodeBadRequest, []string{"sha256:short"}},
		{"blob md5", getAs("/v1/blobs/md5:d41d8cd98f00b204e9800998ecf8427e"), 400, wire.CodeBadRequest, nil},
		{"blob uppercase hex", getAs("/v1/blobs/sha256:" + strings.Repeat("A", 64)), 400, wire.CodeBadRequest, nil},
		{"blob ..%2F..%2Fcustody.db", getAs("/v1/blobs/..%2F..%2Fcustody.db"), 400, wire.CodeBadRequest, nil},
		{"blob absent", getAs("/v1/blobs/" + digestOf([]byte("absent"))), 404, wire.CodeNotFound, nil},
		{"attestation md5", getAs("/v1/attestations/md5:d41d8cd98f00b204e9800998ecf8427e"), 400, wire.CodeBadRequest, []string{"attestation digest"}},
		{"attestation digest with a NUL", getAs("/v1/attestations/sha256:a%00b"), 400, wire.CodeBadRequest, []string{"attestation digest"}},
		{"attestation bundle of md5", getAs("/v1/attestations/md5:d41d8cd98f00b204e9800998ecf8427e/bundle"), 400, wire.CodeBadRequest, nil},
		{"attestations of a digest with a NUL", getAs("/v1/attestations?digest=sha256:a%00b"), 400, wire.CodeBadRequest, []string{"digest"}},
		{"attestations of digest md5", getAs("/v1/attestations?digest=md5:d41d8cd98f00b204e9800998ecf8427e"), 400, wire.CodeBadRequest, []string{"digest"}},
		{"attestation ..%2F..%2Fcustody.db", getAs("/v1/attestations/..%2F..%2Fcustody.db/bundle"), 400, wire.CodeBadRequest, nil},
		{"attestations of nothing", getAs("/v1/attestations"), 400, wire.CodeBadRequest, nil},
		{"upload claiming md5", func(f *badFixture) call {
			c := raw(http.MethodPost, "/v1/blobs", f.token, "application/octet-stream", []byte("x"))
			c.header.Set(wire.DigestHeader, "md5:9dd4e461268c8034f5c8564e155c67a6")
			return c
		}, 400, wire.CodeBadRequest, []string{wire.DigestHeader}},
		{"upload claiming sha256:short", func(f *badFixture) call {
			c := raw(http.MethodPost, "/v1/blobs", f.token, "application/octet-stream", []byte("x"))
			c.header.Set(wire.DigestHeader, "sha256:2d71")
			return c
		}, 400, wire.CodeBadRequest, nil},
		{"upload over the size limit", func(f *badFixture) call {
			return raw(http.MethodPost, "/v1/blobs", f.token, "application/octet-stream", bytes.Repeat([]byte("x"), maxBlob+1))
		}, 413, wire.CodeTooLarge, []string{"1024"}},

		// Headers.
		{"two Authorization headers", func(f *badFixture) call {
			c := raw(http.MethodGet, "/v1/whoami", f.token, "", nil)
			c.header.Add("Authorization", "Bearer "+f.admin)
			return c
		}, 400, wire.CodeBadRequest, []string{"2 Authorization headers"}},
		{"the same Authorization header twice", func(f *badFixture) call {
			c := raw(http.MethodPost, "/v1/projects", f.admin, ctJSON, []byte(`{"name":"twice"}`))
			c.header.Add("Authorization", "Bearer "+f.admin)
			return c
		}, 400, wire.CodeBadRequest, []string{"Authorization"}},
		{"upload with two Custody-Digest headers", func(f *badFixture) call {
			c := raw(http.MethodPost, "/v1/blobs", f.token, "application/octet-stream", []byte("x"))
			c.header.Add(wire.DigestHeader, digestOf([]byte("x")))
			c.header.Add(wire.DigestHeader, digestOf([]byte("y")))
			return c
		}, 400, wire.CodeBadRequest, []string{wire.DigestHeader}},

		// Routes.
		{"unknown route", getAs("/v1/nothing"), 404, wire.CodeNotFound, nil},
		{"method not allowed", func(f *badFixture) call { return raw(http.MethodPut, "/v1/projects", f.admin, ctJSON, []byte(`{}`)) },
			405, wire.CodeMethodNotAllowed, []string{"GET", "POST"}},

		// Remote state.
		{"empty state", func(f *badFixture) call {
			return raw(http.MethodPut, "/v1/runs/"+f.run.Run.ID+"/state", f.token, ctJSON, []byte(`{"base":""}`))
		}, 400, wire.CodeBadRequest, nil},
		{"state from a base never written", func(f *badFixture) call {
			return raw(http.MethodPut, "/v1/runs/"+f.run.Run.ID+"/state", f.token, ctJSON, []byte(`{"base":"sha256:`+strings.Repeat("0", 64)+`","state":"e30="}`))
		}, 409, wire.CodeStaleState, nil},
		{"reset to succeeded", func(f *badFixture) call {
			return raw(http.MethodPost, "/v1/runs/"+f.run.Run.ID+"/reset", f.token, ctJSON, []byte(`{"state":"succeeded"}`))
		}, 400, wire.CodeBadRequest, []string{"succeeded"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			before := snapshot(t, f.srv)
			a := send(t, f.srv, tc.call(f))
			mustProblem(t, a, tc.status, tc.code)
			for _, d := range tc.detail {
				if !strings.Contains(a.problem.Detail, d) {
					t.Errorf("detail %q does not name %q", a.problem.Detail, d)
				}
			}
			if tc.status == http.StatusMethodNotAllowed && a.header.Get("Allow") == "" {
				t.Error("405 without Allow")
			}
			if after := snapshot(t, f.srv); after != before {
				t.Errorf("refused, yet the store changed:\nbefore:\n%s\nafter:\n%s", before, after)
			}
		})
	}
}

// TestFreeText: the free text a client stores (a token's name, a description, a runner, a reason)
// is refused alike on SQLite and PostgreSQL when it holds a NUL byte or passes its bound (400 naming
// the field, nothing stored), and kept byte for byte up to the bound.
func TestFreeText(t *testing.T) {
	t.Parallel()
	for _, storeName := range []string{"sqlite", "postgres"} {
		t.Run(storeName, func(t *testing.T) {
			t.Parallel()
			opts := cptest.Options{}
			if storeName == "postgres" {
				st, err := postgres.Open(t.Context(), pgtest.New(t))
				if err != nil {
					t.Fatal(err)
				}
				opts.Store = st
			}
			srv := cptest.New(t, opts)
			token := srv.Workflow(t, "alpha", "build", buildContract, nil)
			n := 0
			newRun := func() string {
				run, err := srv.Client(t, token).InitRun(t.Context(), wire.InitRun{Project: "alpha", Workflow: "build"})
				if err != nil {
					t.Fatal(err)
				}
				return run.Run.ID
			}
			for _, tc := range []struct {
				field string
				max   int
				call  func(v string) call
				ok    int
			}{
				{"name", 256, func(v string) call {
					return jsonCall(http.MethodPost, "/v1/tokens", srv.AdminToken, wire.CreateToken{Name: v})
				}, 201},
				{"description", 4096, func(v string) call {
					n++
					return jsonCall(http.MethodPost, "/v1/projects/alpha/workflows", srv.AdminToken, wire.CreateWorkflow{Name: fmt.Sprintf("w-%d", n), Description: v})
				}, 201},
				{"runner.type", 256, func(v string) call {
					return jsonCall(http.MethodPost, "/v1/runs", token, wire.InitRun{Project: "alpha", Workflow: "build", Runner: wire.Runner{Type: v}})
				}, 201},
				{"runner.url", 4096, func(v string) call {
					return jsonCall(http.MethodPost, "/v1/runs", token, wire.InitRun{Project: "alpha", Workflow: "build", Runner: wire.Runner{Type: "GITHUB_ACTION", URL: v}})
				}, 201},
				{"reason", 64 << 10, func(v string) call {
					return jsonCall(http.MethodPost, "/v1/runs/"+newRun()+"/reset", token, wire.FinishRun{Reason: v})
				}, 200},
			} {
				atMax := strings.Repeat("é", tc.max/2) + strings.Repeat("x", tc.max%2)
				for _, v := range []struct {
					what, value string
					status      int
				}{
					{"a NUL byte", "a\x00b", 400},
					{"a NUL byte at the end", "ab\x00", 400},
					{"one byte past the bound", atMax + "x", 400},
					{"the bound, in UTF-8", atMax, tc.ok},
					{"tab, newline and an escape", "a\tb\nc\x1b[0m", tc.ok},
				} {
					c := tc.call(v.value)
					before := snapshot(t, srv)
					a := send(t, srv, c)
					if v.status != 400 {
						if a.status != v.status || !strings.Contains(string(a.body), strings.TrimSuffix(string(mustJSON(t, v.value)), `"`)[1:]) {
							t.Errorf("%s with %s: %s, want %d and the value back", tc.field, v.what, a, v.status)
						}
						continue
					}
					mustProblem(t, a, 400, wire.CodeBadRequest)
					if !strings.HasPrefix(a.problem.Detail, tc.field+" ") && !strings.HasPrefix(a.problem.Detail, tc.field+":") {
						t.Errorf("%s with %s: detail %q does not start with the field", tc.field, v.what, a.problem.Detail)
					}
					if tc.field != "reason" && snapshot(t, srv) != before { // reason's call inits the run it resets
						t.Errorf("%s with %s: refused, yet the store changed", tc.field, v.what)
					}
				}
			}
		})
	}
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestContentTypeParameters: application/json with a charset is JSON.
func TestContentTypeParameters(t *testing.T) {
	t.Parallel()
	srv := cptest.New(t, cptest.Options{})
	a := send(t, srv, raw(http.MethodPost, "/v1/projects", srv.AdminToken, "application/json; charset=utf-8", []byte(`{"name":"alpha"}`)))
	if a.status != http.StatusCreated {
		t.Fatalf("answer = %s", a)
	}
}

// TestBlobRefusals: a digest mismatch (header or trailer) and a blob past the limit sent in chunks
// store nothing, not even a temp file.
func TestBlobRefusals(t *testing.T) {
	t.Parallel()
	f := newBadFixture(t)
	content := []byte("the root filesystem")
	wrong := digestOf([]byte("something else"))
	chunked := func(body []byte, trailer string) call {
		c := raw(http.MethodPost, "/v1/blobs", f.token, "application/octet-stream", body)
		c.trailer = http.Header{wire.DigestHeader: {trailer}}
		return c
	}
	tests := []struct {
		name   string
		call   call
		status int
		code   string
		absent string
	}{
		{"digest header mismatch", func() call {
			c := raw(http.MethodPost, "/v1/blobs", f.token, "application/octet-stream", content)
			c.header.Set(wire.DigestHeader, wrong)
			return c
		}(), 400, wire.CodeDigestMismatch, digestOf(content)},
		{"digest trailer mismatch", chunked(content, wrong), 400, wire.CodeDigestMismatch, digestOf(content)},
		{"digest trailer not a digest", chunked(content, "sha256:nope"), 400, wire.CodeBadRequest, digestOf(content)},
		{"right header, wrong trailer", func() call {
			c := chunked(content, wrong)
			c.header.Set(wire.DigestHeader, digestOf(content))
			return c
		}(), 400, wire.CodeBadRequest, digestOf(content)},
		{"wrong header, right trailer", func() call {
			c := chunked(content, digestOf(content))
			c.header.Set(wire.DigestHeader, wrong)
			return c
		}(), 400, wire.CodeBadRequest, digestOf(content)},
		{"right header, malformed trailer", func() call {
			c := chunked(content, "md5:9dd4e461268c8034f5c8564e155c67a6")
			c.header.Set(wire.DigestHeader, digestOf(content))
			return c
		}(), 400, wire.CodeBadRequest, digestOf(content)},
		{"chunked past the limit", chunked(bytes.Repeat([]byte("y"), 4*maxBlob), digestOf(bytes.Repeat([]byte("y"), 4*maxBlob))),
			413, wire.CodeTooLarge, digestOf(bytes.Repeat([]byte("y"), 4*maxBlob))},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			before := snapshot(t, f.srv)
			a := send(t, f.srv, tc.call)
			mustProblem(t, a, tc.status, tc.code)
			if blobStored(t, f.srv, tc.absent) || blobStored(t, f.srv, wrong) {
				t.Error("the refused blob is stored")
			}
			if after := snapshot(t, f.srv); after != before {
				t.Errorf("refused, yet the store changed:\nbefore:\n%s\nafter:\n%s", before, after)
			}
		})
	}
	// The same bytes with the right trailer are stored, once, however often they are sent.
	for range 2 {
		a := send(t, f.srv, chunked(content, digestOf(content)))
		if a.status != http.StatusCreated || !blobStored(t, f.srv, digestOf(content)) {
			t.Fatalf("upload with the right trailer = %s", a)
		}
	}
	if n := len(casFiles(t, f.srv)); n != 1 {
		t.Errorf("%d files in the CAS after two uploads of one blob: %v", n, casFiles(t, f.srv))
	}
}

// TestDigestHeaderRefusedBeforeBody: a malformed Custody-Digest header is refused at once, while the
// body is still being sent: the server does not receive a blob it will refuse.
func TestDigestHeaderRefusedBeforeBody(t *testing.T) {
	t.Parallel()
	f := newBadFixture(t)
	pr, pw := io.Pipe()
	t.Cleanup(func() { pw.Close() })
	go func() { _, _ = pw.Write([]byte("the start of a body that does not end")) }()
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	context.AfterFunc(ctx, func() { pw.CloseWithError(ctx.Err()) }) // the client gives up, and tells
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, f.srv.URL+"/v1/blobs", pr)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+f.token)
	req.Header.Set(wire.DigestHeader, "sha256:short")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("no answer while the body is open: %v", err)
	}
	defer resp.Body.Close()
	var p wire.Problem
	if err := json.NewDecoder(resp.Body).Decode(&p); err != nil || resp.StatusCode != 400 || p.Code != wire.CodeBadRequest ||
		!strings.Contains(p.Detail, wire.DigestHeader+" header") {
		t.Fatalf("answer %s %+v (%v), want 400 bad_request naming the %s header", resp.Status, p, err, wire.DigestHeader)
	}
}

// TestPushRefusals: what cannot be verified, is not about the run, or misses a required material is
// refused with 422 and stores nothing; the run stays open for a good push.
func TestPushRefusals(t *testing.T) {
	t.Parallel()
	f := newBadFixture(t)
	untrusted, _ := newSigner(t)
	trusted := f.signer
	cp := f.srv.Client(t, f.token)
	good := craft{Run: f.run.Run, Contract: f.run.Contract, Signer: trusted, Adds: buildAdds(t, "rootfs")}.bundle(t)
	other, err := cp.InitRun(t.Context(), wire.InitRun{Project: "alpha", Workflow: "build"})
	if err != nil {
		t.Fatal(err)
	}
	// A contract without rootfs, crafted locally: the bundle is signed, but revision 1 requires rootfs.
	lax := "apiVersion: custody.dev/v1\nkind: Contract\nmetadata: {name: build}\nspec:\n  materials:\n" +
		"    - {name: build-ref, type: STRING}\n    - {name: notes, type: ARTIFACT, output: true}\n"
	missing := craft{Run: f.run.Run, Contract: lax, Signer: trusted, Adds: []crafting.AddOptions{
		{Name: "build-ref", Value: "main"}, {Name: "notes", Value: writeTemp(t, "notes.txt", "notes")}}}.bundle(t)

	var doc map[string]any
	if err := json.Unmarshal(good, &doc); err != nil {
		t.Fatal(err)
	}
	envelope := doc["dsseEnvelope"].(map[string]any)
	unsigned := mutateJSON(t, doc, func(d map[string]any) { d["dsseEnvelope"].(map[string]any)["signatures"] = []any{} })
	tampered := mutateJSON(t, doc, func(d map[string]any) {
		d["dsseEnvelope"].(map[string]any)["payload"] = envelope["payload"].(string)[:len(envelope["payload"].(string))-4] + "AAAA"
	})
	bareEnvelope, _ := json.Marshal(envelope)

	tests := []struct {
		name   string
		bundle []byte
		code   string
		detail string
	}{
		{"junk", []byte("junk"), wire.CodeUnverifiable, ""},
		{"empty", []byte{}, wire.CodeUnverifiable, ""},
		{"JSON that is no bundle", []byte(`{"mediaType":"x"}`), wire.CodeUnverifiable, ""},
		{"unsigned", unsigned, wire.CodeUnverifiable, ""},
		{"tampered payload", tampered, wire.CodeUnverifiable, ""},
		{"signed by a key the workflow does not trust", craft{Run: f.run.Run, Contract: f.run.Contract, Signer: untrusted, Adds: buildAdds(t, "rootfs")}.bundle(t),
			wire.CodeUnverifiable, "not verified by any key"},
		{"about another run", craft{Run: other.Run, Contract: other.Contract, Signer: trusted, Adds: buildAdds(t, "rootfs")}.bundle(t),
			wire.CodeUnverifiable, "not about run " + f.run.Run.ID},
		{"missing a required material", missing, wire.CodeContractUnmet, "required materials not set: rootfs"},
		// Its signature verifies, but stored it would be served as the bundle: refused.
		{"the bundle's bare DSSE envelope", bareEnvelope, wire.CodeUnverifiable, "bare DSSE envelope"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			mustRefuse(t, f.srv, raw(http.MethodPost, "/v1/runs/"+f.run.Run.ID+"/attestation", f.token, attestation.BundleMediaType, tc.bundle),
				http.StatusUnprocessableEntity, tc.code, tc.detail)
		})
	}

	// The run took none of them: the good bundle is stored, and again is the same answer.
	first := send(t, f.srv, raw(http.MethodPost, "/v1/runs/"+f.run.Run.ID+"/attestation", f.token, attestation.BundleMediaType, good))
	second := send(t, f.srv, raw(http.MethodPost, "/v1/runs/"+f.run.Run.ID+"/attestation", f.token, attestation.BundleMediaType, good))
	var p1, p2 wire.Pushed
	_ = json.Unmarshal(first.body, &p1)
	_ = json.Unmarshal(second.body, &p2)
	if first.status != http.StatusCreated || second.status != http.StatusOK || p1.Digest == "" || p1.Digest != p2.Digest || !p1.Created || p2.Created {
		t.Fatalf("push twice = %s then %s", first, second)
	}
	// Another bundle for the finished run, or any bundle for a reset one: 409.
	again := craft{Run: f.run.Run, Contract: f.run.Contract, Signer: trusted, Adds: buildAdds(t, "rootfs 2")}.bundle(t)
	mustProblem(t, send(t, f.srv, raw(http.MethodPost, "/v1/runs/"+f.run.Run.ID+"/attestation", f.token, attestation.BundleMediaType, again)),
		http.StatusConflict, wire.CodeRunFinished)
	if _, err := cp.ResetRun(t.Context(), other.Run.ID, wire.FinishRun{Reason: "cancelled by test"}); err != nil {
		t.Fatal(err)
	}
	toReset := craft{Run: other.Run, Contract: other.Contract, Signer: trusted, Adds: buildAdds(t, "rootfs")}.bundle(t)
	before := snapshot(t, f.srv)
	mustProblem(t, send(t, f.srv, raw(http.MethodPost, "/v1/runs/"+other.Run.ID+"/attestation", f.token, attestation.BundleMediaType, toReset)),
		http.StatusConflict, wire.CodeRunFinished)
	if after := snapshot(t, f.srv); after != before {
		t.Errorf("push to a finished run changed the store")
	}
}

func mutateJSON(t *testing.T, doc map[string]any, fn func(map[string]any)) []byte {
	t.Helper()
	b, _ := json.Marshal(doc)
	var cp map[string]any
	if err := json.Unmarshal(b, &cp); err != nil {
		t.Fatal(err)
	}
	fn(cp)
	out, _ := json.Marshal(cp)
	return out
}

// TestStaleState: a write based on an old digest is refused with 409 stale_state and changes nothing.
func TestStaleState(t *testing.T) {
	t.Parallel()
	f := newBadFixture(t)
	cp := f.srv.Client(t, f.token)
	ctx := t.Context()
	v1, err := cp.PutState(ctx, f.run.Run.ID, "", []byte(`{"v":1}`))
	if err != nil {
		t.Fatal(err)
	}
	_, err = cp.PutState(ctx, f.run.Run.ID, "", []byte(`{"v":"from nothing"}`))
	mustCode(t, err, http.StatusConflict, wire.CodeStaleState)
	v2, err := cp.PutState(ctx, f.run.Run.ID, v1.Digest, []byte(`{"v":2}`))
	if err != nil {
		t.Fatal(err)
	}
	_, err = cp.PutState(ctx, f.run.Run.ID, v1.Digest, []byte(`{"v":"from 1"}`))
	mustCode(t, err, http.StatusConflict, wire.CodeStaleState)
	got, err := cp.GetState(ctx, f.run.Run.ID)
	if err != nil || got.Digest != v2.Digest || string(got.State) != `{"v":2}` {
		t.Fatalf("state = %+v (%s), %v", got, got.State, err)
	}
}

// FuzzRequest sends any method, path and body with the admin's token (the deepest reach): the
// answer is never a server error nor a redirect, and every refusal is a problem document.
func FuzzRequest(f *testing.F) {
	for _, seed := range []struct{ method, path, body string }{
		{"GET", "/v1/projects/../tokens", ""},
		{"POST", "/v1/projects/%2e%2e/workflows", `{"name":"x"}`},
		{"GET", "/v1/projects/..%2Fx/workflows", ""},
		{"GET", "/v1/blobs/sha256:short", ""},
		{"GET", "/v1/attestations?digest=md5:x&limit=-1", ""},
		{"POST", "/v1/projects", `{"name":"alpha"}`},
		{"POST", "/v1/projects/alpha/workflows", `{"name":"build","contract":"kind: x"}`},
		{"POST", "/v1/runs", `{"project":"alpha","workflow":"build","revision":-5}`},
		{"PUT", "/v1/runs/x/state", `{"base":"","state":"e30="}`},
		{"POST", "/v1/runs/x/attestation", `{"mediaType":"application/vnd.dev.sigstore.bundle.v0.3+json"}`},
		{"DELETE", "/v1/tokens/%00", ""},
		{"GET", "/v1/runs/a%00b/state", ""},
		{"GET", "/v1/attestations?digest=sha256:%00", ""},
		{"POST", "/v1/runs", `{"project":"alpha","workflow":"build","runner":{"type":"\u0000"}}`},
		{"PATCH", "/v1/whoami", ""},
		{"GET", "//v1//whoami", ""},
	} {
		f.Add(seed.method, seed.path, seed.body)
	}
	srv := cptest.New(f, cptest.Options{MaxBlobSize: maxBlob})
	h := api.New(api.Config{App: srv.App, MaxBlobSize: maxBlob})
	f.Fuzz(func(t *testing.T, method, target, body string) {
		if !strings.HasPrefix(target, "/") {
			target = "/" + target
		}
		u, err := url.ParseRequestURI(target)
		if err != nil || !validMethod(method) {
			return
		}
		req := httptest.NewRequest(http.MethodGet, "/", strings.NewReader(body))
		req.Method, req.URL, req.RequestURI = method, u, target
		req.Header.Set("Authorization", "Bearer "+srv.AdminToken)
		req.Header.Set("Content-Type", "application/json")
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		switch {
		case rec.Code >= 500 && !(u.Path == "/readyz"):
			t.Fatalf("%s %q: %d %s", method, target, rec.Code, rec.Body)
		case rec.Code/100 == 3:
			t.Fatalf("%s %q: redirect to %q", method, target, rec.Header().Get("Location"))
		case rec.Code >= 400 && method != http.MethodHead:
			var p wire.Problem
			if rec.Header().Get("Content-Type") != "application/problem+json" || json.Unmarshal(rec.Body.Bytes(), &p) != nil || p.Code == "" || p.Status != rec.Code {
				t.Fatalf("%s %q: %d %q is not a problem document", method, target, rec.Code, rec.Body)
			}
		}
	})
}

// FuzzBlobClaims uploads a blob with any Custody-Digest header and trailer: the answer is 201 only
// when every claim given is the blob's digest, else a 400 that stores nothing; never a server error.
func FuzzBlobClaims(f *testing.F) {
	content := []byte("fuzzed blob")
	right := digestOf(content)
	for _, seed := range [][2]string{{right, ""}, {"", right}, {right, right}, {right, digestOf(nil)}, {"sha256:short", right}, {"", "md5:x"}, {"", ""}} {
		f.Add(seed[0], seed[1])
	}
	srv := cptest.New(f, cptest.Options{MaxBlobSize: maxBlob})
	h := api.New(api.Config{App: srv.App, MaxBlobSize: maxBlob})
	f.Fuzz(func(t *testing.T, header, trailer string) {
		req := httptest.NewRequest(http.MethodPost, "/v1/blobs", io.NopCloser(bytes.NewReader(content)))
		req.ContentLength = -1
		req.Header.Set("Authorization", "Bearer "+srv.AdminToken)
		if header != "" {
			req.Header[wire.DigestHeader] = []string{header}
		}
		if trailer != "" {
			req.Trailer = http.Header{wire.DigestHeader: {trailer}}
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		agree := (header != "" || trailer != "") && (header == "" || header == right) && (trailer == "" || trailer == right)
		switch {
		case rec.Code == http.StatusCreated && (agree || header == "" && trailer == ""):
		case rec.Code == http.StatusBadRequest && !agree && (header != "" || trailer != ""):
		default:
			t.Fatalf("header %q, trailer %q: %d %s", header, trailer, rec.Code, rec.Body)
		}
	})
}

func validMethod(m string) bool {
	if m == "" || m == http.MethodConnect {
		return false
	}
	for _, c := range m {
		if c < 'A' || c > 'Z' {
			return false
		}
	}
	return true
}
