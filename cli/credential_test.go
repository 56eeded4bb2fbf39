package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/custody-dev/custody/internal/cptest"
	"github.com/custody-dev/custody/internal/oidctest"
	"github.com/custody-dev/custody/runner"
)

var credentialNow = time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)

// exchangeFixture is a control plane on credentialNow's clock that exchanges the test issuer's ID
// tokens of cyberdyne/skynet for credentials of skynet/build, and one such token (for an hour), the
// job's.
func exchangeFixture(t *testing.T) (cp *cptest.Server, jobToken string) {
	t.Helper()
	clock := func() time.Time { return credentialNow }
	iss := oidctest.New(t)
	iss.Now = clock
	cp = cptest.New(t, cptest.Options{Now: clock, OIDCIssuers: []string{iss.URL}, NoKeyless: true, Record: true})
	cp.Workflow(t, "skynet", "build", "", nil)
	cp.Trust(t, "skynet", "build", iss.URL, map[string]string{"repository": "cyberdyne/skynet"})
	return cp, iss.Token(t, oidctest.GitHubClaims("cyberdyne/skynet", "refs/heads/main"), oidctest.ExpiresAt(credentialNow.Add(time.Hour)))
}

type fixedToken string

func (f fixedToken) Token(context.Context) (string, error) { return string(f), nil }

// The kept credential serves the job's next steps while it is the same job's, for the same control
// plane and workflow, and not about to expire; it is read up to its bound, and what cannot be read
// is replaced by an exchange.
func TestKeptCredential(t *testing.T) {
	t.Parallel()
	job := runner.Detect(runner.Env{Getenv: func(k string) string {
		return map[string]string{"GITLAB_CI": "true", "CI_JOB_ID": "50", "CI_PROJECT_PATH": "cyberdyne/skynet"}[k]
	}})
	skynet := runScope{"skynet", "build"}
	keptToken := "cst_" + strings.Repeat("k", 43)
	kept := func(mut func(k *keptCredential, jobToken string)) func(url, jobToken string) []byte {
		return func(url, jobToken string) []byte {
			k := keptCredential{ControlPlane: url, Project: "skynet", Workflow: "build", Token: keptToken,
				ExpiresAt: credentialNow.Add(10 * time.Minute), ExchangedAt: credentialNow.Add(-5 * time.Minute),
				IDToken: idTokenDigest("another.id.token"), Job: jobDigest(job)}
			if mut != nil {
				mut(&k, jobToken)
			}
			b, _ := json.Marshal(k)
			return b
		}
	}
	const exchanged = "a credential the control plane exchanged the job's token for"
	tests := []struct {
		name  string
		file  func(url, jobToken string) []byte // nil: no kept credential
		scope runScope
		want  string // the token, exchanged, or an error's text
	}{
		{name: "none: an exchange", scope: skynet, want: exchanged},
		{name: "the job's own serves", file: kept(nil), scope: skynet, want: keptToken},
		{name: "it serves a step that knows no workflow", file: kept(nil), want: keptToken},
		{name: "another job's is never used", file: kept(func(k *keptCredential, _ string) { k.Job = "sha256:other" }), scope: skynet, want: exchanged},
		{name: "another control plane's", file: kept(func(k *keptCredential, _ string) { k.ControlPlane = "https://elsewhere.example" }), scope: skynet,
			want: exchanged},
		{name: "another workflow's, from another token", file: kept(func(k *keptCredential, _ string) { k.Workflow = "deploy" }), scope: skynet, want: exchanged},
		{name: "30 seconds before expiry it no longer serves", file: kept(func(k *keptCredential, _ string) { k.ExpiresAt = credentialNow.Add(30 * time.Second) }),
			scope: skynet, want: exchanged},
		{name: "31 seconds before expiry it serves", file: kept(func(k *keptCredential, _ string) { k.ExpiresAt = credentialNow.Add(31 * time.Second) }),
			scope: skynet, want: keptToken},
		{name: "expired, and this job's token spent on it", file: kept(func(k *keptCredential, jobToken string) {
			k.ExpiresAt, k.IDToken = credentialNow.Add(-time.Minute), idTokenDigest(jobToken)
		}), scope: skynet, want: "the credential this job's OIDC token was exchanged for expired at 2026-03-01T09:59:00Z, and the control plane exchanges a token once"},
		{name: "another workflow's, this job's token spent on it", file: kept(func(k *keptCredential, jobToken string) {
			k.Workflow, k.IDToken = "deploy", idTokenDigest(jobToken)
		}), scope: skynet, want: "this job's OIDC token was exchanged at 2026-03-01T09:55:00Z for workflow deploy of project skynet, and the control plane exchanges a token once"},
		{name: "corrupt: replaced", file: func(string, string) []byte { return []byte("{not json") }, scope: skynet, want: exchanged},
		{name: "over its bound: replaced", file: func(url, jobToken string) []byte {
			return append(kept(nil)(url, jobToken), bytes.Repeat([]byte(" "), maxKeptCredential)...)
		}, scope: skynet, want: exchanged},
		{name: "at its bound: read", file: func(url, jobToken string) []byte {
			b := kept(nil)(url, jobToken)
			return append(b, bytes.Repeat([]byte(" "), maxKeptCredential-len(b))...)
		}, scope: skynet, want: keptToken},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			cp, jobToken := exchangeFixture(t)
			path := filepath.Join(t.TempDir(), ".custody", "attestation.json"+credentialSuffix)
			if tt.file != nil {
				if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(path, tt.file(cp.URL, jobToken), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			var stderr bytes.Buffer
			g := &globals{env: Env{Getenv: func(string) string { return "" }, Stderr: &stderr, Now: func() time.Time { return credentialNow }}}
			o := &oidcCredential{g: g, url: cp.URL, source: fixedToken(jobToken), path: path, job: jobDigest(job),
				scope: func(context.Context) runScope { return tt.scope }}
			got, err := o.token(context.Background())
			var cerr *CredentialError
			if err != nil {
				if !errors.As(err, &cerr) {
					t.Errorf("%v is no CredentialError", err)
				}
				got = err.Error()
			}
			wantExchanges := 0
			if tt.want == exchanged {
				wantExchanges = 1
				if who, err := cp.Client(t, got).WhoAmI(context.Background()); err != nil || who.Name != "workload repo:cyberdyne/skynet:ref:refs/heads/main" ||
					who.Project != "skynet" || who.Workflow != "build" {
					t.Errorf("token %q is %+v, %v: want the credential of the job's workload", got, who, err)
				}
			} else if !strings.Contains(got, tt.want) {
				t.Errorf("token = %q, want %q", got, tt.want)
			}
			if n := cp.Exchanges(); n != wantExchanges {
				t.Errorf("%d exchanges, want %d", n, wantExchanges)
			}
			if wantExchanges > 0 {
				info, err := os.Stat(path)
				if err != nil || info.Mode().Perm() != 0o600 {
					t.Fatalf("kept credential %v, %v: want mode 0600", info, err)
				}
				k := readKeptCredential(context.Background(), path)
				if k == nil || k.Token != got || k.IDToken != idTokenDigest(jobToken) || k.Job != jobDigest(job) ||
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
