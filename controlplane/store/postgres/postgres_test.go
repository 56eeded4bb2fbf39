package postgres_test

import (
	"context"
	"database/sql"
	"os"
	"strings"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // database/sql driver "pgx", for the raw handle

	"github.com/custody-dev/custody/controlplane/store"
	"github.com/custody-dev/custody/controlplane/store/postgres"
	"github.com/custody-dev/custody/controlplane/store/storetest"
	"github.com/custody-dev/custody/internal/pgtest"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }

func backend() storetest.Backend {
	return storetest.Backend{
		New: pgtest.New,
		Open: func(ctx context.Context, url string) (store.Store, error) {
			return postgres.Open(ctx, url)
		},
		Raw: func(t testing.TB, url string) *sql.DB {
			db, err := sql.Open("pgx", url)
			if err != nil {
				t.Fatal(err)
			}
			return db
		},
		Dialect: postgres.Dialect(),
	}
}

func TestStore(t *testing.T) {
	t.Parallel()
	storetest.Run(t, backend())
}

func BenchmarkPutAttestation(b *testing.B) { storetest.BenchPutAttestation(b, backend()) }

func BenchmarkPutLargestAttestation(b *testing.B) { storetest.BenchPutLargestAttestation(b, backend()) }

func BenchmarkCreateRun(b *testing.B) { storetest.BenchCreateRun(b, backend()) }

// TestOpenErrorsHidePassword: a URL that does not parse, or a server that does not answer, gives an
// error without the password in it.
func TestOpenErrorsHidePassword(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for _, url := range []string{
		"postgres://custody:s3cr3t-pw@127.0.0.1:1/custody?sslmode=disable&connect_timeout=5",
		"postgres://custody:s3cr3t-pw@127.0.0.1:1/custody?sslmode=bogus",
		"postgres://custody:s3cr3t-pw@[::1/custody",
	} {
		s, err := postgres.Open(ctx, url)
		if err == nil {
			_ = s.Close()
			t.Fatalf("Open(%q): no error", url)
		}
		if strings.Contains(err.Error(), "s3cr3t-pw") {
			t.Errorf("Open error shows the password: %v", err)
		}
	}
}
