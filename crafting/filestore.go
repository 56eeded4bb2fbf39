package crafting

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/gofrs/flock"

	"github.com/custody-dev/custody/internal/atomicfile"
	"github.com/custody-dev/custody/internal/input"
	"github.com/custody-dev/custody/runner"
)

// DefaultStateFile is the state file's path relative to the workspace.
const DefaultStateFile = ".custody/attestation.json"

// lockRetry is how often a writer waiting for the state lock retries.
const lockRetry = 10 * time.Millisecond

// MaxStateSize bounds the state file custody reads: 64 MiB, the size of hundreds of thousands of
// materials, far above what a push may carry.
const MaxStateSize = 64 << 20

// FileStore keeps the state in one file, written atomically (temp file, fsync, rename) under an
// exclusive lock on a sibling lock file, so parallel steps on one runner serialize and a killed
// process never leaves a torn file.
type FileStore struct {
	path string
}

// NewFileStore returns a store at path.
func NewFileStore(path string) *FileStore { return &FileStore{path: path} }

// WorkspaceStateFile resolves the state file: an explicit path wins; otherwise it is in the
// runner's workspace (GITHUB_WORKSPACE, CI_PROJECT_DIR, ...: docs/runners.md), or in dir (the
// current directory) when the runner names none.
func WorkspaceStateFile(rc runner.Context, explicit, dir string) string {
	switch {
	case explicit != "":
		return explicit
	case rc.Workspace != "":
		return filepath.Join(rc.Workspace, DefaultStateFile)
	}
	return filepath.Join(dir, DefaultStateFile)
}

// Location is the state file's path.
func (s *FileStore) Location() string { return s.path }

// read reads the state file, at most MaxStateSize bytes.
func (s *FileStore) read(ctx context.Context) ([]byte, error) {
	b, err := input.ReadFile(ctx, s.path, MaxStateSize)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("read state file: %w", err)
	}
	return b, err
}

// Load reads the state file.
func (s *FileStore) Load(ctx context.Context) (*State, string, error) {
	b, err := s.read(ctx)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, "", ErrNoState
	}
	if err != nil {
		return nil, "", err
	}
	st, err := decodeState(b)
	if err != nil {
		return nil, "", fmt.Errorf("state file %s: %w", s.path, err)
	}
	return st, digestOf(b), nil
}

// Save writes st if the file's digest is still base.
func (s *FileStore) Save(ctx context.Context, st *State, base string) (string, error) {
	b, digest, err := encodeState(st)
	if err != nil {
		return "", err
	}
	err = s.locked(ctx, func() error {
		if err := s.check(ctx, base); err != nil {
			return err
		}
		return atomicfile.Write(s.path, b, 0o600)
	})
	if err != nil {
		return "", err
	}
	return digest, nil
}

// Delete removes the state file if its digest is still base.
func (s *FileStore) Delete(ctx context.Context, base string) error {
	return s.locked(ctx, func() error {
		if err := s.check(ctx, base); err != nil {
			return err
		}
		if err := os.Remove(s.path); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("remove state file: %w", err)
		}
		return nil
	})
}

// check compares the file's current digest with base ("" means the file must not exist).
func (s *FileStore) check(ctx context.Context, base string) error {
	got, err := s.rawDigest(ctx)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		if base != "" {
			return ErrStale
		}
		return nil
	case err != nil:
		return err
	case got != base:
		return ErrStale
	}
	return nil
}

func (s *FileStore) locked(ctx context.Context, fn func() error) error {
	if err := os.MkdirAll(filepath.Dir(s.path), 0o755); err != nil {
		return fmt.Errorf("create state directory: %w", err)
	}
	lock := flock.New(s.path + ".lock")
	ok, err := lock.TryLockContext(ctx, lockRetry)
	if err != nil {
		return fmt.Errorf("lock state file: %w", err)
	}
	if !ok {
		return fmt.Errorf("lock state file %s: not acquired", s.path)
	}
	defer lock.Unlock()
	return fn()
}

// rawDigest is the digest of the state file's bytes, readable or not, of any size (so --replace can
// discard a state too large to read).
func (s *FileStore) rawDigest(ctx context.Context) (string, error) {
	f, release, err := input.Open(ctx, s.path)
	if err != nil {
		return "", fmt.Errorf("read state file: %w", err)
	}
	defer release()
	h := sha256.New()
	if _, err := io.Copy(h, input.Reader(ctx, f)); err != nil {
		return "", fmt.Errorf("read state file: %w", err)
	}
	return "sha256:" + hex.EncodeToString(h.Sum(nil)), nil
}
