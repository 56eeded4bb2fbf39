package runner

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/custody-dev/custody/internal/oidctest"
)

// idToken is shaped like a JWT; the control plane, not the CLI, verifies it.
const idToken = "eyJhbGciOiJSUzI1NiIsImtpZCI6IjEifQ.eyJzdWIiOiJyZXBvOm9jdG9jYXQvSGVsbG8tV29ybGQ6cmVmOnJlZnMvaGVhZHMvbWFpbiJ9.c2lnbmF0dXJl"

// countingTransport counts the requests of the HTTP client a source is given.
type countingTransport struct{ n atomic.Int32 }

func (c *countingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	c.n.Add(1)
	return http.DefaultTransport.RoundTrip(r)
}

// actionsJob is a GitHub Actions job whose ACTIONS_ID_TOKEN_REQUEST_* point at the test issuer's
// token endpoint (internal/oidctest), and the client that asks it, counting its requests.
func actionsJob(t *testing.T) (*oidctest.Issuer, env, *http.Client, *countingTransport) {
	t.Helper()
	iss := oidctest.New(t)
	url, reqToken := iss.ActionsTokenServer(t, oidctest.GitHubClaims("octocat/hello-world", "refs/heads/main"))
	count := &countingTransport{}
	return iss, gitHubEnv.with("ACTIONS_ID_TOKEN_REQUEST_URL", url, "ACTIONS_ID_TOKEN_REQUEST_TOKEN", reqToken), &http.Client{Transport: count}, count
}

// claimsOf decodes a JWT's payload (no verification: the control plane verifies).
func claimsOf(t *testing.T, jwt string) map[string]any {
	t.Helper()
	parts := strings.Split(jwt, ".")
	if len(parts) != 3 {
		t.Fatalf("%q is no JWT", jwt)
	}
	b, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	var c map[string]any
	if err := json.Unmarshal(b, &c); err != nil {
		t.Fatal(err)
	}
	return c
}

func tokenSource(t *testing.T, e env, opts TokenOptions) TokenSource {
	t.Helper()
	src, err := detect(e).TokenSource(opts)
	if err != nil {
		t.Fatalf("TokenSource: %v", err)
	}
	return src
}

// The GitHub source asks the job's token endpoint for a token of custody's audience, or
// CUSTODY_OIDC_AUDIENCE's, only when asked for a token, and a fresh one each time.
func TestGitHubTokenSource(t *testing.T) {
	t.Parallel()
	iss, e, client, requests := actionsJob(t)
	src := tokenSource(t, e, TokenOptions{HTTPClient: client})
	if n := requests.n.Load(); n != 0 {
		t.Fatalf("making the source asked the token service %d times: it asks only when a command needs credentials", n)
	}
	tok, err := src.Token(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if c := claimsOf(t, tok); c["iss"] != iss.URL || c["aud"] != "custody" || c["repository"] != "octocat/hello-world" {
		t.Errorf("token claims %v: want the issuer's token for audience custody", c)
	}
	again, err := src.Token(t.Context())
	if err != nil || again == tok {
		t.Errorf("a second Token: %v (the same token: %v), want a fresh one", err, again == tok)
	}

	other := tokenSource(t, e.with("CUSTODY_OIDC_AUDIENCE", "https://custody.acme.internal"), TokenOptions{HTTPClient: client})
	tok, err = other.Token(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if aud := claimsOf(t, tok)["aud"]; aud != "https://custody.acme.internal" {
		t.Errorf("audience %v, want CUSTODY_OIDC_AUDIENCE's", aud)
	}
}

// tokenServiceDouble answers at a GitHub-shaped token endpoint what GitHub's never does (an answer
// that is not JSON, holds no token or no JWT, is too large or never ends, or never comes): the
// protocol's corners the source must survive, which the test issuer's endpoint cannot be made to
// produce. It checks the request as the real endpoint would.
type tokenServiceDouble struct {
	*httptest.Server
	requests atomic.Int32
}

const requestToken = "request-token-secret"

func newTokenServiceDouble(t *testing.T, answer http.HandlerFunc) *tokenServiceDouble {
	t.Helper()
	s := &tokenServiceDouble{}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.requests.Add(1)
		if r.Method != http.MethodGet || r.URL.Path != "/idtoken" || r.URL.Query().Get("api-version") != "2.0" ||
			r.Header.Get("Authorization") != "bearer "+requestToken || r.URL.Query().Get("audience") != "custody" {
			http.Error(w, "unexpected request "+r.Method+" "+r.URL.String(), http.StatusBadRequest)
			return
		}
		answer(w, r)
	}))
	t.Cleanup(s.Close)
	return s
}

