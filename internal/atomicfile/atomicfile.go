// Package atomicfile writes files so that readers see the old bytes or the new ones, never a mix,
// even when the writer is killed half way.
package atomicfile

import (
	"fmt"
	"os"
	"path/filepath"
)

// Write writes data to a temp file beside path, fsyncs it, renames it over path and fsyncs the
// directory. The file gets perm (the temp file's mode is set before the rename).
func Write(path string, data []byte, perm os.FileMode) error {
	s, err := Stage(path, data, perm)
	if err != nil {
		return err
	}
	defer s.Discard()
	return s.Commit()
}

// Staged is a file written and synced beside its path, not yet in place: Commit puts it there,
// Discard removes it. For a file that must appear only once something else succeeded.
type Staged struct {
	path, tmp string
}

// Stage writes data to a temp file beside path with perm and fsyncs it; path is not touched.
func Stage(path string, data []byte, perm os.FileMode) (*Staged, error) {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+"-*.tmp")
	if err != nil {
		return nil, fmt.Errorf("create temp file for %s: %w", path, err)
	}
	s := &Staged{path: path, tmp: tmp.Name()}
	if err := write(tmp, data, perm); err != nil {
		os.Remove(s.tmp)
		return nil, err
	}
	return s, nil
}

func write(tmp *os.File, data []byte, perm os.FileMode) error {
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return fmt.Errorf("write %s: %w", tmp.Name(), err)
	}
	if err := tmp.Chmod(perm); err != nil {
		tmp.Close()
		return fmt.Errorf("chmod %s: %w", tmp.Name(), err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fmt.Errorf("sync %s: %w", tmp.Name(), err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("close %s: %w", tmp.Name(), err)
	}
	return nil
}

// Commit renames the staged file over its path and fsyncs the directory.
func (s *Staged) Commit() error {
	if err := os.Rename(s.tmp, s.path); err != nil {
		return fmt.Errorf("replace %s: %w", s.path, err)
	}
	if d, err := os.Open(filepath.Dir(s.path)); err == nil {
		_ = d.Sync() // best effort: some filesystems refuse to sync a directory
		d.Close()
	}
	return nil
}

// Discard removes the staged file; after Commit it does nothing.
func (s *Staged) Discard() { os.Remove(s.tmp) }
