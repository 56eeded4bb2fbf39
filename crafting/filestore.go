package crafting

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/gofrs/flock"

	"github.com/custody-dev/custody/internal/atomicfile"
)

// DefaultStateFile is the state file's path relative to the workspace.
const DefaultStateFile = ".custody/attestation.json"

// lockRetry is how often a writer waiting for the state lock retries.
const lockRetry = 10 * time.Millisecond

// FileStore keeps the state in one file, written atomically (temp file, fsync, rename) under an
// exclusive lock on a sibling lock file, so parallel steps on one runner serialize and a killed
// process never leaves a torn file.
type FileStore struct {
	path string
}

// NewFileStore returns a store at path.
func NewFileStore(path string) *FileStore { return &FileStore{path: path} }

// WorkspaceStateFile resolves the state file: an explicit path wins; otherwise the workspace is
// GITHUB_WORKSPACE, CI_PROJECT_DIR or dir (the current directory), in that order.
func WorkspaceStateFile(getenv func(string) string, explicit, dir string) string {
	if explicit != "" {
		return explicit
	}
	for _, name := range []string{"GITHUB_WORKSPACE", "CI_PROJECT_DIR"} {
		if ws := getenv(name); ws != "" {
			return filepath.Join(ws, DefaultStateFile)
		}
	}
	return filepath.Join(dir, DefaultStateFile)
}

// Location is the state file's path.
func (s *FileStore) Location() string { return s.path }

// Load reads the state file.
func (s *FileStore) Load(_ context.Context) (*State, string, error) {
	b, err := os.ReadFile(s.path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, "", ErrNoState
	}
	if err != nil {
		return nil, "", fmt.Errorf("read state file: %w", err)
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
		if err := s.check(base); err != nil {
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
		if err := s.check(base); err != nil {
			return err
		}
		if err := os.Remove(s.path); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("remove state file: %w", err)
		}
		return nil
	})
}

// check compares the file's current digest with base ("" means the file must not exist).
func (s *FileStore) check(base string) error {
	b, err := os.ReadFile(s.path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		if base != "" {
			return ErrStale
		}
		return nil
	case err != nil:
		return fmt.Errorf("read state file: %w", err)
	case digestOf(b) != base:
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

// rawDigest is the digest of the state file's bytes, readable or not.
func (s *FileStore) rawDigest(_ context.Context) (string, error) {
	b, err := os.ReadFile(s.path)
	if err != nil {
		return "", fmt.Errorf("read state file: %w", err)
	}
	return digestOf(b), nil
}
