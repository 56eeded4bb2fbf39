package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/custody-dev/custody/client"
	"github.com/custody-dev/custody/internal/pgtest"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }

// TestLoadSmoke runs the load generator briefly on both stores, signing by key and keyless: it must
// finish with no error and no lost attestation, and print its tables, with the keyless / key
// comparison. It checks the program works, not how fast.
func TestLoadSmoke(t *testing.T) {
	if testing.Short() {
		t.Skip("builds custodyd and runs it under load")
	}
	for _, store := range []string{"sqlite", "postgres"} {
		t.Run(store, func(t *testing.T) {
			o := options{store: store, ns: []int{1, 3}, modes: []signMode{signKey, signKeyless}, slices: 2, duration: 600 * time.Millisecond,
				artifactSize: 64 << 10, runs: 1, root: "../..", pgDurable: false}
			if store == "postgres" {
				o.databaseURL = pgtest.New(t) // a superuser's URL: the generator makes its databases beside it
			}
			var out bytes.Buffer
			o.out = &out
			if err := run(context.Background(), o); err != nil {
				t.Fatalf("load: %v\n%s", err, out.String())
			}
			for _, want := range []string{"| 1 | key |", "| 3 | key |", "| 1 | keyless |", "| 3 | keyless |", "attestations/s", "peak RSS",
				"| N | attestations/s key → keyless | keyless / key |"} {
				if !strings.Contains(out.String(), want) {
					t.Errorf("output lacks %q:\n%s", want, out.String())
				}
			}
		})
	}
}

