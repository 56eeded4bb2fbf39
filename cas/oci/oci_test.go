package oci_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/custody-dev/custody/cas"
	"github.com/custody-dev/custody/cas/casttest"
	"github.com/custody-dev/custody/cas/oci"
	"github.com/custody-dev/custody/internal/registryproc"
)

// inProcess serves go-containerregistry's registry on 127.0.0.1, recording the requests it gets.
func inProcess(t testing.TB) (host string, rec *recorder) {
	t.Helper()
	rec = &recorder{next: registry.New(registry.Logger(log.New(io.Discard, "", 0)))}
	srv := httptest.NewServer(rec)
	t.Cleanup(srv.Close)
	return strings.TrimPrefix(srv.URL, "http://"), rec
}

type recorder struct {
	next http.Handler
	mu   sync.Mutex
	reqs []string
}

func (r *recorder) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	r.mu.Lock()
	r.reqs = append(r.reqs, req.Method+" "+req.URL.Path)
	r.mu.Unlock()
	r.next.ServeHTTP(w, req)
}

// writes returns the requests since the last call that change the registry.
func (r *recorder) writes() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var w []string
	for _, s := range r.reqs {
		if !strings.HasPrefix(s, "GET ") && !strings.HasPrefix(s, "HEAD ") {
			w = append(w, s)
		}
	}
	r.reqs = nil
	return w
}

func repoName(t testing.TB) string {
	t.Helper()
	b := make([]byte, 4)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return "custody-cas/" + hex.EncodeToString(b)
}

func newBackend(t testing.TB, ref string, opts ...oci.Option) *oci.Backend {
	t.Helper()
	opts = append([]oci.Option{oci.WithSpoolDir(t.TempDir())}, opts...)
	b, err := oci.New(context.Background(), ref, opts...)
	if err != nil {
		t.Fatalf("New(%s): %v", ref, err)
	}
	return b
}

// anonymous is a keychain with no credentials, so tests never read the machine's docker config.
type anonymous struct{}

func (anonymous) Resolve(authn.Resource) (authn.Authenticator, error) { return authn.Anonymous, nil }

func TestConformanceInProcessRegistry(t *testing.T) {
	t.Parallel()
	host, _ := inProcess(t)
	casttest.Run(t, func(t *testing.T) cas.Backend {
		return newBackend(t, "oci://"+host+"/"+repoName(t), oci.WithKeychain(anonymous{}))
	})
}

func TestConformanceCraneRegistry(t *testing.T) {
	t.Parallel()
	host := registryproc.Crane(t)
	casttest.Run(t, func(t *testing.T) cas.Backend {
		return newBackend(t, host+"/"+repoName(t), oci.WithKeychain(anonymous{})) // bare host/repo form
	})
}

func TestConformanceDistributionWithBasicAuth(t *testing.T) {
	t.Parallel()
	host := registryproc.Distribution(t, "ci", "pa55word")
	ref := "oci://" + host + "/custody-cas" // one repository shared by every subtest
	casttest.Run(t, func(t *testing.T) cas.Backend {
		return newBackend(t, ref, oci.WithBasicAuth("ci", "pa55word"))
	})
}

// staticKeychain holds credentials for one registry, as a docker config with one entry does.
type staticKeychain struct {
	host string
	auth authn.AuthConfig
}

func (k staticKeychain) Resolve(r authn.Resource) (authn.Authenticator, error) {
	if r.RegistryStr() == k.host {
		return authn.FromConfig(k.auth), nil
	}
	return authn.Anonymous, nil
}

