package ca_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/custody-dev/custody/controlplane/ca"
	"github.com/custody-dev/custody/controlplane/trustroot"
	"github.com/custody-dev/custody/internal/testclock"
)

var start = time.Date(2026, 11, 27, 10, 4, 0, 0, time.UTC)

// TestRotate: a rotation puts a new chain in place (under the kept root, or a new one) and keeps the
// old chain as retired, trusted until the retirement time plus the leaf validity; the next start
// loads the new chain; a second rotation keeps both old chains. Every file stays 0600.
func TestRotate(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name     string
		newRoot  bool
		sameRoot bool
	}{
		{"under the kept root", false, true},
		{"to a new root", true, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			dir := filepath.Join(t.TempDir(), "ca")
			clk := testclock.New(start)
			first, err := ca.LoadOrCreate(dir, "custody test", clk.Now)
			if err != nil {
				t.Fatal(err)
			}
			clk.Advance(time.Hour)
			rotated, err := ca.Rotate(dir, tc.newRoot, time.Time{}, clk.Now)
			if err != nil {
				t.Fatal(err)
			}
			if rotated.Chain[0].Equal(first.Chain[0]) {
				t.Fatal("the rotation kept the intermediate")
			}
			if got := rotated.Chain[1].Equal(first.Chain[1]); got != tc.sameRoot {
				t.Errorf("same root after the rotation: %v, want %v", got, tc.sameRoot)
			}
			if _, err := rotated.Issue(csrFor(t, mustP256(t)), identity); err != nil {
				t.Errorf("issue with the new chain: %v", err)
			}
			loaded, err := ca.LoadOrCreate(dir, "custody test", clk.Now)
			if err != nil || !loaded.Chain[0].Equal(rotated.Chain[0]) {
				t.Fatalf("the next start loads another chain than the new one: %v", err)
			}
			retired, err := ca.Retired(filepath.Join(dir, ca.RetiredFile))
			if err != nil {
				t.Fatal(err)
			}
			want := trustroot.Entry{Chain: first.Chain, Start: first.Chain[0].NotBefore, End: clk.Now().Add(ca.LeafValidity)}
			if len(retired) != 1 || !retired[0].Equal(want) {
				t.Fatalf("retired %v, want the first chain until %s", windows(retired), want.End)
			}
			entries := loaded.Entries(retired)
			if len(entries) != 2 || !entries[0].End.IsZero() || !entries[0].Chain[0].Equal(rotated.Chain[0]) {
				t.Errorf("entries %v, want the new chain open, then the old one", windows(entries))
			}

			clk.Advance(24 * time.Hour)
			if _, err := ca.Rotate(dir, tc.newRoot, clk.Now().Add(time.Hour), clk.Now); err != nil {
				t.Fatal(err)
			}
			retired, err = ca.Retired(filepath.Join(dir, ca.RetiredFile))
			if err != nil || len(retired) != 2 || !retired[1].End.Equal(clk.Now().Add(time.Hour+ca.LeafValidity)) {
				t.Errorf("after a second rotation retiring in an hour: %v %v", windows(retired), err)
			}
			files, _ := os.ReadDir(dir)
			for _, f := range files {
				info, _ := f.Info()
				if info.Mode().Perm() != 0o600 || strings.HasSuffix(f.Name(), ".next") || strings.HasSuffix(f.Name(), ".tmp") {
					t.Errorf("%s: mode %v; want 0600, and no file of an unfinished rotation", f.Name(), info.Mode().Perm())
				}
			}
		})
	}
}

// TestRotateRefusals: no rotation into the past, none under a root whose key is gone or is not the
// root's, and a refused rotation changes nothing.
func TestRotateRefusals(t *testing.T) {
	t.Parallel()
	clk := testclock.New(start)
	setup := func(t *testing.T) (string, *ca.Authority) {
		dir := filepath.Join(t.TempDir(), "ca")
		a, err := ca.LoadOrCreate(dir, "custody test", clk.Now)
		if err != nil {
			t.Fatal(err)
		}
		return dir, a
	}
	tests := []struct {
		name     string
		prepare  func(t *testing.T, dir string)
		retireAt time.Time
		want     string
	}{
		{"a retirement in the past", nil, start.Add(-time.Minute), "is in the past"},
		{"no root key", func(t *testing.T, dir string) { os.Remove(filepath.Join(dir, ca.RootKeyFile)) }, time.Time{}, "rotate under the kept root needs its key"},
		{"another root's key", func(t *testing.T, dir string) {
			other := filepath.Join(t.TempDir(), "other")
			if _, err := ca.LoadOrCreate(other, "other", clk.Now); err != nil {
				t.Fatal(err)
			}
			data, _ := os.ReadFile(filepath.Join(other, ca.RootKeyFile))
			os.WriteFile(filepath.Join(dir, ca.RootKeyFile), data, 0o600)
		}, time.Time{}, "is not the key of the root"},
		{"a root key others may read", func(t *testing.T, dir string) { os.Chmod(filepath.Join(dir, ca.RootKeyFile), 0o644) }, time.Time{}, "has mode 0644"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir, before := setup(t)
			if tc.prepare != nil {
				tc.prepare(t, dir)
			}
			_, err := ca.Rotate(dir, false, tc.retireAt, clk.Now)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("%v, want %q", err, tc.want)
			}
			after, err := ca.LoadOrCreate(dir, "custody test", clk.Now)
			if err != nil || !after.Chain[0].Equal(before.Chain[0]) {
				t.Errorf("the refused rotation changed the authority: %v", err)
			}
			if _, err := os.Stat(filepath.Join(dir, ca.RetiredFile)); err == nil {
				t.Error("the refused rotation wrote retired chains")
			}
		})
	}
}

