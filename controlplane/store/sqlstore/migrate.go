package sqlstore

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"embed"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strconv"
	"strings"
	"time"
)

//go:embed migrations/*.sql
var embedded embed.FS

// ErrSchemaTooNew is returned by Migrate (and so by Open) for a database migrated by a newer
// custodyd than this one: running on it could corrupt what the newer version wrote.
var ErrSchemaTooNew = errors.New("database schema is newer than this binary")

// Migration is one versioned schema change, from a file named NNNN_name.sql.
type Migration struct {
	Version  int64
	Name     string
	SQL      string
	Checksum string // hex sha256 of SQL with LF line ends
}

// Migrations returns the migrations built into the binary, in version order.
func Migrations() ([]Migration, error) {
	sub, err := fs.Sub(embedded, "migrations")
	if err != nil {
		return nil, fmt.Errorf("migrations: %w", err)
	}
	return LoadMigrations(sub)
}

// LoadMigrations reads every *.sql file at the top of fsys as a migration. File names must be
// NNNN_name.sql (at least four digits, a version > 0; name of lower-case letters, digits and _), with
// no version used twice.
func LoadMigrations(fsys fs.FS) ([]Migration, error) {
	entries, err := fs.ReadDir(fsys, ".")
	if err != nil {
		return nil, fmt.Errorf("read migrations: %w", err)
	}
	var ms []Migration
	seen := map[int64]string{}
	for _, e := range entries {
		if e.IsDir() || path.Ext(e.Name()) != ".sql" {
			continue
		}
		v, name, err := ParseMigrationName(e.Name())
		if err != nil {
			return nil, err
		}
		if prev, ok := seen[v]; ok {
			return nil, fmt.Errorf("migrations %s and %s both have version %d", prev, e.Name(), v)
		}
		seen[v] = e.Name()
		b, err := fs.ReadFile(fsys, e.Name())
		if err != nil {
			return nil, fmt.Errorf("read migration %s: %w", e.Name(), err)
		}
		// CRLF checkouts must not look like changed migrations.
		sum := sha256.Sum256([]byte(strings.ReplaceAll(string(b), "\r\n", "\n")))
		ms = append(ms, Migration{Version: v, Name: name, SQL: string(b), Checksum: hex.EncodeToString(sum[:])})
	}
	sort.Slice(ms, func(i, j int) bool { return ms[i].Version < ms[j].Version })
	return ms, nil
}

// ParseMigrationName parses "0001_init.sql" into version 1 and name "init".
func ParseMigrationName(file string) (version int64, name string, err error) {
	base, ok := strings.CutSuffix(file, ".sql")
	digits, name, found := strings.Cut(base, "_")
	if !ok || !found {
		return 0, "", fmt.Errorf("migration file %q: want NNNN_name.sql", file)
	}
	if len(digits) < 4 || strings.Trim(digits, "0123456789") != "" {
		return 0, "", fmt.Errorf("migration file %q: version %q is not at least four digits", file, digits)
	}
	version, err = strconv.ParseInt(digits, 10, 64)
	if err != nil || version <= 0 {
		return 0, "", fmt.Errorf("migration file %q: version %q is not a number above 0", file, digits)
	}
	if name == "" || strings.Trim(name, "abcdefghijklmnopqrstuvwxyz0123456789_") != "" {
		return 0, "", fmt.Errorf("migration file %q: name %q is not lower-case letters, digits and _", file, name)
	}
	return version, name, nil
}

// createMigrationsTable is the one table that exists before any migration.
const createMigrationsTable = `CREATE TABLE IF NOT EXISTS schema_migrations (
    version    BIGINT PRIMARY KEY,
    name       TEXT NOT NULL,
    checksum   TEXT NOT NULL,
    applied_at BIGINT NOT NULL
)`

