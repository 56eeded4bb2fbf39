package materials

import (
	"context"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/random"

	"github.com/custody-dev/custody/attestation"
	"github.com/custody-dev/custody/contract"
	"github.com/custody-dev/custody/internal/testregistry"
)

var fixedNow = time.Date(2025, 3, 14, 15, 9, 26, 0, time.UTC)

// newIsolatedCrafter returns a Crafter with a fixed clock and the keychain of a docker config
// directory that has no config.json (anonymous access), whatever the machine's ~/.docker holds.
func newIsolatedCrafter(t *testing.T, opts Options) *Crafter {
	t.Helper()
	if opts.Keychain == nil {
		opts.Keychain = DockerConfigKeychain(t.TempDir())
	}
	if opts.Now == nil {
		opts.Now = func() time.Time { return fixedNow }
	}
	return New(opts)
}

func TestCraftImageFromRegistry(t *testing.T) {
	t.Parallel()
	reg := testregistry.New(t)
	tagged := reg.PushRandom(t, "skynet/control-plane:v0.7.6")
	latest := reg.PushRandom(t, "skynet/control-plane:latest")
	multi := reg.PushRandomIndex(t, "skynet/multi:v1", 3)
	repo := reg.Host + "/skynet/control-plane"
	unknownDigest := "sha256:" + strings.Repeat("ab", 32)

	for _, tc := range []struct {
		name    string
		value   string
		want    *attestation.Image
		wantErr []string
	}{
		{
			name:  "by tag",
			value: repo + ":v0.7.6",
			want:  &attestation.Image{Repository: repo, Tag: "v0.7.6", Digest: tagged, Source: "registry"},
		},
		{
			name:  "by digest",
			value: repo + "@" + tagged,
			want:  &attestation.Image{Repository: repo, Digest: tagged, Source: "registry"},
		},
		{
			name:  "multi-platform index by tag records the index digest",
			value: reg.Host + "/skynet/multi:v1",
			want:  &attestation.Image{Repository: reg.Host + "/skynet/multi", Tag: "v1", Digest: multi, Source: "registry"},
		},
		{
			name:  "no tag resolves latest",
			value: repo,
			want:  &attestation.Image{Repository: repo, Tag: "latest", Digest: latest, Source: "registry"},
		},
		{
			name:    "no tag and no latest names the reference it tried",
			value:   reg.Host + "/skynet/multi",
			wantErr: []string{"resolve " + reg.Host + "/skynet/multi:latest", "MANIFEST_UNKNOWN"},
		},
		{
			name:    "unknown tag",
			value:   repo + ":v9.9.9",
			wantErr: []string{"MANIFEST_UNKNOWN", repo + ":v9.9.9"},
		},
		{
			name:    "unknown digest",
			value:   repo + "@" + unknownDigest,
			wantErr: []string{"MANIFEST_UNKNOWN", repo + "@" + unknownDigest},
		},
		{
			name:    "unknown repository",
			value:   reg.Host + "/skynet/nothing:v1",
			wantErr: []string{"NAME_UNKNOWN", reg.Host + "/skynet/nothing:v1"},
		},
		{
			name:    "not a reference",
			value:   "Not A Reference!",
			wantErr: []string{"neither an image reference nor an OCI image layout directory"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			m, err := newIsolatedCrafter(t, Options{}).Craft(t.Context(), contract.KindContainerImage, tc.value)
			checkImage(t, m, err, tc.want, tc.wantErr)
		})
	}
}

