// Package oci is the content-addressed store's backend in an OCI registry (GHCR, ECR, Harbor, the
// distribution registry, ...), through go-containerregistry.
//
// Layout in the repository named by "oci://registry.example.com/custody-cas": each blob is an OCI
// artifact, so registries keep it (garbage collection spares tagged manifests) and people can find
// it with the tools they know (`crane manifest`, `oras pull`):
//
//	tag      sha256-<64 hex>                           the blob's digest, ':' replaced by '-'
//	manifest application/vnd.oci.image.manifest.v1+json
//	         artifactType application/vnd.custody.blob.v1
//	config   application/vnd.oci.empty.v1+json         the empty descriptor ("{}", 2 bytes)
//	layers   [application/octet-stream, the blob]      exactly one, digest = the blob's digest
//
// A blob is stored when its tag exists and points at a manifest whose single layer is the blob;
// Stat and Open read the tag (Open then streams the layer by digest, verified while read). Put
// spools the stream to a local temp file while hashing (registries want the digest before the
// upload ends, and a mismatched blob must never reach them), runs the caller's check, then uploads
// the layer, the empty config and the manifest last: an interrupted Put leaves at most an
// untagged blob, which is invisible here and collected by the registry's GC. Puts of one blob are
// serialized within a Backend; across replicas, a registry that briefly reports a blob unknown
// while another client commits the same one (the distribution registry does) is retried.
//
// Credentials come from a keychain (the docker config by default) or explicit basic auth. Plain
// http is used only for loopback registries (127.0.0.1, ::1, localhost), or for a registry the
// caller names with WithPlainHTTP (one on a private network without TLS); elsewhere only https.
package oci

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"

	"github.com/custody-dev/custody/cas"
)

// Media types of the artifacts the backend writes.
const (
	ArtifactType   = "application/vnd.custody.blob.v1"
	BlobMediaType  = "application/octet-stream"
	EmptyMediaType = "application/vnd.oci.empty.v1+json"
)

// Backend stores blobs as OCI artifacts in one repository. It is safe for concurrent use.
type Backend struct {
	ref      Ref
	repo     name.Repository
	auth     remote.Option
	base     http.RoundTripper
	spoolDir string
	inflight inflight
}

var _ cas.Backend = (*Backend)(nil)

// Option configures a Backend.
type Option func(*config) error

type config struct {
	keychain  authn.Keychain
	basic     *authn.Basic
	transport http.RoundTripper
	spoolDir  string
	plainHTTP bool
}

// WithPlainHTTP speaks plain http to the registry, wherever it is: for a registry on a private
// network that serves no TLS (the distribution registry beside custodyd in a compose project).
// Blobs are checked by their digest either way; credentials, if any, travel in the clear.
func WithPlainHTTP() Option {
	return func(c *config) error {
		c.plainHTTP = true
		return nil
	}
}

// WithKeychain resolves credentials from kc (default: authn.DefaultKeychain, the docker config
// and its credential helpers). Credentials are resolved for every operation, so rotated ones
// (ECR tokens, credential helpers) are picked up.
func WithKeychain(kc authn.Keychain) Option {
	return func(c *config) error {
		if kc == nil {
			return errors.New("nil keychain")
		}
		c.keychain = kc
		return nil
	}
}

// WithBasicAuth authenticates with a user name and password (or token) instead of a keychain.
func WithBasicAuth(user, password string) Option {
	return func(c *config) error {
		if user == "" {
			return errors.New("basic auth: empty user name")
		}
		c.basic = &authn.Basic{Username: user, Password: password}
		return nil
	}
}

// WithTransport sets the HTTP transport under the registry protocol (a custom CA, a proxy).
// Default: remote.DefaultTransport.
func WithTransport(rt http.RoundTripper) Option {
	return func(c *config) error {
		if rt == nil {
			return errors.New("nil transport")
		}
		c.transport = rt
		return nil
	}
}

// WithSpoolDir sets where Put spools blobs before uploading them (default: os.TempDir()). It must
// hold the largest blob accepted.
func WithSpoolDir(dir string) Option {
	return func(c *config) error {
		if dir == "" {
			return errors.New("empty spool directory")
		}
		c.spoolDir = dir
		return nil
	}
}

// New returns a backend for ref ("oci://registry.example.com/custody-cas" or the bare
// "registry.example.com/custody-cas"). It does not contact the registry: the first operation
// does, and reports the registry's reason (UNAUTHORIZED, NAME_UNKNOWN, ...) when it fails.
func New(_ context.Context, ref string, opts ...Option) (*Backend, error) {
	r, err := ParseRef(ref)
	if err != nil {
		return nil, err
	}
	var c config
	for _, opt := range opts {
		if err := opt(&c); err != nil {
			return nil, fmt.Errorf("oci cas %s: %w", r, err)
		}
	}
	if c.keychain != nil && c.basic != nil {
		return nil, fmt.Errorf("oci cas %s: choose a keychain or basic auth, not both", r)
	}
	nameOpts := []name.Option{name.StrictValidation}
	if c.plainHTTP {
		nameOpts = append(nameOpts, name.Insecure)
	}
	reg, err := name.NewRegistry(r.Registry, nameOpts...)
	if err != nil {
		return nil, fmt.Errorf("oci cas %s: %w", r, err)
	}
	b := &Backend{
		ref:      r,
		repo:     reg.Repo(r.Repository),
		auth:     remote.WithAuthFromKeychain(authn.DefaultKeychain),
		base:     remote.DefaultTransport,
		spoolDir: c.spoolDir,
	}
	switch {
	case c.basic != nil:
		b.auth = remote.WithAuth(c.basic)
	case c.keychain != nil:
		b.auth = remote.WithAuthFromKeychain(c.keychain)
	}
	if c.transport != nil {
		b.base = c.transport
	}
	b.base = tlsGuard{inner: b.base, allowHTTP: c.plainHTTP || loopback(r.Registry)}
	return b, nil
}

