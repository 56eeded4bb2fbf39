// Package casttest is the conformance suite every cas.Backend passes: what a caller of the
// interface can rely on, checked against digests the suite computes itself with crypto/sha256.
package casttest

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"sync"
	"testing"

	"github.com/custody-dev/custody/cas"
)

// Run runs the suite. newBackend returns a backend for one subtest; it may be shared between
// subtests (every subtest writes its own random blobs), and is cleaned up through t.
func Run(t *testing.T, newBackend func(t *testing.T) cas.Backend) {
	t.Helper()
	tests := []struct {
		name string
		run  func(t *testing.T, b cas.Backend)
	}{
		{"RoundTrip", testRoundTrip},
		{"Empty", testEmpty},
		{"Large", testLarge},
		{"CheckSeesWhatWasReceived", testCheckSees},
		{"CheckRejects", testCheckRejects},
		{"ReaderFails", testReaderFails},
		{"ContextCancelled", testContextCancelled},
		{"DuplicatePut", testDuplicate},
		{"ConcurrentSame", testConcurrentSame},
		{"ConcurrentDifferent", testConcurrentDifferent},
		{"Unknown", testUnknown},
		{"Location", testLocation},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tc.run(t, newBackend(t))
		})
	}
}

// blob is test content and the digest the test computes for it, independent of the backend.
type blob struct {
	data   []byte
	digest cas.Digest
}

func newBlob(t *testing.T, size int) blob {
	t.Helper()
	data := make([]byte, size)
	if _, err := rand.Read(data); err != nil {
		t.Fatal(err)
	}
	return blobOf(data)
}

func blobOf(data []byte) blob {
	sum := sha256.Sum256(data)
	return blob{data: data, digest: cas.NewDigest(sum[:])}
}

func put(t *testing.T, b cas.Backend, bl blob) {
	t.Helper()
	got, err := b.Put(context.Background(), bytes.NewReader(bl.data), nil)
	if err != nil {
		t.Fatalf("Put of %d bytes: %v", len(bl.data), err)
	}
	if want := (cas.Hashed{Digest: bl.digest, Size: int64(len(bl.data))}); got != want {
		t.Fatalf("Put = %+v, want %+v", got, want)
	}
}

// assertStored checks Stat and Open both give back exactly bl.
func assertStored(t *testing.T, b cas.Backend, bl blob) {
	t.Helper()
	ctx := context.Background()
	size, err := b.Stat(ctx, bl.digest)
	if err != nil {
		t.Fatalf("Stat %s: %v", bl.digest, err)
	}
	if size != int64(len(bl.data)) {
		t.Fatalf("Stat %s = %d bytes, want %d", bl.digest, size, len(bl.data))
	}
	rc, size, err := b.Open(ctx, bl.digest)
	if err != nil {
		t.Fatalf("Open %s: %v", bl.digest, err)
	}
	defer rc.Close()
	if size != int64(len(bl.data)) {
		t.Fatalf("Open %s size = %d, want %d", bl.digest, size, len(bl.data))
	}
	got, err := io.ReadAll(rc)
	if err != nil {
		t.Fatalf("read %s: %v", bl.digest, err)
	}
	if !bytes.Equal(got, bl.data) {
		t.Fatalf("Open %s returned %d bytes that differ from the %d put", bl.digest, len(got), len(bl.data))
	}
}

func assertAbsent(t *testing.T, b cas.Backend, d cas.Digest) {
	t.Helper()
	ctx := context.Background()
	if _, err := b.Stat(ctx, d); !errors.Is(err, cas.ErrNotFound) {
		t.Fatalf("Stat %s = %v, want ErrNotFound", d, err)
	}
	rc, _, err := b.Open(ctx, d)
	if err == nil {
		rc.Close()
	}
	if !errors.Is(err, cas.ErrNotFound) {
		t.Fatalf("Open %s = %v, want ErrNotFound", d, err)
	}
}

func testRoundTrip(t *testing.T, b cas.Backend) {
	bl := newBlob(t, 4096)
	assertAbsent(t, b, bl.digest)
	put(t, b, bl)
	assertStored(t, b, bl)
}

func testEmpty(t *testing.T, b cas.Backend) {
	bl := blobOf(nil)
	if bl.digest != "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855" {
		t.Fatalf("empty digest = %s", bl.digest)
	}
	put(t, b, bl)
	assertStored(t, b, bl)
}

func testLarge(t *testing.T, b cas.Backend) {
	bl := newBlob(t, 3<<20+17) // several hash buffers, not a multiple of any
	// Odd-sized reads, as a network body gives them.
	got, err := b.Put(context.Background(), &chunkReader{data: bl.data, chunk: 100_003}, nil)
	if err != nil {
		t.Fatalf("Put: %v", err)
	}
	if got.Digest != bl.digest || got.Size != int64(len(bl.data)) {
		t.Fatalf("Put = %+v, want %s / %d", got, bl.digest, len(bl.data))
	}
	assertStored(t, b, bl)
}

