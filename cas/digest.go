// Package cas is custody's content-addressed storage: digests, and (later) the clients and backends
// that move blobs by digest.
package cas

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
)

// BufferSize is the read size of the streaming hash: large enough to amortize syscalls, small enough
// to keep memory flat whatever the file's size.
const BufferSize = 1 << 20

// Digest is a "sha256:<64 hex>" content digest.
type Digest string

// NewDigest formats a sha256 sum as a Digest.
func NewDigest(sum []byte) Digest { return Digest("sha256:" + hex.EncodeToString(sum)) }

// ParseDigest checks s is "sha256:" followed by 64 lowercase hex characters.
func ParseDigest(s string) (Digest, error) {
	hexPart, ok := strings.CutPrefix(s, "sha256:")
	if !ok {
		return "", fmt.Errorf("digest %q: want the form sha256:<64 hex characters>", s)
	}
	if len(hexPart) != sha256.Size*2 || strings.ToLower(hexPart) != hexPart {
		return "", fmt.Errorf("digest %q: want 64 lowercase hex characters after sha256:", s)
	}
	if _, err := hex.DecodeString(hexPart); err != nil {
		return "", fmt.Errorf("digest %q: %w", s, err)
	}
	return Digest(s), nil
}

// Hex returns the hex part of the digest.
func (d Digest) Hex() string { return strings.TrimPrefix(string(d), "sha256:") }

func (d Digest) String() string { return string(d) }

// Hashed is the result of hashing a stream.
type Hashed struct {
	Digest Digest
	Size   int64
}

// Hash reads r to the end through sha256 with one reusable 1 MiB buffer. Every byte read is also
// written to tee when it is not nil (an upload, a progress counter), so one read serves all.
func Hash(r io.Reader, tee io.Writer) (Hashed, error) {
	h := sha256.New()
	var w io.Writer = h
	if tee != nil {
		w = io.MultiWriter(h, tee)
	}
	n, err := copyBuffer(w, r)
	if err != nil {
		return Hashed{}, err
	}
	return Hashed{Digest: NewDigest(h.Sum(nil)), Size: n}, nil
}

// buffers recycles the 1 MiB buffers: a busy control plane hashes many uploads at once, and a
// fresh buffer per upload is garbage the collector pays for.
var buffers = sync.Pool{New: func() any { b := make([]byte, BufferSize); return &b }}

func copyBuffer(w io.Writer, r io.Reader) (int64, error) {
	buf := buffers.Get().(*[]byte)
	defer buffers.Put(buf)
	// io.CopyBuffer would prefer r's WriterTo (os.File's sendfile path) and ignore buf.
	return io.CopyBuffer(struct{ io.Writer }{w}, struct{ io.Reader }{r}, *buf)
}

// HashFile hashes the file at path; see Hash.
func HashFile(path string, tee io.Writer) (Hashed, error) {
	f, err := os.Open(path)
	if err != nil {
		return Hashed{}, fmt.Errorf("open %s: %w", path, err)
	}
	defer f.Close()
	hashed, err := Hash(f, tee)
	if err != nil {
		return Hashed{}, fmt.Errorf("hash %s: %w", path, err)
	}
	return hashed, nil
}
