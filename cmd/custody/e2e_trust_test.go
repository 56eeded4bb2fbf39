package main

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/custody-dev/custody/internal/cptest"
	"github.com/custody-dev/custody/internal/oidctest"
	"github.com/custody-dev/custody/wire"
)

// custody workflow trust add|list|remove, run with the binary against a control plane that trusts a
// test issuer: the policy it adds lets a matching ID token be exchanged, and refusals exit with the
// documented codes.
func TestWorkflowTrustCommands(t *testing.T) {
	t.Parallel()
	iss := oidctest.New(t)
	cp := cptest.New(t, cptest.Options{OIDCIssuers: []string{iss.URL}})
	cp.Workflow(t, "skynet", "build-and-test", "", nil)
	w := onlineWorkspace(t, cp.URL)
	admin := w.with("CUSTODY_TOKEN=" + cp.AdminToken)
	trust := func(args ...string) []string {
		return append([]string{"workflow", "trust"}, append(args, "--project", "skynet")...)
	}
	claims := oidctest.GitHubClaims("acme/app", "refs/heads/main")
	owner := claims["repository_owner_id"].(string)

	added := admin.ok(trust("add", "build-and-test", "--issuer", iss.URL, "--claim", "repository=acme/app",
		"--claim", "repository_owner_id="+owner, "--claim", "ref=refs/heads/*")...)
	if !strings.Contains(added.stderr, "INF workflow skynet/build-and-test trusts ID tokens of "+iss.URL+
		" with ref=refs/heads/*, repository=acme/app, repository_owner_id="+owner) {
		t.Errorf("trust add said:\n%s", added.stderr)
	}
	var list []wire.TrustPolicy
	if err := json.Unmarshal([]byte(admin.ok(trust("list", "build-and-test", "-o", "json")...).stdout), &list); err != nil || len(list) != 1 {
		t.Fatalf("trust list: %+v, %v", list, err)
	}
	if table := admin.ok(trust("list", "build-and-test")...).stdout; !strings.Contains(table, list[0].ID) || !strings.Contains(table, "repository=acme/app") {
		t.Errorf("trust list table:\n%s", table)
	}
	if _, err := cp.Client(t, "").ExchangeOIDC(t.Context(), wire.ExchangeOIDC{Token: iss.Token(t, claims), Project: "skynet", Workflow: "build-and-test"}); err != nil {
		t.Errorf("a token the added policy matches: %v", err)
	}

	for _, tc := range []struct {
		name string
		args []string
		code int
		want string
	}{
		{"no claim", trust("add", "build-and-test", "--issuer", iss.URL), 2, "at least one --claim"},
		{"a claim without =", trust("add", "build-and-test", "--issuer", iss.URL, "--claim", "repository"), 2, `--claim "repository": want name=value`},
		{"a claim twice", trust("add", "build-and-test", "--issuer", iss.URL, "--claim", "sub=a", "--claim", "sub=b"), 2, "--claim sub is given twice"},
		{"an issuer-wide glob", trust("add", "build-and-test", "--issuer", iss.URL, "--claim", "repository=*"), 3, "must be literal"},
		{"no identifying claim", trust("add", "build-and-test", "--issuer", iss.URL, "--claim", "ref=refs/heads/main"), 3, "pins none of"},
		{"an issuer not trusted", trust("add", "build-and-test", "--issuer", "https://gitlab.com", "--claim", "project_path=acme/app"), 3, "not one this control plane trusts"},
		{"the same policy", trust("add", "build-and-test", "--issuer", iss.URL, "--claim", "repository=acme/app",
			"--claim", "repository_owner_id="+owner, "--claim", "ref=refs/heads/*"), 5, "already has this trust policy"},
		{"an unknown workflow", trust("list", "nope"), 9, "workflow nope not found"},
		{"an unknown policy", trust("remove", "build-and-test", "nope"), 9, "has no trust policy nope"},
	} {
		if r := admin.custody(tc.args...); r.code != tc.code || !strings.Contains(r.stderr, tc.want) {
			t.Errorf("%s: exit %d, stderr %q; want exit %d saying %q", tc.name, r.code, r.stderr, tc.code, tc.want)
		}
	}

	if r := admin.ok(trust("remove", "build-and-test", list[0].ID)...); !strings.Contains(r.stderr, "no longer has trust policy "+list[0].ID) {
		t.Errorf("trust remove said:\n%s", r.stderr)
	}
	if out := admin.ok(trust("list", "build-and-test", "-o", "json")...).stdout; strings.TrimSpace(out) != "[]" {
		t.Errorf("after remove: %s", out)
	}
}
