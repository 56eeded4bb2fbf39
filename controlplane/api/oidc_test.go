package api_test

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/custody-dev/custody/client"
	"github.com/custody-dev/custody/controlplane/auth"
	"github.com/custody-dev/custody/internal/cptest"
	"github.com/custody-dev/custody/internal/oidctest"
	"github.com/custody-dev/custody/internal/testclock"
	"github.com/custody-dev/custody/wire"
)

// oidcFixture is a control plane that trusts a test issuer (and an issuer that does not answer),
// with workflows alpha/build (policies for acme/app's main branch and v* tags on GitHub, and for its
// protected refs on GitLab), alpha/other (acme/other) and alpha/nopolicy (none).
type oidcFixture struct {
	srv *cptest.Server
	clk *testclock.Clock
	iss *oidctest.Issuer
	// down is on the allow list but does not answer.
	down string
	// acmeID is the repository_owner_id of acme.
	acmeID string
	log    *syncBuffer
}

// syncBuffer is a log destination the server's goroutines write while the test reads.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}
func (s *syncBuffer) String() string { s.mu.Lock(); defer s.mu.Unlock(); return s.b.String() }

func newOIDCFixture(t *testing.T) *oidcFixture {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	f := &oidcFixture{clk: newClock(), iss: oidctest.New(t), down: "http://" + ln.Addr().String(), log: &syncBuffer{}}
	ln.Close()
	f.iss.Now = f.clk.Now
	f.srv = cptest.New(t, cptest.Options{Now: f.clk.Now, OIDCIssuers: []string{f.iss.URL, f.down},
		Logger: slog.New(slog.NewJSONHandler(f.log, nil))})
	f.acmeID = oidctest.GitHubClaims("acme/app", "refs/heads/main")["repository_owner_id"].(string)
	for _, w := range []string{"build", "other", "nopolicy"} {
		f.srv.Workflow(t, "alpha", w, buildContract, nil)
	}
	admin := f.srv.Admin(t)
	for _, p := range []struct {
		workflow string
		claims   map[string]string
	}{
		{"build", map[string]string{"repository": "acme/app", "repository_owner_id": f.acmeID, "ref": "refs/heads/main"}},
		{"build", map[string]string{"repository": "acme/app", "repository_owner_id": f.acmeID, "ref": "refs/tags/v*"}},
		{"build", map[string]string{"project_path": "acme/app", "ref_protected": "true"}},
		{"other", map[string]string{"repository": "acme/other", "repository_owner_id": f.acmeID}},
	} {
		if _, err := admin.AddTrustPolicy(t.Context(), "alpha", p.workflow, wire.TrustPolicy{Issuer: f.iss.URL, Claims: p.claims}); err != nil {
			t.Fatal(err)
		}
		f.clk.Advance(time.Second) // policies are listed, and numbered in refusals, oldest first
	}
	return f
}

// github is a GitHub-shaped token of acme/app's main branch, changed by edit.
func (f *oidcFixture) github(t *testing.T, edit func(map[string]any), opts ...oidctest.Option) string {
	t.Helper()
	c := oidctest.GitHubClaims("acme/app", "refs/heads/main")
	if edit != nil {
		edit(c)
	}
	return f.iss.Token(t, c, opts...)
}

func exchangeCall(token, project, workflow string) call {
	b, _ := json.Marshal(wire.ExchangeOIDC{Token: token, Project: project, Workflow: workflow})
	return call{method: http.MethodPost, path: "/v1/auth/oidc", body: b, header: http.Header{"Content-Type": {"application/json"}}}
}

func set(k string, v any) func(map[string]any) { return func(c map[string]any) { c[k] = v } }

