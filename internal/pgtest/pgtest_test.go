package pgtest

import (
	"context"
	"os"
	"testing"

	"github.com/jackc/pgx/v5"
)

func TestMain(m *testing.M) { os.Exit(Main(m)) }

// TestNewIsolatesAndDrops checks each test gets its own empty database, gone once the test ends.
func TestNewIsolatesAndDrops(t *testing.T) {
	ctx := context.Background()
	var first string
	t.Run("first", func(t *testing.T) {
		first = New(t)
		second := New(t)
		if first == second {
			t.Fatalf("two calls gave one database: %s", first)
		}
		execSQL(t, first, "CREATE TABLE only_here (x INT)")
		if n := count(t, first, "SELECT count(*) FROM information_schema.tables WHERE table_name = 'only_here'"); n != 1 {
			t.Fatalf("table in the first database: %d, want 1", n)
		}
		if n := count(t, second, "SELECT count(*) FROM information_schema.tables WHERE table_name = 'only_here'"); n != 0 {
			t.Fatalf("table of the first database seen in the second: %d", n)
		}
	})
	conn, err := pgx.Connect(ctx, first)
	if err == nil {
		_ = conn.Close(ctx)
		t.Fatalf("database %s still exists after its test ended", first)
	}
}

func execSQL(t *testing.T, url, sql string) {
	t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, sql); err != nil {
		t.Fatal(err)
	}
}

func count(t *testing.T, url, sql string) int {
	t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	var n int
	if err := conn.QueryRow(ctx, sql).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}
