// Package materials turns a value given to `custody attestation add` into a recorded material: one
// file per kind validates the value with its format's own library and describes it.
package materials

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"

	"github.com/custody-dev/custody/attestation"
	"github.com/custody-dev/custody/cas"
	"github.com/custody-dev/custody/contract"
	"github.com/custody-dev/custody/internal/input"
)

// Uploader stores a file's bytes in a content-addressed store while they are hashed, in one read.
// The control plane's client implements it; without one nothing leaves the machine.
type Uploader interface {
	// UploadBlob streams the bytes body returns to the store and returns what the store verified it
	// received. body is called again, from the start, when a transient failure restarts the upload.
	UploadBlob(ctx context.Context, body func() (io.Reader, error)) (cas.Hashed, error)
}

// Options configure a Crafter. The zero value works offline with the local docker keychain.
type Options struct {
	// Keychain resolves registry credentials; nil means authn.DefaultKeychain (~/.docker/config.json).
	Keychain authn.Keychain
	// Transport is the HTTP transport to registries; nil means the default.
	Transport http.RoundTripper
	// Uploader receives file materials; nil hashes only.
	Uploader Uploader
	// Progress, when not nil, receives a progress line for large files.
	Progress io.Writer
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// Crafter crafts materials of every kind.
type Crafter struct {
	opts Options
}

// New returns a Crafter.
func New(opts Options) *Crafter {
	if opts.Keychain == nil {
		opts.Keychain = authn.DefaultKeychain
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	return &Crafter{opts: opts}
}

// WithoutUpload returns a crafter that hashes only: for materials the contract keeps out of the CAS
// (skipUpload).
func (c *Crafter) WithoutUpload() *Crafter {
	opts := c.opts
	opts.Uploader = nil
	return &Crafter{opts: opts}
}

// ErrNotThisKind is wrapped by a validator's error when the value is not of its kind at all (as
// opposed to being of its kind but broken). Detection moves on past it.
var ErrNotThisKind = errors.New("not this kind")

// Error is a value rejected as a kind, with the reason.
type Error struct {
	Kind  contract.Kind
	Value string
	Err   error
}

func (e *Error) Error() string { return fmt.Sprintf("%s %q: %v", e.Kind, e.Value, e.Err) }
func (e *Error) Unwrap() error { return e.Err }

// craftFunc validates value as one kind and returns the material, without name, output or annotations.
type craftFunc func(ctx context.Context, c *Crafter, value string) (*attestation.Material, error)

// crafters maps each kind to its craft function; detection order is in detect.go.
var crafters = map[contract.Kind]craftFunc{}

func register(kind contract.Kind, fn craftFunc) { crafters[kind] = fn }

// Craft validates value as kind and returns the recorded material.
func (c *Crafter) Craft(ctx context.Context, kind contract.Kind, value string) (*attestation.Material, error) {
	fn, ok := crafters[kind]
	if !ok {
		return nil, fmt.Errorf("material kind %q: unknown kind", kind)
	}
	return c.craft(ctx, kind, value, fn)
}

// craft runs fn, the craft function of kind, under recoverValidator.
func (c *Crafter) craft(ctx context.Context, kind contract.Kind, value string, fn craftFunc) (*attestation.Material, error) {
	m, err := recoverValidator(kind, func() (*attestation.Material, error) { return fn(ctx, c, value) })
	if err != nil {
		var kerr *Error
		if errors.As(err, &kerr) {
			return nil, err
		}
		return nil, &Error{Kind: kind, Value: value, Err: err}
	}
	m.Kind = kind
	m.AddedAt = c.opts.Now().UTC()
	return m, nil
}

// recoverValidator runs validate and turns a panic inside it (a library's bug met on an unusual
// file) into an error naming kind: a validator's crash is an invalid input (exit 3), never a crash
// of the CLI. The error does not wrap ErrNotThisKind, so detection stops at it.
func recoverValidator[T any](kind contract.Kind, validate func() (T, error)) (result T, err error) {
	defer func() {
		if r := recover(); r != nil {
			var zero T
			result, err = zero, fmt.Errorf("the %s validator failed on this file: %v", kind, r)
		}
	}()
	return validate()
}

// validatorHook, when set, runs on each file before its validator. Only a test build sets it
// (testhook.go, build tag custody_testhook), to make a validator panic through the real CLI.
var validatorHook func(f *os.File)

// validator checks an opened file is of one kind and says what it established.
// It returns an error wrapping ErrNotThisKind when the file is plainly another format.
type validator func(f *os.File) (map[string]string, error)

// craftFile validates the file at path, then hashes it (uploading it when an Uploader is set).
func (c *Crafter) craftFile(ctx context.Context, path string, validate validator) (*attestation.Material, error) {
	f, release, err := input.Open(ctx, path)
	if err != nil {
		return nil, fmt.Errorf("open file: %w", err)
	}
	defer release()
	info, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("stat file: %w", err)
	}
	if info.IsDir() {
		return nil, fmt.Errorf("%s is a directory, not a file", path)
	}
	var validated map[string]string
	if validate != nil {
		if validatorHook != nil {
			validatorHook(f)
		}
		if validated, err = validate(f); err != nil {
			return nil, err
		}
		if _, err := f.Seek(0, io.SeekStart); err != nil {
			return nil, fmt.Errorf("rewind file: %w", err)
		}
	}
	hashed, uploaded, err := c.hash(ctx, f, info)
	if err != nil {
		return nil, err
	}
	return &attestation.Material{
		Value:     filepath.Base(path),
		Digest:    string(hashed.Digest),
		File:      &attestation.File{Name: filepath.Base(path), Size: hashed.Size, Uploaded: uploaded},
		Validated: validated,
	}, nil
}

// hash reads f once: through sha256, the uploader when there is one, and the progress line.
func (c *Crafter) hash(ctx context.Context, f *os.File, info os.FileInfo) (cas.Hashed, bool, error) {
	// A file of any size is hashed, so the read stops when ctx is cancelled (SIGINT, SIGTERM).
	r := input.Reader(ctx, f)
	var done func(cas.Hashed)
	if c.opts.Progress != nil && info.Size() >= progressThreshold {
		p := newProgress(c.opts.Progress, info.Name(), info.Size(), c.opts.Now)
		r = io.TeeReader(r, p)
		done = p.done
	}
	if c.opts.Uploader != nil {
		hashed, err := c.opts.Uploader.UploadBlob(ctx, func() (io.Reader, error) {
			if _, err := f.Seek(0, io.SeekStart); err != nil {
				return nil, err
			}
			return r, nil
		})
		if err != nil {
			return cas.Hashed{}, false, fmt.Errorf("upload %s: %w", info.Name(), err)
		}
		if done != nil {
			done(hashed)
		}
		return hashed, true, nil
	}
	hashed, err := cas.Hash(r, nil)
	if err != nil {
		return cas.Hashed{}, false, fmt.Errorf("hash %s: %w", info.Name(), err)
	}
	if done != nil {
		done(hashed)
	}
	return hashed, false, nil
}
