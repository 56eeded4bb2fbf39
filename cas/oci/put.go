package oci

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/static"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/custody-dev/custody/cas"
)

// emptyConfig is the OCI empty descriptor's content, emptyDigest its digest.
var emptyConfig = []byte("{}")

const emptyDigest cas.Digest = "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a"

// Put spools r to a temp file while hashing it (constant memory), calls check, then uploads the
// blob unless its tag already exists. check's error is returned unchanged; if r, ctx or check
// fails, nothing is sent to the registry.
func (b *Backend) Put(ctx context.Context, r io.Reader, check func(cas.Hashed) error) (cas.Hashed, error) {
	f, err := b.spoolFile()
	if err != nil {
		return cas.Hashed{}, err
	}
	defer func() {
		_ = f.Close()
		_ = os.Remove(f.Name())
	}()
	hashed, err := cas.Hash(ctxReader{ctx: ctx, r: r}, f)
	if err != nil {
		return cas.Hashed{}, fmt.Errorf("oci cas %s: receive blob: %w", b.ref, err)
	}
	if err := f.Close(); err != nil {
		return cas.Hashed{}, fmt.Errorf("oci cas %s: spool blob: %w", b.ref, err)
	}
	if check != nil {
		if err := check(hashed); err != nil {
			return cas.Hashed{}, err
		}
	}
	if err := b.upload(ctx, f.Name(), hashed); err != nil {
		return cas.Hashed{}, err
	}
	return hashed, nil
}

func (b *Backend) upload(ctx context.Context, path string, hashed cas.Hashed) error {
	d := hashed.Digest
	p, err := b.puller(ctx)
	if err != nil {
		return err
	}
	if stored, err := b.exists(ctx, p, d); err != nil || stored {
		return err
	}
	unlock, err := b.inflight.lock(ctx, d)
	if err != nil {
		return fmt.Errorf("oci cas %s: put %s: %w", b.ref, d, err)
	}
	defer unlock()
	// A concurrent Put of the same blob may have stored it while we waited.
	if stored, err := b.exists(ctx, p, d); err != nil || stored {
		return err
	}
	pusher, err := remote.NewPusher(b.options(ctx)...)
	if err != nil {
		return fmt.Errorf("oci cas %s: %w", b.ref, err)
	}
	blobHash, err := v1.NewHash(string(d))
	if err != nil {
		return fmt.Errorf("oci cas %s: %w", b.ref, err)
	}
	raw, err := manifestFor(blobHash, hashed.Size)
	if err != nil {
		return fmt.Errorf("oci cas %s: %w", b.ref, err)
	}
	layer := fileLayer{path: path, digest: blobHash, size: hashed.Size}
	return retryRace(ctx, func() error {
		if err := pusher.Upload(ctx, b.repo, layer); err != nil {
			return b.fail("put (upload blob)", d, err)
		}
		if err := b.uploadEmptyConfig(ctx, pusher, d); err != nil {
			return err
		}
		if err := pusher.Put(ctx, b.repo.Tag(Tag(d)), raw); err != nil {
			return b.fail("put (tag manifest)", d, err)
		}
		return nil
	})
}

// exists reports whether blob d is stored (its tag holds it).
func (b *Backend) exists(ctx context.Context, p *remote.Puller, d cas.Digest) (bool, error) {
	_, err := b.stat(ctx, p, "put", d)
	if errors.Is(err, cas.ErrNotFound) {
		return false, nil
	}
	return err == nil, err
}

func (b *Backend) uploadEmptyConfig(ctx context.Context, pusher *remote.Pusher, d cas.Digest) error {
	if d == emptyDigest {
		return nil // the blob is "{}" itself, uploaded already (and locked by our caller)
	}
	unlock, err := b.inflight.lock(ctx, emptyDigest)
	if err != nil {
		return fmt.Errorf("oci cas %s: put %s: %w", b.ref, d, err)
	}
	defer unlock()
	if err := pusher.Upload(ctx, b.repo, static.NewLayer(emptyConfig, EmptyMediaType)); err != nil {
		return b.fail("put (upload empty config)", d, err)
	}
	return nil
}

// manifestFor returns the artifact manifest of a blob (see the package comment).
func manifestFor(blob v1.Hash, size int64) (rawManifest, error) {
	emptyHash, err := v1.NewHash(string(emptyDigest))
	if err != nil {
		return nil, fmt.Errorf("empty config digest: %w", err)
	}
	m := v1.Manifest{
		SchemaVersion: 2,
		MediaType:     types.OCIManifestSchema1,
		ArtifactType:  ArtifactType,
		Config:        v1.Descriptor{MediaType: EmptyMediaType, Digest: emptyHash, Size: int64(len(emptyConfig))},
		Layers:        []v1.Descriptor{{MediaType: BlobMediaType, Digest: blob, Size: size}},
	}
	raw, err := json.Marshal(m)
	if err != nil {
		return nil, fmt.Errorf("encode manifest: %w", err)
	}
	return rawManifest(raw), nil
}

// rawManifest is an OCI image manifest ready to PUT (a remote.Taggable).
type rawManifest []byte

func (m rawManifest) RawManifest() ([]byte, error)        { return m, nil }
func (m rawManifest) MediaType() (types.MediaType, error) { return types.OCIManifestSchema1, nil }

// fileLayer is the spooled blob as a v1.Layer whose digest is known: go-containerregistry uploads it
// by digest, reopening the file on every retry.
type fileLayer struct {
	path   string
	digest v1.Hash
	size   int64
}

func (l fileLayer) Digest() (v1.Hash, error)            { return l.digest, nil }
func (l fileLayer) DiffID() (v1.Hash, error)            { return l.digest, nil }
func (l fileLayer) Size() (int64, error)                { return l.size, nil }
func (l fileLayer) MediaType() (types.MediaType, error) { return BlobMediaType, nil }
func (l fileLayer) Compressed() (io.ReadCloser, error)  { return l.open() }
func (l fileLayer) Uncompressed() (io.ReadCloser, error) {
	return l.open()
}

func (l fileLayer) open() (io.ReadCloser, error) {
	f, err := os.Open(l.path)
	if err != nil {
		return nil, fmt.Errorf("open spooled blob: %w", err)
	}
	return f, nil
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
