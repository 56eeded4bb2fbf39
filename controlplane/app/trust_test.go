package app

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/custody-dev/custody/controlplane/oidc"
	"github.com/custody-dev/custody/controlplane/store"
	"github.com/custody-dev/custody/wire"
)

const github = "https://token.actions.githubusercontent.com"

// FuzzPolicyOwner: a policy the control plane accepts never matches a token of another owner. For
// any identifying claim and pattern it accepts, a token whose claim matches has the pattern's owner
// (the text before the first /, or all of it): no glob reaches another owner's repositories.
func FuzzPolicyOwner(f *testing.F) {
	v, err := oidc.New(oidc.Config{Issuers: []string{github}, Audience: "custody"})
	if err != nil {
		f.Fatal(err)
	}
	a := &App{oidc: v}
	for _, s := range [][3]string{
		{"repository", "acme/*", "acme/app"}, {"repository", "acme/app", "acme/app"}, {"repository", "*/app", "evil/app"},
		{"repository_owner_id", "1342004", "1342004"}, {"sub", "repo:acme/app:*", "repo:acme/app:ref:refs/heads/main"},
		{"project_path", "acme/[a-z]*", "acme/app"}, {"sub", `repo\:acme/*`, "repo:acme/x"}, {"repository", "acme*", "acme-evil/app"},
	} {
		f.Add(s[0], s[1], s[2])
	}
	f.Fuzz(func(t *testing.T, name, pattern, value string) {
		if !slices.Contains(identifyingClaims, name) {
			return
		}
		tp := wire.TrustPolicy{Issuer: github, Claims: map[string]string{name: pattern}}
		if a.checkPolicy(tp) != nil {
			return
		}
		tok := &oidc.Token{Issuer: github, Claims: map[string]any{name: value}}
		if len(mismatch(store.TrustPolicy{Issuer: github, Claims: tp.Claims}, tok)) > 0 {
			return
		}
		patternOwner, _, _ := strings.Cut(pattern, "/")
		valueOwner, _, _ := strings.Cut(value, "/")
		if patternOwner != valueOwner {
			t.Fatalf("policy %s=%q matches %q, of another owner", name, pattern, value)
		}
	})
}

// TestMismatch: what a refusal says of each policy: the claims that failed with the token's values.
func TestMismatch(t *testing.T) {
	t.Parallel()
	tok := &oidc.Token{Issuer: github, Claims: map[string]any{"repository": "acme/app", "ref": "refs/heads/dev", "runner_id": json.Number("1"), "list": []any{"a"}}}
	for _, tc := range []struct {
		policy store.TrustPolicy
		want   string
	}{
		{store.TrustPolicy{Issuer: github, Claims: map[string]string{"repository": "acme/*", "ref": "refs/heads/main"}}, "ref=refs/heads/dev"},
		{store.TrustPolicy{Issuer: github, Claims: map[string]string{"repository": "acme/app", "environment": "prod"}}, "environment (absent)"},
		{store.TrustPolicy{Issuer: github, Claims: map[string]string{"repository": "acme/app", "list": "a"}}, "list (absent)"},
		{store.TrustPolicy{Issuer: github, Claims: map[string]string{"repository": "acme/app", "runner_id": "1"}}, ""},
		{store.TrustPolicy{Issuer: "https://gitlab.com", Claims: map[string]string{"project_path": "acme/app"}}, "iss=" + github},
		{store.TrustPolicy{Issuer: github, Claims: map[string]string{"repository": "acme/app", "ref": "refs/[heads"}}, "ref=refs/heads/dev"},
	} {
		if got := strings.Join(mismatch(tc.policy, tok), ", "); got != tc.want {
			t.Errorf("%v: %q, want %q", tc.policy.Claims, got, tc.want)
		}
	}
	if long := shorten(strings.Repeat("é", 200)); len(long) > 204 || !strings.HasSuffix(long, "…") {
		t.Errorf("shorten: %d bytes", len(long))
	}
}
