// Command lists measures what a person's pages ask of the control plane at scale: it seeds a store
// with 100,000 runs and their signed attestations (through the store's bulk import), then times the
// runs list (first page, deep pages by cursor, every filter, every scope), the digest search and a
// run page's data, app-level, on SQLite and on PostgreSQL. See bench/README.md.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/custody-dev/custody/bench/internal/pgserver"
	"github.com/custody-dev/custody/bench/internal/proc"
	casfs "github.com/custody-dev/custody/cas/fs"
	"github.com/custody-dev/custody/controlplane/app"
	"github.com/custody-dev/custody/controlplane/store"
	"github.com/custody-dev/custody/controlplane/store/postgres"
	"github.com/custody-dev/custody/controlplane/store/sqlite"
)

type options struct {
	stores      []string
	runs        int
	samples     int
	rounds      int
	databaseURL string
	pgDurable   bool
	keep        bool
	out         io.Writer
}

func main() {
	var o options
	var stores string
	flag.StringVar(&stores, "store", "sqlite,postgres", "stores to measure, comma-separated: sqlite, postgres")
	flag.IntVar(&o.runs, "runs", 100_000, "runs to seed")
	flag.IntVar(&o.samples, "samples", 200, "requests of each kind per round")
	flag.IntVar(&o.rounds, "rounds", 3, "rounds of measurement; the tables give each figure's median over the rounds")
	flag.StringVar(&o.databaseURL, "database-url", os.Getenv("CUSTODY_BENCH_DATABASE_URL"),
		"admin URL of a running PostgreSQL (a database is created on it and dropped); empty: a throwaway cluster (env CUSTODY_BENCH_DATABASE_URL)")
	flag.BoolVar(&o.pgDurable, "pg-durable", true, "throwaway cluster: fsync and synchronous_commit on, as in production")
	flag.BoolVar(&o.keep, "keep", false, "keep the working directory (the SQLite database) and, on a server given by -database-url, the PostgreSQL database")
	flag.Parse()
	for _, s := range strings.Split(stores, ",") {
		if s = strings.TrimSpace(s); s != "sqlite" && s != "postgres" {
			fmt.Fprintf(os.Stderr, "lists: -store %q: want sqlite, postgres or both\n", stores)
			os.Exit(2)
		}
		o.stores = append(o.stores, strings.TrimSpace(s))
	}
	if o.runs < 1 || o.samples < 1 || o.rounds < 1 {
		fmt.Fprintln(os.Stderr, "lists: -runs, -samples and -rounds must be at least 1")
		os.Exit(2)
	}
	o.out = os.Stdout
	if err := run(context.Background(), o); err != nil {
		fmt.Fprintf(os.Stderr, "lists: %v\n", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, o options) error {
	dir, err := os.MkdirTemp("", "custody-lists-")
	if err != nil {
		return err
	}
	if o.keep {
		fmt.Fprintf(os.Stderr, "# working directory: %s\n", dir)
	} else {
		defer os.RemoveAll(dir)
	}
	fmt.Fprintf(o.out, "# lists: %d runs, %d requests of each kind per round, %d rounds, GOMAXPROCS %d; load average at start %s\n\n",
		o.runs, o.samples, o.rounds, runtime.GOMAXPROCS(0), proc.LoadAverage())
	for _, name := range o.stores {
		if err := measureStore(ctx, o, name, filepath.Join(dir, name)); err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
	}
	return nil
}

func measureStore(ctx context.Context, o options, name, dir string) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	var open func() (store.Store, error)
	var settle func() error // after the bulk load, what production has done by then
	var settled string
	describe := "SQLite (WAL, synchronous NORMAL) in " + dir
	switch name {
	case "sqlite":
		open = func() (store.Store, error) { return sqlite.Open(ctx, filepath.Join(dir, "custody.db")) }
		settled = "closed and opened again (a restart: PRAGMA optimize gathers the planner's statistics, as it does hourly)"
	case "postgres":
		pg, err := pgserver.Open(ctx, o.databaseURL, o.pgDurable)
		if err != nil {
			return err
		}
		url, err := pg.NewDatabase(ctx, fmt.Sprintf("bench_lists_%d", time.Now().UnixNano()))
		if err != nil {
			pg.Close()
			return err
		}
		if o.keep && o.databaseURL != "" {
			fmt.Fprintf(os.Stderr, "# database kept: %s\n", url)
		} else {
			defer pg.Close()
		}
		describe = pg.Describe()
		open = func() (store.Store, error) { return postgres.Open(ctx, url) }
		settle = func() error {
			conn, err := pgx.Connect(ctx, url)
			if err != nil {
				return err
			}
			defer conn.Close(ctx)
			_, err = conn.Exec(ctx, "ANALYZE")
			return err
		}
		settled = "ANALYZE (what autovacuum does within a minute of a bulk load)"
	}
	st, err := open()
	if err != nil {
		return err
	}
	defer func() { st.Close() }()
	blobs, err := casfs.New(filepath.Join(dir, "cas"))
	if err != nil {
		return err
	}
	defer blobs.Close()
	a, err := app.New(app.Config{Store: st, CAS: blobs, RunTTL: 24 * time.Hour})
	if err != nil {
		return err
	}
	secret, err := a.Bootstrap(ctx)
	if err != nil {
		return err
	}
	admin, err := a.Authenticate(ctx, secret)
	if err != nil {
		return err
	}
	start, cpu := time.Now(), cpuTime()
	ds, err := seed(ctx, a, st, admin, o.runs)
	if err != nil {
		return fmt.Errorf("seed: %w", err)
	}
	seeded, seedCPU := time.Since(start), cpuTime()-cpu
	start = time.Now()
	if settle != nil {
		err = settle()
	} else if err = st.Close(); err == nil {
		st, err = open()
	}
	if err != nil {
		return fmt.Errorf("after the load: %w", err)
	}
	if a, err = app.New(app.Config{Store: st, CAS: blobs, RunTTL: 24 * time.Hour}); err != nil {
		return err
	}
	fmt.Fprintf(o.out, "## %s\n\n%s; seeded %d runs (%d attestations) in %s (this process's CPU: %s); load average %s. Then %s: %s.\n\n",
		name, describe, o.runs, ds.attestations, seeded.Round(100*time.Millisecond), seedCPU.Round(100*time.Millisecond), proc.LoadAverage(),
		settled, time.Since(start).Round(10*time.Millisecond))

	start = time.Now()
	deep, walk, seen, err := deepCursors(ctx, a, admin)
	if err != nil {
		return fmt.Errorf("walk: %w", err)
	}
	if seen != o.runs {
		return fmt.Errorf("walking the runs list saw %d runs, %d were seeded", seen, o.runs)
	}
	walked := time.Since(start)
	if len(deep) == 0 { // fewer than 10k runs: a page's cursor will do
		page, err := a.ListRuns(ctx, admin, app.RunQuery{Limit: min(app.MaxListLimit, max(1, o.runs/2))})
		if err != nil {
			return err
		}
		deep = append(deep, page.Next)
	}
	walkP := percentiles(walk)
	fmt.Fprintf(o.out, "Walking the whole runs list, 1000 runs a page: %d pages in %s, a page p50 %s, p99 %s, max %s.\n\n",
		len(walk), walked.Round(time.Millisecond), ms(walkP.p50), ms(walkP.p99), ms(walkP.max))

	qs := queries(a, ds, deep)
	if _, err := measure(ctx, qs, max(1, o.samples/10), 99); err != nil { // warm-up, not kept
		return err
	}
	rounds := make([][]sample, o.rounds)
	var loads []string
	for r := range rounds {
		if rounds[r], err = measure(ctx, qs, o.samples, uint64(r)); err != nil {
			return err
		}
		loads = append(loads, proc.LoadAverage())
	}
	fmt.Fprintf(o.out, "| request (app-level, 50 rows a page) | rows | p50 ms | p99 ms | max ms | p99 ≤ 50 ms |\n|---|---|---|---|---|---|\n")
	for k, q := range qs {
		p50 := median(rounds, func(s []sample) time.Duration { return s[k].p50 })
		p99 := median(rounds, func(s []sample) time.Duration { return s[k].p99 })
		mx := median(rounds, func(s []sample) time.Duration { return s[k].max })
		met := "yes"
		if p99 > 50*time.Millisecond {
			met = "**no**"
		}
		fmt.Fprintf(o.out, "| %s | %.0f | %s | %s | %s | %s |\n", q.name, rounds[0][k].rows, ms(p50), ms(p99), ms(mx), met)
	}
	fmt.Fprintf(o.out, "\nMedians of %d rounds of %d requests of each kind; load average after each round: %s.\n\n",
		o.rounds, o.samples, strings.Join(loads, "; "))
	return nil
}

// cpuTime is the CPU time this process used so far, user and system.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func median(rounds [][]sample, f func([]sample) time.Duration) time.Duration {
	vs := make([]time.Duration, len(rounds))
	for i, r := range rounds {
		vs[i] = f(r)
	}
	slices.Sort(vs)
	return vs[len(vs)/2]
}

func ms(d time.Duration) string { return fmt.Sprintf("%.2f", float64(d)/float64(time.Millisecond)) }
