package client_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/custody-dev/custody/client"
	"github.com/custody-dev/custody/wire"
)

// exchangeHandler speaks POST /v1/auth/oidc as the control plane does (until the coordinator points
// this test at the real endpoint): the ID token in, a workflow's credential out; a token seen twice
// is refused as a replay. It records the Authorization header of every call.
func exchangeHandler(seen *sync.Map, auth *[]string, mu *sync.Mutex) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		*auth = append(*auth, r.Method+" "+r.URL.Path+" "+r.Header.Get("Authorization"))
		mu.Unlock()
		if r.URL.Path != "/v1/auth/oidc" {
			fmt.Fprint(w, "[]")
			return
		}
		var req wire.ExchangeOIDC
		if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		if _, dup := seen.LoadOrStore(req.Token, true); dup {
			w.Header().Set("Content-Type", "application/problem+json")
			w.WriteHeader(http.StatusUnauthorized)
			fmt.Fprintf(w, `{"status":401,"code":%q,"detail":"the token was exchanged before"}`, wire.CodeOIDCTokenReplayed)
			return
		}
		_ = json.NewEncoder(w).Encode(wire.Exchanged{Token: "cst_" + strings.Repeat("x", 43), ExpiresAt: time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC),
			Project: req.Project, Workflow: req.Workflow, Issuer: "https://token.actions.githubusercontent.com", Subject: "repo:acme/app:ref:refs/heads/main"})
	}
}

func TestExchangeOIDCIsPublic(t *testing.T) {
	t.Parallel()
	var (
		seen sync.Map
		auth []string
		mu   sync.Mutex
	)
	c := newClient(t, serve(t, exchangeHandler(&seen, &auth, &mu)), client.Retry{})
	got, err := c.ExchangeOIDC(context.Background(), wire.ExchangeOIDC{Token: "a.b.c", Project: "skynet", Workflow: "build"})
	if err != nil || got.Project != "skynet" || got.Workflow != "build" || !wire.TokenPattern.MatchString(got.Token) {
		t.Fatalf("ExchangeOIDC = %+v, %v", got, err)
	}
	if len(auth) != 1 || auth[0] != "POST /v1/auth/oidc " {
		t.Errorf("calls %q: the exchange sends no token", auth)
	}
	_, err = c.ExchangeOIDC(context.Background(), wire.ExchangeOIDC{Token: "a.b.c", Project: "skynet", Workflow: "build"})
	if client.Code(err) != wire.CodeOIDCTokenReplayed || client.Status(err) != http.StatusUnauthorized ||
		!strings.HasPrefix(err.Error(), "exchange the OIDC token for a credential of skynet/build: control plane: the token was exchanged before") {
		t.Errorf("a replay: %v", err)
	}
}

// The token function runs at the first call that sends a token, once for concurrent calls, and
// again only after it failed.
func TestTokenFuncRunsOnFirstUse(t *testing.T) {
	t.Parallel()
	var (
		seen  sync.Map
		auth  []string
		mu    sync.Mutex
		calls atomic.Int32
		fail  atomic.Bool
	)
	url := serve(t, exchangeHandler(&seen, &auth, &mu))
	fail.Store(true)
	c, err := client.New(url, "", client.WithRetry(client.Retry{}), client.WithTokenFunc(func(context.Context) (string, error) {
		calls.Add(1)
		if fail.Load() {
			return "", errors.New("no OIDC token: add permissions")
		}
		return "cst_lazy", nil
	}))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.ExchangeOIDC(context.Background(), wire.ExchangeOIDC{Token: "t.t.t"}); err != nil || calls.Load() != 0 {
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
	for _, a := range auth[1:] {
		if a != "GET /v1/projects Bearer cst_lazy" {
			t.Errorf("call %q", a)
		}
	}
}
