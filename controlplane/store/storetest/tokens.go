package storetest

import (
	"context"
	"crypto/sha256"
	"testing"

	"github.com/custody-dev/custody/controlplane/store"
)

func hash(secret string) []byte {
	h := sha256.Sum256([]byte(secret))
	return h[:]
}

func testTokens(t *testing.T, b Backend) {
	ctx := context.Background()
	s := b.open(t)
	f := newFixture(t, s, "acme")
	g := newFixture(t, s, "globex")
	admin := &store.Token{ID: "t-admin", Name: "bootstrap admin", Hash: hash("cst_admin"), OrgID: f.org.ID, Admin: true, CreatedAt: at(10)}
	project := &store.Token{ID: "t-project", Name: "project", Hash: hash("cst_project"), OrgID: f.org.ID, ProjectID: f.project.ID,
		ExpiresAt: at(7200), CreatedAt: at(12)}
	workflow := &store.Token{ID: "t-workflow", Name: "ci", Hash: hash("cst_workflow"), OrgID: f.org.ID, ProjectID: f.project.ID,
		WorkflowID: f.workflow.ID, ExpiresAt: at(3600), CreatedAt: at(11)}
	globex := &store.Token{ID: "t-globex", Name: "globex", Hash: hash("cst_globex"), OrgID: g.org.ID, CreatedAt: at(1)}
	for _, tok := range []*store.Token{admin, project, workflow, globex} {
		must(t, s.CreateToken(ctx, tok))
	}
	equal(t, "created token (normalized in place)", workflow.ExpiresAt, utc(at(3600)))

	for _, want := range []*store.Token{admin, project, workflow} {
		got, err := s.GetTokenByHash(ctx, want.Hash)
		must(t, err)
		equal(t, "token "+want.ID+" by hash", *got, *want)
	}
	_, err := s.GetTokenByHash(ctx, hash("cst_unknown"))
	wantErr(t, "unknown hash", err, store.ErrNotFound)

	tests := []struct {
		name  string
		token store.Token
		want  error
	}{
		{"same hash", store.Token{ID: "t9", Name: "dup", Hash: hash("cst_admin"), OrgID: f.org.ID}, store.ErrExists},
		{"same id", store.Token{ID: "t-admin", Name: "dup", Hash: hash("cst_new"), OrgID: f.org.ID}, store.ErrExists},
		{"unknown org", store.Token{ID: "t10", Hash: hash("cst_10"), OrgID: "nope"}, store.ErrNotFound},
		{"unknown project", store.Token{ID: "t11", Hash: hash("cst_11"), OrgID: f.org.ID, ProjectID: "nope"}, store.ErrNotFound},
		{"unknown workflow", store.Token{ID: "t12", Hash: hash("cst_12"), OrgID: f.org.ID, ProjectID: f.project.ID, WorkflowID: "nope"}, store.ErrNotFound},
	}
	for _, tc := range tests {
		tok := tc.token
		wantErr(t, "create token: "+tc.name, s.CreateToken(ctx, &tok), tc.want)
	}

	ts, err := s.ListTokens(ctx, f.org.ID)
	must(t, err)
	equal(t, "acme's tokens, oldest first", ts, []store.Token{*admin, *workflow, *project})

	must(t, s.RevokeToken(ctx, workflow.ID, at(100)))
	must(t, s.RevokeToken(ctx, workflow.ID, at(200))) // again: no error, first time kept
	got, err := s.GetTokenByHash(ctx, workflow.Hash)
	must(t, err)
	equal(t, "revoked at", got.RevokedAt, utc(at(100)))
	wantErr(t, "revoke an unknown token", s.RevokeToken(ctx, "nope", at(100)), store.ErrNotFound)
	got, err = s.GetTokenByHash(ctx, admin.Hash)
	must(t, err)
	equal(t, "other token not revoked", got.RevokedAt.IsZero(), true)
}
