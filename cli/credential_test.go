package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/custody-dev/custody/runner"
	"github.com/custody-dev/custody/wire"
)

var credentialNow = time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)

// exchanged is the token the test's exchange answers (the real endpoint's stand-in).
var exchanged = "cst_" + strings.Repeat("e", 43)

// exchangeServer answers POST /v1/auth/oidc as the control plane does, counting exchanges.
func exchangeServer(t *testing.T) (string, *atomic.Int32) {
	t.Helper()
	var n atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var req wire.ExchangeOIDC
		if r.URL.Path != "/v1/auth/oidc" || json.NewDecoder(r.Body).Decode(&req) != nil {
			http.Error(w, "unexpected", http.StatusBadRequest)
			return
		}
		n.Add(1)
		_ = json.NewEncoder(w).Encode(wire.Exchanged{Token: exchanged, ExpiresAt: credentialNow.Add(15 * time.Minute),
			Project: req.Project, Workflow: req.Workflow})
	}))
	t.Cleanup(srv.Close)
	return srv.URL, &n
}

type fixedToken string

func (f fixedToken) Token(context.Context) (string, error) { return string(f), nil }

const jobToken = "aaa.bbb.ccc"

// The kept credential serves the job's next steps while it is the same job's, for the same control
// plane and workflow, and not about to expire; it is read up to its bound, and what cannot be read
// is replaced by an exchange.
func TestKeptCredential(t *testing.T) {
	t.Parallel()
	job := runner.Detect(runner.Env{Getenv: func(k string) string {
		return map[string]string{"GITLAB_CI": "true", "CI_JOB_ID": "50", "CI_PROJECT_PATH": "cyberdyne/skynet"}[k]
	}})
	skynet := runScope{"skynet", "build"}
	kept := func(mut func(*keptCredential)) func(url string) []byte {
		return func(url string) []byte {
			k := keptCredential{ControlPlane: url, Project: "skynet", Workflow: "build", Token: "cst_" + strings.Repeat("k", 43),
				ExpiresAt: credentialNow.Add(10 * time.Minute), ExchangedAt: credentialNow.Add(-5 * time.Minute),
				IDToken: idTokenDigest("another.id.token"), Job: jobDigest(job)}
			if mut != nil {
				mut(&k)
			}
			b, _ := json.Marshal(k)
			return b
		}
	}
	keptToken := "cst_" + strings.Repeat("k", 43)
	tests := []struct {
		name      string
		file      func(url string) []byte // nil: no kept credential
		scope     runScope
		want      string // the token, or an error's text
		exchanges int32
	}{
		{name: "none: an exchange", scope: skynet, want: exchanged, exchanges: 1},
		{name: "the job's own serves", file: kept(nil), scope: skynet, want: keptToken},
		{name: "it serves a step that knows no workflow", file: kept(nil), want: keptToken},
		{name: "another job's is never used", file: kept(func(k *keptCredential) { k.Job = "sha256:other" }), scope: skynet, want: exchanged, exchanges: 1},
		{name: "another control plane's", file: kept(func(k *keptCredential) { k.ControlPlane = "https://elsewhere.example" }), scope: skynet, want: exchanged, exchanges: 1},
		{name: "another workflow's, from another token", file: kept(func(k *keptCredential) { k.Workflow = "deploy" }), scope: skynet, want: exchanged, exchanges: 1},
		{name: "30 seconds before expiry it no longer serves", file: kept(func(k *keptCredential) { k.ExpiresAt = credentialNow.Add(30 * time.Second) }),
			scope: skynet, want: exchanged, exchanges: 1},
		{name: "31 seconds before expiry it serves", file: kept(func(k *keptCredential) { k.ExpiresAt = credentialNow.Add(31 * time.Second) }),
			scope: skynet, want: keptToken},
		{name: "expired, and this job's token spent on it", file: kept(func(k *keptCredential) {
			k.ExpiresAt, k.IDToken = credentialNow.Add(-time.Minute), idTokenDigest(jobToken)
		}), scope: skynet, want: "the credential this job's OIDC token was exchanged for expired at 2026-03-01T09:59:00Z, and the control plane exchanges a token once"},
		{name: "another workflow's, this job's token spent on it", file: kept(func(k *keptCredential) { k.Workflow, k.IDToken = "deploy", idTokenDigest(jobToken) }),
			scope: skynet, want: "this job's OIDC token was exchanged at 2026-03-01T09:55:00Z for workflow deploy of project skynet, and the control plane exchanges a token once"},
		{name: "corrupt: replaced", file: func(string) []byte { return []byte("{not json") }, scope: skynet, want: exchanged, exchanges: 1},
		{name: "over its bound: replaced", file: func(url string) []byte {
			return append(kept(nil)(url), bytes.Repeat([]byte(" "), maxKeptCredential)...)
		}, scope: skynet, want: exchanged, exchanges: 1},
		{name: "at its bound: read", file: func(url string) []byte {
			b := kept(nil)(url)
			return append(b, bytes.Repeat([]byte(" "), maxKeptCredential-len(b))...)
		}, scope: skynet, want: keptToken},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			url, n := exchangeServer(t)
			path := filepath.Join(t.TempDir(), ".custody", "attestation.json"+credentialSuffix)
			if tt.file != nil {
				if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(path, tt.file(url), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			var stderr bytes.Buffer
			g := &globals{env: Env{Getenv: func(string) string { return "" }, Stderr: &stderr, Now: func() time.Time { return credentialNow }}}
			o := &oidcCredential{g: g, url: url, source: fixedToken(jobToken), path: path, job: jobDigest(job),
				scope: func(context.Context) runScope { return tt.scope }}
			got, err := o.token(context.Background())
			var cerr *CredentialError
			if err != nil {
				if !errors.As(err, &cerr) {
					t.Errorf("%v is no CredentialError", err)
				}
				got = err.Error()
			}
			if !strings.Contains(got, tt.want) {
				t.Errorf("token = %q, want %q", got, tt.want)
			}
			if n.Load() != tt.exchanges {
				t.Errorf("%d exchanges, want %d", n.Load(), tt.exchanges)
			}
			if tt.exchanges > 0 {
				info, err := os.Stat(path)
				if err != nil || info.Mode().Perm() != 0o600 {
					t.Fatalf("kept credential %v, %v: want mode 0600", info, err)
				}
				k := readKeptCredential(context.Background(), path)
				if k == nil || k.Token != exchanged || k.IDToken != idTokenDigest(jobToken) || k.Job != jobDigest(job) ||
					k.Project != "skynet" || k.Workflow != "build" || !k.ExpiresAt.Equal(credentialNow.Add(15*time.Minute)) {
					t.Errorf("kept %+v", k)
				}
				if b, _ := os.ReadFile(path); bytes.Contains(b, []byte(jobToken)) {
					t.Errorf("the kept credential holds the ID token")
				}
			}
		})
	}
}
