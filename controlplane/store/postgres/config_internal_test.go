package postgres

import (
	"context"
	"net/url"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/custody-dev/custody/internal/pgtest"
)

// TestPlanCacheMode: the store's connections plan each list for its values (plan_cache_mode
// force_custom_plan), unless the URL says otherwise.
func TestPlanCacheMode(t *testing.T) {
	t.Parallel()
	db := pgtest.New(t)
	u, err := url.Parse(db)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	q.Set("plan_cache_mode", "auto")
	u.RawQuery = q.Encode()
	for _, tc := range []struct{ url, want string }{
		{db, "force_custom_plan"},
		{u.String(), "auto"},
	} {
		cfg, err := poolConfig(tc.url)
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		pool, err := pgxpool.NewWithConfig(ctx, cfg)
		if err != nil {
			t.Fatal(err)
		}
		var mode string
		err = pool.QueryRow(ctx, "SHOW plan_cache_mode").Scan(&mode)
		pool.Close()
		if err != nil || mode != tc.want {
			t.Errorf("plan_cache_mode %q, %v; want %q", mode, err, tc.want)
		}
	}
}
