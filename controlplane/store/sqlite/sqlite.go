// Package sqlite opens the control plane's store on a SQLite file (modernc.org/sqlite: pure Go, no cgo),
// the embedded default of custodyd.
//
// SQLite has one writer at a time. Rather than let concurrent writers collide and retry on
// SQLITE_BUSY (sleeping in the busy handler, which makes latency spiky under load), the store keeps two
// pools on the file: one connection for every write (Go queues writers in order; its transactions
// start with BEGIN IMMEDIATE), and a few read-only connections for reads, which WAL mode lets run
// while a write is in progress.
package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/custody-dev/custody/controlplane/store"
	"github.com/custody-dev/custody/controlplane/store/sqlstore"
)

// Dialect is SQLite's: "?" placeholders, extended result codes for constraint violations.
func Dialect() sqlstore.Dialect {
	return sqlstore.Dialect{Name: "sqlite", Placeholders: sqlstore.Question, Classify: classify}
}

func classify(err error) error {
	var e *sqlite.Error
	if !errors.As(err, &e) {
		return nil
	}
	switch e.Code() {
	case sqlite3.SQLITE_CONSTRAINT_UNIQUE, sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY:
		return store.ErrExists
	case sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY:
		return store.ErrNotFound
	}
	return nil
}

// Open opens (creating it, mode 0600, if needed) the database file at path, applies the pending
// migrations, and returns the store. path must be a file: ":memory:" would give each connection its
// own database.
func Open(ctx context.Context, path string, opts ...Option) (store.Store, error) {
	var o options
	for _, opt := range opts {
		opt(&o)
	}
	if path == "" || path == ":memory:" || strings.ContainsAny(path, "?#") || strings.HasPrefix(path, "file:") {
		return nil, fmt.Errorf("sqlite: open %q: want a file path (without ? or #)", path)
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("sqlite: open %q: %w", path, err)
	}
	// Token hashes and bundles live here: the file (and so its -wal and -shm) is private.
	f, err := os.OpenFile(abs, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("sqlite: %w", err) // names the path
	}
	_ = f.Close()

	w, err := sql.Open("sqlite", DSN(abs, false))
	if err != nil {
		return nil, fmt.Errorf("sqlite: open %s: %w", abs, err)
	}
	w.SetMaxOpenConns(1)
	w.SetMaxIdleConns(1)
	w.SetConnMaxLifetime(0)
	w.SetConnMaxIdleTime(0)
	// Readers connect lazily, after New has migrated the file (and switched it to WAL) on w.
	r, err := sql.Open("sqlite", DSN(abs, true))
	if err != nil {
		_ = w.Close()
		return nil, fmt.Errorf("sqlite: open %s: %w", abs, err)
	}
	n := max(4, runtime.GOMAXPROCS(0))
	r.SetMaxOpenConns(n)
	r.SetMaxIdleConns(n)
	// A reader loads the planner's statistics when it connects: it reconnects as often as they
	// are refreshed.
	r.SetConnMaxLifetime(optimizeEvery)
	stop := make(chan struct{})
	done := make(chan struct{})
	s, err := sqlstore.New(ctx, sqlstore.Config{Write: w, Read: r, Dialect: Dialect(), Now: o.now, Close: func() error {
		close(stop)
		<-done
		return nil
	}})
	if err != nil {
		_ = r.Close()
		_ = w.Close()
		return nil, fmt.Errorf("sqlite: %s: %w", abs, err)
	}
	go func() {
		defer close(done)
		t := time.NewTicker(optimizeEvery)
		defer t.Stop()
		for {
			select {
			case <-stop:
				return
			case <-t.C:
				_, _ = w.ExecContext(context.Background(), optimize) // best effort: the next tick tries again
			}
		}
	}()
	if _, err := w.ExecContext(ctx, optimize); err != nil {
		_ = s.Close()
		return nil, fmt.Errorf("sqlite: %s: %s: %w", abs, optimize, err)
	}
	return s, nil
}

// optimize has SQLite gather the query planner's statistics (ANALYZE, with STAT4's samples of each
// index) for every table that has none, or whose size changed tenfold since: with them, the planner
// picks the index of a list's most selective filter (a workflow's thousand runs rather than every
// failed run), without them it may not. At open, then every optimizeEvery, as SQLite advises for
// long-lived connections; a first run on a large database takes seconds (2.6 s for 100,000 runs).
const optimize = "PRAGMA optimize=0x10002"

const optimizeEvery = time.Hour

// DSN is the modernc.org/sqlite data source name the store uses for the file at path: WAL journal,
// a 10 s busy timeout (only other processes on the same file can make it wait), foreign keys on,
// synchronous NORMAL (durable across a process crash; a power loss can lose the last commits, never
// corrupt), write transactions starting with BEGIN IMMEDIATE. readOnly connections refuse writes.
func DSN(path string, readOnly bool) string {
	q := "_pragma=journal_mode(WAL)&_pragma=busy_timeout(10000)&_pragma=foreign_keys(1)&_pragma=synchronous(NORMAL)&_txlock=immediate"
	if readOnly {
		q += "&_pragma=query_only(1)"
	}
	return path + "?" + q
}
