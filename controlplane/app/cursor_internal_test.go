package app

import (
	"testing"
	"time"

	"github.com/custody-dev/custody/controlplane/store"
)

// FuzzCursor: any text given as a cursor is refused or read as a position whose cursor is that text
// again (one spelling per position: a cursor cannot be dressed up), and never panics.
func FuzzCursor(f *testing.F) {
	at := time.Date(2030, 1, 2, 3, 4, 5, 6000, time.UTC)
	f.Add(encodeCursor(runCursor, store.Position{CreatedAt: at, Key: "0b5e6c4e-8f0a-4c1e-9d7b-2a3c4d5e6f70"}))
	f.Add(encodeCursor(attestationCursor, store.Position{CreatedAt: at, Key: "sha256:" + "ab01ab01ab01ab01ab01ab01ab01ab01ab01ab01ab01ab01ab01ab01ab01ab01"}))
	f.Add("")
	f.Add("cjE6LTE6eA")
	f.Add("cjE6MDAxOjBiNWU2YzRlLThmMGEtNGMxZS05ZDdiLTJhM2M0ZDVlNmY3MA")
	f.Fuzz(func(t *testing.T, c string) {
		for _, k := range []cursorKind{runCursor, attestationCursor} {
			p, err := parseCursor(k, c)
			if err != nil || p == nil {
				continue
			}
			if again := encodeCursor(k, *p); again != c {
				t.Fatalf("cursor %q reads as %+v, whose cursor is %q", c, *p, again)
			}
		}
	})
}

func TestCursorRoundTrip(t *testing.T) {
	t.Parallel()
	at := time.Date(2030, 1, 2, 3, 4, 5, 6000, time.UTC)
	for _, tc := range []struct {
		k   cursorKind
		key string
	}{
		{runCursor, "0b5e6c4e-8f0a-4c1e-9d7b-2a3c4d5e6f70"},
		{attestationCursor, "sha256:ab01ab01ab01ab01ab01ab01ab01ab01ab01ab01ab01ab01ab01ab01ab01ab01"},
	} {
		want := store.Position{CreatedAt: at, Key: tc.key}
		p, err := parseCursor(tc.k, encodeCursor(tc.k, want))
		if err != nil || *p != want {
			t.Errorf("%s: %+v, %v; want %+v", tc.k, p, err, want)
		}
		other := map[cursorKind]cursorKind{runCursor: attestationCursor, attestationCursor: runCursor}[tc.k]
		if _, err := parseCursor(other, encodeCursor(tc.k, want)); err == nil {
			t.Errorf("a %s cursor read as a %s one", tc.k, other)
		}
	}
}
