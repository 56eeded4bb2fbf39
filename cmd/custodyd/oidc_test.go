package main

import (
	"io"
	"slices"
	"strings"
	"testing"

	"github.com/custody-dev/custody/client"
	"github.com/custody-dev/custody/internal/oidctest"
	"github.com/custody-dev/custody/wire"
)

// TestConfigOIDC: the issuers default to GitHub's and gitlab.com's, come comma-separated from
// CUSTODYD_OIDC_ISSUERS, and --oidc-issuer, repeated, replaces them; an http issuer off the loopback
// and an empty audience are refused, naming the flag.
func TestConfigOIDC(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name     string
		args     []string
		env      map[string]string
		issuers  []string
		audience string
	}{
		{"defaults", nil, nil, []string{"https://token.actions.githubusercontent.com", "https://gitlab.com"}, "custody"},
		{"environment", nil, map[string]string{"CUSTODYD_OIDC_ISSUERS": "https://gitlab.example.com,https://ghes.example.com/_services/token",
			"CUSTODYD_OIDC_AUDIENCE": "https://custody.example.com"},
			[]string{"https://gitlab.example.com", "https://ghes.example.com/_services/token"}, "https://custody.example.com"},
		{"flags replace the environment", []string{"--oidc-issuer", "https://gitlab.com", "--oidc-issuer", "http://127.0.0.1:9999", "--oidc-audience", "ci"},
			map[string]string{"CUSTODYD_OIDC_ISSUERS": "https://gitlab.example.com"}, []string{"https://gitlab.com", "http://127.0.0.1:9999"}, "ci"},
	} {
		c, err := loadConfig(tc.args, tc.env, io.Discard)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if !slices.Equal(c.oidcIssuers(), tc.issuers) || c.OIDCAudience != tc.audience {
			t.Errorf("%s: issuers %q, audience %q; want %q, %q", tc.name, c.oidcIssuers(), c.OIDCAudience, tc.issuers, tc.audience)
		}
	}
	for _, tc := range []struct {
		args []string
		env  map[string]string
		want string
	}{
		{[]string{"--oidc-issuer", "http://gitlab.example.com"}, nil, "--oidc-issuer: issuer \"http://gitlab.example.com\": http is accepted on a loopback address only"},
		{nil, map[string]string{"CUSTODYD_OIDC_ISSUERS": "https://gitlab.com,gitlab.example.com"}, "--oidc-issuer: issuer \"gitlab.example.com\""},
		{[]string{"--oidc-audience", ""}, nil, "--oidc-audience"},
	} {
		if _, err := loadConfig(tc.args, tc.env, io.Discard); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v %v: %v, want an error saying %q", tc.args, tc.env, err, tc.want)
		}
	}
}

// TestServeOIDCExchange: custodyd started with a test issuer exchanges its tokens for credentials of a
// workflow whose policy matches, and refuses another audience than --oidc-audience.
func TestServeOIDCExchange(t *testing.T) {
	t.Parallel()
	iss := oidctest.New(t)
	d := startInProcess(t, "--oidc-issuer", iss.URL, "--oidc-audience", "https://custody.example.com")
	ctx := t.Context()
	admin, err := client.New(d.url(), d.token)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := admin.CreateProject(ctx, "skynet"); err != nil {
		t.Fatal(err)
	}
	if _, err := admin.CreateWorkflow(ctx, "skynet", wire.CreateWorkflow{Name: "build"}); err != nil {
		t.Fatal(err)
	}
	if _, err := admin.AddTrustPolicy(ctx, "skynet", "build", wire.TrustPolicy{Issuer: iss.URL, Claims: map[string]string{"repository": "acme/app"}}); err != nil {
		t.Fatal(err)
	}
	anon, err := client.New(d.url(), "")
	if err != nil {
		t.Fatal(err)
	}
	claims := oidctest.GitHubClaims("acme/app", "refs/heads/main")
	_, err = anon.ExchangeOIDC(ctx, wire.ExchangeOIDC{Token: iss.Token(t, claims), Project: "skynet", Workflow: "build"})
	if client.Code(err) != wire.CodeOIDCTokenInvalid || !strings.Contains(err.Error(), `audience "https://custody.example.com"`) {
		t.Errorf("a token for the default audience: %v", err)
	}
	out, err := anon.ExchangeOIDC(ctx, wire.ExchangeOIDC{Token: iss.Token(t, claims, oidctest.Audience("https://custody.example.com")), Project: "skynet", Workflow: "build"})
	if err != nil {
		t.Fatal(err)
	}
	cred, err := client.New(d.url(), out.Token)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cred.InitRun(ctx, wire.InitRun{Project: "skynet", Workflow: "build"}); err != nil {
		t.Errorf("init with the exchanged credential: %v", err)
	}
	if log := d.log.String(); !strings.Contains(log, `"outcome":"exchanged"`) || strings.Contains(log, out.Token) {
		t.Errorf("the log does not show the exchange, or shows the credential:\n%s", log)
	}
}
