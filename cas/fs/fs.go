// Package fs is the filesystem backend of the content-addressed store, custodyd's default.
//
// Layout under the directory given to New:
//
//	blobs/sha256/<first 2 hex>/<64 hex>   one read-only file per blob, named by its digest
//	tmp/put-*                             blobs being received (same filesystem, so rename is atomic)
//	tmp.lock                              held shared by every open Backend, exclusively while sweeping
//
// A Put streams into a temp file while hashing, fsyncs it, asks the caller's check, then renames it
// into place and fsyncs the directory: a blob path either does not exist or holds the complete,
// verified bytes. A process killed mid-Put leaves at most a temp file, which the next New removes
// when no other Backend has the directory open.
package fs

import (
	"context"
	"errors"
	"fmt"
	"io"
	iofs "io/fs"
	"net/url"
	"os"
	"path/filepath"

	"github.com/gofrs/flock"

	"github.com/custody-dev/custody/cas"
)

const (
	dirPerm  = 0o750
	blobPerm = 0o444 // blobs are immutable
	tempGlob = "put-*"
)

// Backend stores blobs as files under one directory. It is safe for concurrent use, also by
// several Backends (in one process or several) on the same directory.
type Backend struct {
	dir   string // absolute
	blobs string // dir/blobs/sha256
	tmp   string // dir/tmp
	lock  *flock.Flock
}

var _ cas.Backend = (*Backend)(nil)

// New opens (creating it if needed) a store in dir. Temp files left by a killed process are removed
// when no other Backend has dir open. Close releases the directory.
func New(dir string) (*Backend, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("fs cas %s: %w", dir, err)
	}
	b := &Backend{
		dir:   abs,
		blobs: filepath.Join(abs, "blobs", "sha256"),
		tmp:   filepath.Join(abs, "tmp"),
	}
	for _, d := range []string{b.blobs, b.tmp} {
		if err := os.MkdirAll(d, dirPerm); err != nil {
			return nil, fmt.Errorf("fs cas %s: create %s: %w", abs, d, err)
		}
	}
	lock, err := sweepAndShare(filepath.Join(abs, "tmp.lock"), b.tmp)
	if err != nil {
		return nil, fmt.Errorf("fs cas %s: %w", abs, err)
	}
	b.lock = lock
	return b, nil
}

// sweepAndShare removes stale temp files if it can hold the lock exclusively (no other Backend
// uses the directory, so every temp file there is a leftover), then holds it shared.
func sweepAndShare(lockPath, tmpDir string) (*flock.Flock, error) {
	lock := flock.New(lockPath, flock.SetPermissions(0o600))
	exclusive, err := lock.TryLock()
	if err != nil {
		return nil, fmt.Errorf("lock %s: %w", lockPath, err)
	}
	if exclusive {
		sweepErr := removeTemps(tmpDir)
		if err := lock.Unlock(); err != nil {
			return nil, fmt.Errorf("unlock %s: %w", lockPath, err)
		}
		if sweepErr != nil {
			return nil, sweepErr
		}
	}
	// Between Unlock and RLock another New may sweep: nothing of ours exists yet, so that is harmless.
	if err := lock.RLock(); err != nil {
		return nil, fmt.Errorf("lock %s shared: %w", lockPath, err)
	}
	return lock, nil
}

func removeTemps(tmpDir string) error {
	stale, err := filepath.Glob(filepath.Join(tmpDir, tempGlob))
	if err != nil {
		return fmt.Errorf("list stale temp files: %w", err)
	}
	for _, p := range stale {
		if err := os.Remove(p); err != nil && !errors.Is(err, iofs.ErrNotExist) {
			return fmt.Errorf("remove stale temp file: %w", err)
		}
	}
	return nil
}

// Close releases the directory (temp files of a later New may then be swept). Blobs stay.
func (b *Backend) Close() error {
	if err := b.lock.Close(); err != nil {
		return fmt.Errorf("fs cas %s: release lock: %w", b.dir, err)
	}
	return nil
}

// Location returns the file:// URL of the store's directory.
func (b *Backend) Location() string {
	return (&url.URL{Scheme: "file", Path: filepath.ToSlash(b.dir)}).String()
}

// blobPath returns the file of digest d. d is validated first, so the result is always a file
// two levels below b.blobs, whatever d holds.
func (b *Backend) blobPath(d cas.Digest) (string, error) {
	if _, err := cas.ParseDigest(string(d)); err != nil {
		return "", fmt.Errorf("fs cas: %w", err)
	}
	hex := d.Hex()
	return filepath.Join(b.blobs, hex[:2], hex), nil
}

// Stat returns the size of the blob d, or cas.ErrNotFound.
func (b *Backend) Stat(_ context.Context, d cas.Digest) (int64, error) {
	p, err := b.blobPath(d)
	if err != nil {
		return 0, err
	}
	info, err := os.Stat(p)
	if err != nil {
		return 0, notFoundOr(d, err)
	}
	return info.Size(), nil
}

// Open returns the blob d and its size, or cas.ErrNotFound. The caller closes it.
func (b *Backend) Open(_ context.Context, d cas.Digest) (io.ReadCloser, int64, error) {
	p, err := b.blobPath(d)
	if err != nil {
		return nil, 0, err
	}
	f, err := os.Open(p)
	if err != nil {
		return nil, 0, notFoundOr(d, err)
	}
	info, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, 0, fmt.Errorf("fs cas: stat %s: %w", d, err)
	}
	return f, info.Size(), nil
}

func notFoundOr(d cas.Digest, err error) error {
	if errors.Is(err, iofs.ErrNotExist) {
		return fmt.Errorf("fs cas: %s: %w", d, cas.ErrNotFound)
	}
	return fmt.Errorf("fs cas: %s: %w", d, err)
}