func TestCraftImageAuth(t *testing.T) {
	t.Parallel()
	reg := testregistry.New(t, testregistry.WithBasicAuth("ci-bot", "s3cret"))
	digest := reg.PushRandom(t, "team/app:v1")
	ref := reg.Ref("team/app:v1")
	want := &attestation.Image{Repository: reg.Host + "/team/app", Tag: "v1", Digest: digest, Source: "registry"}

	for _, tc := range []struct {
		name     string
		keychain authn.Keychain
		want     *attestation.Image
		wantErr  []string
	}{
		{
			name:     "no credentials",
			keychain: DockerConfigKeychain(t.TempDir()),
			wantErr:  []string{"UNAUTHORIZED: authentication required", ref, "docker login " + reg.Host},
		},
		{
			name:     "right credentials in a docker config",
			keychain: DockerConfigKeychain(testregistry.WriteDockerConfig(t, reg.Host, "ci-bot", "s3cret")),
			want:     want,
		},
		{
			name: "right credentials, for the repository, among other keychains",
			keychain: authn.NewMultiKeychain(
				DockerConfigKeychain(testregistry.WriteDockerConfig(t, "other.example.com", "x", "y")),
				DockerConfigKeychain(testregistry.WriteDockerConfig(t, reg.Host+"/team/app", "ci-bot", "s3cret")),
			),
			want: want,
		},
		{
			name:     "wrong password",
			keychain: DockerConfigKeychain(testregistry.WriteDockerConfig(t, reg.Host, "ci-bot", "guess")),
			wantErr:  []string{"UNAUTHORIZED: authentication required", ref},
		},
		{
			name:     "credentials for another registry",
			keychain: DockerConfigKeychain(testregistry.WriteDockerConfig(t, "registry.example.com", "ci-bot", "s3cret")),
			wantErr:  []string{"UNAUTHORIZED", ref},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c := newIsolatedCrafter(t, Options{Keychain: tc.keychain})
			m, err := c.Craft(t.Context(), contract.KindContainerImage, ref)
			checkImage(t, m, err, tc.want, tc.wantErr)
		})
	}
}

// TestCraftImageDefaultKeychain runs the zero Options' keychain, authn.DefaultKeychain, which
// reads DOCKER_CONFIG and HOME from the process: not parallel.
func TestCraftImageDefaultKeychain(t *testing.T) {
	reg := testregistry.New(t, testregistry.WithBasicAuth("ci-bot", "s3cret"))
	digest := reg.PushRandom(t, "team/app:v1")
	t.Setenv("HOME", t.TempDir())
	t.Setenv("DOCKER_CONFIG", testregistry.WriteDockerConfig(t, reg.Host, "ci-bot", "s3cret"))
	m, err := New(Options{}).Craft(t.Context(), contract.KindContainerImage, reg.Ref("team/app:v1"))
	want := &attestation.Image{Repository: reg.Host + "/team/app", Tag: "v1", Digest: digest, Source: "registry"}
	checkImage(t, m, err, want, nil)
}

func TestCraftImageFallsBackToGet(t *testing.T) {
	t.Parallel()
	reg := testregistry.New(t, testregistry.WithoutHeadDigest())
	digest := reg.PushRandom(t, "team/app:v1")
	m, err := newIsolatedCrafter(t, Options{}).Craft(t.Context(), contract.KindContainerImage, reg.Ref("team/app:v1"))
	want := &attestation.Image{Repository: reg.Host + "/team/app", Tag: "v1", Digest: digest, Source: "registry"}
	checkImage(t, m, err, want, nil)
}

// countingTransport counts the requests it forwards to the default transport.
type countingTransport struct{ n atomic.Int64 }

func (c *countingTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	c.n.Add(1)
	return http.DefaultTransport.RoundTrip(req)
}

func TestCraftImageUsesTransport(t *testing.T) {
	t.Parallel()
	reg := testregistry.New(t)
	reg.PushRandom(t, "team/app:v1")
	tr := &countingTransport{}
	if _, err := newIsolatedCrafter(t, Options{Transport: tr}).Craft(t.Context(), contract.KindContainerImage, reg.Ref("team/app:v1")); err != nil {
		t.Fatal(err)
	}
	if tr.n.Load() == 0 {
		t.Error("the registry was not reached through Options.Transport")
	}
}

func TestCraftImageCancelled(t *testing.T) {
	t.Parallel()
	reg := testregistry.New(t)
	reg.PushRandom(t, "team/app:v1")
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	_, err := newIsolatedCrafter(t, Options{}).Craft(ctx, contract.KindContainerImage, reg.Ref("team/app:v1"))
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
}

// checkImage checks either the image material or that the error names every part of wantErr.
func checkImage(t *testing.T, m *attestation.Material, err error, want *attestation.Image, wantErr []string) {
	t.Helper()
	if wantErr != nil {
		if err == nil {
			t.Fatalf("got material %+v, want an error", m)
		}
		var kerr *Error
		if !errors.As(err, &kerr) || kerr.Kind != contract.KindContainerImage {
			t.Errorf("error %v is not a CONTAINER_IMAGE *Error", err)
		}
		for _, s := range wantErr {
			if !strings.Contains(err.Error(), s) {
				t.Errorf("error %q does not mention %q", err, s)
			}
		}
		return
	}
	if err != nil {
		t.Fatalf("Craft: %v", err)
	}
	if m.Kind != contract.KindContainerImage {
		t.Errorf("Kind = %s", m.Kind)
	}
	if m.Image == nil {
		t.Fatalf("Image = nil")
	}
	if *m.Image != *want {
		t.Errorf("Image = %+v\nwant    %+v", *m.Image, *want)
	}
	if m.Digest != want.Digest || m.Value != want.Repository+"@"+want.Digest {
		t.Errorf("Digest, Value = %s, %s; want %s, %s@%s", m.Digest, m.Value, want.Digest, want.Repository, want.Digest)
	}
	if m.AddedAt.IsZero() {
		t.Errorf("AddedAt = %v", m.AddedAt)
	}
}

