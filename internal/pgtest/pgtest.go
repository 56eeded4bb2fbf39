// Package pgtest gives tests an isolated database on a real PostgreSQL.
//
// With CUSTODY_TEST_POSTGRES_URL set (an admin URL of a running server, as .ci/run provides), each
// New creates a fresh database on that server and drops it when the test ends. Without it, the first
// New starts a throwaway PostgreSQL cluster (initdb in a temp dir, on 127.0.0.1 and a free port, as the
// postgres user when running as root) shared by the tests of the binary, and Main stops it when they
// are done. Without either, tests are skipped, or fail when CI=true.
//
// A package using New calls Main from its TestMain:
//
//	func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }
package pgtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// EnvURL names the variable holding an admin URL of a running server
// (postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable).
const EnvURL = "CUSTODY_TEST_POSTGRES_URL"

// EnvBin names the variable holding the directory of initdb and postgres, when they are not in
// /usr/lib/postgresql/<version>/bin or on PATH.
const EnvBin = "CUSTODY_TEST_POSTGRES_BIN"

// Install is how to get the binaries New needs, for messages.
const Install = "apt-get install -y postgresql-15, or set " + EnvURL + " to an admin URL of a running server"

// The server is one per test binary: state of the binary, not of a test, so it lives here.
var (
	mainCalled atomic.Bool
	local      struct {
		once sync.Once
		srv  *server
		err  error
	}
)

// Main runs the tests and then stops the server New started, if any; it returns m.Run's exit code.
func Main(m *testing.M) int {
	mainCalled.Store(true)
	code := m.Run()
	if local.srv != nil {
		if err := local.srv.stop(); err != nil {
			fmt.Fprintf(os.Stderr, "pgtest: %v\n", err)
		}
	}
	return code
}

// New creates an empty database for t, dropped when t ends, and returns its URL.
func New(t testing.TB) string {
	t.Helper()
	if !mainCalled.Load() {
		t.Fatal("pgtest.New needs pgtest.Main in the package's TestMain (it stops the server New starts)")
	}
	admin := os.Getenv(EnvURL)
	if admin == "" {
		admin = localServer(t)
	}
	u, err := url.Parse(admin)
	if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
		t.Fatalf("%s: want a postgres:// URL", EnvURL)
	}
	name := "test_" + randomHex(8)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := adminExec(ctx, admin, "CREATE DATABASE "+name); err != nil {
		t.Fatalf("pgtest: create database %s on %s: %v", name, u.Host, err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if err := adminExec(ctx, admin, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)"); err != nil {
			t.Errorf("pgtest: drop database %s: %v", name, err)
		}
	})
	u.Path = "/" + name
	return u.String()
}

// localServer returns the admin URL of the binary's throwaway cluster, starting it the first time.
func localServer(t testing.TB) string {
	t.Helper()
	bin, ok := findBin()
	if !ok {
		if os.Getenv("CI") == "true" {
			t.Fatalf("PostgreSQL not found (CI=true, so this fails rather than skips): %s", Install)
		}
		t.Skipf("PostgreSQL not found: %s (or set %s to the directory of initdb and postgres)", Install, EnvBin)
	}
	local.once.Do(func() { local.srv, local.err = start(bin) })
	if local.err != nil {
		t.Fatalf("pgtest: %v", local.err)
	}
	return local.srv.adminURL
}

func adminExec(ctx context.Context, admin, sql string) error {
	conn, err := pgx.Connect(ctx, admin)
	if err != nil {
		return fmt.Errorf("connect: %w", err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, sql); err != nil {
		return err
	}
	return nil
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