// Migrate applies the migrations db has not seen, in one transaction, and returns how many it applied.
// It refuses (ErrSchemaTooNew) a database with a version above the last of ms, and a database whose
// applied migrations differ from ms (unknown version, changed file).
func Migrate(ctx context.Context, db *sql.DB, d Dialect, ms []Migration, now time.Time) (applied int, err error) {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return 0, fmt.Errorf("migrate: begin: %w", err)
	}
	defer func() {
		if err != nil {
			_ = tx.Rollback()
		}
	}()
	if d.MigrationLock != "" {
		if _, err := tx.ExecContext(ctx, d.MigrationLock); err != nil {
			return 0, fmt.Errorf("migrate: lock: %w", err)
		}
	}
	if _, err := tx.ExecContext(ctx, createMigrationsTable); err != nil {
		return 0, fmt.Errorf("migrate: create schema_migrations: %w", err)
	}
	done, err := appliedMigrations(ctx, tx)
	if err != nil {
		return 0, err
	}
	if err := checkApplied(done, ms); err != nil {
		return 0, err
	}
	for _, m := range ms {
		if _, ok := done[m.Version]; ok {
			continue
		}
		if _, err := tx.ExecContext(ctx, m.SQL); err != nil {
			return 0, fmt.Errorf("migrate: apply %04d_%s: %w", m.Version, m.Name, err)
		}
		q := d.Rebind(`INSERT INTO schema_migrations (version, name, checksum, applied_at) VALUES (?, ?, ?, ?)`)
		if _, err := tx.ExecContext(ctx, q, m.Version, m.Name, m.Checksum, now.UnixMicro()); err != nil {
			return 0, fmt.Errorf("migrate: record %04d_%s: %w", m.Version, m.Name, err)
		}
		applied++
	}
	if err := tx.Commit(); err != nil {
		return 0, fmt.Errorf("migrate: commit: %w", err)
	}
	return applied, nil
}

// SchemaVersion returns the highest migration version applied to db, 0 for none.
func SchemaVersion(ctx context.Context, db *sql.DB) (int64, error) {
	var v sql.NullInt64
	if err := db.QueryRowContext(ctx, `SELECT MAX(version) FROM schema_migrations`).Scan(&v); err != nil {
		return 0, fmt.Errorf("schema version: %w", err)
	}
	return v.Int64, nil
}

type appliedMigration struct {
	name, checksum string
}

func appliedMigrations(ctx context.Context, tx *sql.Tx) (map[int64]appliedMigration, error) {
	rows, err := tx.QueryContext(ctx, `SELECT version, name, checksum FROM schema_migrations`)
	if err != nil {
		return nil, fmt.Errorf("migrate: read schema_migrations: %w", err)
	}
	defer rows.Close()
	done := map[int64]appliedMigration{}
	for rows.Next() {
		var v int64
		var a appliedMigration
		if err := rows.Scan(&v, &a.name, &a.checksum); err != nil {
			return nil, fmt.Errorf("migrate: read schema_migrations: %w", err)
		}
		done[v] = a
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("migrate: read schema_migrations: %w", err)
	}
	return done, nil
}

// checkApplied compares what the database says it has with what the binary knows.
func checkApplied(done map[int64]appliedMigration, ms []Migration) error {
	var known, newest int64
	byVersion := map[int64]Migration{}
	for _, m := range ms {
		byVersion[m.Version] = m
		known = max(known, m.Version)
	}
	for v := range done {
		newest = max(newest, v)
	}
	if newest > known {
		return fmt.Errorf("%w: the database is at schema version %d, this binary knows versions up to %d: run a custodyd at least as new as the one that migrated it", ErrSchemaTooNew, newest, known)
	}
	versions := make([]int64, 0, len(done))
	for v := range done {
		versions = append(versions, v)
	}
	sort.Slice(versions, func(i, j int) bool { return versions[i] < versions[j] })
	for _, v := range versions {
		a := done[v]
		m, ok := byVersion[v]
		switch {
		case !ok:
			return fmt.Errorf("migrate: the database has migration %04d_%s, which this binary does not know", v, a.name)
		case a.checksum != m.Checksum:
			return fmt.Errorf("migrate: migration %04d_%s was changed after it was applied (checksum %s in the database, %s in this binary)", v, m.Name, a.checksum, m.Checksum)
		}
	}
	return nil
}
