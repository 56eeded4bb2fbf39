// Package input reads the files a user names on the command line (contracts, keys, bundles,
// artifacts) with a bound on their size and a way out: every read stops when its context is
// cancelled (SIGINT or SIGTERM), even a read blocked on a FIFO that never gets a writer.
package input

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
)

// TooLargeError is a file larger than the limit its reader allows.
type TooLargeError struct {
	Path  string
	Limit int64
}

func (e *TooLargeError) Error() string {
	return fmt.Sprintf("%s is larger than the limit of %s", e.Path, Size(e.Limit))
}

// Size renders a byte count as people write limits: 32 MiB, 64 KiB, 100 bytes.
func Size(n int64) string {
	switch {
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%d MiB", n>>20)
	case n >= 1<<10 && n%(1<<10) == 0:
		return fmt.Sprintf("%d KiB", n>>10)
	}
	return fmt.Sprintf("%d bytes", n)
}

// ReadFile reads the file at path, refusing one larger than limit bytes with a *TooLargeError:
// at most limit+1 bytes are ever read, so /dev/zero or an endless FIFO costs limit bytes of
// memory, not all of it.
func ReadFile(ctx context.Context, path string, limit int64) ([]byte, error) {
	f, release, err := Open(ctx, path)
	if err != nil {
		return nil, err
	}
	defer release()
	var buf []byte
	if info, err := f.Stat(); err == nil && info.Mode().IsRegular() && info.Size() <= limit {
		buf = make([]byte, 0, info.Size()+1) // one allocation for the common case
	}
	w := &limitedBuffer{buf: buf, limit: limit}
	if _, err := io.Copy(w, Reader(ctx, f)); err != nil {
		if errors.Is(err, errLimit) {
			return nil, &TooLargeError{Path: path, Limit: limit}
		}
		return nil, fmt.Errorf("read %s: %w", path, cancelled(ctx, err))
	}
	return w.buf, nil
}

var errLimit = errors.New("limit reached")

// limitedBuffer collects at most limit bytes and fails the write that would pass it.
type limitedBuffer struct {
	buf   []byte
	limit int64
}

func (b *limitedBuffer) Write(p []byte) (int, error) {
	if int64(len(b.buf))+int64(len(p)) > b.limit {
		return 0, errLimit
	}
	b.buf = append(b.buf, p...)
	return len(p), nil
}

// Open opens path for reading. An open that blocks (a FIFO no one writes to yet) is abandoned
// when ctx is cancelled, and the opened file is closed when ctx is cancelled, so a read blocked on
// it returns. release closes the file; call it once done.
func Open(ctx context.Context, path string) (f *os.File, release func(), err error) {
	type opened struct {
		f   *os.File
		err error
	}
	done := make(chan opened, 1)
	go func() {
		f, err := os.Open(path)
		done <- opened{f, err}
	}()
	var o opened
	select {
	case o = <-done:
	case <-ctx.Done():
		go func() { // the open may still succeed once a writer comes: close what it opens
			if o := <-done; o.f != nil {
				o.f.Close()
			}
		}()
		return nil, nil, fmt.Errorf("open %s: %w", path, cancelled(ctx, ctx.Err()))
	}
	if o.err != nil {
		return nil, nil, o.err
	}
	stop := context.AfterFunc(ctx, func() { o.f.Close() })
	return o.f, func() {
		if stop() {
			o.f.Close()
		}
	}, nil
}

// Reader returns r, failing every read once ctx is cancelled: a long read (hashing a large file)
// stops at the next chunk.
func Reader(ctx context.Context, r io.Reader) io.Reader { return &ctxReader{ctx: ctx, r: r} }

type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c *ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, cancelled(c.ctx, err)
	}
	n, err := c.r.Read(p)
	if err != nil && c.ctx.Err() != nil {
		// The file was closed under the read because ctx was cancelled: say so, not "file closed".
		return n, cancelled(c.ctx, c.ctx.Err())
	}
	return n, err
}

// cancelled is err, or, once ctx is cancelled, ctx's error (context.Canceled) with its cause (the
// signal that cancelled it) when that says more.
func cancelled(ctx context.Context, err error) error {
	ctxErr := ctx.Err()
	if ctxErr == nil {
		return err
	}
	if cause := context.Cause(ctx); cause != nil && cause != ctxErr {
		return fmt.Errorf("%w (%v)", ctxErr, cause)
	}
	return ctxErr
}
