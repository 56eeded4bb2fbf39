package storetest

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"testing/fstest"

	"github.com/custody-dev/custody/controlplane/store"
	"github.com/custody-dev/custody/controlplane/store/sqlstore"
)

// testReopen: opening a migrated database again applies nothing and keeps the data.
func testReopen(t *testing.T, b Backend) {
	ctx := context.Background()
	addr := b.New(t)
	s, err := b.Open(ctx, addr)
	must(t, err)
	f := newFixture(t, s, "acme")
	must(t, s.Close())
	ms, err := sqlstore.Migrations()
	must(t, err)
	raw := b.Raw(t, addr)
	defer raw.Close()
	before := migrationRows(t, raw)
	equal(t, "applied migrations", len(before), len(ms))

	for range 2 {
		s, err = b.Open(ctx, addr)
		must(t, err)
		w, err := s.GetWorkflow(ctx, f.project.ID, f.workflow.Name)
		must(t, err)
		equal(t, "workflow after reopening", *w, *f.workflow)
		must(t, s.Close())
	}
	equal(t, "schema_migrations after reopening", migrationRows(t, raw), before)
	v, err := sqlstore.SchemaVersion(ctx, raw)
	must(t, err)
	equal(t, "schema version", v, ms[len(ms)-1].Version)
}

// migrationRows returns schema_migrations as "version name checksum applied_at" lines.
func migrationRows(t testing.TB, raw *sql.DB) []string {
	t.Helper()
	rows, err := raw.QueryContext(context.Background(), `SELECT version, name, checksum, applied_at FROM schema_migrations ORDER BY version`)
	must(t, err)
	defer rows.Close()
	var out []string
	for rows.Next() {
		var v, applied int64
		var name, sum string
		must(t, rows.Scan(&v, &name, &sum, &applied))
		out = append(out, fmt.Sprintf("%d %s %s %d", v, name, sum, applied))
	}
	must(t, rows.Err())
	return out
}

// testNewerSchemaRefused: a database migrated by a newer binary is refused with ErrSchemaTooNew, and
// left as it is.
func testNewerSchemaRefused(t *testing.T, b Backend) {
	ctx := context.Background()
	addr := b.New(t)
	s, err := b.Open(ctx, addr)
	must(t, err)
	must(t, s.Close())
	raw := b.Raw(t, addr)
	defer raw.Close()
	_, err = raw.ExecContext(ctx, `INSERT INTO schema_migrations (version, name, checksum, applied_at) VALUES (9999, 'from_the_future', 'x', 0)`)
	must(t, err)
	before := migrationRows(t, raw)

	s, err = b.Open(ctx, addr)
	if err == nil {
		_ = s.Close()
		t.Fatal("open a database with a newer schema: no error")
	}
	if !errors.Is(err, sqlstore.ErrSchemaTooNew) {
		t.Fatalf("open a database with a newer schema: %v, want ErrSchemaTooNew", err)
	}
	equal(t, "schema_migrations after the refusal", migrationRows(t, raw), before)
}

// testChangedMigrationRefused: a database whose applied migration differs from the binary's is refused.
func testChangedMigrationRefused(t *testing.T, b Backend) {
	ctx := context.Background()
	addr := b.New(t)
	s, err := b.Open(ctx, addr)
	must(t, err)
	must(t, s.Close())
	raw := b.Raw(t, addr)
	defer raw.Close()
	_, err = raw.ExecContext(ctx, `UPDATE schema_migrations SET checksum = 'edited' WHERE version = 1`)
	must(t, err)
	s, err = b.Open(ctx, addr)
	if err == nil {
		_ = s.Close()
		t.Fatal("open a database whose migration 1 was changed: no error")
	}
	if errors.Is(err, sqlstore.ErrSchemaTooNew) || errors.Is(err, store.ErrNotFound) {
		t.Fatalf("open a database whose migration 1 was changed: %v, want a plain error", err)
	}
}

func testPingClose(t *testing.T, b Backend) {
	ctx := context.Background()
	s, err := b.Open(ctx, b.New(t))
	must(t, err)
	must(t, s.Ping(ctx))
	must(t, s.Close())
	must(t, s.Close()) // a second close is harmless
	if err := s.Ping(ctx); err == nil {
		t.Fatal("ping after close: no error")
	}
}

// testMigrationsAtomic: the pending migrations apply in one transaction: one failing leaves the
// database as it was; the next run applies them all; a binary knowing fewer is refused.
func testMigrationsAtomic(t *testing.T, b Backend) {
	ctx := context.Background()
	raw := b.Raw(t, b.New(t))
	defer raw.Close()
	load := func(files map[string]string) []sqlstore.Migration {
		fsys := fstest.MapFS{}
		for name, body := range files {
			fsys[name] = &fstest.MapFile{Data: []byte(body)}
		}
		ms, err := sqlstore.LoadMigrations(fsys)
		must(t, err)
		return ms
	}
	first := "CREATE TABLE a (x BIGINT PRIMARY KEY);\nINSERT INTO a (x) VALUES (1);\n"
	broken := load(map[string]string{"0001_a.sql": first, "0002_b.sql": "CREATE TABLE b (x BIGINT);\nTHIS IS NOT SQL;\n"})
	if _, err := sqlstore.Migrate(ctx, raw, b.Dialect, broken, t0); err == nil {
		t.Fatal("migrate with a broken migration: no error")
	}
	if _, err := raw.ExecContext(ctx, `SELECT x FROM a`); err == nil {
		t.Fatal("table a exists after the failed migration run: want it rolled back")
	}

	fixed := load(map[string]string{"0001_a.sql": first, "0002_b.sql": "CREATE TABLE b (x BIGINT);\n"})
	n, err := sqlstore.Migrate(ctx, raw, b.Dialect, fixed, t0)
	must(t, err)
	equal(t, "applied", n, 2)
	n, err = sqlstore.Migrate(ctx, raw, b.Dialect, fixed, t0)
	must(t, err)
	equal(t, "applied again", n, 0)
	v, err := sqlstore.SchemaVersion(ctx, raw)
	must(t, err)
	equal(t, "version", v, int64(2))

	_, err = sqlstore.Migrate(ctx, raw, b.Dialect, fixed[:1], t0)
	if !errors.Is(err, sqlstore.ErrSchemaTooNew) {
		t.Fatalf("migrate with fewer migrations than applied: %v, want ErrSchemaTooNew", err)
	}
	if !strings.Contains(err.Error(), "schema version 2") {
		t.Errorf("refusal %q does not name the database's version", err)
	}
}

// testConcurrentOpen: stores opening one new database at once (replicas starting together) all
// succeed and migrate it once.
func testConcurrentOpen(t *testing.T, b Backend) {
	ctx := context.Background()
	addr := b.New(t)
	const n = 4
	stores := make([]store.Store, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			stores[i], errs[i] = b.Open(ctx, addr)
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("open %d: %v", i, err)
		}
		defer stores[i].Close()
	}
	raw := b.Raw(t, addr)
	defer raw.Close()
	ms, err := sqlstore.Migrations()
	must(t, err)
	equal(t, "applied migrations", len(migrationRows(t, raw)), len(ms))
	newFixture(t, stores[0], "acme")
	_, err = stores[n-1].GetOrgByName(ctx, "acme")
	must(t, err)
}
