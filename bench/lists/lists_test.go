package main

import (
	"bytes"
	"context"
	"os"
	"strings"
	"testing"

	"github.com/custody-dev/custody/internal/pgtest"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }

// TestListsSmoke seeds a small store of each kind and measures every request once: the program
// must finish (every page walked, every request answered) and print its table. It checks the program
// works, not how fast.
func TestListsSmoke(t *testing.T) {
	for _, store := range []string{"sqlite", "postgres"} {
		t.Run(store, func(t *testing.T) {
			o := options{stores: []string{store}, runs: 2500, samples: 2, rounds: 1}
			if store == "postgres" {
				o.databaseURL = pgtest.New(t) // a superuser's URL: the benchmark makes its database beside it
			}
			var out bytes.Buffer
			o.out = &out
			if err := run(context.Background(), o); err != nil {
				t.Fatalf("lists: %v\n%s", err, out.String())
			}
			for _, want := range []string{"seeded 2500 runs", "Walking the whole runs list, 1000 runs a page: 3 pages",
				"| runs, first page | 50 |", "| run page: run, attestation, materials, contract revision | 7 |", "| digest search, one artifact | 1 |"} {
				if !strings.Contains(out.String(), want) {
					t.Errorf("output lacks %q:\n%s", want, out.String())
				}
			}
		})
	}
}