func TestDistributionCredentials(t *testing.T) {
	t.Parallel()
	host := registryproc.Distribution(t, "ci", "pa55word")
	ref := "oci://" + host + "/custody-cas"
	ctx := context.Background()

	// A blob stored with the right credentials, for the reads below.
	good := newBackend(t, ref, oci.WithBasicAuth("ci", "pa55word"))
	stored, err := good.Put(ctx, strings.NewReader("stored with the right credentials"), nil)
	if err != nil {
		t.Fatalf("Put with the right credentials: %v", err)
	}

	tests := []struct {
		name   string
		opts   []oci.Option
		denied bool
	}{
		{"basic auth", []oci.Option{oci.WithBasicAuth("ci", "pa55word")}, false},
		{"keychain", []oci.Option{oci.WithKeychain(staticKeychain{host, authn.AuthConfig{Username: "ci", Password: "pa55word"}})}, false},
		{"no credentials", []oci.Option{oci.WithKeychain(anonymous{})}, true},
		{"wrong password", []oci.Option{oci.WithBasicAuth("ci", "guess")}, true},
		{"unknown user", []oci.Option{oci.WithBasicAuth("mallory", "pa55word")}, true},
		{"keychain with a wrong password", []oci.Option{oci.WithKeychain(staticKeychain{host, authn.AuthConfig{Username: "ci", Password: "guess"}})}, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			b := newBackend(t, ref, tc.opts...)
			_, statErr := b.Stat(ctx, stored.Digest)
			rc, _, openErr := b.Open(ctx, stored.Digest)
			if rc != nil {
				rc.Close()
			}
			_, putErr := b.Put(ctx, strings.NewReader("new blob for "+tc.name), nil)
			for op, err := range map[string]error{"Stat": statErr, "Open": openErr, "Put": putErr} {
				switch {
				case !tc.denied && err != nil:
					t.Errorf("%s: %v", op, err)
				case tc.denied && err == nil:
					t.Errorf("%s succeeded without valid credentials", op)
				case tc.denied && errors.Is(err, cas.ErrNotFound):
					t.Errorf("%s = %v: a refusal must not read as not found", op, err)
				case tc.denied && !strings.Contains(err.Error(), "UNAUTHORIZED"):
					t.Errorf("%s = %v, want the registry's reason UNAUTHORIZED", op, err)
				case tc.denied && !strings.Contains(err.Error(), ref):
					t.Errorf("%s = %v, want the error to name %s", op, err, ref)
				}
			}
		})
	}
}

// manifestOf fetches the artifact a blob is stored as, the way another tool would.
func manifestOf(t *testing.T, ref string, d cas.Digest, auth authn.Authenticator) (v1.Manifest, []byte) {
	t.Helper()
	tag, err := name.ParseReference(strings.TrimPrefix(ref, "oci://") + ":" + oci.Tag(d))
	if err != nil {
		t.Fatal(err)
	}
	desc, err := remote.Get(tag, remote.WithAuth(auth))
	if err != nil {
		t.Fatalf("get %s: %v", tag, err)
	}
	var m v1.Manifest
	if err := json.Unmarshal(desc.Manifest, &m); err != nil {
		t.Fatal(err)
	}
	return m, desc.Manifest
}