func (s *tokenServiceDouble) env() env {
	return gitHubEnv.with("ACTIONS_ID_TOKEN_REQUEST_URL", s.URL+"/idtoken?api-version=2.0", "ACTIONS_ID_TOKEN_REQUEST_TOKEN", requestToken)
}

// Each way the job's token endpoint can fail is an error naming it, never showing the request
// token; a job without one (no id-token permission) asks nothing.
func TestGitHubTokenSourceRefusals(t *testing.T) {
	t.Parallel()
	_, job, client, requests := actionsJob(t)
	tests := []struct {
		name string
		env  env
		want string
		none bool // ErrNoToken: nothing was asked
	}{
		{name: "no id-token permission", env: gitHubEnv.with("ACTIONS_ID_TOKEN_REQUEST_URL", "", "ACTIONS_ID_TOKEN_REQUEST_TOKEN", ""),
			want: "add `permissions: id-token: write` to the workflow or the job", none: true},
		{name: "a request URL without its token", env: job.with("ACTIONS_ID_TOKEN_REQUEST_TOKEN", ""), want: "permissions: id-token: write", none: true},
		{name: "a request URL that is no URL", env: job.with("ACTIONS_ID_TOKEN_REQUEST_URL", "file:///etc/passwd"),
			want: "ACTIONS_ID_TOKEN_REQUEST_URL is not an http(s) URL"},
		{name: "the request token refused", env: job.with("ACTIONS_ID_TOKEN_REQUEST_TOKEN", "expired-request-token-7f3a"), want: "answered 401 Unauthorized"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := requests.n.Load()
			_, err := tokenSource(t, tt.env, TokenOptions{HTTPClient: client}).Token(t.Context())
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Token error = %v, want %q", err, tt.want)
			}
			if errors.Is(err, ErrNoToken) != tt.none {
				t.Errorf("errors.Is(err, ErrNoToken) = %v, want %v", !tt.none, tt.none)
			}
			if tok := tt.env["ACTIONS_ID_TOKEN_REQUEST_TOKEN"]; tok != "" && strings.Contains(err.Error(), tok) {
				t.Errorf("the error shows the request token: %v", err)
			}
			if tt.none && requests.n.Load() != before {
				t.Errorf("the token service was asked though the job has no token")
			}
		})
	}
}

