package app

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"time"

	"github.com/custody-dev/custody/controlplane/auth"
	"github.com/custody-dev/custody/controlplane/store"
)

// Sessions of the web UI. A person signs in once with a custody token; the session acts as that token
// (the same principal, so the same authorization) until it expires, the token expires or is revoked,
// or the person signs out. The session id is random and kept by the browser; the store keeps its hash
// and the token's ID, never the token's secret, so every replica finds the session and a copy of the
// database opens none.

// sessionIDBytes is the randomness of a session id: 256 bits.
const sessionIDBytes = 32

// DefaultSessionTTL is how long a session lasts when the caller names no duration.
const DefaultSessionTTL = 12 * time.Hour

// Session is an open web UI session.
type Session struct {
	// ID is the secret the browser presents (its cookie); only its hash is stored.
	ID        string
	Principal auth.Principal
	ExpiresAt time.Time
}

// SignIn checks a token and opens a session acting as it, for ttl (DefaultSessionTTL when 0) or
// until the token expires, whichever comes first.
func (a *App) SignIn(ctx context.Context, token string, ttl time.Duration) (*Session, error) {
	p, err := a.Authenticate(ctx, token)
	if err != nil {
		return nil, err
	}
	if ttl <= 0 {
		ttl = DefaultSessionTTL
	}
	now := a.now().UTC()
	expires := now.Add(ttl)
	if t := p.Token.ExpiresAt; !t.IsZero() && t.Before(expires) {
		expires = t
	}
	b := make([]byte, sessionIDBytes)
	if _, err := rand.Read(b); err != nil {
		return nil, fmt.Errorf("sign in: %w", err)
	}
	id := base64.RawURLEncoding.EncodeToString(b)
	if err := a.store.CreateSession(ctx, &store.Session{IDHash: sessionHash(id), TokenID: p.Token.ID, CreatedAt: now, ExpiresAt: expires}); err != nil {
		return nil, fmt.Errorf("sign in: %w", err)
	}
	a.log.Info("signed in", "token", p.Token.ID, "expires", expires)
	return &Session{ID: id, Principal: p, ExpiresAt: expires}, nil
}

// Session returns the open session of id: unauthenticated when there is none, it expired, or its
// token expired or was revoked.
func (a *App) Session(ctx context.Context, id string) (*Session, error) {
	if len(id) != base64.RawURLEncoding.EncodedLen(sessionIDBytes) {
		return nil, unauthenticated("no session: sign in")
	}
	se, t, err := a.store.GetSession(ctx, sessionHash(id))
	if errors.Is(err, store.ErrNotFound) {
		return nil, unauthenticated("no session: sign in")
	}
	if err != nil {
		return nil, fmt.Errorf("session: %w", err)
	}
	if !a.now().Before(se.ExpiresAt) {
		return nil, unauthenticated("the session expired: sign in again")
	}
	if err := auth.Check(t, a.now()); err != nil {
		return nil, unauthenticated(fmt.Sprintf("the session's token: %v: sign in with another", err))
	}
	w, err := auth.WorkloadOf(t)
	if err != nil {
		return nil, fmt.Errorf("session: %w", err)
	}
	return &Session{ID: id, Principal: auth.Principal{Token: *t, Workload: w}, ExpiresAt: se.ExpiresAt}, nil
}

// SignOut ends the session of id on every replica; one that does not exist is not an error.
func (a *App) SignOut(ctx context.Context, id string) error {
	if err := a.store.DeleteSession(ctx, sessionHash(id)); err != nil {
		return fmt.Errorf("sign out: %w", err)
	}
	return nil
}

// PruneSessions forgets the sessions that expired.
func (a *App) PruneSessions(ctx context.Context) (int, error) {
	return a.store.PruneSessions(ctx, a.now().UTC())
}

func sessionHash(id string) []byte {
	sum := sha256.Sum256([]byte("custody ui session\x00" + id))
	return sum[:]
}