func TestArtifactLayout(t *testing.T) {
	t.Parallel()
	inproc, _ := inProcess(t)
	registries := []struct {
		name string
		host func(t *testing.T) string
		auth authn.Authenticator
		opts []oci.Option
	}{
		{"in-process", func(*testing.T) string { return inproc }, authn.Anonymous, []oci.Option{oci.WithKeychain(anonymous{})}},
		{"distribution", func(t *testing.T) string { return registryproc.Distribution(t, "u", "p") },
			&authn.Basic{Username: "u", Password: "p"}, []oci.Option{oci.WithBasicAuth("u", "p")}},
	}
	for _, r := range registries {
		t.Run(r.name, func(t *testing.T) {
			t.Parallel()
			ref := "oci://" + r.host(t) + "/custody-cas"
			b := newBackend(t, ref, r.opts...)
			if b.Location() != ref {
				t.Errorf("Location = %q, want %q", b.Location(), ref)
			}
			h, err := b.Put(context.Background(), strings.NewReader("hello"), nil)
			if err != nil {
				t.Fatal(err)
			}
			if got := oci.Tag(h.Digest); got != "sha256-2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824" {
				t.Errorf("tag = %s", got)
			}
			m, raw := manifestOf(t, ref, h.Digest, r.auth)
			if m.SchemaVersion != 2 || m.MediaType != "application/vnd.oci.image.manifest.v1+json" {
				t.Errorf("manifest %s", raw)
			}
			if m.ArtifactType != "application/vnd.custody.blob.v1" {
				t.Errorf("artifactType = %q in %s", m.ArtifactType, raw)
			}
			if m.Config.MediaType != "application/vnd.oci.empty.v1+json" || m.Config.Size != 2 ||
				m.Config.Digest.String() != "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a" {
				t.Errorf("config = %+v, want the OCI empty descriptor", m.Config)
			}
			if len(m.Layers) != 1 || m.Layers[0].MediaType != "application/octet-stream" ||
				m.Layers[0].Digest.String() != string(h.Digest) || m.Layers[0].Size != 5 {
				t.Errorf("layers = %+v, want the blob alone", m.Layers)
			}
		})
	}
}

func TestDedupSkipsUpload(t *testing.T) {
	t.Parallel()
	host, rec := inProcess(t)
	b := newBackend(t, "oci://"+host+"/cas", oci.WithKeychain(anonymous{}))
	ctx := context.Background()
	if _, err := b.Put(ctx, strings.NewReader("once"), nil); err != nil {
		t.Fatal(err)
	}
	if w := rec.writes(); len(w) == 0 {
		t.Fatal("the first Put wrote nothing")
	}
	if _, err := b.Put(ctx, strings.NewReader("once"), nil); err != nil {
		t.Fatal(err)
	}
	if w := rec.writes(); len(w) != 0 {
		t.Fatalf("the second Put of the same blob wrote %q", w)
	}
}

func TestRejectedPutSendsNothing(t *testing.T) {
	t.Parallel()
	host, rec := inProcess(t)
	b := newBackend(t, "oci://"+host+"/cas", oci.WithKeychain(anonymous{}))
	_, err := b.Put(context.Background(), strings.NewReader("tampered"), func(cas.Hashed) error { return cas.ErrDigestMismatch })
	if !errors.Is(err, cas.ErrDigestMismatch) {
		t.Fatalf("Put = %v", err)
	}
	rec.mu.Lock()
	defer rec.mu.Unlock()
	if len(rec.reqs) != 0 {
		t.Fatalf("a rejected Put sent %q to the registry", rec.reqs)
	}
}

func TestRetaggedBlobIsRewritten(t *testing.T) {
	t.Parallel()
	host, _ := inProcess(t)
	ref := "oci://" + host + "/cas"
	b := newBackend(t, ref, oci.WithKeychain(anonymous{}))
	ctx := context.Background()
	data := []byte("the real blob")
	h, err := cas.Hash(bytes.NewReader(data), nil)
	if err != nil {
		t.Fatal(err)
	}
	// Someone pushes an unrelated image under the blob's tag.
	img, err := random.Image(64, 1)
	if err != nil {
		t.Fatal(err)
	}
	tag, err := name.ParseReference(host + "/cas:" + oci.Tag(h.Digest))
	if err != nil {
		t.Fatal(err)
	}
	if err := remote.Write(tag, img); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Stat(ctx, h.Digest); !errors.Is(err, cas.ErrNotFound) {
		t.Fatalf("Stat of a tag holding something else = %v, want ErrNotFound", err)
	}
	if _, err := b.Put(ctx, bytes.NewReader(data), nil); err != nil {
		t.Fatal(err)
	}
	rc, size, err := b.Open(ctx, h.Digest)
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	got, err := io.ReadAll(rc)
	if err != nil || !bytes.Equal(got, data) || size != int64(len(data)) {
		t.Fatalf("Open after rewrite = %q (%d), %v", got, size, err)
	}
}