// TestExchangeBadTokens is the bad-token matrix: each token is refused with its code, saying why, and
// nothing is created (no credential, no run).
func TestExchangeBadTokens(t *testing.T) {
	t.Parallel()
	f := newOIDCFixture(t)
	rogue := oidctest.New(t)
	rogue.Now = f.clk.Now
	t0 := f.clk.Now()
	const invalid, replayed, unmatched = wire.CodeOIDCTokenInvalid, wire.CodeOIDCTokenReplayed, wire.CodeTrustPolicyUnmatched
	tests := []struct {
		name     string
		call     func(t *testing.T) call
		status   int
		code     string
		detail   []string
		notAsked bool // the issuer was not asked anything
	}{
		{"expired", func(t *testing.T) call {
			return exchangeCall(f.github(t, nil, oidctest.IssuedAt(t0.Add(-10*time.Minute)), oidctest.ExpiresAt(t0.Add(-time.Second))), "alpha", "build")
		}, 401, invalid, []string{"expired at"}, false},
		{"not yet valid", func(t *testing.T) call {
			return exchangeCall(f.github(t, nil, oidctest.NotBefore(t0.Add(5*time.Minute)), oidctest.ExpiresAt(t0.Add(10*time.Minute))), "alpha", "build")
		}, 401, invalid, []string{"not valid before"}, false},
		{"wrong audience", func(t *testing.T) call {
			return exchangeCall(f.github(t, nil, oidctest.Audience("https://github.com/acme")), "alpha", "build")
		}, 401, invalid, []string{`audience "custody"`}, false},
		{"wrong issuer (not on the list)", func(t *testing.T) call {
			return exchangeCall(rogue.Token(t, oidctest.GitHubClaims("acme/app", "refs/heads/main")), "alpha", "build")
		}, 401, invalid, []string{rogue.URL, "is not one this control plane trusts"}, true},
		{"bad signature", func(t *testing.T) call {
			return exchangeCall(f.github(t, nil, oidctest.BadSignature()), "alpha", "build")
		}, 401, invalid, []string{"signature does not verify"}, false},
		{"alg none", func(t *testing.T) call {
			return exchangeCall(f.github(t, nil, oidctest.AlgNone()), "alpha", "build")
		}, 401, invalid, []string{`algorithm "none" is not accepted`}, true},
		{"HS256 signed with the public key", func(t *testing.T) call {
			return exchangeCall(f.github(t, nil, oidctest.HS256WithPublicKey()), "alpha", "build")
		}, 401, invalid, []string{`algorithm "HS256" is not accepted`}, true},
		{"unknown kid", func(t *testing.T) call {
			return exchangeCall(f.github(t, nil, oidctest.UnknownKid()), "alpha", "build")
		}, 401, invalid, []string{"signature does not verify", `key ID "unknown-`}, false},
		{"no jti", func(t *testing.T) call {
			return exchangeCall(f.github(t, func(c map[string]any) { delete(c, "jti") }), "alpha", "build")
		}, 401, invalid, []string{"no ID (jti)"}, false},
		{"no token", func(*testing.T) call { return exchangeCall("", "alpha", "build") }, 401, invalid, []string{"no token"}, true},
		{"not a JWT", func(*testing.T) call { return exchangeCall("cst_notajwt", "alpha", "build") }, 401, invalid, []string{"not a JWT"}, true},
		{"replayed jti", func(t *testing.T) call {
			tok := f.github(t, nil)
			if _, err := f.srv.Client(t, "").ExchangeOIDC(t.Context(), wire.ExchangeOIDC{Token: tok, Project: "alpha", Workflow: "build"}); err != nil {
				t.Fatal(err)
			}
			return exchangeCall(tok, "alpha", "build")
		}, 401, replayed, []string{"exchanged before"}, false},
		{"claims outside the trust policy", func(t *testing.T) call {
			return exchangeCall(f.github(t, set("ref", "refs/heads/dev")), "alpha", "build")
		}, 403, unmatched, []string{"policy 1: ref=refs/heads/dev", "policy 2: ref=refs/heads/dev", "policy 3: project_path (absent), ref_protected=false"}, false},
		{"a glob stops at /", func(t *testing.T) call {
			return exchangeCall(f.github(t, set("ref", "refs/tags/v1/evil")), "alpha", "build")
		}, 403, unmatched, []string{"policy 2: ref=refs/tags/v1/evil"}, false},
		{"a trust policy of another workflow", func(t *testing.T) call {
			return exchangeCall(f.github(t, set("repository", "acme/other")), "alpha", "build")
		}, 403, unmatched, []string{"repository=acme/other"}, false},
		{"a renamed repository with another owner id", func(t *testing.T) call {
			return exchangeCall(f.github(t, set("repository_owner_id", "31337")), "alpha", "build")
		}, 403, unmatched, []string{"policy 1: repository_owner_id=31337", "policy 2: ref=refs/heads/main, repository_owner_id=31337"}, false},
		{"a workflow with no policy", func(t *testing.T) call { return exchangeCall(f.github(t, nil), "alpha", "nopolicy") },
			403, unmatched, []string{"no trust policy of workflow alpha/nopolicy matches this token"}, false},
		{"an issuer that does not answer", func(t *testing.T) call { return exchangeCall(f.github(t, set("iss", f.down)), "alpha", "build") },
			503, wire.CodeServiceUnavailable, []string{f.down, "retry later"}, true},
		{"a bad project name", func(t *testing.T) call { return exchangeCall(f.github(t, nil), "Alpha", "build") }, 400, wire.CodeBadRequest, []string{"DNS-1123"}, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := tc.call(t)
			asked := f.iss.Requests()
			a := mustRefuse(t, f.srv, c, tc.status, tc.code, tc.detail...)
			if tc.notAsked && f.iss.Requests() != asked {
				t.Errorf("the issuer was asked %d times", f.iss.Requests()-asked)
			}
			if rogue.Requests() != 0 {
				t.Errorf("the issuer not on the list was asked")
			}
			var tok wire.ExchangeOIDC
			_ = json.Unmarshal(c.body, &tok)
			if parts := strings.Split(tok.Token, "."); len(parts) == 3 && len(parts[2]) > 8 && strings.Contains(string(a.body), parts[2]) {
				t.Errorf("the answer quotes the token's signature: %s", a)
			}
		})
	}

	// A token refused for one workflow is not spent: its own workflow takes it.
	tok := f.github(t, set("repository", "acme/other"))
	mustRefuse(t, f.srv, exchangeCall(tok, "alpha", "build"), 403, unmatched)
	if _, err := f.srv.Client(t, "").ExchangeOIDC(t.Context(), wire.ExchangeOIDC{Token: tok, Project: "alpha", Workflow: "other"}); err != nil {
		t.Errorf("the refused token, for its own workflow: %v", err)
	}
}

