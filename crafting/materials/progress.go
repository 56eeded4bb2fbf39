package materials

import (
	"fmt"
	"io"
	"time"

	"github.com/custody-dev/custody/cas"
	"github.com/custody-dev/custody/internal/termsafe"
)

// progressThreshold is the size from which a file gets running progress updates; every file
// handled with a Progress writer gets the final "done!" line, as in the seed walkthrough.
const progressThreshold = 0

// updateEvery spaces the running updates of a large file.
const updateEvery = 500 * time.Millisecond

// progress writes a terminal progress line for one file: running updates, then a final line
// `name@sha256:... done! [7B in 0s; 34B/s]`.
type progress struct {
	w         io.Writer
	name      string
	size      int64
	read      int64
	now       func() time.Time
	start     time.Time
	lastPrint time.Time
}

func newProgress(w io.Writer, name string, size int64, now func() time.Time) *progress {
	t := now()
	return &progress{w: w, name: termsafe.Escape(name), size: size, now: now, start: t, lastPrint: t}
}

func (p *progress) Write(b []byte) (int, error) {
	p.read += int64(len(b))
	if t := p.now(); t.Sub(p.lastPrint) >= updateEvery {
		p.lastPrint = t
		fmt.Fprintf(p.w, "\r%s %s/%s", p.name, humanBytes(p.read), humanBytes(p.size))
	}
	return len(b), nil
}

func (p *progress) done(h cas.Hashed) {
	elapsed := p.now().Sub(p.start)
	secs := elapsed.Seconds()
	rate := float64(h.Size)
	if secs > 0 {
		rate = float64(h.Size) / secs
	}
	fmt.Fprintf(p.w, "\r%s@%s ... done! [%s in %s; %s/s]\n", p.name, h.Digest, humanBytes(h.Size),
		elapsed.Round(time.Second), humanBytes(int64(rate)))
}

// humanBytes renders n like the seed: 7B, 34B, 1.5KiB, 1.0GiB.
func humanBytes(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%dB", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f%ciB", float64(n)/float64(div), "KMGTPE"[exp])
}