// Location returns the oci:// reference of the repository.
func (b *Backend) Location() string { return b.ref.String() }

// Tag returns the tag under which blob d is stored: "sha256-<hex>".
func Tag(d cas.Digest) string { return "sha256-" + d.Hex() }

func (b *Backend) options(ctx context.Context) []remote.Option {
	return []remote.Option{
		remote.WithContext(ctx),
		b.auth,
		remote.WithTransport(b.base),
		remote.WithUserAgent("custody"),
	}
}

func (b *Backend) puller(ctx context.Context) (*remote.Puller, error) {
	p, err := remote.NewPuller(b.options(ctx)...)
	if err != nil {
		return nil, fmt.Errorf("oci cas %s: %w", b.ref, err)
	}
	return p, nil
}

// Stat returns the size of blob d, or cas.ErrNotFound.
func (b *Backend) Stat(ctx context.Context, d cas.Digest) (int64, error) {
	if _, err := cas.ParseDigest(string(d)); err != nil {
		return 0, fmt.Errorf("oci cas %s: %w", b.ref, err)
	}
	p, err := b.puller(ctx)
	if err != nil {
		return 0, err
	}
	return b.stat(ctx, p, "stat", d)
}

// stat reads the tag of d; op names the caller's operation in errors.
func (b *Backend) stat(ctx context.Context, p *remote.Puller, op string, d cas.Digest) (int64, error) {
	desc, err := p.Get(ctx, b.repo.Tag(Tag(d)))
	if err != nil {
		return 0, b.fail(op, d, err)
	}
	var m v1.Manifest
	if err := json.Unmarshal(desc.Manifest, &m); err != nil {
		return 0, fmt.Errorf("oci cas %s: %s %s: tag %s: manifest: %w", b.ref, op, d, Tag(d), err)
	}
	if len(m.Layers) != 1 || m.Layers[0].Digest.String() != string(d) {
		// Not ours (someone re-tagged it): report it absent, so a Put writes it again.
		return 0, fmt.Errorf("oci cas %s: %s %s: tag %s does not hold this blob: %w", b.ref, op, d, Tag(d), cas.ErrNotFound)
	}
	return m.Layers[0].Size, nil
}

// Open streams blob d, or returns cas.ErrNotFound. The bytes are checked against d while read: a
// registry serving other bytes makes the last Read fail.
func (b *Backend) Open(ctx context.Context, d cas.Digest) (io.ReadCloser, int64, error) {
	if _, err := cas.ParseDigest(string(d)); err != nil {
		return nil, 0, fmt.Errorf("oci cas %s: %w", b.ref, err)
	}
	p, err := b.puller(ctx)
	if err != nil {
		return nil, 0, err
	}
	size, err := b.stat(ctx, p, "open", d)
	if err != nil {
		return nil, 0, err
	}
	layer, err := p.Layer(ctx, b.repo.Digest(string(d)))
	if err != nil {
		return nil, 0, b.fail("open", d, err)
	}
	var rc io.ReadCloser
	// The tag is there, so the blob is: BLOB_UNKNOWN here is another client committing the same
	// blob at this moment (see inflight), retried a few times.
	err = retryRace(ctx, func() (err error) {
		rc, err = layer.Compressed()
		return err
	})
	if err != nil {
		return nil, 0, b.fail("open", d, err)
	}
	return rc, size, nil
}

// fail wraps a registry error, mapping "not there" (404: MANIFEST_UNKNOWN, BLOB_UNKNOWN,
// NAME_UNKNOWN) to cas.ErrNotFound. Other errors keep the registry's code and message.
func (b *Backend) fail(op string, d cas.Digest, err error) error {
	var terr *transport.Error
	if errors.As(err, &terr) && terr.StatusCode == http.StatusNotFound {
		return fmt.Errorf("oci cas %s: %s %s: %w (%v)", b.ref, op, d, cas.ErrNotFound, terr)
	}
	return fmt.Errorf("oci cas %s: %s %s: %w", b.ref, op, d, err)
}

// tlsGuard refuses plain http except to loopback registries and one named with WithPlainHTTP:
// go-containerregistry would also fall back to http for private (RFC 1918) addresses, sending
// credentials in the clear.
type tlsGuard struct {
	inner     http.RoundTripper
	allowHTTP bool
}

func (g tlsGuard) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.URL.Scheme != "https" && !g.allowHTTP {
		if req.Body != nil {
			_ = req.Body.Close()
		}
		return nil, fmt.Errorf("refusing %s://%s: only loopback registries are reached without TLS", req.URL.Scheme, req.URL.Host)
	}
	return g.inner.RoundTrip(req)
}

// spoolFile creates the temp file Put receives into.
func (b *Backend) spoolFile() (*os.File, error) {
	f, err := os.CreateTemp(b.spoolDir, "custody-oci-spool-*")
	if err != nil {
		return nil, fmt.Errorf("oci cas %s: create spool file: %w", b.ref, err)
	}
	return f, nil
}