// TestExchangeRevealsNoNames: a workflow or project that does not exist is refused exactly as a
// workflow with no trust policy.
func TestExchangeRevealsNoNames(t *testing.T) {
	t.Parallel()
	f := newOIDCFixture(t)
	tok := f.github(t, nil)
	none := send(t, f.srv, exchangeCall(tok, "alpha", "nopolicy"))
	mustProblem(t, none, http.StatusForbidden, wire.CodeTrustPolicyUnmatched)
	for _, target := range [][2]string{{"alpha", "ghost"}, {"ghost", "nopolicy"}} {
		a := send(t, f.srv, exchangeCall(tok, target[0], target[1]))
		mustProblem(t, a, http.StatusForbidden, wire.CodeTrustPolicyUnmatched)
		p, w := target[0], target[1]
		want := strings.NewReplacer("alpha/nopolicy", p+"/"+w, "add nopolicy --project alpha", "add "+w+" --project "+p).Replace(none.problem.Detail)
		if a.problem.Detail != want {
			t.Errorf("%s/%s:\n got %q\nwant %q", target[0], target[1], a.problem.Detail, want)
		}
	}
}

// TestExchange: a matching token gets a credential of its workflow only, living until the ID token
// expires and 15 minutes at most; the control plane knows its caller as the workload.
func TestExchange(t *testing.T) {
	t.Parallel()
	f := newOIDCFixture(t)
	ctx := t.Context()
	anon := f.srv.Client(t, "")
	t0 := f.clk.Now()
	for _, tc := range []struct {
		name     string
		token    string
		expires  time.Time
		workload map[string]string
	}{
		{"GitHub, main", f.github(t, nil), t0.Add(oidctest.Lifetime), map[string]string{"repository": "acme/app", "ref": "refs/heads/main"}},
		{"GitHub, ES256, a tag by glob", f.github(t, set("ref", "refs/tags/v1.2.3"), oidctest.ES256()), t0.Add(oidctest.Lifetime), map[string]string{"ref": "refs/tags/v1.2.3"}},
		{"GitHub, a token of an hour", f.github(t, nil, oidctest.ExpiresAt(t0.Add(time.Hour))), t0.Add(15 * time.Minute), nil},
		{"GitLab", f.iss.Token(t, oidctest.GitLabClaims("acme/app", "main")), t0.Add(oidctest.Lifetime), map[string]string{"project_path": "acme/app"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := snapshot(t, f.srv)
			out, err := anon.ExchangeOIDC(ctx, wire.ExchangeOIDC{Token: tc.token, Project: "alpha", Workflow: "build"})
			if err != nil {
				t.Fatal(err)
			}
			if !out.ExpiresAt.Equal(tc.expires) || out.Project != "alpha" || out.Workflow != "build" || out.Issuer != f.iss.URL ||
				out.Subject == "" || !wire.TokenPattern.MatchString(out.Token) {
				t.Errorf("exchanged: %+v, want expiry %s", out, tc.expires)
			}
			if after := snapshot(t, f.srv); strings.Count(after, "\ntoken ") != strings.Count(before, "\ntoken ")+1 {
				t.Errorf("tokens after the exchange:\n%s", after)
			}
			p, err := f.srv.App.Authenticate(ctx, out.Token)
			if err != nil {
				t.Fatal(err)
			}
			if p.Kind() != auth.KindWorkload || p.Workload.Issuer != f.iss.URL || p.Workload.Subject != out.Subject {
				t.Errorf("principal: kind %s, workload %+v", p.Kind(), p.Workload)
			}
			for k, v := range tc.workload {
				if got := p.Workload.Claim(k); got != v {
					t.Errorf("workload claim %s = %q, want %q", k, got, v)
				}
			}
			cred := f.srv.Client(t, out.Token)
			if _, err := cred.InitRun(ctx, wire.InitRun{Project: "alpha", Workflow: "build"}); err != nil {
				t.Errorf("init its workflow: %v", err)
			}
			_, err = cred.InitRun(ctx, wire.InitRun{Project: "alpha", Workflow: "other"})
			mustCode(t, err, http.StatusNotFound, wire.CodeNotFound)
			_, err = cred.AddTrustPolicy(ctx, "alpha", "build", wire.TrustPolicy{Issuer: f.iss.URL, Claims: map[string]string{"sub": "x"}})
			mustCode(t, err, http.StatusForbidden, wire.CodeForbidden)
		})
	}

	// The credentials expire: the shortest with the ID token, the longest 15 minutes after the exchange.
	short, err := anon.ExchangeOIDC(ctx, wire.ExchangeOIDC{Token: f.github(t, nil), Project: "alpha", Workflow: "build"})
	if err != nil {
		t.Fatal(err)
	}
	long, err := anon.ExchangeOIDC(ctx, wire.ExchangeOIDC{Token: f.github(t, nil, oidctest.ExpiresAt(t0.Add(time.Hour))), Project: "alpha", Workflow: "build"})
	if err != nil {
		t.Fatal(err)
	}
	f.clk.Advance(oidctest.Lifetime)
	_, err = f.srv.Client(t, short.Token).WhoAmI(ctx)
	mustCode(t, err, http.StatusUnauthorized, wire.CodeUnauthenticated)
	if _, err := f.srv.Client(t, long.Token).WhoAmI(ctx); err != nil {
		t.Errorf("the 15-minute credential after 5 minutes: %v", err)
	}
	f.clk.Advance(10 * time.Minute)
	_, err = f.srv.Client(t, long.Token).WhoAmI(ctx)
	mustCode(t, err, http.StatusUnauthorized, wire.CodeUnauthenticated)

	// The uses of expired ID tokens are forgotten; the tokens themselves stay refused (expired).
	if n, err := f.srv.App.PruneIDTokenUses(ctx); err != nil || n != 4 {
		t.Errorf("pruned %d uses (%v), want the 4 of ID tokens that lived 5 minutes", n, err)
	}
}

