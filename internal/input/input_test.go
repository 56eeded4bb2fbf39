package input_test

import (
	"context"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/custody-dev/custody/internal/input"
)

func TestReadFileBounds(t *testing.T) {
	dir := t.TempDir()
	write := func(name string, n int) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(strings.Repeat("x", n)), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	tests := []struct {
		name    string
		path    string
		limit   int64
		wantLen int
		wantErr string
	}{
		{"under the limit", write("small", 10), 100, 10, ""},
		{"exactly the limit", write("exact", 100), 100, 100, ""},
		{"one byte over", write("over", 101), 100, 0, "over is larger than the limit of 100 bytes"},
		{"empty", write("empty", 0), 100, 0, ""},
		{"endless device", "/dev/zero", 1 << 20, 0, "/dev/zero is larger than the limit of 1 MiB"},
		{"missing", filepath.Join(dir, "missing"), 100, 0, "no such file"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := input.ReadFile(t.Context(), tt.path, tt.limit)
			if tt.wantErr == "" {
				if err != nil || len(got) != tt.wantLen {
					t.Fatalf("ReadFile = %d bytes, %v; want %d bytes", len(got), err, tt.wantLen)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("ReadFile = %v; want an error mentioning %q", err, tt.wantErr)
			}
		})
	}
	var tooLarge *input.TooLargeError
	if _, err := input.ReadFile(t.Context(), "/dev/zero", 10); !errors.As(err, &tooLarge) || tooLarge.Limit != 10 {
		t.Errorf("ReadFile(/dev/zero) = %v, want a *TooLargeError with the limit", err)
	}
	if _, err := input.ReadFile(t.Context(), dir, 10); err == nil {
		t.Error("ReadFile of a directory succeeded")
	}
}

func fifo(t *testing.T) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "fifo")
	if err := syscall.Mkfifo(p, 0o600); err != nil {
		t.Skipf("mkfifo: %v", err)
	}
	return p
}

// A read blocked on a FIFO, in open (no writer) or in read (a writer that sends nothing), stops
// with context.Canceled and the cause once the context is cancelled.
func TestReadFileStopsWhenCancelled(t *testing.T) {
	cause := errors.New("terminated signal received")
	t.Run("open of a FIFO without a writer", func(t *testing.T) {
		p := fifo(t)
		ctx, cancel := context.WithCancelCause(t.Context())
		errc := make(chan error, 1)
		go func() { _, err := input.ReadFile(ctx, p, 100); errc <- err }()
		cancel(cause)
		err := <-errc
		if !errors.Is(err, context.Canceled) || !strings.Contains(err.Error(), cause.Error()) || !strings.Contains(err.Error(), p) {
			t.Fatalf("ReadFile = %v, want context.Canceled naming the file and the cause", err)
		}
		// The abandoned open must not keep the FIFO's writer waiting forever.
		w, err := os.OpenFile(p, os.O_WRONLY, 0)
		if err != nil {
			t.Fatal(err)
		}
		w.Close()
	})
	t.Run("read of a FIFO whose writer is silent", func(t *testing.T) {
		p := fifo(t)
		ctx, cancel := context.WithCancelCause(t.Context())
		opened := make(chan *os.File, 1)
		go func() {
			w, err := os.OpenFile(p, os.O_WRONLY, 0)
			if err != nil {
				t.Error(err)
			}
			_, _ = w.Write([]byte("some bytes, then silence"))
			opened <- w
		}()
		errc := make(chan error, 1)
		go func() { _, err := input.ReadFile(ctx, p, 1<<20); errc <- err }()
		w := <-opened
		defer w.Close()
		cancel(cause)
		if err := <-errc; !errors.Is(err, context.Canceled) || !strings.Contains(err.Error(), cause.Error()) {
			t.Fatalf("ReadFile = %v, want context.Canceled with the cause", err)
		}
	})
	t.Run("already cancelled", func(t *testing.T) {
		ctx, cancel := context.WithCancel(t.Context())
		cancel()
		if _, err := input.ReadFile(ctx, "/dev/zero", 1<<30); !errors.Is(err, context.Canceled) {
			t.Fatalf("ReadFile = %v, want context.Canceled", err)
		}
	})
}

func TestReaderStopsAtTheNextChunk(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	f, release, err := input.Open(ctx, "/dev/zero")
	if err != nil {
		t.Fatal(err)
	}
	defer release()
	r := input.Reader(ctx, f)
	if _, err := io.ReadFull(r, make([]byte, 1024)); err != nil {
		t.Fatal(err)
	}
	cancel()
	if _, err := io.Copy(io.Discard, r); !errors.Is(err, context.Canceled) {
		t.Fatalf("Copy after cancel = %v, want context.Canceled", err)
	}
	if _, _, err := input.Open(t.Context(), filepath.Join(t.TempDir(), "missing")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Open(missing) = %v, want fs.ErrNotExist", err)
	}
}
