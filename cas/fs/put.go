package fs

import (
	"context"
	"errors"
	"fmt"
	"io"
	iofs "io/fs"
	"os"
	"path/filepath"

	"github.com/custody-dev/custody/cas"
)

// Put streams r into a temp file through sha256 (one 1 MiB buffer: memory stays flat whatever the
// size), fsyncs it, calls check, and renames it to the blob's path. If r, ctx, check or the disk
// fails, the temp file is removed and nothing is visible; check's error is returned unchanged. A
// blob that already exists is kept and the new copy dropped.
func (b *Backend) Put(ctx context.Context, r io.Reader, check func(cas.Hashed) error) (cas.Hashed, error) {
	tmp, err := os.CreateTemp(b.tmp, tempGlob)
	if err != nil {
		return cas.Hashed{}, fmt.Errorf("fs cas: create temp file: %w", err)
	}
	placed := false
	defer func() {
		if !placed {
			_ = tmp.Close() // a second Close after the success path is harmless
			_ = os.Remove(tmp.Name())
		}
	}()

	hashed, err := cas.Hash(ctxReader{ctx: ctx, r: r}, tmp)
	if err != nil {
		return cas.Hashed{}, fmt.Errorf("fs cas: receive blob: %w", err)
	}
	if err := tmp.Chmod(blobPerm); err != nil {
		return cas.Hashed{}, fmt.Errorf("fs cas: chmod temp file: %w", err)
	}
	if err := tmp.Sync(); err != nil {
		return cas.Hashed{}, fmt.Errorf("fs cas: sync temp file: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return cas.Hashed{}, fmt.Errorf("fs cas: close temp file: %w", err)
	}
	if check != nil {
		if err := check(hashed); err != nil {
			return cas.Hashed{}, err
		}
	}
	if err := ctx.Err(); err != nil {
		return cas.Hashed{}, fmt.Errorf("fs cas: put %s: %w", hashed.Digest, err)
	}

	dst, err := b.blobPath(hashed.Digest)
	if err != nil {
		return cas.Hashed{}, err
	}
	shard := filepath.Dir(dst)
	if err := mkdirSynced(shard); err != nil {
		return cas.Hashed{}, fmt.Errorf("fs cas: %w", err)
	}
	if _, err := os.Lstat(dst); err == nil {
		return hashed, nil // already stored: the deferred cleanup drops our copy
	}
	// Two Puts of the same bytes may both get here: rename is atomic and both files hold the same
	// bytes, so either winner is right and a reader never sees a partial file.
	if err := os.Rename(tmp.Name(), dst); err != nil {
		return cas.Hashed{}, fmt.Errorf("fs cas: store %s: %w", hashed.Digest, err)
	}
	placed = true
	if err := syncDir(shard); err != nil {
		return cas.Hashed{}, fmt.Errorf("fs cas: store %s: %w", hashed.Digest, err)
	}
	return hashed, nil
}

// mkdirSynced creates dir if needed and then fsyncs its parent, so the new entry survives a crash.
func mkdirSynced(dir string) error {
	err := os.Mkdir(dir, dirPerm)
	if errors.Is(err, iofs.ErrExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("create %s: %w", dir, err)
	}
	return syncDir(filepath.Dir(dir))
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("open directory %s: %w", dir, err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("sync directory %s: %w", dir, err)
	}
	return nil
}

// ctxReader stops a long read when the request is cancelled.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}