// TestExchangeLog: every exchange is logged with the issuer, subject, workflow, jti and outcome,
// never the ID token nor the credential.
func TestExchangeLog(t *testing.T) {
	t.Parallel()
	f := newOIDCFixture(t)
	good := f.github(t, nil)
	out, err := f.srv.Client(t, "").ExchangeOIDC(t.Context(), wire.ExchangeOIDC{Token: good, Project: "alpha", Workflow: "build"})
	if err != nil {
		t.Fatal(err)
	}
	dev := f.github(t, set("ref", "refs/heads/dev"))
	forged := f.github(t, nil, oidctest.BadSignature())
	for _, tok := range []string{good, dev, forged} {
		send(t, f.srv, exchangeCall(tok, "alpha", "build"))
	}
	var lines []map[string]any
	for _, l := range strings.Split(strings.TrimSpace(f.log.String()), "\n") {
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatalf("log line %q: %v", l, err)
		}
		if _, ok := m["outcome"]; ok {
			lines = append(lines, m)
		}
	}
	want := []string{"exchanged", wire.CodeOIDCTokenReplayed, wire.CodeTrustPolicyUnmatched, wire.CodeOIDCTokenInvalid}
	if len(lines) != len(want) {
		t.Fatalf("%d exchange lines, want %d:\n%s", len(lines), len(want), f.log)
	}
	for i, l := range lines {
		if l["outcome"] != want[i] || l["workflow"] != "build" || l["project"] != "alpha" {
			t.Errorf("line %d: %v, want outcome %s", i, l, want[i])
		}
		if i < 3 && (l["issuer"] != f.iss.URL || l["subject"] != "repo:acme/app:ref:refs/heads/main" || l["jti"] == "") {
			t.Errorf("line %d names no issuer, subject or jti: %v", i, l)
		}
	}
	logged := f.log.String()
	for _, secret := range []string{out.Token, strings.Split(good, ".")[2], strings.Split(dev, ".")[2], strings.Split(forged, ".")[2], strings.Split(good, ".")[1]} {
		if strings.Contains(logged, secret) {
			t.Errorf("the log holds a token or its signature or payload")
		}
	}
}