// layoutImage is one image to write into a test OCI layout.
type layoutImage struct {
	annotations map[string]string
	index       bool // a multi-platform index instead of an image
}

// writeLayout writes an OCI image layout holding random images with go-containerregistry's
// layout package, and returns the digests in order.
func writeLayout(t testing.TB, dir string, images ...layoutImage) []string {
	t.Helper()
	p, err := layout.Write(dir, empty.Index)
	if err != nil {
		t.Fatal(err)
	}
	var digests []string
	for _, li := range images {
		opts := []layout.Option{layout.WithAnnotations(li.annotations)}
		if li.index {
			idx, err := random.Index(128, 1, 2)
			if err != nil {
				t.Fatal(err)
			}
			if err := p.AppendIndex(idx, opts...); err != nil {
				t.Fatal(err)
			}
			d, _ := idx.Digest()
			digests = append(digests, d.String())
			continue
		}
		img, err := random.Image(128, 1)
		if err != nil {
			t.Fatal(err)
		}
		if err := p.AppendImage(img, opts...); err != nil {
			t.Fatal(err)
		}
		d, _ := img.Digest()
		digests = append(digests, d.String())
	}
	return digests
}

func TestCraftImageFromOCILayout(t *testing.T) {
	t.Parallel()
	root := t.TempDir()

	single := filepath.Join(root, "control-plane")
	singleDigests := writeLayout(t, single, layoutImage{})

	named := filepath.Join(root, "named")
	namedDigests := writeLayout(t, named,
		layoutImage{annotations: map[string]string{annotationRefName: "v1"}},
		layoutImage{annotations: map[string]string{annotationRefName: "v2"}},
		layoutImage{annotations: map[string]string{
			annotationRefName:        "v3",
			annotationContainerdName: "registry.example.com/team/app:v3",
		}},
		layoutImage{annotations: map[string]string{annotationRefName: "registry.example.com/team/app:v4"}},
		layoutImage{annotations: map[string]string{annotationRefName: "multi"}, index: true},
	)

	multi := filepath.Join(root, "multi")
	multiDigests := writeLayout(t, multi, layoutImage{index: true})

	emptyLayout := filepath.Join(root, "empty")
	writeLayout(t, emptyLayout)

	notLayout := filepath.Join(root, "plain")
	if err := os.Mkdir(notLayout, 0o755); err != nil {
		t.Fatal(err)
	}

	missingBlob := filepath.Join(root, "missing-blob")
	missingDigests := writeLayout(t, missingBlob, layoutImage{})
	// Hand-broken: the manifest blob the index points at is removed.
	if err := os.Remove(filepath.Join(missingBlob, "blobs", "sha256", strings.TrimPrefix(missingDigests[0], "sha256:"))); err != nil {
		t.Fatal(err)
	}

	tamperedBlob := filepath.Join(root, "tampered")
	tamperedDigests := writeLayout(t, tamperedBlob, layoutImage{})
	// Hand-broken: the manifest blob is rewritten with other bytes.
	if err := os.WriteFile(filepath.Join(tamperedBlob, "blobs", "sha256", strings.TrimPrefix(tamperedDigests[0], "sha256:")), []byte(`{"schemaVersion":2}`), 0o644); err != nil {
		t.Fatal(err)
	}

	badMarker := filepath.Join(root, "bad-marker")
	writeLayout(t, badMarker, layoutImage{})
	// Hand-broken: the oci-layout file does not say its version.
	if err := os.WriteFile(filepath.Join(badMarker, "oci-layout"), []byte(`{}`), 0o644); err != nil {
		t.Fatal(err)
	}

	for _, tc := range []struct {
		name    string
		value   string
		want    *attestation.Image
		wantErr []string
	}{
		{
			name:  "one image, named after the directory",
			value: single,
			want:  &attestation.Image{Repository: "control-plane", Digest: singleDigests[0], Source: "oci-layout"},
		},
		{
			name:  "one multi-platform index",
			value: multi,
			want:  &attestation.Image{Repository: "multi", Digest: multiDigests[0], Source: "oci-layout"},
		},
		{
			name:  "picked by ref name",
			value: named + ":v2",
			want:  &attestation.Image{Repository: "named", Tag: "v2", Digest: namedDigests[1], Source: "oci-layout"},
		},
		{
			name:  "picked by digest",
			value: named + "@" + namedDigests[0],
			want:  &attestation.Image{Repository: "named", Tag: "v1", Digest: namedDigests[0], Source: "oci-layout"},
		},
		{
			name:  "containerd name gives the repository",
			value: named + ":v3",
			want:  &attestation.Image{Repository: "registry.example.com/team/app", Tag: "v3", Digest: namedDigests[2], Source: "oci-layout"},
		},
		{
			name:  "picked by containerd name",
			value: named + ":registry.example.com/team/app:v3",
			want:  &attestation.Image{Repository: "registry.example.com/team/app", Tag: "v3", Digest: namedDigests[2], Source: "oci-layout"},
		},
		{
			name:  "ref name holding a full reference",
			value: named + ":registry.example.com/team/app:v4",
			want:  &attestation.Image{Repository: "registry.example.com/team/app", Tag: "v4", Digest: namedDigests[3], Source: "oci-layout"},
		},
		{
			name:  "picked index",
			value: named + ":multi",
			want:  &attestation.Image{Repository: "named", Tag: "multi", Digest: namedDigests[4], Source: "oci-layout"},
		},
		{
			name:    "several images and no pick",
			value:   named,
			wantErr: []string{named, "holds 5 images", named + ":NAME", "v1, v2, v3"},
		},
		{
			name:    "unknown name",
			value:   named + ":v9",
			wantErr: []string{named, `no image named "v9"`},
		},
		{
			name:    "empty layout",
			value:   emptyLayout,
			wantErr: []string{emptyLayout, "holds no image"},
		},
		{
			name:    "directory that is not a layout",
			value:   notLayout,
			wantErr: []string{notLayout, "not an OCI image layout", "no oci-layout file"},
		},
		{
			name:    "plain directory with a tag is not taken for a layout",
			value:   notLayout + ":v1",
			wantErr: []string{"neither an image reference nor an OCI image layout directory"},
		},
		{
			name:    "manifest blob missing",
			value:   missingBlob,
			wantErr: []string{missingBlob, missingDigests[0], "read blob"},
		},
		{
			name:    "manifest blob tampered with",
			value:   tamperedBlob,
			wantErr: []string{tamperedBlob, tamperedDigests[0], "the index says"},
		},
		{
			name:    "oci-layout without version",
			value:   badMarker,
			wantErr: []string{badMarker, "imageLayoutVersion"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			m, err := newIsolatedCrafter(t, Options{}).Craft(t.Context(), contract.KindContainerImage, tc.value)
			checkImage(t, m, err, tc.want, tc.wantErr)
		})
	}
}

