package main

import (
	"testing"
)

// TestQuickstart runs the README's first command as a user would, from the repository root: the
// walkthrough against a fresh custodyd (keyless push, offline verification), then offline with a
// cosign key. A sample the validators refuse, a changed flag or a broken push fails it.
func TestQuickstart(t *testing.T) {
	if testing.Short() {
		t.Skip("builds custody and custodyd and runs the whole walkthrough twice")
	}
	t.Chdir("../..")
	for _, offline := range []bool{false, true} {
		if err := run(false, offline); err != nil {
			t.Fatalf("quickstart (offline %v): %v", offline, err)
		}
	}
}
