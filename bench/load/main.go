// Command load is custodyd's load generator. It builds custodyd, starts it on loopback (SQLite in a
// temp dir, or PostgreSQL), bootstraps a project, a workflow whose contract requires one ARTIFACT and
// one STRING and a workflow token, then runs N concurrent simulated pipelines for a fixed time. Each
// pipeline loops: init a run, upload a fresh 1 MiB artifact to the CAS, add a string, sign the in-toto
// statement into a Sigstore bundle, push it. It signs the way -sign says, each mode on a fresh server
// per N: with a key the workflow trusts (as `custody attestation push --key`), or keyless (as
// `custody attestation push`: a key per run, certified by custodyd for the run, and a timestamp; the
// workflow trusts no key). It reports completed attestations per second, p50/p99/max latency per
// call, errors, and, after the run, compares the attestations the store holds with those the
// pipelines were told were stored (zero lost), plus custodyd's RSS and CPU time, and keyless / key.
//
//	go run ./bench/load -store sqlite -n 1,16,64 -duration 20s
//	go run ./bench/load -store postgres -n 1,16,64 -duration 20s                 # throwaway cluster
//	go run ./bench/load -store postgres -database-url postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable
//
// With -add-mib it measures instead `custody attestation add` of one large artifact uploaded to
// custodyd's filesystem CAS on loopback, against the hashing floor (bench/hashfloor), same run:
//
//	go run ./bench/load -add-mib 1024 -runs 5
//
// With -push-overhead it measures what a keyless push adds over a key-signed one (overhead.go):
//
//	go run ./bench/load -push-overhead 20
//
// Every N gets a fresh custodyd and a fresh store. Output is a markdown table for docs/benchmarks.md.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/custody-dev/custody/bench/internal/pgserver"
	"github.com/custody-dev/custody/bench/internal/proc"
)

type options struct {
	store        string
	ns           []int
	modes        []signMode
	slices       int // the measured time of each N is cut into slices alternating between the modes
	duration     time.Duration
	warmup       time.Duration
	databaseURL  string
	pgDurable    bool
	pgParams     string
	artifactSize int64
	keep         bool
	profile      string
	addMiB       int64
	runs         int
	pushLarge    largePush
	overhead     pushOverhead
	startLoad    string    // load average when the run started
	root         string    // the repository's root, where the binaries are built from
	out          io.Writer // where the tables go
}