func TestLayoutSplits(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		value string
		want  []layoutSplit
	}{
		{value: "out/oci"},
		{value: ":v1"},
		{value: "out/oci:v1", want: []layoutSplit{{"out/oci", "v1"}}},
		{value: "out/oci@sha256:abc", want: []layoutSplit{{"out/oci", "sha256:abc"}, {"out/oci@sha256", "abc"}}},
		{value: "oci:registry.example.com/app:v1", want: []layoutSplit{
			{"oci", "registry.example.com/app:v1"}, {"oci:registry.example.com/app", "v1"},
		}},
	} {
		if got := layoutSplits(tc.value); !slices.Equal(got, tc.want) {
			t.Errorf("layoutSplits(%q) = %q, want %q", tc.value, got, tc.want)
		}
	}
}

func FuzzLayoutSplits(f *testing.F) {
	for _, s := range []string{"out/oci", "out/oci:v1", "out/oci@sha256:abc", "a:b/c:d", "@", ":", "/:/@"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, value string) {
		for _, split := range layoutSplits(value) {
			if split.dir == "" || (split.dir+":"+split.selector != value && split.dir+"@"+split.selector != value) {
				t.Errorf("layoutSplits(%q) gave %q, %q: not a split of the value", value, split.dir, split.selector)
			}
		}
	})
}

