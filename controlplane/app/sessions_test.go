package app_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/custody-dev/custody/controlplane/app"
	"github.com/custody-dev/custody/wire"
)

// TestSessions: a session acts as the token it was opened with until it expires (its own time, or
// its token's, whichever is first), its token is revoked, or it is signed out; a refused token opens
// none.
func TestSessions(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	e.workflow(t, "alpha", "build")
	wf, secret := e.token(t, wire.CreateToken{Project: "alpha", Workflow: "build", ExpiresIn: "2h"})
	_, adminOther := e.token(t, wire.CreateToken{Admin: true})

	if _, err := e.app.SignIn(ctx, "cst_garbage", 0); !isUnauthenticated(err) {
		t.Fatalf("sign in with a malformed token: %v, want unauthenticated", err)
	}
	s, err := e.app.SignIn(ctx, secret, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(s.ID, secret) || s.ID == "" {
		t.Fatalf("session id %q: want a random id, not the token", s.ID)
	}
	got, err := e.app.Session(ctx, s.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Principal.Token.ID != wf.Token.ID || !got.ExpiresAt.Equal(e.clock.Now().Add(time.Hour)) {
		t.Fatalf("session: token %s until %s, want %s until an hour from now", got.Principal.Token.ID, got.ExpiresAt, wf.Token.ID)
	}
	long, err := e.app.SignIn(ctx, secret, 24*time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if want := e.clock.Now().Add(2 * time.Hour); !long.ExpiresAt.Equal(want) {
		t.Errorf("a session longer than its token: until %s, want the token's expiry %s", long.ExpiresAt, want)
	}
	for _, id := range []string{"", "short", strings.Repeat("A", 43)} {
		if _, err := e.app.Session(ctx, id); !isUnauthenticated(err) {
			t.Errorf("session %q: %v, want unauthenticated", id, err)
		}
	}

	e.clock.Advance(time.Hour)
	if _, err := e.app.Session(ctx, s.ID); !isUnauthenticated(err) {
		t.Errorf("an expired session: %v, want unauthenticated", err)
	}
	if n, err := e.app.PruneSessions(ctx); err != nil || n != 0 {
		t.Errorf("prune at the expiry: %d, %v; want none pruned yet", n, err)
	}
	if _, err := e.app.Session(ctx, long.ID); err != nil {
		t.Fatalf("the other session: %v", err)
	}
	if err := e.app.RevokeToken(ctx, e.admin, wf.Token.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := e.app.Session(ctx, long.ID); !isUnauthenticated(err) {
		t.Errorf("the session of a revoked token: %v, want unauthenticated", err)
	}

	admin, err := e.app.SignIn(ctx, adminOther, 0)
	if err != nil {
		t.Fatal(err)
	}
	if !admin.ExpiresAt.Equal(e.clock.Now().Add(app.DefaultSessionTTL)) {
		t.Errorf("default session: until %s, want %s later", admin.ExpiresAt, app.DefaultSessionTTL)
	}
	if err := e.app.SignOut(ctx, admin.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := e.app.Session(ctx, admin.ID); !isUnauthenticated(err) {
		t.Errorf("a signed-out session: %v, want unauthenticated", err)
	}
	if err := e.app.SignOut(ctx, admin.ID); err != nil {
		t.Errorf("sign out twice: %v", err)
	}
}

func isUnauthenticated(err error) bool {
	e, ok := app.AsError(err)
	return ok && e.Code == wire.CodeUnauthenticated
}
