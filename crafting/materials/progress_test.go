package materials

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/custody-dev/custody/cas"
	"github.com/custody-dev/custody/contract"
)

// manualClock is a clock the test moves by hand.
type manualClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *manualClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *manualClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// TestProgressLineOfCraft checks the line `add` prints for a file, as in the seed walkthrough:
// with a clock that does not move, 7 bytes take 0s, at 7B/s.
func TestProgressLineOfCraft(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "rootfs.tar.gz")
	if err := os.WriteFile(path, []byte("rootfs\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	hashed, err := cas.HashFile(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	c := newIsolatedCrafter(t, Options{Progress: &out})
	if _, err := c.Craft(t.Context(), contract.KindArtifact, path); err != nil {
		t.Fatal(err)
	}
	want := "\rrootfs.tar.gz@" + string(hashed.Digest) + " ... done! [7B in 0s; 7B/s]\n"
	if out.String() != want {
		t.Errorf("progress output = %q\nwant              %q", out.String(), want)
	}
}

// TestProgressLineEscapesTheFileName: a file name is text custody did not write (a checkout can hold
// any name); on the terminal its control characters are escaped.
func TestProgressLineEscapesTheFileName(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "evil\x1b[2J\x1b]0;pwned\x07.tar.gz")
	if err := os.WriteFile(path, []byte("rootfs\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	c := newIsolatedCrafter(t, Options{Progress: &out})
	if _, err := c.Craft(t.Context(), contract.KindArtifact, path); err != nil {
		t.Fatal(err)
	}
	if strings.ContainsRune(out.String(), 0x1b) || !strings.Contains(out.String(), `evil\x1b[2J\x1b]0;pwned\x07.tar.gz@sha256:`) {
		t.Errorf("progress output = %q, want the name escaped", out.String())
	}
}

func TestProgress(t *testing.T) {
	t.Parallel()
	digest := cas.Digest("sha256:f8a581d4bce57f792444b2230b5706a6f902fbac19a374e76f6a56f030d35cf2")
	for _, tc := range []struct {
		name  string
		size  int64
		steps []time.Duration // the clock's moves before each write; the last one before done
		want  string
	}{
		{
			name:  "seed line: 7 bytes in 200ms",
			size:  7,
			steps: []time.Duration{0, 200 * time.Millisecond},
			want:  "\rrootfs.tar.gz@" + string(digest) + " ... done! [7B in 0s; 35B/s]\n",
		},
		{
			name:  "running updates every 500ms, then the rate over the whole read",
			size:  3 << 20,
			steps: []time.Duration{100 * time.Millisecond, 500 * time.Millisecond, 400 * time.Millisecond, 600 * time.Millisecond, 400 * time.Millisecond},
			want: "\rrootfs.tar.gz 1.5MiB/3.0MiB" +
				"\rrootfs.tar.gz 3.0MiB/3.0MiB" +
				"\rrootfs.tar.gz@" + string(digest) + " ... done! [3.0MiB in 2s; 1.5MiB/s]\n",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			clock := &manualClock{t: fixedNow}
			var out bytes.Buffer
			p := newProgress(&out, "rootfs.tar.gz", tc.size, clock.Now)
			writes := len(tc.steps) - 1
			chunk := make([]byte, tc.size/int64(writes))
			for _, step := range tc.steps[:writes] {
				clock.Advance(step)
				if _, err := p.Write(chunk); err != nil {
					t.Fatal(err)
				}
			}
			clock.Advance(tc.steps[writes])
			p.done(cas.Hashed{Digest: digest, Size: tc.size})
			if out.String() != tc.want {
				t.Errorf("output = %q\nwant     %q", out.String(), tc.want)
			}
		})
	}
}

func TestHumanBytes(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		n    int64
		want string
	}{
		{0, "0B"},
		{7, "7B"},
		{34, "34B"},
		{1023, "1023B"},
		{1024, "1.0KiB"},
		{1536, "1.5KiB"},
		{1 << 20, "1.0MiB"},
		{5 << 30, "5.0GiB"},
		{3 << 40, "3.0TiB"},
		{1 << 50, "1.0PiB"},
		{1 << 62, "4.0EiB"},
		{1<<63 - 1, "8.0EiB"},
	} {
		if got := humanBytes(tc.n); got != tc.want {
			t.Errorf("humanBytes(%d) = %q, want %q", tc.n, got, tc.want)
		}
	}
}
