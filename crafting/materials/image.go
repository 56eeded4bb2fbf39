package materials

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"

	dockerconfig "github.com/docker/cli/cli/config"
	"github.com/docker/cli/cli/config/types"
	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
	ggcrtypes "github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/custody-dev/custody/attestation"
	"github.com/custody-dev/custody/contract"
)

func init() { register(contract.KindContainerImage, craftImage) }

// Image sources recorded in attestation.Image.Source.
const (
	sourceRegistry  = "registry"
	sourceOCILayout = "oci-layout"
)

// Annotations naming an image in an OCI image layout's index: the OCI one (usually a tag, as
// skopeo and buildkit write it) and containerd's (the full reference, as buildkit writes it).
const (
	annotationRefName        = "org.opencontainers.image.ref.name"
	annotationContainerdName = "io.containerd.image.name"
)

// craftImage records a container image by its digest. The value is one of:
//
//   - an image reference with a tag or a digest (registry.example.com/team/app:v1,
//     registry.example.com/team/app@sha256:...). It is resolved at the registry, with the Crafter's
//     keychain, to the digest of the manifest (or of the index, for a multi-platform image) the
//     registry serves; a digest is checked to exist there too. A reference without a tag resolves
//     "latest", as docker pull does.
//   - an OCI image layout directory DIR (skopeo copy ... oci:DIR, docker buildx --output type=oci,
//     crane pull --format=oci). Its index.json must list exactly one image, unless one is picked:
//   - DIR:NAME picks the image whose org.opencontainers.image.ref.name (or io.containerd.image.name)
//     annotation is NAME, like skopeo's oci:DIR:NAME (NAME may be a tag, v1, or a full reference,
//     as crane pull --annotate-ref writes it; a bare tag also picks the one image whose annotated
//     full reference has that tag); DIR@sha256:... picks it by digest. These forms are
//     only taken when DIR is an OCI image layout (it has an oci-layout file), so app:v1 stays an
//     image reference even if an app/ directory exists.
//
// The recorded value is always repository@sha256:...; for a layout the repository comes from the
// annotations, or else is the directory's base name.
func craftImage(ctx context.Context, c *Crafter, value string) (*attestation.Material, error) {
	if info, err := os.Stat(value); err == nil && info.IsDir() {
		return craftLayout(value, "")
	}
	for _, split := range layoutSplits(value) {
		if isLayout(split.dir) {
			return craftLayout(split.dir, split.selector)
		}
	}
	return c.craftRemoteImage(ctx, value)
}

// layoutSplit is one way to read a value as DIR:NAME or DIR@DIGEST.
type layoutSplit struct{ dir, selector string }

// layoutSplits lists the ways to split value at a ':' or '@' into a directory and a selector,
// shortest directory first: a NAME may itself hold ':' and '@' (registry.example.com/app:v1).
func layoutSplits(value string) []layoutSplit {
	var splits []layoutSplit
	for i := 1; i < len(value); i++ {
		if value[i] == ':' || value[i] == '@' {
			splits = append(splits, layoutSplit{dir: value[:i], selector: value[i+1:]})
		}
	}
	return splits
}

func isLayout(dir string) bool {
	info, err := os.Stat(filepath.Join(dir, "oci-layout"))
	return err == nil && !info.IsDir()
}

func (c *Crafter) craftRemoteImage(ctx context.Context, value string) (*attestation.Material, error) {
	ref, err := name.ParseReference(value)
	if err != nil {
		return nil, fmt.Errorf("neither an image reference nor an OCI image layout directory: %w", err)
	}
	desc, err := c.resolve(ctx, ref)
	if err != nil {
		return nil, resolveError(value, ref, err)
	}
	repo := ref.Context().Name()
	img := &attestation.Image{Repository: repo, Digest: desc.Digest.String(), Source: sourceRegistry}
	switch r := ref.(type) {
	case name.Tag:
		img.Tag = r.TagStr()
	case name.Digest:
		if r.DigestStr() != desc.Digest.String() {
			return nil, fmt.Errorf("the registry answered for %s with digest %s", ref.Name(), desc.Digest)
		}
	}
	return &attestation.Material{
		Value:  repo + "@" + desc.Digest.String(),
		Digest: desc.Digest.String(),
		Image:  img,
	}, nil
}

