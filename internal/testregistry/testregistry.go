// Package testregistry runs go-containerregistry's in-memory OCI registry on 127.0.0.1 for tests,
// optionally behind HTTP basic auth, and pushes random images to it.
package testregistry

import (
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"
)

// Registry is a running in-memory registry.
type Registry struct {
	// Host is "127.0.0.1:PORT", the registry part of image references to it.
	Host string
	// URL is "http://127.0.0.1:PORT".
	URL  string
	auth authn.Authenticator
}

// Option configures a Registry.
type Option func(*config)

type config struct {
	user, password string
	omitHeadDigest bool
}

// WithBasicAuth makes the registry refuse every request without these credentials, answering
// 401 with `WWW-Authenticate: Basic realm=...` and an UNAUTHORIZED error body, as a registry
// behind htpasswd does.
func WithBasicAuth(user, password string) Option {
	return func(c *config) { c.user, c.password = user, password }
}

// WithoutHeadDigest makes the registry leave the Docker-Content-Digest header out of its answers
// to HEAD requests for manifests, as some registries and proxies do.
func WithoutHeadDigest() Option {
	return func(c *config) { c.omitHeadDigest = true }
}

// New starts a registry on a free port of 127.0.0.1, closed when the test ends.
func New(t testing.TB, opts ...Option) *Registry {
	t.Helper()
	var cfg config
	for _, opt := range opts {
		opt(&cfg)
	}
	var h http.Handler = registry.New(registry.Logger(log.New(io.Discard, "", 0)))
	if cfg.omitHeadDigest {
		h = withoutHeadDigest(h)
	}
	r := &Registry{auth: authn.Anonymous}
	if cfg.user != "" {
		h = basicAuth(h, cfg.user, cfg.password)
		r.auth = &authn.Basic{Username: cfg.user, Password: cfg.password}
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	r.URL = srv.URL
	r.Host = strings.TrimPrefix(srv.URL, "http://")
	return r
}

func basicAuth(next http.Handler, user, password string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		u, p, ok := req.BasicAuth()
		if ok && subtle.ConstantTimeCompare([]byte(u), []byte(user)) == 1 &&
			subtle.ConstantTimeCompare([]byte(p), []byte(password)) == 1 {
			next.ServeHTTP(w, req)
			return
		}
		w.Header().Set("WWW-Authenticate", `Basic realm="testregistry"`)
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusUnauthorized)
		_, _ = io.WriteString(w, `{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}`)
	})
}

func withoutHeadDigest(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		if req.Method == http.MethodHead && strings.Contains(req.URL.Path, "/manifests/") {
			w = headerDropper{ResponseWriter: w, header: "Docker-Content-Digest"}
		}
		next.ServeHTTP(w, req)
	})
}

// headerDropper removes one header just before the status line is written.
type headerDropper struct {
	http.ResponseWriter
	header string
}

func (d headerDropper) WriteHeader(status int) {
	d.Header().Del(d.header)
	d.ResponseWriter.WriteHeader(status)
}

func (d headerDropper) Write(b []byte) (int, error) {
	d.Header().Del(d.header)
	return d.ResponseWriter.Write(b)
}

// Ref returns the reference "HOST/repoTag" to an image of this registry.
func (r *Registry) Ref(repoTag string) string { return r.Host + "/" + repoTag }

// PushRandom pushes a random one-layer image to repoTag ("team/app:v1") and returns the digest of
// its manifest ("sha256:...").
func (r *Registry) PushRandom(t testing.TB, repoTag string) string {
	t.Helper()
	ref, err := name.ParseReference(r.Ref(repoTag))
	if err != nil {
		t.Fatalf("parse reference: %v", err)
	}
	img, err := random.Image(256, 1)
	if err != nil {
		t.Fatalf("random image: %v", err)
	}
	if err := remote.Write(ref, img, remote.WithAuth(r.auth)); err != nil {
		t.Fatalf("push %s: %v", ref, err)
	}
	digest, err := img.Digest()
	if err != nil {
		t.Fatalf("digest: %v", err)
	}
	return digest.String()
}

// PushRandomIndex pushes a random multi-platform image (an index of count images) to repoTag and
// returns the digest of the index.
func (r *Registry) PushRandomIndex(t testing.TB, repoTag string, count int64) string {
	t.Helper()
	ref, err := name.ParseReference(r.Ref(repoTag))
	if err != nil {
		t.Fatalf("parse reference: %v", err)
	}
	idx, err := random.Index(256, 1, count)
	if err != nil {
		t.Fatalf("random index: %v", err)
	}
	if err := remote.WriteIndex(ref, idx, remote.WithAuth(r.auth)); err != nil {
		t.Fatalf("push %s: %v", ref, err)
	}
	digest, err := idx.Digest()
	if err != nil {
		t.Fatalf("digest: %v", err)
	}
	return digest.String()
}

// WriteDockerConfig writes a docker config.json, as `docker login host` does, holding user and
// password for host, in a new temporary directory it returns (the DOCKER_CONFIG directory).
func WriteDockerConfig(t testing.TB, host, user, password string) string {
	t.Helper()
	dir := t.TempDir()
	cfg := map[string]any{
		"auths": map[string]any{
			host: map[string]string{"auth": base64.StdEncoding.EncodeToString([]byte(user + ":" + password))},
		},
	}
	b, err := json.MarshalIndent(cfg, "", "\t")
	if err != nil {
		t.Fatalf("docker config: %v", err)
	}
	if err := os.WriteFile(filepath.Join(dir, "config.json"), b, 0o600); err != nil {
		t.Fatalf("write docker config: %v", err)
	}
	return dir
}