func TestNewRefusesConflictingOptions(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	tests := []struct {
		name string
		ref  string
		opts []oci.Option
		want string
	}{
		{"keychain and basic", "oci://127.0.0.1:5000/cas", []oci.Option{oci.WithKeychain(anonymous{}), oci.WithBasicAuth("u", "p")}, "not both"},
		{"empty user", "oci://127.0.0.1:5000/cas", []oci.Option{oci.WithBasicAuth("", "p")}, "empty user"},
		{"tag", "oci://127.0.0.1:5000/cas:latest", nil, "tag"},
		{"other scheme", "https://ghcr.io/org/cas", nil, "scheme"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := oci.New(ctx, tc.ref, tc.opts...)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("New = %v, want an error about %q", err, tc.want)
			}
		})
	}
}

// noNetwork stands for the network under the registry client: it records what would have been
// sent and sends nothing, so the test reaches no address beyond this process.
type noNetwork struct {
	mu   sync.Mutex
	urls []string
}

func (n *noNetwork) RoundTrip(req *http.Request) (*http.Response, error) {
	n.mu.Lock()
	n.urls = append(n.urls, req.URL.String())
	n.mu.Unlock()
	return nil, errors.New("no network in this test")
}

func TestPlainHTTPOnlyToLoopback(t *testing.T) {
	t.Parallel()
	// go-containerregistry falls back to http for private addresses; credentials must not follow.
	for _, host := range []string{"10.1.2.3:5000", "192.168.1.10", "registry.local", "ghcr.io"} {
		t.Run(host, func(t *testing.T) {
			t.Parallel()
			net := &noNetwork{}
			b := newBackend(t, "oci://"+host+"/cas", oci.WithBasicAuth("u", "p"), oci.WithTransport(net))
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			if _, err := b.Stat(ctx, "sha256:2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824"); err == nil {
				t.Fatal("Stat succeeded without a network")
			}
			net.mu.Lock()
			defer net.mu.Unlock()
			if len(net.urls) == 0 {
				t.Fatal("no request attempted")
			}
			for _, u := range net.urls {
				if !strings.HasPrefix(u, "https://") {
					t.Errorf("request sent over plain http: %s", u)
				}
			}
		})
	}
}

func TestInvalidDigest(t *testing.T) {
	t.Parallel()
	b := newBackend(t, "oci://127.0.0.1:1/cas", oci.WithTransport(&noNetwork{}))
	for _, d := range []cas.Digest{"", "sha256:abc", "sha256:../../v2/_catalog"} {
		if _, err := b.Stat(context.Background(), d); err == nil || errors.Is(err, cas.ErrNotFound) {
			t.Errorf("Stat(%q) = %v, want an invalid digest error", d, err)
		}
		if _, _, err := b.Open(context.Background(), d); err == nil || errors.Is(err, cas.ErrNotFound) {
			t.Errorf("Open(%q) = %v, want an invalid digest error", d, err)
		}
	}
}

func TestBlobEqualToTheEmptyConfig(t *testing.T) {
	t.Parallel()
	host, _ := inProcess(t)
	b := newBackend(t, "oci://"+host+"/cas", oci.WithKeychain(anonymous{}))
	h, err := b.Put(context.Background(), strings.NewReader("{}"), nil)
	if err != nil {
		t.Fatalf("Put of the blob {}: %v", err)
	}
	if _, err := b.Stat(context.Background(), h.Digest); err != nil {
		t.Fatal(err)
	}
}

