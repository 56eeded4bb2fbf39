// Package postgres opens the control plane's store on PostgreSQL (pgx), for custodyd replicas sharing
// one database.
//
// The SQL lives once, in sqlstore, on database/sql; pgx serves it through its database/sql adapter
// over a pgxpool.Pool (stdlib.OpenDBFromPool). pgxpool gives the URL parameters pgx users know
// (pool_max_conns, pool_min_conns, ...) and health checks; each pooled connection keeps pgx's cache of
// prepared statements, so a query is parsed once per connection.
package postgres

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"

	"github.com/custody-dev/custody/controlplane/store"
	"github.com/custody-dev/custody/controlplane/store/sqlstore"
)

// DefaultMaxConns is the pool size when the URL does not set pool_max_conns: enough for a few dozen
// concurrent pipelines per replica without crowding PostgreSQL's default max_connections of 100.
const DefaultMaxConns = 16

// migrationLockKey names the advisory lock that serializes the migrations of replicas starting at once.
const migrationLockKey = 0x637573746f6479 // "custody"

// Dialect is PostgreSQL's: $n placeholders, SQLSTATE codes for constraint violations.
func Dialect() sqlstore.Dialect {
	return sqlstore.Dialect{
		Name:          "postgres",
		Placeholders:  sqlstore.Dollar,
		Classify:      classify,
		MigrationLock: fmt.Sprintf("SELECT pg_advisory_xact_lock(%d)", migrationLockKey),
	}
}

func classify(err error) error {
	var e *pgconn.PgError
	if !errors.As(err, &e) {
		return nil
	}
	switch e.Code {
	case "23505": // unique_violation
		return store.ErrExists
	case "23503": // foreign_key_violation
		return store.ErrNotFound
	}
	return nil
}

// Option configures Open.
type Option func(*options)

type options struct {
	now func() time.Time
}

// WithClock sets the clock for times a caller leaves zero (and for schema_migrations); the default is
// time.Now.
func WithClock(now func() time.Time) Option {
	return func(o *options) { o.now = now }
}

// poolConfig reads url into the pool's configuration, with custody's defaults where url sets none:
// DefaultMaxConns connections, and plan_cache_mode force_custom_plan. Lists filter on columns whose
// values are very unevenly spread (half the runs are on main, a few on each feature branch; a shared
// base image is in every twentieth attestation, an artifact in one), so a list is planned for its
// values each time rather than once for any value (the generic plan PostgreSQL switches a prepared
// statement to after five runs picked the branch's index for main, and sorted a shared digest's
// thousands of mentions, at 100,000 runs); planning one costs a fraction of a millisecond.
func poolConfig(url string) (*pgxpool.Config, error) {
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		// pgx's message can quote the URL, password included: keep it out.
		return nil, errors.New("postgres: the database URL does not parse (want postgres://user:password@host:port/database?...)")
	}
	if !strings.Contains(url, "pool_max_conns") {
		cfg.MaxConns = DefaultMaxConns
	}
	if _, ok := cfg.ConnConfig.RuntimeParams["plan_cache_mode"]; !ok {
		cfg.ConnConfig.RuntimeParams["plan_cache_mode"] = "force_custom_plan"
	}
	return cfg, nil
}

// Open connects to the database at url (postgres://user:pass@host:port/db?sslmode=...&pool_max_conns=N,
// or the keyword/value form), applies the pending migrations and returns the store.
func Open(ctx context.Context, url string, opts ...Option) (store.Store, error) {
	var o options
	for _, opt := range opts {
		opt(&o)
	}
	cfg, err := poolConfig(url)
	if err != nil {
		return nil, err
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("postgres: %w", err)
	}
	where := fmt.Sprintf("%s:%d/%s", cfg.ConnConfig.Host, cfg.ConnConfig.Port, cfg.ConnConfig.Database)
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("postgres: connect to %s: %w", where, err)
	}
	db := stdlib.OpenDBFromPool(pool)
	s, err := sqlstore.New(ctx, sqlstore.Config{Write: db, Dialect: Dialect(), Now: o.now, Close: func() error {
		pool.Close()
		return nil
	}})
	if err != nil {
		_ = db.Close()
		pool.Close()
		return nil, fmt.Errorf("postgres: %s: %w", where, err)
	}
	return s, nil
}
