package postgres_test

import (
	"context"
	"database/sql"
	"os"
	"testing"

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
	}
}

func TestStore(t *testing.T) {
	t.Parallel()
	storetest.Run(t, backend())
}