// TestReplicasPutTheSameBlobs: several Backends (custodyd replicas) store the same blobs at once
// in one distribution registry, which does not serialize commits of one blob.
func TestReplicasPutTheSameBlobs(t *testing.T) {
	t.Parallel()
	host := registryproc.Distribution(t, "ci", "pw")
	ref := "oci://" + host + "/custody-cas"
	replicas := make([]*oci.Backend, 4)
	for i := range replicas {
		replicas[i] = newBackend(t, ref, oci.WithBasicAuth("ci", "pw"))
	}
	ctx := context.Background()
	for round := range 5 {
		blobs := [][]byte{make([]byte, 64<<10), make([]byte, 1000)}
		for _, bl := range blobs {
			if _, err := rand.Read(bl); err != nil {
				t.Fatal(err)
			}
		}
		var wg sync.WaitGroup
		errs := make(chan error, len(replicas)*len(blobs))
		for _, r := range replicas {
			for _, bl := range blobs {
				wg.Go(func() {
					_, err := r.Put(ctx, bytes.NewReader(bl), nil)
					errs <- err
				})
			}
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			if err != nil {
				t.Fatalf("round %d: %v", round, err)
			}
		}
		for _, bl := range blobs {
			h, err := cas.Hash(bytes.NewReader(bl), nil)
			if err != nil {
				t.Fatal(err)
			}
			for i, r := range replicas {
				if size, err := r.Stat(ctx, h.Digest); err != nil || size != h.Size {
					t.Fatalf("round %d: replica %d: Stat = %d, %v", round, i, size, err)
				}
			}
		}
	}
}

// redirect is a transport that dials addr whatever host a request names, recording the URLs.
type redirect struct {
	inner http.RoundTripper
	mu    sync.Mutex
	urls  []string
}

func newRedirect(addr string) *redirect {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.DialContext = func(ctx context.Context, network, _ string) (net.Conn, error) {
		return (&net.Dialer{}).DialContext(ctx, network, addr)
	}
	return &redirect{inner: tr}
}

func (r *redirect) RoundTrip(req *http.Request) (*http.Response, error) {
	r.mu.Lock()
	r.urls = append(r.urls, req.URL.String())
	r.mu.Unlock()
	return r.inner.RoundTrip(req)
}

// TestPlainHTTPWhenNamed: a registry on a private network without TLS (a compose project's,
// registry:5000) is reached over plain http with WithPlainHTTP, and refused without it.
func TestPlainHTTPWhenNamed(t *testing.T) {
	t.Parallel()
	addr, _ := inProcess(t)
	const ref = "oci://registry.compose.internal:5000/custody-cas"
	blob := []byte("a blob on a private network")
	sum := sha256.Sum256(blob)
	want := cas.NewDigest(sum[:])

	tr := newRedirect(addr)
	b := newBackend(t, ref, oci.WithKeychain(anonymous{}), oci.WithTransport(tr))
	if _, err := b.Put(context.Background(), bytes.NewReader(blob), nil); err == nil {
		t.Fatal("Put to a plain-http registry without WithPlainHTTP succeeded")
	}
	for _, u := range tr.urls {
		if !strings.HasPrefix(u, "https://") {
			t.Errorf("without WithPlainHTTP, a request over plain http: %s", u)
		}
	}

	tr = newRedirect(addr)
	b = newBackend(t, ref, oci.WithKeychain(anonymous{}), oci.WithTransport(tr), oci.WithPlainHTTP())
	h, err := b.Put(context.Background(), bytes.NewReader(blob), nil)
	if err != nil || h.Digest != want {
		t.Fatalf("Put with WithPlainHTTP: %v, %v", h, err)
	}
	rc, _, err := b.Open(context.Background(), want)
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(rc)
	rc.Close()
	if !bytes.Equal(got, blob) {
		t.Errorf("Open: %q", got)
	}
	// go-containerregistry pings an insecure registry over https first, then speaks http.
	for _, u := range tr.urls {
		if !strings.HasPrefix(u, "http://registry.compose.internal:5000/") && u != "https://registry.compose.internal:5000/v2/" {
			t.Errorf("a request to %s", u)
		}
	}
}
