package cas

import (
	"context"
	"errors"
	"io"
)

// Errors of a Backend.
var (
	// ErrNotFound: no blob with that digest.
	ErrNotFound = errors.New("blob not found")
	// ErrDigestMismatch: the bytes received do not hash to the digest claimed.
	ErrDigestMismatch = errors.New("digest mismatch")
	// ErrTooLarge: the blob is larger than the store accepts.
	ErrTooLarge = errors.New("blob too large")
)

// Backend stores blobs by sha256 digest. A blob is visible only once complete and verified: a failed
// or interrupted Put leaves nothing behind.
type Backend interface {
	// Stat returns the size of the blob, or ErrNotFound.
	Stat(ctx context.Context, d Digest) (int64, error)
	// Open returns the blob's bytes and size, or ErrNotFound.
	Open(ctx context.Context, d Digest) (io.ReadCloser, int64, error)
	// Put reads r to the end, hashing it once, and stores the bytes under their sha256. Before the
	// blob becomes visible, check (when not nil) is called with what was received: a digest the
	// client claimed only now (an HTTP trailer) is compared there. If check or r fails, nothing is
	// stored. Storing a blob that exists succeeds and keeps one copy.
	Put(ctx context.Context, r io.Reader, check func(Hashed) error) (Hashed, error)
	// Location names the backend for logs and readiness ("file:///data/cas", "oci://host/repo").
	Location() string
}
