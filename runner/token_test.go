package runner

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// idToken is shaped like a JWT; the control plane, not the CLI, verifies it.
const idToken = "eyJhbGciOiJSUzI1NiIsImtpZCI6IjEifQ.eyJzdWIiOiJyZXBvOm9jdG9jYXQvSGVsbG8tV29ybGQ6cmVmOnJlZnMvaGVhZHMvbWFpbiJ9.c2lnbmF0dXJl"

// actionsTokenService speaks the protocol of GitHub Actions' token service: GET <url>&audience=X
// with "Authorization: bearer <request token>" answers {"value": "<jwt>"}. answer, when set,
// replaces the answer.
type actionsTokenService struct {
	*httptest.Server
	requests atomic.Int32
	audience atomic.Value
}

const requestToken = "request-token-secret"

func newActionsTokenService(t *testing.T, answer http.HandlerFunc) *actionsTokenService {
	t.Helper()
	s := &actionsTokenService{}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.requests.Add(1)
		if r.Method != http.MethodGet || r.URL.Path != "/idtoken" || r.URL.Query().Get("api-version") != "2.0" {
			http.Error(w, "unexpected request "+r.Method+" "+r.URL.String(), http.StatusBadRequest)
			return
		}
		if r.Header.Get("Authorization") != "bearer "+requestToken {
			http.Error(w, `{"message":"Bad credentials"}`, http.StatusUnauthorized)
			return
		}
		s.audience.Store(r.URL.Query().Get("audience"))
		if answer != nil {
			answer(w, r)
			return
		}
		fmt.Fprintf(w, `{"count":1,"value":%q}`, idToken)
	}))
	t.Cleanup(s.Close)
	return s
}

func (s *actionsTokenService) env() env {
	return gitHubEnv.with("ACTIONS_ID_TOKEN_REQUEST_URL", s.URL+"/idtoken?api-version=2.0", "ACTIONS_ID_TOKEN_REQUEST_TOKEN", requestToken)
}

func tokenSource(t *testing.T, e env, opts TokenOptions) TokenSource {
	t.Helper()
	src, err := detect(e).TokenSource(opts)
	if err != nil {
		t.Fatalf("TokenSource: %v", err)
	}
	return src
}

func TestGitHubTokenSource(t *testing.T) {
	t.Parallel()
	svc := newActionsTokenService(t, nil)
	src := tokenSource(t, svc.env(), TokenOptions{HTTPClient: svc.Client()})
	if n := svc.requests.Load(); n != 0 {
		t.Fatalf("making the source asked the token service %d times: it asks only when a command needs credentials", n)
	}
	tok, err := src.Token(t.Context())
	if err != nil || tok != idToken {
		t.Fatalf("Token = %q, %v", tok, err)
	}
	if aud := svc.audience.Load(); aud != "custody" {
		t.Errorf("audience %v, want custody", aud)
	}

	other := tokenSource(t, svc.env().with("CUSTODY_OIDC_AUDIENCE", "https://custody.acme.internal"), TokenOptions{HTTPClient: svc.Client()})
	if _, err := other.Token(t.Context()); err != nil {
		t.Fatal(err)
	}
	if aud := svc.audience.Load(); aud != "https://custody.acme.internal" {
		t.Errorf("audience %v, want CUSTODY_OIDC_AUDIENCE's", aud)
	}
}

func TestGitHubTokenSourceRefusals(t *testing.T) {
	t.Parallel()
	huge := `{"value":"` + strings.Repeat("a", maxGitHubAnswer) + `"}`
	tests := []struct {
		name   string
		answer http.HandlerFunc
		env    func(*actionsTokenService) env
		want   string
		none   bool // ErrNoToken: nothing was asked
	}{
		{name: "no id-token permission", env: func(*actionsTokenService) env {
			return gitHubEnv.with("ACTIONS_ID_TOKEN_REQUEST_URL", "", "ACTIONS_ID_TOKEN_REQUEST_TOKEN", "")
		},
			want: "add `permissions: id-token: write` to the workflow or the job", none: true},
		{name: "a request URL without its token", env: func(s *actionsTokenService) env { return s.env().with("ACTIONS_ID_TOKEN_REQUEST_TOKEN", "") },
			want: "permissions: id-token: write", none: true},
		{name: "a request URL that is no URL", env: func(s *actionsTokenService) env {
			return s.env().with("ACTIONS_ID_TOKEN_REQUEST_URL", "file:///etc/passwd")
		},
			want: "ACTIONS_ID_TOKEN_REQUEST_URL is not an http(s) URL"},
		{name: "the request token refused", env: func(s *actionsTokenService) env { return s.env().with("ACTIONS_ID_TOKEN_REQUEST_TOKEN", "expired") },
			want: "answered 401 Unauthorized"},
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
			svc := newActionsTokenService(t, tt.answer)
			e := svc.env()
			if tt.env != nil {
				e = tt.env(svc)
			}
			_, err := tokenSource(t, e, TokenOptions{HTTPClient: svc.Client()}).Token(t.Context())
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Token error = %v, want %q", err, tt.want)
			}
			if errors.Is(err, ErrNoToken) != tt.none {
				t.Errorf("errors.Is(err, ErrNoToken) = %v, want %v", !tt.none, tt.none)
			}
			if strings.Contains(err.Error(), requestToken) {
				t.Errorf("the error shows the request token: %v", err)
			}
			if tt.none && svc.requests.Load() != 0 {
				t.Errorf("the token service was asked though the job has no token")
			}
		})
	}
}

// The injected client's timeout bounds a token service that does not answer.
func TestGitHubTokenSourceTimesOut(t *testing.T) {
	t.Parallel()
	release := make(chan struct{})
	svc := newActionsTokenService(t, func(_ http.ResponseWriter, r *http.Request) {
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