// TestAddOnlineSmoke runs the large-artifact comparison on a small artifact.
func TestAddOnlineSmoke(t *testing.T) {
	if testing.Short() {
		t.Skip("builds custody, custodyd and hashfloor")
	}
	var out bytes.Buffer
	o := options{addMiB: 4, runs: 1, root: "../..", out: &out}
	if err := run(context.Background(), o); err != nil {
		t.Fatalf("add-online: %v\n%s", err, out.String())
	}
	for _, want := range []string{"floor", "CAS on disk", "CAS on tmpfs", "custodyd RSS"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
}

func TestPercentile(t *testing.T) {
	ms := func(n ...int) []time.Duration {
		var d []time.Duration
		for _, x := range n {
			d = append(d, time.Duration(x)*time.Millisecond)
		}
		return d
	}
	cases := []struct {
		in   []time.Duration
		p    float64
		want time.Duration
	}{
		{nil, 50, 0},
		{ms(7), 99, 7 * time.Millisecond},
		{ms(5, 1, 4, 2, 3), 50, 3 * time.Millisecond},
		{ms(5, 1, 4, 2, 3), 100, 5 * time.Millisecond},
		{ms(5, 1, 4, 2, 3), 0, 1 * time.Millisecond},
		{ms(1, 2, 3, 4, 5, 6, 7, 8, 9, 10), 90, 9 * time.Millisecond},
	}
	for _, c := range cases {
		if got := percentile(c.in, c.p); got != c.want {
			t.Errorf("percentile(%v, %v) = %v, want %v", c.in, c.p, got, c.want)
		}
	}
}

func TestWithParams(t *testing.T) {
	cases := []struct{ in, params, want string }{
		{"postgres://u@h:1/db?sslmode=disable", "", "postgres://u@h:1/db?sslmode=disable"},
		{"postgres://u@h:1/db?sslmode=disable", "pool_max_conns=64", "postgres://u@h:1/db?pool_max_conns=64&sslmode=disable"},
		{"postgres://u@h:1/db", "pool_max_conns=8", "postgres://u@h:1/db?pool_max_conns=8"},
	}
	for _, c := range cases {
		got, err := withParams(c.in, c.params)
		if err != nil || got != c.want {
			t.Errorf("withParams(%q, %q) = %q, %v; want %q", c.in, c.params, got, err, c.want)
		}
	}
	if _, err := withParams("postgres://h/db", "a=%zz"); err == nil {
		t.Error("withParams accepted a malformed query")
	}
}

// TestPushLargeSmoke runs the large-push measurement with small bundles: every push is stored, and
// the table is printed.
func TestPushLargeSmoke(t *testing.T) {
	if testing.Short() {
		t.Skip("builds custodyd")
	}
	var out bytes.Buffer
	o := options{root: "../..", out: &out, pushLarge: largePush{concurrency: 2, rounds: 1, materials: 10, statementSize: 64 << 10}}
	if err := run(context.Background(), o); err != nil {
		t.Fatalf("push-large: %v\n%s", err, out.String())
	}
	for _, want := range []string{"| pushes stored / failed | 2 / 0 |", "during the pushes", "custodyd peak RSS"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
}

// TestPushOverheadSmoke runs the push-overhead comparison with a few pushes: in process and as
// `custody attestation push` processes, every push stored, the table and the verdict printed.
func TestPushOverheadSmoke(t *testing.T) {
	if testing.Short() {
		t.Skip("builds custody and custodyd")
	}
	var out bytes.Buffer
	o := options{root: "../..", out: &out, artifactSize: 4 << 10, overhead: pushOverhead{pushes: 2, warmup: 1, cli: true}}
	if err := run(context.Background(), o); err != nil {
		t.Fatalf("push-overhead: %v\n%s", err, out.String())
	}
	for _, want := range []string{"2 pushes of each, alternating", "| sign + push: median |", "| of which the certificate call: median | - |",
		"| `custody attestation push` process", "keyless adds "} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
}

// TestKeylessWorkflowTrustsNoKey: the load's keyless workflow trusts no key, so its pipelines are
// stored only because custodyd certified their keys; a key-signed push to it is refused.
func TestKeylessWorkflowTrustsNoKey(t *testing.T) {
	if testing.Short() {
		t.Skip("builds custodyd")
	}
	ctx := context.Background()
	bin := filepath.Join(t.TempDir(), "custodyd")
	if err := goBuild("../..", bin, "./cmd/custodyd"); err != nil {
		t.Fatal(err)
	}
	srv, err := startServer(bin, filepath.Join(t.TempDir(), "data"))
	if err != nil {
		t.Fatal(err)
	}
	defer srv.stop()
	fx, err := bootstrap(ctx, srv.url, srv.token, signKeyless)
	if err != nil {
		t.Fatal(err)
	}
	keys, err := fx.admin.ListKeys(ctx, fx.project, fx.workflow)
	if err != nil || len(keys) != 0 || fx.key != nil {
		t.Fatalf("keyless workflow: keys %v (%v), signer key %v; want none", keys, err, fx.key)
	}
	g := &generator{fx: fx, artifactSize: 1 << 10, ack: map[string]bool{}}
	w, err := g.newWorker(0)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.pipeline(ctx, 0); err != nil {
		t.Fatalf("keyless pipeline: %v", err)
	}
	if len(w.lat["certificate"]) != 1 || len(w.lat["timestamp"]) != 1 {
		t.Errorf("keyless pipeline: %d certificate and %d timestamp calls, want 1 and 1", len(w.lat["certificate"]), len(w.lat["timestamp"]))
	}
	if err := checkStored(ctx, g); err != nil {
		t.Error(err)
	}
	// The same pipeline signed by a key (one the workflow has never seen) is refused.
	other, err := newWorkflow(ctx, fx.admin, srv.url, fx.project, "keyed", signKey)
	if err != nil {
		t.Fatal(err)
	}
	g.fx = &fixture{url: fx.url, token: fx.token, admin: fx.admin, project: fx.project, workflow: fx.workflow, mode: signKey, key: other.key}
	err = w.pipeline(ctx, 1)
	if client.Status(err) != http.StatusUnprocessableEntity || !strings.Contains(err.Error(), "trusts no key") {
		t.Errorf("key-signed push to the keyless workflow: %v; want 422, the workflow trusts no key", err)
	}
}

func TestParseSignModes(t *testing.T) {
	cases := []struct {
		in      string
		want    []signMode
		wantErr string
	}{
		{"key,keyless", []signMode{signKey, signKeyless}, ""},
		{" keyless , key ", []signMode{signKeyless, signKey}, ""},
		{"keyless", []signMode{signKeyless}, ""},
		{"", nil, `"" is neither key nor keyless`},
		{"key,fulcio", nil, `"fulcio" is neither key nor keyless`},
		{"key,key", nil, "key twice"},
	}
	for _, c := range cases {
		got, err := parseSignModes(c.in)
		if c.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), c.wantErr) {
				t.Errorf("parseSignModes(%q) = %v, %v; want an error with %q", c.in, got, err, c.wantErr)
			}
			continue
		}
		if err != nil || !slices.Equal(got, c.want) {
			t.Errorf("parseSignModes(%q) = %v, %v; want %v", c.in, got, err, c.want)
		}
	}
}

// TestAlternate: modes take turns a, b, b, a, a, b, ... so a drift over time hits each alike.
func TestAlternate(t *testing.T) {
	var got []string
	err := alternate(4, 2, func(round, i int) error {
		got = append(got, fmt.Sprintf("%d%c", round, 'a'+i))
		return nil
	})
	want := []string{"0a", "0b", "1b", "1a", "2a", "2b", "3b", "3a"}
	if err != nil || !slices.Equal(got, want) {
		t.Errorf("alternate(4, 2) = %v, %v; want %v", got, err, want)
	}
	stop := errors.New("stop")
	calls := 0
	err = alternate(3, 3, func(round, i int) error {
		calls++
		if round == 1 && i == 1 {
			return stop
		}
		return nil
	})
	if !errors.Is(err, stop) || calls != 5 {
		t.Errorf("alternate stopping at round 1, mode 1: %d calls, %v; want 5 calls and the error", calls, err)
	}
}