// Answers GitHub's endpoint never gives are refused, naming what is wrong.
func TestGitHubTokenSourceBadAnswers(t *testing.T) {
	t.Parallel()
	huge := `{"value":"` + strings.Repeat("a", maxGitHubAnswer) + `"}`
	tests := []struct {
		name   string
		answer http.HandlerFunc
		want   string
	}{
		{name: "an answer that is not JSON", answer: func(w http.ResponseWriter, _ *http.Request) { fmt.Fprint(w, "<html>") }, want: "the answer is not JSON"},
		{name: "an answer without a token", answer: func(w http.ResponseWriter, _ *http.Request) { fmt.Fprint(w, `{"count":0}`) }, want: "empty token"},
		{name: "an answer that is no JWT", answer: func(w http.ResponseWriter, _ *http.Request) { fmt.Fprint(w, `{"value":"not a jwt"}`) }, want: "not a JWT"},
		{name: "an answer over the bound", answer: func(w http.ResponseWriter, _ *http.Request) { fmt.Fprint(w, huge) }, want: "the answer is larger than 17408 bytes"},
		{name: "an answer that never ends", answer: func(w http.ResponseWriter, r *http.Request) {
			for r.Context().Err() == nil {
				if _, err := w.Write([]byte(strings.Repeat("a", 1<<10))); err != nil {
					return
				}
			}
		}, want: "the answer is larger than"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			svc := newTokenServiceDouble(t, tt.answer)
			_, err := tokenSource(t, svc.env(), TokenOptions{HTTPClient: svc.Client()}).Token(t.Context())
			if err == nil || !strings.Contains(err.Error(), tt.want) || errors.Is(err, ErrNoToken) {
				t.Fatalf("Token error = %v, want %q", err, tt.want)
			}
			if strings.Contains(err.Error(), requestToken) {
				t.Errorf("the error shows the request token: %v", err)
			}
			if svc.requests.Load() != 1 {
				t.Errorf("%d requests, want 1", svc.requests.Load())
			}
		})
	}
}

// The injected client's timeout bounds a token service that does not answer.
func TestGitHubTokenSourceTimesOut(t *testing.T) {
	t.Parallel()
	release := make(chan struct{})
	svc := newTokenServiceDouble(t, func(_ http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-release:
		}
	})
	defer close(release)
	client := svc.Client()
	client.Timeout = 50 * time.Millisecond
	_, err := tokenSource(t, svc.env(), TokenOptions{HTTPClient: client}).Token(context.Background())
	if err == nil || !strings.Contains(err.Error(), "GitHub Actions ID token: ask 127.0.0.1") {
		t.Fatalf("Token error = %v", err)
	}
}

func TestGitLabTokenSource(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		env  env
		want string // the token, or an error's text
		none bool
	}{
		{name: "the default variable", env: gitLabEnv.with("CUSTODY_ID_TOKEN", idToken), want: idToken},
		{name: "a variable named by CUSTODY_OIDC_TOKEN_VAR", env: gitLabEnv.with("CUSTODY_OIDC_TOKEN_VAR", "SIGSTORE_ID_TOKEN", "SIGSTORE_ID_TOKEN", idToken), want: idToken},
		{name: "no id_tokens", env: gitLabEnv.with("CUSTODY_ID_TOKEN", ""),
			want: "GitLab gives this job no ID token in CUSTODY_ID_TOKEN: declare it in the job, `id_tokens: {CUSTODY_ID_TOKEN: {aud: custody}}`", none: true},
		{name: "no id_tokens, another audience", env: gitLabEnv.with("CUSTODY_ID_TOKEN", "", "CUSTODY_OIDC_AUDIENCE", "https://custody.acme.internal"),
			want: "`id_tokens: {CUSTODY_ID_TOKEN: {aud: https://custody.acme.internal}}`", none: true},
		{name: "a variable that is no JWT", env: gitLabEnv.with("CUSTODY_ID_TOKEN", "$CUSTODY_ID_TOKEN"), want: "CUSTODY_ID_TOKEN: not a JWT"},
		{name: "a token over the bound", env: gitLabEnv.with("CUSTODY_ID_TOKEN", "a."+strings.Repeat("b", MaxToken)+".c"), want: "larger than 16384 bytes"},
		{name: "a token at the bound", env: gitLabEnv.with("CUSTODY_ID_TOKEN", "a."+strings.Repeat("b", MaxToken-4)+".c"), want: "a." + strings.Repeat("b", MaxToken-4) + ".c"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tok, err := tokenSource(t, tt.env, TokenOptions{}).Token(t.Context())
			if err != nil {
				tok = err.Error()
			}
			if !strings.Contains(tok, tt.want) || errors.Is(err, ErrNoToken) != tt.none {
				t.Errorf("Token = %q (no token: %v), want %q (no token: %v)", tok, errors.Is(err, ErrNoToken), tt.want, tt.none)
			}
		})
	}
}