func testCheckSees(t *testing.T, b cas.Backend) {
	bl := newBlob(t, 1000)
	var seen cas.Hashed
	calls := 0
	_, err := b.Put(context.Background(), bytes.NewReader(bl.data), func(h cas.Hashed) error {
		calls++
		seen = h
		return nil
	})
	if err != nil {
		t.Fatalf("Put: %v", err)
	}
	if calls != 1 || seen.Digest != bl.digest || seen.Size != 1000 {
		t.Fatalf("check called %d times with %+v, want once with %s / 1000", calls, seen, bl.digest)
	}
	assertStored(t, b, bl)
}

func testCheckRejects(t *testing.T, b cas.Backend) {
	// Random content only this subtest knows (the empty blob may be stored by another subtest).
	for _, size := range []int{1, 10, 2<<20 + 1} {
		t.Run(fmt.Sprint(size), func(t *testing.T) {
			bl := newBlob(t, size)
			claimed := newBlob(t, 8).digest
			_, err := b.Put(context.Background(), bytes.NewReader(bl.data), func(h cas.Hashed) error {
				if h.Digest != claimed {
					return fmt.Errorf("claimed %s, received %s: %w", claimed, h.Digest, cas.ErrDigestMismatch)
				}
				return nil
			})
			if !errors.Is(err, cas.ErrDigestMismatch) {
				t.Fatalf("Put with a rejecting check = %v, want ErrDigestMismatch", err)
			}
			assertAbsent(t, b, bl.digest)
			assertAbsent(t, b, claimed)
		})
	}
}

var errBroken = errors.New("connection reset by peer")

func testReaderFails(t *testing.T, b cas.Backend) {
	bl := newBlob(t, 2<<20)
	half := blobOf(bl.data[:1<<20])
	r := io.MultiReader(bytes.NewReader(half.data), errReader{errBroken})
	checked := false
	_, err := b.Put(context.Background(), r, func(cas.Hashed) error { checked = true; return nil })
	if !errors.Is(err, errBroken) {
		t.Fatalf("Put from a failing reader = %v, want the reader's error", err)
	}
	if checked {
		t.Fatal("check was called although the reader failed")
	}
	assertAbsent(t, b, half.digest)
	assertAbsent(t, b, bl.digest)
}

func testContextCancelled(t *testing.T, b cas.Backend) {
	bl := newBlob(t, 2<<20)
	ctx, cancel := context.WithCancel(context.Background())
	// The reader cancels the context once half is read, as a client hanging up mid-upload does.
	r := &chunkReader{data: bl.data, chunk: 64 << 10, after: 1 << 20, hook: cancel}
	_, err := b.Put(ctx, r, nil)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("Put with a cancelled context = %v, want context.Canceled", err)
	}
	assertAbsent(t, b, bl.digest)
}

func testDuplicate(t *testing.T, b cas.Backend) {
	bl := newBlob(t, 10_000)
	for i := range 3 {
		got, err := b.Put(context.Background(), bytes.NewReader(bl.data), nil)
		if err != nil {
			t.Fatalf("Put #%d: %v", i+1, err)
		}
		if got.Digest != bl.digest || got.Size != int64(len(bl.data)) {
			t.Fatalf("Put #%d = %+v", i+1, got)
		}
	}
	assertStored(t, b, bl)
}

func testConcurrentSame(t *testing.T, b cas.Backend) {
	bl := newBlob(t, 256<<10)
	errs := make([]error, 8)
	var wg sync.WaitGroup
	for i := range errs {
		wg.Go(func() {
			got, err := b.Put(context.Background(), bytes.NewReader(bl.data), nil)
			if err == nil && got.Digest != bl.digest {
				err = fmt.Errorf("digest %s, want %s", got.Digest, bl.digest)
			}
			errs[i] = err
		})
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("Put #%d: %v", i, err)
		}
	}
	assertStored(t, b, bl)
}

func testConcurrentDifferent(t *testing.T, b cas.Backend) {
	blobs := make([]blob, 8)
	for i := range blobs {
		blobs[i] = newBlob(t, 1000*(i+1))
	}
	errs := make([]error, len(blobs))
	var wg sync.WaitGroup
	for i, bl := range blobs {
		wg.Go(func() {
			_, errs[i] = b.Put(context.Background(), bytes.NewReader(bl.data), nil)
		})
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("Put #%d: %v", i, err)
		}
	}
	for _, bl := range blobs {
		assertStored(t, b, bl)
	}
}

func testUnknown(t *testing.T, b cas.Backend) {
	assertAbsent(t, b, newBlob(t, 32).digest)
}

func testLocation(t *testing.T, b cas.Backend) {
	if b.Location() == "" {
		t.Fatal("Location is empty")
	}
}

type errReader struct{ err error }

func (e errReader) Read([]byte) (int, error) { return 0, e.err }

// chunkReader hands out data at most chunk bytes per Read, and calls hook once after bytes are read.
type chunkReader struct {
	data  []byte
	chunk int
	off   int
	after int
	hook  func()
}

func (c *chunkReader) Read(p []byte) (int, error) {
	if c.hook != nil && c.off >= c.after {
		c.hook()
		c.hook = nil
	}
	if c.off >= len(c.data) {
		return 0, io.EOF
	}
	n := min(len(p), c.chunk, len(c.data)-c.off)
	copy(p, c.data[c.off:c.off+n])
	c.off += n
	return n, nil
}
