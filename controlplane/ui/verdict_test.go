package ui_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/custody-dev/custody/internal/cptest"
	"github.com/custody-dev/custody/internal/oidctest"
	"github.com/custody-dev/custody/wire"
)

// TestRunSignedByCIJob: a CI job that exchanged its OIDC token signs keyless as itself; the run
// page verifies the bundle for that job's identity and shows its CI claims from the certificate,
// and the verify commands name the job's identity and issuer.
func TestRunSignedByCIJob(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	iss := oidctest.New(t)
	srv := cptest.New(t, cptest.Options{OIDCIssuers: []string{iss.URL}})
	srv.Workflow(t, "alpha", "build", buildContract, nil)
	claims := oidctest.GitHubClaims("acme/app", "refs/heads/main")
	srv.Trust(t, "alpha", "build", iss.URL, map[string]string{"repository": "acme/app", "repository_owner_id": claims["repository_owner_id"].(string)})
	out, err := srv.Client(t, "").ExchangeOIDC(ctx, wire.ExchangeOIDC{Token: iss.Token(t, claims), Project: "alpha", Workflow: "build"})
	if err != nil {
		t.Fatal(err)
	}
	p := pushKeyless(t, srv, out.Token, "alpha", "build", "rootfs", nil)
	b := newBrowser(t, srv).mustSignIn(srv.AdminToken)
	run := b.get("/ui/runs/" + p.run.ID)
	if run.status != http.StatusOK {
		t.Fatalf("run page: %d\n%s", run.status, run.body)
	}
	san := iss.URL + "/acme/app/.github/workflows/build.yml@refs/heads/main"
	for _, want := range []string{
		`<h2>Verified</h2>`,
		`<td id="signer-san">` + san + `</td>`,
		`<td id="signer-issuer">` + iss.URL + `</td>`,
		`<tr><th>Repository</th><td>` + iss.URL + `/acme/app</td></tr>`,
		`<tr><th>Ref</th><td>refs/heads/main</td></tr>`,
		`<tr><th>Trigger</th><td>push</td></tr>`,
		`<tr><th>Runner environment</th><td>github-hosted</td></tr>`,
		`--certificate-identity ` + san + ` --certificate-oidc-issuer ` + iss.URL,
	} {
		if !strings.Contains(run.body, want) {
			t.Errorf("the run page does not show %s", want)
		}
	}
}

// TestVerdictAfterKeyRemoved: the verdict is made again when the page is opened, with the keys the
// workflow trusts then: once the key that signed a bundle is removed, the page says the bundle is
// not verified and why, shows the statement as stored, and offers no verify command.
func TestVerdictAfterKeyRemoved(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	srv := cptest.New(t, cptest.Options{})
	key, pub := newKeySigner(t)
	token := srv.Workflow(t, "alpha", "build", buildContract, []byte(pub))
	p := push(t, srv, token, "alpha", "build", "rootfs", key, nil)
	b := newBrowser(t, srv).mustSignIn(token)
	before := b.get("/ui/runs/" + p.run.ID)
	if !strings.Contains(before.body, "<h2>Verified</h2>") || !strings.Contains(before.body, `id="signer-key"`) ||
		!strings.Contains(before.body, "custody attestation verify --key cosign.pub") {
		t.Fatalf("a key-signed run, its key trusted: not shown verified with its key\n%s", before.body)
	}
	keys, err := srv.Admin(t).ListKeys(ctx, "alpha", "build")
	if err != nil || len(keys) != 1 {
		t.Fatalf("keys: %v %v", keys, err)
	}
	if err := srv.Admin(t).RemoveKey(ctx, "alpha", "build", keys[0].ID); err != nil {
		t.Fatal(err)
	}
	after := b.get("/ui/runs/" + p.run.ID)
	switch {
	case after.status != http.StatusOK:
		t.Fatalf("run page: %d", after.status)
	case !strings.Contains(after.body, "<h2>Not verified</h2>") || !strings.Contains(after.body, "trusts no key"):
		t.Errorf("the key removed: the page does not say the bundle is no longer verified, and why\n%s", after.body)
	case !strings.Contains(after.body, "80e461e9b385"):
		t.Errorf("the statement as stored is not shown")
	case strings.Contains(after.body, "custody attestation verify"):
		t.Errorf("verify commands offered for a bundle that does not verify")
	}
}