func main() {
	var o options
	var ns, modes string
	flag.StringVar(&o.store, "store", "sqlite", "sqlite or postgres")
	flag.StringVar(&ns, "n", "1,16,64", "comma-separated numbers of concurrent pipelines")
	flag.StringVar(&modes, "sign", "key,keyless", "how pipelines sign, comma-separated, each measured on a fresh server per N: key (a key the workflow trusts) or keyless (a certificate and a timestamp from custodyd)")
	flag.DurationVar(&o.duration, "duration", 20*time.Second, "measured time per N")
	flag.IntVar(&o.slices, "slices", 4, "with more than one -sign mode: slices of -duration that alternate between the modes (1: one after the other)")
	flag.DurationVar(&o.warmup, "warmup", 2*time.Second, "unmeasured load before each measurement")
	flag.StringVar(&o.databaseURL, "database-url", os.Getenv("CUSTODY_BENCH_DATABASE_URL"),
		"admin URL of a running PostgreSQL (a database per N is created on it); empty: a throwaway cluster (env CUSTODY_BENCH_DATABASE_URL)")
	flag.BoolVar(&o.pgDurable, "pg-durable", true, "throwaway cluster: fsync and synchronous_commit on, as in production")
	flag.StringVar(&o.pgParams, "pg-params", "", "query parameters added to custodyd's database URL, e.g. pool_max_conns=64")
	flag.Int64Var(&o.artifactSize, "artifact-size", 1<<20, "bytes of each uploaded artifact")
	flag.BoolVar(&o.keep, "keep", false, "keep the working directory")
	flag.StringVar(&o.profile, "profile", "", "record a perf profile of custodyd during the measurement into this directory (needs perf)")
	flag.Int64Var(&o.addMiB, "add-mib", 0, "instead of the load: `custody attestation add` of an artifact of this many MiB vs the hashing floor")
	flag.IntVar(&o.runs, "runs", 5, "with -add-mib: runs of each command; the median is reported")
	flag.IntVar(&o.pushLarge.concurrency, "push-large", 0, "instead of the load: rounds of this many concurrent pushes of the largest allowed bundle, while another project inits")
	flag.IntVar(&o.pushLarge.rounds, "rounds", 5, "with -push-large: rounds of concurrent pushes")
	flag.IntVar(&o.pushLarge.materials, "materials", defaultLargeMaterials, "with -push-large: materials per statement")
	flag.IntVar(&o.pushLarge.statementSize, "statement-size", defaultLargeStatement, "with -push-large: bytes the statement is filled to")
	flag.IntVar(&o.overhead.pushes, "push-overhead", 0, "instead of the load: this many keyless and as many key-signed pushes, alternating, against one custodyd: sign + push as the client waits for it")
	flag.IntVar(&o.overhead.warmup, "push-warmup", 3, "with -push-overhead: pushes of each kind first, not kept")
	flag.BoolVar(&o.overhead.cli, "push-cli", true, "with -push-overhead: also time whole `custody attestation push` processes, --key and keyless")
	flag.Parse()
	for _, s := range strings.Split(ns, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil || n < 1 {
			fmt.Fprintf(os.Stderr, "load: -n %q: want positive integers\n", ns)
			os.Exit(2)
		}
		o.ns = append(o.ns, n)
	}
	var err error
	if o.modes, err = parseSignModes(modes); err != nil {
		fmt.Fprintf(os.Stderr, "load: %v\n", err)
		os.Exit(2)
	}
	if o.store != "sqlite" && o.store != "postgres" {
		fmt.Fprintf(os.Stderr, "load: -store %q: want sqlite or postgres\n", o.store)
		os.Exit(2)
	}
	o.root, o.out = ".", os.Stdout
	if err := run(context.Background(), o); err != nil {
		fmt.Fprintf(os.Stderr, "load: %v\n", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, o options) error {
	dir, err := os.MkdirTemp("", "custody-load-")
	if err != nil {
		return err
	}
	if o.keep {
		fmt.Fprintf(os.Stderr, "# working directory: %s\n", dir)
	} else {
		defer os.RemoveAll(dir)
	}
	o.startLoad = proc.LoadAverage()
	if o.addMiB > 0 {
		return addOnline(ctx, o.out, o.root, dir, o.addMiB, o.runs)
	}
	if o.pushLarge.concurrency > 0 {
		return runLargePush(ctx, o, o.pushLarge, dir)
	}
	if o.overhead.pushes > 0 {
		return runPushOverhead(ctx, o, o.overhead, dir)
	}
	bin := filepath.Join(dir, "custodyd")
	if err := goBuild(o.root, bin, "./cmd/custodyd"); err != nil {
		return err
	}
	var pg *pgserver.Server
	if o.store == "postgres" {
		if pg, err = pgserver.Open(ctx, o.databaseURL, o.pgDurable); err != nil {
			return err
		}
		defer pg.Close()
	}

	var results []result
	for _, n := range o.ns {
		res, err := measureN(ctx, o, bin, dir, pg, n)
		if err != nil {
			return fmt.Errorf("N=%d: %w", n, err)
		}
		for _, r := range res {
			fmt.Fprintf(os.Stderr, "# N=%d %s done: %.1f attestations/s, %d errors, %d lost\n", n, r.mode, r.rate(), r.errors, r.lost)
		}
		results = append(results, res...)
	}
	printTable(o.out, o, pg, results)
	for _, r := range results {
		if r.errors > 0 || r.lost > 0 {
			return fmt.Errorf("N=%d, %s: %d errors, %d lost attestations (first error: %v)", r.n, r.mode, r.errors, r.lost, r.firstErr)
		}
	}
	return nil
}

// goBuild builds the package pkg of the module at root into bin.
func goBuild(root, bin, pkg string) error {
	cmd := exec.Command("go", "build", "-o", bin, pkg)
	cmd.Dir = root
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("build %s (run from the repository root): %v\n%s", pkg, err, out)
	}
	return nil
}

// withParams adds the query parameters params (a=b&c=d) to the URL u.
func withParams(u, params string) (string, error) {
	if params == "" {
		return u, nil
	}
	parsed, err := url.Parse(u)
	if err != nil {
		return "", fmt.Errorf("database URL: %w", err)
	}
	add, err := url.ParseQuery(params)
	if err != nil {
		return "", fmt.Errorf("-pg-params %q: %w", params, err)
	}
	q := parsed.Query()
	for k, v := range add {
		q[k] = v
	}
	parsed.RawQuery = q.Encode()
	return parsed.String(), nil
}