// resolve asks the registry for the manifest's descriptor: HEAD first (no body to download); GET
// when HEAD fails, because a registry may not send the digest on HEAD, and because HEAD answers
// carry no body, so only GET tells the registry's reason (MANIFEST_UNKNOWN, UNAUTHORIZED, ...).
func (c *Crafter) resolve(ctx context.Context, ref name.Reference) (*v1.Descriptor, error) {
	opts := []remote.Option{
		remote.WithContext(ctx),
		remote.WithAuthFromKeychain(c.opts.Keychain),
		remote.WithUserAgent("custody"),
	}
	if c.opts.Transport != nil {
		opts = append(opts, remote.WithTransport(c.opts.Transport))
	}
	desc, headErr := remote.Head(ref, opts...)
	if headErr == nil {
		return desc, nil
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("%w (%w)", err, headErr)
	}
	got, err := remote.Get(ref, opts...)
	if err != nil {
		return nil, err
	}
	return &got.Descriptor, nil
}

// resolveError names the fully qualified reference when the value did not (nginx:1 is
// index.docker.io/library/nginx:1) and tells where credentials come from when they were refused.
func resolveError(value string, ref name.Reference, err error) error {
	var terr *transport.Error
	if errors.As(err, &terr) && (terr.StatusCode == http.StatusUnauthorized || terr.StatusCode == http.StatusForbidden) {
		err = fmt.Errorf("%w (credentials come from the docker config: docker login %s)", err, ref.Context().RegistryStr())
	}
	if ref.Name() != value {
		return fmt.Errorf("resolve %s: %w", ref.Name(), err)
	}
	return err
}

// craftLayout records the image of the OCI image layout at dir that selector picks (see craftImage).
func craftLayout(dir, selector string) (*attestation.Material, error) {
	if err := checkLayoutFile(dir); err != nil {
		return nil, err
	}
	path, err := layout.FromPath(dir)
	if err != nil {
		return nil, fmt.Errorf("OCI image layout %s: %w", dir, err)
	}
	index, err := path.ImageIndex()
	if err != nil {
		return nil, fmt.Errorf("OCI image layout %s: %w", dir, err)
	}
	manifest, err := index.IndexManifest()
	if err != nil {
		return nil, fmt.Errorf("OCI image layout %s: index.json: %w", dir, err)
	}
	desc, err := pickLayoutImage(dir, manifest.Manifests, selector)
	if err != nil {
		return nil, err
	}
	if err := verifyBlob(path, desc); err != nil {
		return nil, fmt.Errorf("OCI image layout %s: manifest %s: %w", dir, desc.Digest, err)
	}
	repo, tag := layoutName(dir, desc)
	return &attestation.Material{
		Value:  repo + "@" + desc.Digest.String(),
		Digest: desc.Digest.String(),
		Image:  &attestation.Image{Repository: repo, Tag: tag, Digest: desc.Digest.String(), Source: sourceOCILayout},
	}, nil
}

// checkLayoutFile checks the oci-layout marker file every OCI image layout starts with.
func checkLayoutFile(dir string) error {
	b, err := os.ReadFile(filepath.Join(dir, "oci-layout"))
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("%s is a directory but not an OCI image layout: it has no oci-layout file", dir)
		}
		return fmt.Errorf("OCI image layout %s: %w", dir, err)
	}
	var marker struct {
		ImageLayoutVersion string `json:"imageLayoutVersion"`
	}
	if err := json.Unmarshal(b, &marker); err != nil || marker.ImageLayoutVersion == "" {
		return fmt.Errorf("OCI image layout %s: oci-layout does not hold an imageLayoutVersion", dir)
	}
	return nil
}

// pickLayoutImage returns the one image of the index, or the one selector names.
func pickLayoutImage(dir string, manifests []v1.Descriptor, selector string) (v1.Descriptor, error) {
	var images []v1.Descriptor
	var names []string
	for _, d := range manifests {
		if !isImageMediaType(d.MediaType) {
			continue
		}
		images = append(images, d)
		if n := d.Annotations[annotationRefName]; n != "" {
			names = append(names, n)
		} else {
			names = append(names, d.Digest.String())
		}
	}
	if selector == "" {
		switch len(images) {
		case 0:
			return v1.Descriptor{}, fmt.Errorf("OCI image layout %s holds no image", dir)
		case 1:
			return images[0], nil
		}
		return v1.Descriptor{}, fmt.Errorf("OCI image layout %s holds %d images: pick one with %s:NAME (names: %s) or %s@sha256:...",
			dir, len(images), dir, strings.Join(names, ", "), dir)
	}
	// An exact name or digest first; else the tag of a full reference (v1 for registry/app:v1).
	var tagged []v1.Descriptor
	for _, d := range images {
		if d.Digest.String() == selector || d.Annotations[annotationRefName] == selector ||
			d.Annotations[annotationContainerdName] == selector {
			return d, nil
		}
		if _, tag := annotatedName(d); tag == selector {
			tagged = append(tagged, d)
		}
	}
	switch len(tagged) {
	case 0:
		return v1.Descriptor{}, fmt.Errorf("OCI image layout %s has no image named %q (names: %s)", dir, selector, strings.Join(names, ", "))
	case 1:
		return tagged[0], nil
	}
	return v1.Descriptor{}, fmt.Errorf("OCI image layout %s has %d images tagged %q: name one by its full reference (names: %s)",
		dir, len(tagged), selector, strings.Join(names, ", "))
}

