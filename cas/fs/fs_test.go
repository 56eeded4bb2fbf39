package fs_test

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/custody-dev/custody/cas"
	"github.com/custody-dev/custody/cas/casttest"
	casfs "github.com/custody-dev/custody/cas/fs"
)

func newBackend(t testing.TB, dir string) *casfs.Backend {
	t.Helper()
	b, err := casfs.New(dir)
	if err != nil {
		t.Fatalf("New(%s): %v", dir, err)
	}
	t.Cleanup(func() {
		if err := b.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return b
}

func TestConformance(t *testing.T) {
	t.Parallel()
	casttest.Run(t, func(t *testing.T) cas.Backend { return newBackend(t, t.TempDir()) })
}

func TestConformanceSharedDirectory(t *testing.T) {
	t.Parallel()
	// Every subtest opens its own Backend on one directory, as several custodyd processes would.
	dir := t.TempDir()
	casttest.Run(t, func(t *testing.T) cas.Backend { return newBackend(t, dir) })
}

const helloDigest = "sha256:2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824"

func TestLayout(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	b := newBackend(t, dir)
	if _, err := b.Put(context.Background(), strings.NewReader("hello"), nil); err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(dir, "blobs", "sha256", "2c", strings.TrimPrefix(helloDigest, "sha256:"))
	info, err := os.Stat(p)
	if err != nil {
		t.Fatalf("blob file: %v", err)
	}
	if info.Mode().Perm() != 0o444 {
		t.Errorf("blob mode = %v, want read-only 0444", info.Mode().Perm())
	}
	if want := "file://" + filepath.ToSlash(dir); b.Location() != want {
		t.Errorf("Location = %q, want %q", b.Location(), want)
	}
}

func TestFailedPutsLeaveNoTempFiles(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	b := newBackend(t, dir)
	ctx := context.Background()
	reject := func(cas.Hashed) error { return cas.ErrDigestMismatch }
	if _, err := b.Put(ctx, strings.NewReader("rejected"), reject); !errors.Is(err, cas.ErrDigestMismatch) {
		t.Fatalf("Put = %v", err)
	}
	broken := errors.New("broken pipe")
	if _, err := b.Put(ctx, failingReader{broken}, nil); !errors.Is(err, broken) {
		t.Fatalf("Put = %v", err)
	}
	for range 2 { // the second is a duplicate: its temp copy is dropped
		if _, err := b.Put(ctx, strings.NewReader("hello"), nil); err != nil {
			t.Fatal(err)
		}
	}
	assertEntries(t, filepath.Join(dir, "tmp"))
}

func TestNewSweepsStaleTempFiles(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	first := newBackend(t, dir)
	if err := first.Close(); err != nil {
		t.Fatal(err)
	}
	// What a process killed during a Put leaves behind.
	stale := filepath.Join(dir, "tmp", "put-123456")
	if err := os.WriteFile(stale, []byte("half a blob"), 0o600); err != nil {
		t.Fatal(err)
	}
	newBackend(t, dir)
	assertEntries(t, filepath.Join(dir, "tmp"))
}

func TestNewKeepsTempFilesOfALiveBackend(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	newBackend(t, dir) // stays open: its temp files may be in-flight Puts
	inflight := filepath.Join(dir, "tmp", "put-654321")
	if err := os.WriteFile(inflight, []byte("being received"), 0o600); err != nil {
		t.Fatal(err)
	}
	newBackend(t, dir)
	assertEntries(t, filepath.Join(dir, "tmp"), "put-654321")
}

func TestInvalidDigests(t *testing.T) {
	t.Parallel()
	b := newBackend(t, t.TempDir())
	ctx := context.Background()
	for _, d := range []string{
		"",
		"sha256:../../../../etc/passwd",
		"sha256:" + strings.Repeat("A", 64),
		"sha512:" + strings.Repeat("a", 64),
		"sha256:" + strings.Repeat("a", 63) + "/",
	} {
		if _, err := b.Stat(ctx, cas.Digest(d)); err == nil || errors.Is(err, cas.ErrNotFound) {
			t.Errorf("Stat(%q) = %v, want an invalid digest error", d, err)
		}
		if _, _, err := b.Open(ctx, cas.Digest(d)); err == nil || errors.Is(err, cas.ErrNotFound) {
			t.Errorf("Open(%q) = %v, want an invalid digest error", d, err)
		}
	}
}

func TestReadOnlyDirectory(t *testing.T) {
	t.Parallel()
	if os.Geteuid() == 0 {
		t.Skip("root writes to read-only directories")
	}
	dir := t.TempDir()
	if err := os.Chmod(dir, 0o500); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.Chmod(dir, 0o700) })
	if _, err := casfs.New(filepath.Join(dir, "cas")); err == nil {
		t.Fatal("New in a read-only directory succeeded")
	}
}

func TestNewOnAFile(t *testing.T) {
	t.Parallel()
	file := filepath.Join(t.TempDir(), "not-a-dir")
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := casfs.New(file)
	if err == nil || !strings.Contains(err.Error(), file) {
		t.Fatalf("New on a file = %v, want an error naming it", err)
	}
}

func TestOpenReadsWhileDuplicatePutReplaces(t *testing.T) {
	t.Parallel()
	b := newBackend(t, t.TempDir())
	ctx := context.Background()
	data := bytes.Repeat([]byte("x"), 1<<20)
	h, err := b.Put(ctx, bytes.NewReader(data), nil)
	if err != nil {
		t.Fatal(err)
	}
	rc, _, err := b.Open(ctx, h.Digest)
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	if _, err := b.Put(ctx, bytes.NewReader(data), nil); err != nil {
		t.Fatal(err)
	}
	got := new(bytes.Buffer)
	if _, err := got.ReadFrom(rc); err != nil || !bytes.Equal(got.Bytes(), data) {
		t.Fatalf("reader open across a duplicate Put: %d bytes, %v", got.Len(), err)
	}
}

func assertEntries(t *testing.T, dir string, want ...string) {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range entries {
		got = append(got, e.Name())
	}
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Fatalf("%s holds %q, want %q", dir, got, want)
	}
}

type failingReader struct{ err error }

func (f failingReader) Read([]byte) (int, error) { return 0, f.err }
