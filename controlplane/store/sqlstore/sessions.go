package sqlstore

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/custody-dev/custody/controlplane/store"
)

// CreateSession stores a web UI session: ErrExists if its hash is taken, ErrNotFound if its token
// does not exist.
func (s *DB) CreateSession(ctx context.Context, se *store.Session) error {
	s.stamp(&se.CreatedAt)
	se.ExpiresAt = norm(se.ExpiresAt)
	if len(se.IDHash) == 0 || se.TokenID == "" || se.ExpiresAt.IsZero() {
		return fmt.Errorf("create session: the id hash, the token and the expiry are required")
	}
	_, err := s.w.ExecContext(ctx, s.q(`INSERT INTO ui_sessions (id_hash, token_id, created_at, expires_at) VALUES (?, ?, ?, ?)`),
		se.IDHash, se.TokenID, micros(se.CreatedAt), micros(se.ExpiresAt))
	if err != nil {
		return s.fail(err, "create session of token %s", se.TokenID)
	}
	return nil
}

// GetSession returns a session and its token in one query, or ErrNotFound.
func (s *DB) GetSession(ctx context.Context, idHash []byte) (*store.Session, *store.Token, error) {
	se := &store.Session{}
	var created, expires int64
	row := s.r.QueryRowContext(ctx, s.q(`SELECT s.id_hash, s.token_id, s.created_at, s.expires_at, `+prefixed("t.", tokenColumns)+`
		FROM ui_sessions s JOIN tokens t ON t.id = s.token_id WHERE s.id_hash = ?`), blob(idHash))
	t, err := scanToken(leading{row, []any{&se.IDHash, &se.TokenID, &created, &expires}})
	if err != nil {
		return nil, nil, s.fail(err, "get session")
	}
	se.CreatedAt, se.ExpiresAt = fromMicros(created), fromMicros(expires)
	return se, &t, nil
}

// DeleteSession deletes a session; one that does not exist is not an error.
func (s *DB) DeleteSession(ctx context.Context, idHash []byte) error {
	if _, err := s.w.ExecContext(ctx, s.q(`DELETE FROM ui_sessions WHERE id_hash = ?`), blob(idHash)); err != nil {
		return s.fail(err, "delete session")
	}
	return nil
}

// PruneSessions deletes the sessions that expired before now.
func (s *DB) PruneSessions(ctx context.Context, now time.Time) (int, error) {
	res, err := s.w.ExecContext(ctx, s.q(`DELETE FROM ui_sessions WHERE expires_at < ?`), micros(now))
	if err != nil {
		return 0, s.fail(err, "prune sessions")
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, s.fail(err, "prune sessions")
	}
	return int(n), nil
}

// prefixed qualifies each column of a comma-separated list with prefix ("t.").
func prefixed(prefix, columns string) string {
	cs := strings.Split(columns, ",")
	for i, c := range cs {
		cs[i] = prefix + strings.TrimSpace(c)
	}
	return strings.Join(cs, ", ")
}

// leading scans a row whose first columns go to dest and the rest to what the wrapped scan asks
// for: a record's columns after some of another table's.
type leading struct {
	sc   scanner
	dest []any
}

func (l leading) Scan(dest ...any) error { return l.sc.Scan(slices.Concat(l.dest, dest)...) }