func isImageMediaType(mt ggcrtypes.MediaType) bool {
	return slices.Contains([]ggcrtypes.MediaType{
		ggcrtypes.OCIManifestSchema1, ggcrtypes.OCIImageIndex,
		ggcrtypes.DockerManifestSchema2, ggcrtypes.DockerManifestList,
	}, mt)
}

// verifyBlob checks the manifest's blob is in the layout with the size and digest the index says.
func verifyBlob(path layout.Path, desc v1.Descriptor) error {
	rc, err := path.Blob(desc.Digest)
	if err != nil {
		return fmt.Errorf("read blob: %w", err)
	}
	defer rc.Close()
	got, n, err := v1.SHA256(io.LimitReader(rc, desc.Size+1))
	if err != nil {
		return fmt.Errorf("read blob: %w", err)
	}
	if n != desc.Size || got != desc.Digest {
		return fmt.Errorf("blob holds %d bytes with digest %s, the index says %d bytes", n, got, desc.Size)
	}
	return nil
}

// layoutName names a layout's image: by its annotations, else by the directory's base name, with
// the OCI ref name as the tag when it is not a full reference.
func layoutName(dir string, desc v1.Descriptor) (repo, tag string) {
	if repo, tag := annotatedName(desc); repo != "" {
		return repo, tag
	}
	base := dir
	if abs, err := filepath.Abs(dir); err == nil {
		base = abs
	}
	return filepath.Base(base), desc.Annotations[annotationRefName]
}

// annotatedName returns the repository and tag of the first annotation that holds a full image
// reference: containerd's name, then the OCI ref name; empty when none does.
func annotatedName(desc v1.Descriptor) (repo, tag string) {
	for _, key := range []string{annotationContainerdName, annotationRefName} {
		ref, err := name.ParseReference(desc.Annotations[key], name.StrictValidation)
		if err != nil {
			continue
		}
		if t, ok := ref.(name.Tag); ok {
			return ref.Context().Name(), t.TagStr()
		}
		return ref.Context().Name(), ""
	}
	return "", ""
}

// DockerConfigKeychain returns a keychain reading credentials from dir/config.json, the file
// `docker login` writes (credential helpers included), for callers that find the docker config
// directory in an injected environment (DOCKER_CONFIG, else $HOME/.docker) instead of the
// process's, which is all authn.DefaultKeychain reads. A missing file means anonymous access.
func DockerConfigKeychain(dir string) authn.Keychain { return dockerConfigKeychain{dir: dir} }

type dockerConfigKeychain struct{ dir string }

func (k dockerConfigKeychain) Resolve(target authn.Resource) (authn.Authenticator, error) {
	cf, err := dockerconfig.Load(k.dir)
	if err != nil {
		return nil, fmt.Errorf("docker config in %s: %w", k.dir, err)
	}
	// Look up the repository, then the registry, as authn.DefaultKeychain does.
	for _, key := range []string{target.String(), target.RegistryStr()} {
		if key == name.DefaultRegistry {
			key = authn.DefaultAuthKey
		}
		cfg, err := cf.GetAuthConfig(key)
		if err != nil {
			return nil, fmt.Errorf("docker config in %s: credentials for %s: %w", k.dir, key, err)
		}
		cfg.ServerAddress = ""
		if cfg != (types.AuthConfig{}) {
			return authn.FromConfig(authn.AuthConfig{
				Username:      cfg.Username,
				Password:      cfg.Password,
				Auth:          cfg.Auth,
				IdentityToken: cfg.IdentityToken,
				RegistryToken: cfg.RegistryToken,
			}), nil
		}
	}
	return authn.Anonymous, nil
}
