package main

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/custody-dev/custody/internal/cptest"
	"github.com/custody-dev/custody/wire"
)

// exchangeStandIn is a control plane whose POST /v1/auth/oidc this test serves, speaking the
// endpoint's protocol (docs/api.md) until the coordinator points these tests at the real one, built
// in parallel: an ID token not seen before is answered with a real workflow token of the in-process
// control plane (internal/cptest), one seen before is refused as a replay. Every other call goes to
// that control plane; the bearer each carried is recorded.
type exchangeStandIn struct {
	URL string
	cp  *cptest.Server
	// credential is the token an exchange answers, living ttl from the exchange.
	credential string
	ttl        atomic.Int64
	// refuse, when set, is the problem an exchange answers.
	refuse atomic.Pointer[wire.Problem]

	exchanges atomic.Int32
	seen      sync.Map
	mu        sync.Mutex
	calls     []string
	requests  []wire.ExchangeOIDC
}

func newExchangeStandIn(t *testing.T, cp *cptest.Server, credential string) *exchangeStandIn {
	t.Helper()
	s := &exchangeStandIn{cp: cp, credential: credential}
	s.ttl.Store(int64(15 * time.Minute))
	target, err := url.Parse(cp.URL)
	if err != nil {
		t.Fatal(err)
	}
	proxy := &httputil.ReverseProxy{Rewrite: func(r *httputil.ProxyRequest) { r.SetURL(target) }}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		s.calls = append(s.calls, r.Method+" "+r.URL.Path+" "+r.Header.Get("Authorization"))
		s.mu.Unlock()
		if r.URL.Path != "/v1/auth/oidc" {
			proxy.ServeHTTP(w, r)
			return
		}
		s.exchange(w, r)
	}))
	t.Cleanup(srv.Close)
	s.URL = srv.URL
	return s
}

func (s *exchangeStandIn) exchange(w http.ResponseWriter, r *http.Request) {
	var req wire.ExchangeOIDC
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, 64<<10))
	dec.DisallowUnknownFields()
	if r.Method != http.MethodPost || r.Header.Get("Authorization") != "" || dec.Decode(&req) != nil {
		problem(w, wire.Problem{Status: http.StatusBadRequest, Code: wire.CodeBadRequest, Detail: "want POST of an ExchangeOIDC, without a bearer token"})
		return
	}
	s.mu.Lock()
	s.requests = append(s.requests, req)
	s.mu.Unlock()
	if _, replayed := s.seen.LoadOrStore(req.Token, true); replayed {
		problem(w, wire.Problem{Status: http.StatusUnauthorized, Code: wire.CodeOIDCTokenReplayed, Detail: "the ID token was exchanged before"})
		return
	}
	if p := s.refuse.Load(); p != nil {
		problem(w, *p)
		return
	}
	s.exchanges.Add(1)
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(wire.Exchanged{Token: s.credential, ExpiresAt: time.Now().Add(time.Duration(s.ttl.Load())).UTC(), Project: req.Project,
		Workflow: req.Workflow, Issuer: "https://token.actions.githubusercontent.com", Subject: "repo:cyberdyne/skynet:ref:refs/heads/main"})
}

func problem(w http.ResponseWriter, p wire.Problem) {
	w.Header().Set("Content-Type", "application/problem+json")
	w.WriteHeader(p.Status)
	_ = json.NewEncoder(w).Encode(p)
}

// bearers returns the bearer of each call to path, in order.
func (s *exchangeStandIn) bearers(method, path string) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []string
	for _, c := range s.calls {
		if rest, ok := strings.CutPrefix(c, method+" "+path+" "); ok {
			out = append(out, strings.TrimPrefix(rest, "Bearer "))
		}
	}
	return out
}

// idToken is a JWT-shaped ID token, different for each n.
func idToken(n int) string {
	enc := base64.RawURLEncoding.EncodeToString
	return enc([]byte(`{"alg":"RS256","kid":"1"}`)) + "." + enc(fmt.Appendf(nil, `{"jti":"%d","sub":"repo:cyberdyne/skynet:ref:refs/heads/main"}`, n)) + "." + enc([]byte("signature"))
}

// actionsTokenService speaks GitHub Actions' token service (GET <url>&audience=X with
// "Authorization: bearer <request token>" answers {"value": "<jwt>"}), a fresh token each time.
type actionsTokenService struct {
	URL, RequestToken string
	issued            atomic.Int32
}

func newActionsTokenService(t *testing.T) *actionsTokenService {
	t.Helper()
	s := &actionsTokenService{RequestToken: "actions-request-token"}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "bearer "+s.RequestToken || r.URL.Query().Get("audience") != "custody" ||
			r.URL.Query().Get("api-version") != "2.0" {
			http.Error(w, `{"message":"Bad credentials"}`, http.StatusUnauthorized)
			return
		}
		fmt.Fprintf(w, `{"count":1,"value":%q}`, idToken(int(s.issued.Add(1))))
	}))
	t.Cleanup(srv.Close)
	s.URL = srv.URL + "/idtoken?api-version=2.0"
	return s
}

// gitHubJob is the environment GitHub Actions gives a job (docs/runners.md), its workspace dir.
func gitHubJob(dir string) []string {
	return []string{"CI=true", "GITHUB_ACTIONS=true", "GITHUB_SERVER_URL=https://github.com", "GITHUB_REPOSITORY=cyberdyne/skynet",
		"GITHUB_REPOSITORY_OWNER=cyberdyne", "GITHUB_RUN_ID=42", "GITHUB_RUN_ATTEMPT=1", "GITHUB_SHA=80e461e9b385c6986cdb8096c9dc99928943d667",
		"GITHUB_WORKFLOW=build", "GITHUB_EVENT_NAME=push", "GITHUB_ACTOR=sarah", "GITHUB_JOB=attest", "GITHUB_WORKSPACE=" + dir}
}

// gitLabJob is the environment GitLab CI/CD gives a job (docs/runners.md), its project dir.
func gitLabJob(dir string) []string {
	return []string{"CI=true", "GITLAB_CI=true", "CI_SERVER_URL=https://gitlab.com", "CI_PROJECT_PATH=cyberdyne/skynet", "CI_PIPELINE_ID=1000",
		"CI_PIPELINE_SOURCE=push", "CI_JOB_ID=50", "CI_JOB_NAME=attest", "CI_JOB_URL=https://gitlab.com/cyberdyne/skynet/-/jobs/50",
		"CI_COMMIT_SHA=80e461e9b385c6986cdb8096c9dc99928943d667", "CI_COMMIT_REF_NAME=main", "CI_PROJECT_DIR=" + dir}
}
