package oidctest_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	gooidc "github.com/coreos/go-oidc/v3/oidc"

	"github.com/custody-dev/custody/internal/oidctest"
)

// TestIssuerVerifies: go-oidc, by provider discovery, verifies the issuer's RS256 and ES256 tokens
// with their claims, and refuses the ones the options break.
func TestIssuerVerifies(t *testing.T) {
	t.Parallel()
	iss := oidctest.New(t)
	ctx := t.Context()
	provider, err := gooidc.NewProvider(ctx, iss.URL)
	if err != nil {
		t.Fatal(err)
	}
	v := provider.Verifier(&gooidc.Config{ClientID: oidctest.DefaultAudience, SupportedSigningAlgs: []string{"RS256", "ES256"}})
	claims := oidctest.GitHubClaims("acme/app", "refs/heads/main")
	for name, opts := range map[string][]oidctest.Option{"RS256": nil, "ES256": {oidctest.ES256()}} {
		tok, err := v.Verify(ctx, iss.Token(t, claims, opts...))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		var got map[string]any
		if err := tok.Claims(&got); err != nil {
			t.Fatal(err)
		}
		if got["repository"] != "acme/app" || got["repository_owner_id"] != claims["repository_owner_id"] || tok.Subject != "repo:acme/app:ref:refs/heads/main" {
			t.Errorf("%s: claims %v", name, got)
		}
	}
	for name, opt := range map[string]oidctest.Option{
		"bad signature": oidctest.BadSignature(), "unknown kid": oidctest.UnknownKid(), "alg none": oidctest.AlgNone(),
		"HS256": oidctest.HS256WithPublicKey(), "expired": oidctest.ExpiresAt(time.Now().Add(-time.Minute)),
		"other audience": oidctest.Audience("someone-else"),
	} {
		if _, err := v.Verify(ctx, iss.Token(t, claims, opt)); err == nil {
			t.Errorf("%s: verified", name)
		}
	}
	old := iss.Token(t, claims)
	iss.Rotate(t)
	if _, err := v.Verify(ctx, iss.Token(t, claims)); err != nil {
		t.Errorf("a token of the new key: %v", err) // an unknown kid makes go-oidc fetch the key set again
	}
	fresh, err := gooidc.NewProvider(ctx, iss.URL)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := fresh.Verifier(&gooidc.Config{ClientID: oidctest.DefaultAudience}).Verify(ctx, old); err == nil {
		t.Error("a token of the rotated-out key verified with the key set published after the rotation")
	}
}

// TestActionsTokenServer: the GitHub-shaped token endpoint answers the request token only, with the
// audience asked for.
func TestActionsTokenServer(t *testing.T) {
	t.Parallel()
	iss := oidctest.New(t)
	url, reqToken := iss.ActionsTokenServer(t, oidctest.GitHubClaims("acme/app", "refs/heads/main"))
	get := func(auth string) (*http.Response, map[string]any) {
		req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, url+"&audience=custody", nil)
		if err != nil {
			t.Fatal(err)
		}
		if auth != "" {
			req.Header.Set("Authorization", auth)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var body map[string]any
		_ = json.NewDecoder(resp.Body).Decode(&body)
		return resp, body
	}
	for _, auth := range []string{"", "bearer wrong", "Basic " + reqToken} {
		if resp, _ := get(auth); resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("Authorization %q: %s, want 401", auth, resp.Status)
		}
	}
	resp, body := get("bearer " + reqToken)
	value, _ := body["value"].(string)
	if resp.StatusCode != http.StatusOK || strings.Count(value, ".") != 2 {
		t.Fatalf("%s %v", resp.Status, body)
	}
	provider, err := gooidc.NewProvider(t.Context(), iss.URL)
	if err != nil {
		t.Fatal(err)
	}
	verifier := provider.Verifier(&gooidc.Config{ClientID: "custody"})
	first, err := verifier.Verify(t.Context(), value)
	if err != nil {
		t.Fatalf("the served token: %v", err)
	}
	// Each token is GitHub's answer to one request: a token of its own, with its own jti.
	_, again := get("bearer " + reqToken)
	second, err := verifier.Verify(t.Context(), again["value"].(string))
	if err != nil {
		t.Fatalf("the second token: %v", err)
	}
	var c1, c2 struct {
		JTI        string `json:"jti"`
		Repository string `json:"repository"`
	}
	if err := first.Claims(&c1); err != nil {
		t.Fatal(err)
	}
	if err := second.Claims(&c2); err != nil {
		t.Fatal(err)
	}
	if c1.JTI == "" || c1.JTI == c2.JTI || c1.Repository != "acme/app" || c2.Repository != "acme/app" {
		t.Errorf("two tokens served: jti %q and %q, repository %q and %q: want the claims with a fresh jti each", c1.JTI, c2.JTI, c1.Repository, c2.Repository)
	}
}
