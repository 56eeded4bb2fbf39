package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"os"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/custody-dev/custody/cas"
	"github.com/custody-dev/custody/client"
)

// pausingReader passes pauseAt bytes, then signals paused and blocks until release is closed.
type pausingReader struct {
	r       io.Reader
	pauseAt int64
	n       int64
	paused  chan struct{}
	release chan struct{}
	once    sync.Once
}

func (p *pausingReader) Read(b []byte) (int, error) {
	if p.n >= p.pauseAt {
		p.once.Do(func() { close(p.paused) })
		<-p.release
	} else if rest := p.pauseAt - p.n; int64(len(b)) > rest {
		b = b[:rest]
	}
	n, err := p.r.Read(b)
	p.n += int64(n)
	return n, err
}

// TestGracefulShutdown sends SIGTERM while an upload is in flight: the server stops taking new
// connections but lets the upload finish (the client gets its answer and the blob is stored), then
// exits 0.
func TestGracefulShutdown(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	data := t.TempDir()
	d := startDaemon(t, data)
	c, err := client.New(d.url(), d.bootstrapToken(), client.WithRetry(client.Retry{}))
	if err != nil {
		t.Fatal(err)
	}
	const size = 16 << 20
	h := sha256.New()
	if _, err := io.Copy(h, io.LimitReader(newXorshift(5), size)); err != nil {
		t.Fatal(err)
	}
	want := "sha256:" + hex.EncodeToString(h.Sum(nil))

	body := &pausingReader{r: io.LimitReader(newXorshift(5), size), pauseAt: 1 << 20,
		paused: make(chan struct{}), release: make(chan struct{})}
	type upload struct {
		h   cas.Hashed
		err error
	}
	done := make(chan upload, 1)
	go func() {
		h, err := c.UploadBlob(ctx, func() (io.Reader, error) { return body, nil })
		done <- upload{h, err}
	}()
	var releaseOnce sync.Once
	release := func() { releaseOnce.Do(func() { close(body.release) }) }
	t.Cleanup(release)
	select {
	case <-body.paused:
	case u := <-done:
		t.Fatalf("upload ended before it was paused: %+v", u)
	case <-time.After(waitLimit):
		t.Fatal("the upload did not start")
	}
	eventually(t, "custodyd receiving the upload", func() bool { return receiving(t, data) })

	if err := d.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case <-d.stopping:
	case <-time.After(waitLimit):
		t.Fatalf("custodyd did not start shutting down:\n%s", d.log.String())
	}
	select {
	case <-d.exited:
		t.Fatalf("custodyd exited with an upload in flight:\n%s", d.log.String())
	default:
	}
	// Not exited yet is no proof it would not: what proves the request was let finish is its answer.
	release()
	var u upload
	select {
	case u = <-done:
	case <-time.After(waitLimit):
		t.Fatal("the upload did not finish")
	}
	if u.err != nil || string(u.h.Digest) != want || u.h.Size != size {
		t.Fatalf("upload during shutdown: %+v, %v; want %s (%d bytes)", u.h, u.err, want, size)
	}
	if code := d.wait(); code != 0 {
		t.Fatalf("custodyd exit code %d after SIGTERM, want 0:\n%s", code, d.log.String())
	}
	f, err := os.Open(blobFile(data, want))
	if err != nil {
		t.Fatalf("the blob uploaded during shutdown: %v", err)
	}
	defer f.Close()
	got, err := cas.Hash(f, io.Discard)
	if err != nil || string(got.Digest) != want {
		t.Fatalf("stored blob hashes to %s (%v), want %s", got.Digest, err, want)
	}
	if left := tempFiles(t, data); len(left) != 0 {
		t.Errorf("temp files after shutdown: %v", left)
	}
}
