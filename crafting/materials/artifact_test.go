package materials

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/custody-dev/custody/cas"
	"github.com/custody-dev/custody/contract"
)

func TestCraftFileKinds(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	write := func(name string, content []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, content, 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	small := []byte("rootfs\n")
	// Larger than cas.BufferSize, so the hash takes several reads.
	large := bytes.Repeat([]byte("0123456789abcdef"), cas.BufferSize/16*2+3)
	files := map[string][]byte{
		write("rootfs.tar.gz", small): small,
		write("big.bin", large):       large,
		write("empty.txt", nil):       nil,
	}
	missing := filepath.Join(dir, "missing.tar.gz")

	for _, kind := range []contract.Kind{contract.KindArtifact, contract.KindEvidence} {
		for path, content := range files {
			t.Run(string(kind)+"/"+filepath.Base(path), func(t *testing.T) {
				t.Parallel()
				m, err := newIsolatedCrafter(t, Options{}).Craft(t.Context(), kind, path)
				if err != nil {
					t.Fatal(err)
				}
				sum := sha256.Sum256(content)
				want := "sha256:" + hex.EncodeToString(sum[:])
				if m.Kind != kind || m.Digest != want || m.Value != filepath.Base(path) {
					t.Errorf("material = %s %q %s, want %s %q %s", m.Kind, m.Value, m.Digest, kind, filepath.Base(path), want)
				}
				if m.File == nil || m.File.Size != int64(len(content)) || m.File.Name != filepath.Base(path) || m.File.Uploaded {
					t.Errorf("File = %+v, want %s of %d bytes, not uploaded", m.File, filepath.Base(path), len(content))
				}
			})
		}
		t.Run(string(kind)+"/errors", func(t *testing.T) {
			t.Parallel()
			for _, tc := range []struct {
				value   string
				wantErr []string
			}{
				{value: missing, wantErr: []string{missing, "no such file"}},
				{value: dir, wantErr: []string{dir, "is a directory, not a file"}},
			} {
				_, err := newIsolatedCrafter(t, Options{}).Craft(t.Context(), kind, tc.value)
				var kerr *Error
				if !errors.As(err, &kerr) || kerr.Kind != kind {
					t.Fatalf("Craft(%q) error = %v, want a %s *Error", tc.value, err, kind)
				}
				for _, s := range tc.wantErr {
					if !strings.Contains(err.Error(), s) {
						t.Errorf("error %q does not mention %q", err, s)
					}
				}
			}
		})
	}
}

// memoryStore is an in-memory content-addressed store: it keeps what it is sent by digest.
type memoryStore struct {
	mu    sync.Mutex
	blobs map[cas.Digest][]byte
}

func (s *memoryStore) UploadBlob(_ context.Context, body func() (io.Reader, error)) (cas.Hashed, error) {
	r, err := body()
	if err != nil {
		return cas.Hashed{}, err
	}
	var buf bytes.Buffer
	hashed, err := cas.Hash(r, &buf)
	if err != nil {
		return cas.Hashed{}, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.blobs[hashed.Digest] = buf.Bytes()
	return hashed, nil
}

func TestCraftFileUploads(t *testing.T) {
	t.Parallel()
	content := []byte("evidence of a build\n")
	path := filepath.Join(t.TempDir(), "build.log")
	if err := os.WriteFile(path, content, 0o644); err != nil {
		t.Fatal(err)
	}
	store := &memoryStore{blobs: map[cas.Digest][]byte{}}
	m, err := newIsolatedCrafter(t, Options{Uploader: store}).Craft(t.Context(), contract.KindEvidence, path)
	if err != nil {
		t.Fatal(err)
	}
	if !m.File.Uploaded {
		t.Error("File.Uploaded = false with an uploader")
	}
	if got := store.blobs[cas.Digest(m.Digest)]; !bytes.Equal(got, content) {
		t.Errorf("store holds %q under %s, want the file's bytes", got, m.Digest)
	}
}
