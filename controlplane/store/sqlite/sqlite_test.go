package sqlite_test

import (
	"context"
	"database/sql"
	"path/filepath"
	"testing"

	"github.com/custody-dev/custody/controlplane/store"
	"github.com/custody-dev/custody/controlplane/store/sqlite"
	"github.com/custody-dev/custody/controlplane/store/storetest"
)

func backend() storetest.Backend {
	return storetest.Backend{
		New: func(t testing.TB) string { return filepath.Join(t.TempDir(), "custody.db") },
		Open: func(ctx context.Context, path string) (store.Store, error) {
			return sqlite.Open(ctx, path)
		},
		Raw: func(t testing.TB, path string) *sql.DB {
			db, err := sql.Open("sqlite", sqlite.DSN(path, false))
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
