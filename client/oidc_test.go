package client_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/custody-dev/custody/client"
	"github.com/custody-dev/custody/internal/cptest"
	"github.com/custody-dev/custody/internal/oidctest"
	"github.com/custody-dev/custody/wire"
)

// exchangeFixture is a control plane that exchanges the test issuer's ID tokens of acme/app for
// credentials of skynet/build, recording the calls it answers.
func exchangeFixture(t *testing.T) (*cptest.Server, *oidctest.Issuer) {
	t.Helper()
	iss := oidctest.New(t)
	cp := cptest.New(t, cptest.Options{OIDCIssuers: []string{iss.URL}, NoKeyless: true, Record: true})
	cp.Workflow(t, "skynet", "build", "", nil)
	cp.Trust(t, "skynet", "build", iss.URL, map[string]string{"repository": "acme/app"})
	return cp, iss
}

// The exchange is a public call: the client's own token is not sent. The same ID token again is
// refused as a replay, as an *Error with its code and status.
func TestExchangeOIDCIsPublic(t *testing.T) {
	t.Parallel()
	cp, iss := exchangeFixture(t)
	c := newClient(t, cp.URL, client.Retry{})
	idToken := iss.Token(t, oidctest.GitHubClaims("acme/app", "refs/heads/main"))
	setup := len(cp.Calls())
	got, err := c.ExchangeOIDC(context.Background(), wire.ExchangeOIDC{Token: idToken, Project: "skynet", Workflow: "build"})
	if err != nil || got.Project != "skynet" || got.Workflow != "build" || !wire.TokenPattern.MatchString(got.Token) ||
		got.Issuer != iss.URL || got.Subject != "repo:acme/app:ref:refs/heads/main" {
		t.Fatalf("ExchangeOIDC = %+v, %v", got, err)
	}
	if calls := cp.Calls()[setup:]; len(calls) != 1 || calls[0] != (cptest.Call{Method: "POST", Path: "/v1/auth/oidc", Status: http.StatusCreated}) {
		t.Errorf("calls %+v: want one exchange, with no token", calls)
	}
	_, err = c.ExchangeOIDC(context.Background(), wire.ExchangeOIDC{Token: idToken, Project: "skynet", Workflow: "build"})
	if client.Code(err) != wire.CodeOIDCTokenReplayed || client.Status(err) != http.StatusUnauthorized ||
		!strings.HasPrefix(err.Error(), "exchange the OIDC token for a credential of skynet/build: control plane: this ID token (jti ") {
		t.Errorf("a replay: %v", err)
	}
}

// The token function runs at the first call that sends a token, once for concurrent calls, and
// again only after it failed.
func TestTokenFuncRunsOnFirstUse(t *testing.T) {
	t.Parallel()
	cp, iss := exchangeFixture(t)
	workflowToken := cp.Workflow(t, "skynet", "test", "", nil)
	var (
		calls atomic.Int32
		fail  atomic.Bool
	)
	fail.Store(true)
	c, err := client.New(cp.URL, "", client.WithRetry(client.Retry{}), client.WithTokenFunc(func(context.Context) (string, error) {
		calls.Add(1)
		if fail.Load() {
			return "", errors.New("no OIDC token: add permissions")
		}
		return workflowToken, nil
	}))
	if err != nil {
		t.Fatal(err)
	}
	idToken := iss.Token(t, oidctest.GitHubClaims("acme/app", "refs/heads/main"))
	if _, err := c.ExchangeOIDC(context.Background(), wire.ExchangeOIDC{Token: idToken, Project: "skynet", Workflow: "build"}); err != nil || calls.Load() != 0 {
		t.Fatalf("a public call asked for the token (%d calls, %v)", calls.Load(), err)
	}
	if _, err := c.WhoAmI(context.Background()); err == nil || err.Error() != "no OIDC token: add permissions" {
		t.Fatalf("a failed token function: %v", err)
	}
	fail.Store(false)
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			if _, err := c.ListProjects(context.Background()); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if n := calls.Load(); n != 2 {
		t.Errorf("the token function ran %d times, want 2 (one failure, then once for 8 calls)", n)
	}
	listed := 0
	for _, call := range cp.Calls() {
		if call.Method != http.MethodGet || call.Path != "/v1/projects" {
			continue
		}
		listed++
		if call.Bearer != workflowToken || call.Status != http.StatusOK {
			t.Errorf("call %+v: want the token function's token", call)
		}
	}
	if listed != 8 {
		t.Errorf("%d calls listed projects, want 8", listed)
	}
}
