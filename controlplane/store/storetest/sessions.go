package storetest

import (
	"context"
	"testing"

	"github.com/custody-dev/custody/controlplane/store"
)

// testSessions: a web UI session is found by its id's hash with the token it acts as, in one read;
// it is deleted by sign-out (twice is no error) and pruned once expired; a session of an unknown
// token, or a hash taken, is refused.
func testSessions(t *testing.T, b Backend) {
	ctx := context.Background()
	s := b.open(t)
	f := newFixture(t, s, "acme")
	tok := &store.Token{ID: "t-wf", Name: "ci", Hash: hash("cst_wf"), OrgID: f.org.ID, ProjectID: f.project.ID,
		WorkflowID: f.workflow.ID, ExpiresAt: at(7200), CreatedAt: at(5)}
	must(t, s.CreateToken(ctx, tok))
	short := &store.Session{IDHash: hash("session one"), TokenID: tok.ID, CreatedAt: at(10), ExpiresAt: at(100)}
	long := &store.Session{IDHash: hash("session two"), TokenID: tok.ID, CreatedAt: at(11), ExpiresAt: at(1000)}
	must(t, s.CreateSession(ctx, short))
	must(t, s.CreateSession(ctx, long))
	equal(t, "expiry (normalized in place)", short.ExpiresAt, utc(at(100)))

	se, got, err := s.GetSession(ctx, long.IDHash)
	must(t, err)
	equal(t, "session", *se, *long)
	equal(t, "its token", *got, *tok)
	_, _, err = s.GetSession(ctx, hash("no such session"))
	wantErr(t, "unknown session", err, store.ErrNotFound)

	wantErr(t, "the same hash again", s.CreateSession(ctx, &store.Session{IDHash: short.IDHash, TokenID: tok.ID, ExpiresAt: at(100)}), store.ErrExists)
	wantErr(t, "an unknown token", s.CreateSession(ctx, &store.Session{IDHash: hash("three"), TokenID: "nope", ExpiresAt: at(100)}), store.ErrNotFound)

	must(t, s.RevokeToken(ctx, tok.ID, at(20)))
	_, got, err = s.GetSession(ctx, long.IDHash)
	must(t, err)
	equal(t, "a revoked token's session shows it revoked", got.RevokedAt, utc(at(20)))

	n, err := s.PruneSessions(ctx, at(100))
	must(t, err)
	equal(t, "pruned at its expiry", n, 0)
	n, err = s.PruneSessions(ctx, at(101))
	must(t, err)
	equal(t, "pruned after its expiry", n, 1)
	_, _, err = s.GetSession(ctx, short.IDHash)
	wantErr(t, "a pruned session", err, store.ErrNotFound)

	must(t, s.DeleteSession(ctx, long.IDHash))
	must(t, s.DeleteSession(ctx, long.IDHash))
	_, _, err = s.GetSession(ctx, long.IDHash)
	wantErr(t, "a deleted session", err, store.ErrNotFound)
}