func TestTokenSourceRefusesBadSettings(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		env  env
		want string
	}{
		{gitLabEnv.with("CUSTODY_OIDC_TOKEN_VAR", "CUSTODY-ID"), `CUSTODY_OIDC_TOKEN_VAR="CUSTODY-ID": want a variable name`},
		{gitLabEnv.with("CUSTODY_OIDC_TOKEN_VAR", strings.Repeat("A", 129)), "want a variable name"},
		{gitHubEnv.with("CUSTODY_OIDC_AUDIENCE", "two words"), "CUSTODY_OIDC_AUDIENCE: want at most 256 bytes"},
		{gitHubEnv.with("CUSTODY_OIDC_AUDIENCE", strings.Repeat("a", 257)), "CUSTODY_OIDC_AUDIENCE: want at most 256 bytes"},
	} {
		if _, err := detect(tt.env).TokenSource(TokenOptions{}); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("TokenSource error = %v, want %q", err, tt.want)
		}
	}
	if _, err := detect(gitHubEnv.with("CUSTODY_OIDC_AUDIENCE", strings.Repeat("a", 256))).TokenSource(TokenOptions{}); err != nil {
		t.Errorf("an audience at the bound: %v", err)
	}
}

// An explicit token wins over the runner's: the flag, then CUSTODY_OIDC_TOKEN. A runner without
// one (Jenkins, or none) has no source unless one is given.
func TestTokenSourceOrder(t *testing.T) {
	t.Parallel()
	const flag, variable = "flag.flag.flag", "env.env.env"
	tests := []struct {
		name string
		env  env
		opts TokenOptions
		want string // the token, or "" for no source
	}{
		{"the flag wins", gitLabEnv.with("CUSTODY_OIDC_TOKEN", variable), TokenOptions{Token: flag}, flag},
		{"then CUSTODY_OIDC_TOKEN", gitLabEnv.with("CUSTODY_OIDC_TOKEN", variable), TokenOptions{}, variable},
		{"then the runner's", gitLabEnv.with("CUSTODY_ID_TOKEN", idToken), TokenOptions{}, idToken},
		{"jenkins has none", jenkinsEnv, TokenOptions{}, ""},
		{"jenkins with CUSTODY_OIDC_TOKEN", jenkinsEnv.with("CUSTODY_OIDC_TOKEN", variable), TokenOptions{}, variable},
		{"no CI with the flag", env{}, TokenOptions{Token: flag}, flag},
	}
	for _, tt := range tests {
		src := tokenSource(t, tt.env, tt.opts)
		if tt.want == "" {
			if src != nil {
				t.Errorf("%s: source %T, want none", tt.name, src)
			}
			continue
		}
		if src == nil {
			t.Errorf("%s: no source", tt.name)
			continue
		}
		if got, err := src.Token(t.Context()); got != tt.want || err != nil {
			t.Errorf("%s: Token = %q, %v; want %q", tt.name, got, err, tt.want)
		}
	}
	_, err := tokenSource(t, env{}, TokenOptions{Token: "not-a-jwt"}).Token(t.Context())
	if err == nil || err.Error() != "--oidc-token: not a JWT (header.payload.signature in base64url)" {
		t.Errorf("a flag that is no JWT: %v", err)
	}
}

func FuzzParseGitHubAnswer(f *testing.F) {
	f.Add([]byte(`{"value":"` + idToken + `"}`))
	f.Add([]byte(`{"value":""}`))
	f.Add([]byte(`{"value":"a.b."}`))
	f.Add([]byte(`[]`))
	f.Fuzz(func(t *testing.T, b []byte) {
		tok, err := parseGitHubAnswer(b)
		if err != nil {
			return
		}
		if checkJWT(tok) != nil || len(tok) > MaxToken || strings.ContainsAny(tok, " \n\"") {
			t.Fatalf("accepted %q", tok)
		}
	})
}