// TestTrustPolicies: admins add, list and remove a workflow's policies; whoever sees the workflow
// lists them; a policy that would trust too much, or that nothing could match, is refused.
func TestTrustPolicies(t *testing.T) {
	t.Parallel()
	f := newOIDCFixture(t)
	ctx := t.Context()
	admin := f.srv.Admin(t)
	ps, err := f.srv.Client(t, f.srv.Workflow(t, "alpha", "fresh", buildContract, nil)).ListTrustPolicies(ctx, "alpha", "fresh")
	if err != nil || len(ps) != 0 {
		t.Fatalf("a fresh workflow's policies: %v, %v", ps, err)
	}
	added, err := admin.AddTrustPolicy(ctx, "alpha", "fresh", wire.TrustPolicy{Issuer: f.iss.URL, Claims: map[string]string{"sub": "repo:acme/app:*"}})
	if err != nil {
		t.Fatal(err)
	}
	if added.ID == "" || !added.CreatedAt.Equal(f.clk.Now()) {
		t.Errorf("added: %+v", added)
	}
	ps, err = admin.ListTrustPolicies(ctx, "alpha", "build")
	if err != nil || len(ps) != 3 || ps[0].Claims["ref"] != "refs/heads/main" || ps[1].Claims["ref"] != "refs/tags/v*" {
		t.Fatalf("alpha/build's policies, oldest first: %+v, %v", ps, err)
	}

	pol := func(claims map[string]string) wire.TrustPolicy {
		return wire.TrustPolicy{Issuer: f.iss.URL, Claims: claims}
	}
	many := map[string]string{"repository": "acme/app"}
	for i := range 32 {
		many["c"+string(rune('a'+i%26))+string(rune('a'+i/26))] = "x"
	}
	for _, tc := range []struct {
		name   string
		body   wire.TrustPolicy
		status int
		code   string
		detail string
	}{
		{"issuer only", pol(nil), 400, wire.CodeBadRequest, "no claims"},
		{"no identifying claim", pol(map[string]string{"ref": "refs/heads/main", "environment": "prod"}), 400, wire.CodeBadRequest, "pins none of repository, repository_owner_id, project_path, sub"},
		{"a glob owner", pol(map[string]string{"repository": "*/app"}), 400, wire.CodeBadRequest, "the owner"},
		{"a glob repository", pol(map[string]string{"repository": "*"}), 400, wire.CodeBadRequest, "the owner"},
		{"a glob owner id", pol(map[string]string{"repository_owner_id": "1*"}), 400, wire.CodeBadRequest, "the owner"},
		{"a glob subject", pol(map[string]string{"sub": "repo:*"}), 400, wire.CodeBadRequest, "the owner"},
		{"an issuer not on the list", wire.TrustPolicy{Issuer: "https://gitlab.example.com", Claims: map[string]string{"project_path": "acme/app"}}, 400, wire.CodeBadRequest, "it trusts " + f.iss.URL},
		{"iss as a claim", pol(map[string]string{"repository": "acme/app", "iss": "x"}), 400, wire.CodeBadRequest, "claim iss"},
		{"jti as a claim", pol(map[string]string{"repository": "acme/app", "jti": "x"}), 400, wire.CodeBadRequest, "claim jti"},
		{"a malformed pattern", pol(map[string]string{"repository": "acme/app", "ref": "refs/[heads"}), 400, wire.CodeBadRequest, "not a valid pattern"},
		{"an empty value", pol(map[string]string{"repository": "acme/app", "ref": ""}), 400, wire.CodeBadRequest, "claim ref: empty"},
		{"a claim name with =", pol(map[string]string{"repository": "acme/app", "a=b": "c"}), 400, wire.CodeBadRequest, `claim name "a=b"`},
		{"a value past its bound", pol(map[string]string{"repository": "acme/" + strings.Repeat("a", 1024)}), 400, wire.CodeBadRequest, "at most 1024"},
		{"a NUL", pol(map[string]string{"repository": "acme/a\x00"}), 400, wire.CodeBadRequest, "NUL"},
		{"33 claims", pol(many), 400, wire.CodeBadRequest, "33 claims, at most 32"},
		{"with an id", wire.TrustPolicy{ID: "mine", Issuer: f.iss.URL, Claims: map[string]string{"sub": "x"}}, 400, wire.CodeBadRequest, "the control plane's to set"},
		{"the same policy twice", pol(map[string]string{"sub": "repo:acme/app:*"}), 409, wire.CodeConflict, "already has this trust policy (" + added.ID + ")"},
	} {
		c := jsonCall(http.MethodPost, "/v1/projects/alpha/workflows/fresh/trust", f.srv.AdminToken, tc.body)
		mustRefuse(t, f.srv, c, tc.status, tc.code, tc.detail)
	}

	// Only admins manage; a token of the workflow lists; another workflow's token sees nothing.
	wf := f.srv.Client(t, f.srv.Workflow(t, "alpha", "solo", buildContract, nil))
	_, err = wf.AddTrustPolicy(ctx, "alpha", "solo", pol(map[string]string{"sub": "x"}))
	mustCode(t, err, http.StatusForbidden, wire.CodeForbidden)
	_, err = wf.ListTrustPolicies(ctx, "alpha", "build")
	mustCode(t, err, http.StatusNotFound, wire.CodeNotFound)

	if err := admin.RemoveTrustPolicy(ctx, "alpha", "fresh", added.ID); err != nil {
		t.Fatal(err)
	}
	mustCode(t, admin.RemoveTrustPolicy(ctx, "alpha", "fresh", added.ID), http.StatusNotFound, wire.CodeNotFound)
	// Removed: a token it matched is refused.
	_, err = f.srv.Client(t, "").ExchangeOIDC(ctx, wire.ExchangeOIDC{Token: f.github(t, nil), Project: "alpha", Workflow: "fresh"})
	if client.Code(err) != wire.CodeTrustPolicyUnmatched {
		t.Errorf("after the policy was removed: %v", err)
	}
}
