package storetest

import (
	"context"
	"testing"

	"github.com/custody-dev/custody/controlplane/store"
)

func testTrustPolicies(t *testing.T, b Backend) {
	ctx := context.Background()
	s := b.open(t)
	f := newFixture(t, s, "acme")
	other := f.otherWorkflow(t, s)
	const gh = "https://token.actions.githubusercontent.com"
	main := &store.TrustPolicy{ID: "tp-main", WorkflowID: f.workflow.ID, Issuer: gh, CreatedAt: at(10),
		Claims: map[string]string{"repository": "acme/app", "repository_owner_id": "1342004", "ref": "refs/heads/main"}}
	tags := &store.TrustPolicy{ID: "tp-tags", WorkflowID: f.workflow.ID, Issuer: gh, CreatedAt: at(11),
		Claims: map[string]string{"repository": "acme/app", "ref": "refs/tags/v*", "name with \"quotes\" and é": "a\\b"}}
	gitlab := &store.TrustPolicy{WorkflowID: other.ID, Issuer: "https://gitlab.com", CreatedAt: at(9),
		Claims: map[string]string{"project_path": "acme/app"}}
	for _, p := range []*store.TrustPolicy{tags, main, gitlab} {
		must(t, s.AddTrustPolicy(ctx, p))
	}
	equal(t, "an ID is made when none is given", gitlab.ID != "", true)
	equal(t, "created at (normalized in place)", main.CreatedAt, utc(at(10)))
	ps, err := s.ListTrustPolicies(ctx, f.workflow.ID)
	must(t, err)
	equal(t, "the workflow's policies, oldest first", ps, []store.TrustPolicy{*main, *tags})
	ps, err = s.ListTrustPolicies(ctx, "nope")
	must(t, err)
	equal(t, "an unknown workflow's policies", len(ps), 0)

	wantErr(t, "a policy of an unknown workflow", s.AddTrustPolicy(ctx, &store.TrustPolicy{WorkflowID: "nope", Issuer: gh, Claims: map[string]string{"sub": "x"}}), store.ErrNotFound)
	wantErr(t, "the same ID again", s.AddTrustPolicy(ctx, &store.TrustPolicy{ID: "tp-main", WorkflowID: f.workflow.ID, Issuer: gh}), store.ErrExists)

	_, err = s.RemoveTrustPolicy(ctx, other.ID, main.ID)
	wantErr(t, "remove a policy through another workflow", err, store.ErrNotFound)
	removed, err := s.RemoveTrustPolicy(ctx, f.workflow.ID, main.ID)
	must(t, err)
	equal(t, "the removed policy", *removed, *main)
	_, err = s.RemoveTrustPolicy(ctx, f.workflow.ID, main.ID)
	wantErr(t, "remove it again", err, store.ErrNotFound)
	ps, err = s.ListTrustPolicies(ctx, f.workflow.ID)
	must(t, err)
	equal(t, "what is left", ps, []store.TrustPolicy{*tags})
}

// testExchangedTokens: a credential exchanged for an ID token keeps the token's claims byte for
// byte; the same ID token (issuer and jti) is exchanged once, a replay storing nothing; a use is
// forgotten once the ID token expired.
func testExchangedTokens(t *testing.T, b Backend) {
	ctx := context.Background()
	s := b.open(t)
	f := newFixture(t, s, "acme")
	const gh, gl = "https://token.actions.githubusercontent.com", "https://gitlab.com"
	claims := []byte("{\"sub\":\"repo:acme/app:ref:refs/heads/main\",\"x\":\"\\u0000\xff\"}")
	exchanged := func(id, secret string) *store.Token {
		return &store.Token{ID: id, Name: "workload repo:acme/app", Hash: hash(secret), OrgID: f.org.ID, ProjectID: f.project.ID,
			WorkflowID: f.workflow.ID, ExpiresAt: at(900), CreatedAt: at(1), WorkloadIssuer: gh, WorkloadClaims: claims}
	}
	first := exchanged("t-1", "cst_1")
	must(t, s.CreateExchangedToken(ctx, first, &store.IDTokenUse{Issuer: gh, ID: "jti-1", ExpiresAt: at(300)}))
	got, err := s.GetTokenByHash(ctx, first.Hash)
	must(t, err)
	equal(t, "the exchanged token", *got, *first)

	// The same ID token again: refused, nothing stored.
	err = s.CreateExchangedToken(ctx, exchanged("t-2", "cst_2"), &store.IDTokenUse{Issuer: gh, ID: "jti-1", ExpiresAt: at(300)})
	wantErr(t, "a replayed ID token", err, store.ErrExists)
	_, err = s.GetTokenByHash(ctx, hash("cst_2"))
	wantErr(t, "the replay's credential", err, store.ErrNotFound)

	// The same jti of another issuer is another token; a failed credential insert records no use.
	must(t, s.CreateExchangedToken(ctx, exchanged("t-3", "cst_3"), &store.IDTokenUse{Issuer: gl, ID: "jti-1", ExpiresAt: at(300)}))
	err = s.CreateExchangedToken(ctx, exchanged("t-1", "cst_4"), &store.IDTokenUse{Issuer: gh, ID: "jti-4", ExpiresAt: at(300)})
	wantErr(t, "a credential whose ID is taken", err, store.ErrExists)
	must(t, s.CreateExchangedToken(ctx, exchanged("t-5", "cst_5"), &store.IDTokenUse{Issuer: gh, ID: "jti-4", ExpiresAt: at(600)}))

	// An ordinary token has no workload.
	plain := &store.Token{ID: "t-plain", Name: "ci", Hash: hash("cst_plain"), OrgID: f.org.ID, CreatedAt: at(2)}
	must(t, s.CreateToken(ctx, plain))
	got, err = s.GetTokenByHash(ctx, plain.Hash)
	must(t, err)
	equal(t, "a plain token's workload", [2]any{got.WorkloadIssuer, got.WorkloadClaims}, [2]any{"", []byte(nil)})

	n, err := s.PruneIDTokenUses(ctx, at(300)) // expiring at 300 is not before 300
	must(t, err)
	equal(t, "pruned at the expiry", n, 0)
	n, err = s.PruneIDTokenUses(ctx, at(301))
	must(t, err)
	equal(t, "pruned after the expiry", n, 2)
	must(t, s.CreateExchangedToken(ctx, exchanged("t-6", "cst_6"), &store.IDTokenUse{Issuer: gh, ID: "jti-1", ExpiresAt: at(900)}))
	err = s.CreateExchangedToken(ctx, exchanged("t-7", "cst_7"), &store.IDTokenUse{Issuer: gh, ID: "jti-4", ExpiresAt: at(900)})
	wantErr(t, "a use not yet expired is kept", err, store.ErrExists)
}
