// Package sqlstore implements store.Store once, on database/sql, for every SQL database custody runs
// on. A Dialect carries what differs (placeholders, how a unique violation looks); the sqlite and
// postgres packages open the database and hand it here.
//
// Storage conventions (see migrations/0001_init.sql): ids are TEXT, times are BIGINT microseconds
// since the Unix epoch (UTC; what a time.Time stored here reads back as, truncated to the microsecond),
// bytes are BYTEA (a BLOB in SQLite), optional times and ids are NULL when unset.
package sqlstore

import (
	"context"
	"crypto/rand"
	"database/sql"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/custody-dev/custody/controlplane/store"
)

// Config is what a driver package hands to New.
type Config struct {
	// Write runs every write and every transaction. SQLite: a pool of one connection (one writer).
	Write *sql.DB
	// Read runs single reads outside transactions; nil means Write.
	Read    *sql.DB
	Dialect Dialect
	// Now is the clock for times a caller left zero; nil means time.Now.
	Now func() time.Time
	// Close runs after both pools are closed (for example to close a pgx pool under them).
	Close func() error
}

// DB is a store.Store on a SQL database.
type DB struct {
	w, r    *sql.DB
	d       Dialect
	now     func() time.Time
	onClose func() error
	queries sync.Map // query with ? -> rebound for the dialect
	closed  sync.Once
}

var _ store.Store = (*DB)(nil)

// New applies the pending migrations to cfg.Write (refusing a newer schema) and returns the store.
func New(ctx context.Context, cfg Config) (*DB, error) {
	if cfg.Write == nil || cfg.Dialect.Classify == nil {
		return nil, errors.New("sqlstore: Config needs Write and Dialect.Classify")
	}
	s := &DB{w: cfg.Write, r: cfg.Read, d: cfg.Dialect, now: cfg.Now, onClose: cfg.Close}
	if s.r == nil {
		s.r = s.w
	}
	if s.now == nil {
		s.now = time.Now
	}
	ms, err := Migrations()
	if err != nil {
		return nil, err
	}
	if _, err := Migrate(ctx, s.w, s.d, ms, s.now()); err != nil {
		return nil, err
	}
	return s, nil
}

// Ping checks that the database answers.
func (s *DB) Ping(ctx context.Context) error {
	if err := s.w.PingContext(ctx); err != nil {
		return fmt.Errorf("%s: ping: %w", s.d.Name, err)
	}
	if s.r != s.w {
		if err := s.r.PingContext(ctx); err != nil {
			return fmt.Errorf("%s: ping readers: %w", s.d.Name, err)
		}
	}
	return nil
}

// Close closes the database. Calls after the first return nil.
func (s *DB) Close() error {
	var errs []error
	s.closed.Do(func() {
		if s.r != s.w {
			errs = append(errs, s.r.Close())
		}
		errs = append(errs, s.w.Close())
		if s.onClose != nil {
			errs = append(errs, s.onClose())
		}
	})
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("%s: close: %w", s.d.Name, err)
	}
	return nil
}

// q returns query rewritten for the dialect (cached: queries are constants).
func (s *DB) q(query string) string {
	if s.d.Placeholders == Question {
		return query
	}
	if v, ok := s.queries.Load(query); ok {
		return v.(string)
	}
	r := s.d.Rebind(query)
	s.queries.Store(query, r)
	return r
}

// fail wraps err with what was being done, and with store.ErrExists / store.ErrNotFound when the
// driver error is a unique or foreign key violation, so callers can test it with errors.Is.
func (s *DB) fail(err error, format string, args ...any) error {
	msg := fmt.Sprintf(format, args...)
	if kind := s.d.Classify(err); kind != nil {
		return fmt.Errorf("%s: %w: %w", msg, kind, err)
	}
	if errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("%s: %w", msg, store.ErrNotFound)
	}
	return fmt.Errorf("%s: %w", msg, err)
}

// inTx runs fn in a write transaction, committed if fn returns nil.
func (s *DB) inTx(ctx context.Context, fn func(*sql.Tx) error) error {
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("%s: begin: %w", s.d.Name, err)
	}
	if err := fn(tx); err != nil {
		_ = tx.Rollback()
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("%s: commit: %w", s.d.Name, err)
	}
	return nil
}

// stamp fills a zero time from the clock and normalizes t to what the database keeps.
func (s *DB) stamp(t *time.Time) {
	if t.IsZero() {
		*t = s.now()
	}
	*t = norm(*t)
}

// newID returns a random UUID (version 4), for records created without an ID.
func newID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:])
}

func fillID(id *string) {
	if *id == "" {
		*id = newID()
	}
}

// norm is t as it reads back: UTC, microseconds. The zero time stays zero.
func norm(t time.Time) time.Time {
	if t.IsZero() {
		return t
	}
	return time.UnixMicro(t.UnixMicro()).UTC()
}

func micros(t time.Time) int64 { return t.UnixMicro() }

// nullMicros stores the zero time as NULL.
func nullMicros(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.UnixMicro()
}

func fromMicros(v int64) time.Time { return time.UnixMicro(v).UTC() }

func fromNullMicros(v sql.NullInt64) time.Time {
	if !v.Valid {
		return time.Time{}
	}
	return fromMicros(v.Int64)
}

// nullString stores "" as NULL (optional foreign keys).
func nullString(v string) any {
	if v == "" {
		return nil
	}
	return v
}

// blob keeps nil out of NOT NULL byte columns.
func blob(b []byte) []byte {
	if b == nil {
		return []byte{}
	}
	return b
}

// bytesOut reads an empty or NULL byte column as nil.
func bytesOut(b []byte) []byte {
	if len(b) == 0 {
		return nil
	}
	return b
}

func limitOr(n, def int) int {
	if n <= 0 {
		return def
	}
	return n
}

// defaultLimit is the page size of lists asked for with limit 0.
const defaultLimit = 50

// scanner is a *sql.Row or *sql.Rows.
type scanner interface{ Scan(...any) error }