// TestRotateInterrupted: a rotation cut before its chain was written leaves the old authority, and
// its retired entry of the old chain is not listed beside the same chain in use; one cut after the
// chain was written is finished by the next start.
func TestRotateInterrupted(t *testing.T) {
	t.Parallel()
	clk := testclock.New(start)
	dir := filepath.Join(t.TempDir(), "ca")
	old, err := ca.LoadOrCreate(dir, "custody test", clk.Now)
	if err != nil {
		t.Fatal(err)
	}
	keep := t.TempDir()
	copyFiles(t, dir, keep, ca.ChainFile, ca.KeyFile)
	rotated, err := ca.Rotate(dir, false, time.Time{}, clk.Now)
	if err != nil {
		t.Fatal(err)
	}

	// Cut after the chain: the new chain, the old key in place, the new key pending.
	os.Rename(filepath.Join(dir, ca.KeyFile), filepath.Join(dir, ca.KeyFile+".next"))
	copyFiles(t, keep, dir, ca.KeyFile)
	a, err := ca.LoadOrCreate(dir, "custody test", clk.Now)
	if err != nil || !a.Chain[0].Equal(rotated.Chain[0]) {
		t.Fatalf("a rotation cut after its chain: %v, want the new authority", err)
	}
	if _, err := os.Stat(filepath.Join(dir, ca.KeyFile+".next")); err == nil {
		t.Error("the pending key is still there")
	}

	// Cut before the chain: the old chain and key, a pending key, the old chain already retired.
	copyFiles(t, keep, dir, ca.ChainFile, ca.KeyFile)
	os.WriteFile(filepath.Join(dir, ca.KeyFile+".next"), mustKeyPEM(t), 0o600)
	a, err = ca.LoadOrCreate(dir, "custody test", clk.Now)
	if err != nil || !a.Chain[0].Equal(old.Chain[0]) {
		t.Fatalf("a rotation cut before its chain: %v, want the old authority", err)
	}
	if _, err := os.Stat(filepath.Join(dir, ca.KeyFile+".next")); err == nil {
		t.Error("the pending key is still there")
	}
	retired, err := ca.Retired(filepath.Join(dir, ca.RetiredFile))
	if err != nil || len(retired) != 1 {
		t.Fatalf("retired %v, %v", windows(retired), err)
	}
	if entries := a.Entries(retired); len(entries) != 1 || !entries[0].End.IsZero() {
		t.Errorf("entries %v: want the chain in use once, open", windows(entries))
	}
}

// TestRetiredRefusals: the retired chains file is a trusted root of CA chains, each with an end.
func TestRetiredRefusals(t *testing.T) {
	t.Parallel()
	a, _, err := ca.Generate("custody test", testclock.New(start).Now)
	if err != nil {
		t.Fatal(err)
	}
	open, err := trustroot.Build([]trustroot.Entry{a.Entry()}, nil)
	if err != nil {
		t.Fatal(err)
	}
	withTSA, err := trustroot.Build(nil, []trustroot.Entry{a.Entry()})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	for _, tc := range []struct {
		name string
		data []byte
		want string
	}{
		{"not JSON", []byte("chain.pem"), "trusted root"},
		{"an open window", open, "has no end"},
		{"a timestamp authority", withTSA, "lists timestamp authorities"},
	} {
		path := filepath.Join(dir, tc.name)
		os.WriteFile(path, tc.data, 0o600)
		if _, err := ca.Retired(path); err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), path) {
			t.Errorf("%s: %v, want an error naming the file and saying %q", tc.name, err, tc.want)
		}
	}
	if got, err := ca.Retired(filepath.Join(dir, "absent")); err != nil || got != nil {
		t.Errorf("a missing file: %v, %v; want no chain", got, err)
	}
}

func windows(es []trustroot.Entry) []string {
	var out []string
	for _, e := range es {
		out = append(out, e.Chain[0].Subject.CommonName+" "+e.Start.Format(time.RFC3339)+".."+e.End.Format(time.RFC3339))
	}
	return out
}

func copyFiles(t *testing.T, from, to string, names ...string) {
	t.Helper()
	for _, n := range names {
		data, err := os.ReadFile(filepath.Join(from, n))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(to, n), data, 0o600); err != nil {
			t.Fatal(err)
		}
	}
}

func mustKeyPEM(t *testing.T) []byte {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "k")
	if _, err := ca.LoadOrCreate(dir, "x", testclock.New(start).Now); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(filepath.Join(dir, ca.KeyFile))
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// TestRotateNow: with no retirement time, the old chain retires now, even on a clock that moves
// between two readings (as the wall clock does).
func TestRotateNow(t *testing.T) {
	t.Parallel()
	clk := testclock.New(start)
	dir := filepath.Join(t.TempDir(), "ca")
	if _, err := ca.LoadOrCreate(dir, "custody test", clk.Now); err != nil {
		t.Fatal(err)
	}
	ticking := func() time.Time { clk.Advance(time.Millisecond); return clk.Now() }
	if _, err := ca.Rotate(dir, false, time.Time{}, ticking); err != nil {
		t.Fatalf("a rotation now: %v", err)
	}
}
