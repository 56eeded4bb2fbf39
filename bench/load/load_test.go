package main

import (
	"bytes"
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/custody-dev/custody/internal/pgtest"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }

// TestLoadSmoke runs the load generator briefly on both stores: it must finish with no error and no
// lost attestation, and print its tables. It checks the program works, not how fast.
func TestLoadSmoke(t *testing.T) {
	if testing.Short() {
		t.Skip("builds custodyd and runs it under load")
	}
	for _, store := range []string{"sqlite", "postgres"} {
		t.Run(store, func(t *testing.T) {
			o := options{store: store, ns: []int{1, 3}, duration: 500 * time.Millisecond, artifactSize: 64 << 10,
				runs: 1, root: "../..", pgDurable: false}
			if store == "postgres" {
				o.databaseURL = pgtest.New(t) // a superuser's URL: the generator makes its databases beside it
			}
			var out bytes.Buffer
			o.out = &out
			if err := run(context.Background(), o); err != nil {
				t.Fatalf("load: %v\n%s", err, out.String())
			}
			for _, want := range []string{"| 1 |", "| 3 |", "attestations/s", "peak RSS"} {
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