// FuzzOCILayoutIndex feeds arbitrary index.json files to the layout reader: errors, never panics.
func FuzzOCILayoutIndex(f *testing.F) {
	seed := f.TempDir()
	writeLayout(f, seed, layoutImage{annotations: map[string]string{annotationRefName: "v1"}})
	if b, err := os.ReadFile(filepath.Join(seed, "index.json")); err == nil {
		f.Add(b)
	}
	for _, fixture := range []string{"control-plane", "control-plane-annotated"} {
		if b, err := os.ReadFile(filepath.Join("testdata", "images", fixture, "index.json")); err == nil {
			f.Add(b)
		}
	}
	f.Add([]byte(`{"schemaVersion":2,"manifests":[]}`))
	f.Add([]byte(`{"schemaVersion":2,"manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:00","size":-1}]}`))
	f.Add([]byte(`not json`))
	f.Fuzz(func(t *testing.T, index []byte) {
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, "oci-layout"), []byte(`{"imageLayoutVersion":"1.0.0"}`), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, "index.json"), index, 0o644); err != nil {
			t.Fatal(err)
		}
		_, _ = craftLayout(dir, "")
		_, _ = craftLayout(dir, "v1")
		_, _ = craftLayout(dir, "127.0.0.1:5001/skynet/control-plane:v0.7.6")
	})
}

// TestCraftImageFromCraneLayouts reads OCI image layouts written by crane pull --format=oci (see
// testdata/images/README.md).
func TestCraftImageFromCraneLayouts(t *testing.T) {
	t.Parallel()
	const (
		repo = "127.0.0.1:5001/skynet/control-plane"
		v076 = "sha256:ac36dc67642f7c3bf0d1d559498cdfd4a673801cd081c96f5d7621ac778d6884"
		v077 = "sha256:745d56229bb5ad2591cdb2e7b0df865e916a555db78f74a938a5ac5a620624ba"
	)
	one := filepath.Join("testdata", "images", "control-plane")
	two := filepath.Join("testdata", "images", "control-plane-annotated")
	for _, tc := range []struct {
		name    string
		value   string
		want    *attestation.Image
		wantErr []string
	}{
		{
			name:  "one image without annotations",
			value: one,
			want:  &attestation.Image{Repository: "control-plane", Digest: v076, Source: "oci-layout"},
		},
		{
			name:  "picked by the full reference crane annotated",
			value: two + ":" + repo + ":v0.7.7",
			want:  &attestation.Image{Repository: repo, Tag: "v0.7.7", Digest: v077, Source: "oci-layout"},
		},
		{
			name:  "picked by the tag of the full reference",
			value: two + ":v0.7.6",
			want:  &attestation.Image{Repository: repo, Tag: "v0.7.6", Digest: v076, Source: "oci-layout"},
		},
		{
			name:  "picked by digest",
			value: two + "@" + v077,
			want:  &attestation.Image{Repository: repo, Tag: "v0.7.7", Digest: v077, Source: "oci-layout"},
		},
		{
			name:    "two images and no pick",
			value:   two,
			wantErr: []string{"holds 2 images", repo + ":v0.7.7, " + repo + ":v0.7.6"},
		},
		{
			name:    "a tag it does not hold",
			value:   two + ":v0.8.0",
			wantErr: []string{two, `no image named "v0.8.0"`},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			m, err := newIsolatedCrafter(t, Options{}).Craft(t.Context(), contract.KindContainerImage, tc.value)
			checkImage(t, m, err, tc.want, tc.wantErr)
		})
	}
}

func TestPickLayoutImageAmbiguousTag(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	digests := writeLayout(t, dir,
		layoutImage{annotations: map[string]string{annotationRefName: "registry.example.com/api:v1"}},
		layoutImage{annotations: map[string]string{annotationRefName: "registry.example.com/web:v1"}},
		layoutImage{},
	)
	for _, tc := range []struct {
		value   string
		want    *attestation.Image
		wantErr []string
	}{
		{value: dir + ":v1", wantErr: []string{`2 images tagged "v1"`, "full reference"}},
		{value: dir + ":registry.example.com/web:v1", want: &attestation.Image{
			Repository: "registry.example.com/web", Tag: "v1", Digest: digests[1], Source: "oci-layout"}},
		{value: dir, wantErr: []string{"holds 3 images", digests[2]}},
	} {
		m, err := newIsolatedCrafter(t, Options{}).Craft(t.Context(), contract.KindContainerImage, tc.value)
		checkImage(t, m, err, tc.want, tc.wantErr)
	}
}
