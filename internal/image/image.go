// Package image builds the custody image with go-containerregistry, where no Docker engine runs: the
// image the Dockerfile at the repository's root describes (a static custody binary on an empty base with
// Debian's CA certificates and a static busybox as the shell GitLab jobs run in, run as a non-root user,
// with OCI labels), as one layer. Tests measure its size and hold it to the Dockerfile (image_test.go);
// bench/image prints its size and writes it out.
package image

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"debug/elf"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"slices"
	"sort"
	"strings"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// What the image holds and runs as, as the Dockerfile says it.
const (
	BinaryPath  = "/usr/local/bin/custody"
	CACertsPath = "/etc/ssl/certs/ca-certificates.crt"
	// User is the image's user: not root, and the uid of the runner user of GitHub's hosted and ARC
	// runners, so the Action can write the workspace and the runner's files they mount.
	User = "1001:1001"
	// DebianCACerts is where Debian's ca-certificates package keeps the bundle the image carries.
	DebianCACerts = "/etc/ssl/certs/ca-certificates.crt"
	// BusyboxDir holds the image's shell: a static busybox (BusyboxDir/busybox) and a link to it for
	// each of its applets (sh, cp, mkdir, grep, ...). GitLab's Docker executor starts a job with `sh -c`
	// through the image's PATH and then runs the first shell it finds of a list that ends with
	// /busybox/sh; kaniko's and distroless's debug images keep their busybox there too.
	BusyboxDir = "/busybox"
	// DebianBusybox is where Debian's busybox-static package installs its binary (the busybox package
	// installs a dynamically linked one there, which the image, without a libc, cannot run).
	DebianBusybox = "/bin/busybox"
	// MaxSize bounds the image: what a registry stores and a pull transfers (manifest, config and
	// compressed layers).
	MaxSize = 20 << 20
)

// The users of the image: root, and the one it runs as.
const (
	passwd = "root:x:0:0:root:/root:/sbin/nologin\ncustody:x:1001:1001:custody:/tmp:/sbin/nologin\n"
	group  = "root:x:0:\ncustody:x:1001:\n"
)

// Env and Entrypoint are the image config's. PATH finds custody first, then busybox's applets.
var (
	Env        = []string{"PATH=/usr/local/bin:" + BusyboxDir, "HOME=/tmp"}
	Entrypoint = []string{BinaryPath}
)

// Labels are the image's OCI labels (org.opencontainers.image.*).
func Labels(version, revision string, created time.Time) map[string]string {
	return map[string]string{
		"org.opencontainers.image.title":         "custody",
		"org.opencontainers.image.description":   "custody CLI: attest how software was built (the GitHub Action's and the GitLab components' image)",
		"org.opencontainers.image.source":        "https://github.com/custody-dev/custody",
		"org.opencontainers.image.documentation": "https://github.com/custody-dev/custody/blob/main/docs/github-action.md",
		"org.opencontainers.image.version":       version,
		"org.opencontainers.image.revision":      revision,
		"org.opencontainers.image.created":       created.UTC().Format(time.RFC3339),
	}
}

// BuildBinary builds the command ./cmd/<command> of the module at moduleDir into out, as the
// Dockerfile's build stage does: static (CGO_ENABLED=0), -trimpath, -ldflags '-s -w' and the version.
func BuildBinary(ctx context.Context, moduleDir, command, out, version string) error {
	cmd := exec.CommandContext(ctx, "go", "build", "-trimpath", "-ldflags", "-s -w -X main.version="+version, "-o", out, "./cmd/"+command)
	cmd.Dir = moduleDir
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if b, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("go build ./cmd/%s: %w\n%s", command, err, b)
	}
	return nil
}

// Options say what goes into the image.
type Options struct {
	// Binary is the image's binary (BuildBinary): custody, or custodyd for BuildCustodyd; for the
	// platform's OS and architecture.
	Binary string
	// CACerts is the PEM bundle of CA certificates; "" is DebianCACerts.
	CACerts string
	// Busybox is a static busybox for the platform (the custody image's shell); "" is
	// DebianBusybox. Its applets are what it lists (busybox --list), so it must run on this machine.
	Busybox string
	// Version and Revision are the labels'; Created the labels' and the files' time (a fixed time
	// makes the image reproducible).
	Version, Revision string
	Created           time.Time
	// Platform is the binary's; the zero value is linux/amd64.
	Platform v1.Platform
}

// inputs fills in opts' defaults and reads the binary (of command) and the CA bundle it names.
func (opts *Options) inputs(command string) (binary, certs []byte, err error) {
	if opts.CACerts == "" {
		opts.CACerts = DebianCACerts
	}
	if opts.Platform.OS == "" {
		opts.Platform = v1.Platform{OS: "linux", Architecture: "amd64"}
	}
	if binary, err = os.ReadFile(opts.Binary); err != nil {
		return nil, nil, fmt.Errorf("%s binary: %w", command, err)
	}
	if certs, err = os.ReadFile(opts.CACerts); err != nil {
		return nil, nil, fmt.Errorf("CA certificates (Debian: apt-get install ca-certificates): %w", err)
	}
	return binary, certs, nil
}

// Build returns the image: one layer with the root file system, the config of the Dockerfile.
func Build(opts Options) (v1.Image, error) {
	if opts.Busybox == "" {
		opts.Busybox = DebianBusybox
	}
	binary, certs, err := opts.inputs("custody")
	if err != nil {
		return nil, err
	}
	busybox, applets, err := readBusybox(opts.Busybox, opts.Platform)
	if err != nil {
		return nil, err
	}
	bb := strings.TrimPrefix(BusyboxDir, "/")
	fs := append(rootFiles(passwd, group, certs, BinaryPath, binary),
		file{name: bb + "/", mode: 0o755 | tarDir},
		file{name: bb + "/busybox", mode: 0o755, body: busybox})
	for _, a := range applets {
		fs = append(fs, file{name: bb + "/" + a, mode: 0o777, link: "busybox"})
	}
	return assemble(fs, opts.Created, opts.Platform, "custody "+opts.Version, v1.Config{
		Entrypoint: Entrypoint, Env: Env, User: User, Labels: Labels(opts.Version, opts.Revision, opts.Created),
	})
}

// rootFiles are what both images hold: the users, the CA bundle, a /tmp, and the binary at binPath
// in /usr/local/bin.
func rootFiles(passwd, group string, certs []byte, binPath string, binary []byte) []file {
	return []file{
		{name: "etc/", mode: 0o755 | tarDir},
		{name: "etc/group", mode: 0o644, body: []byte(group)},
		{name: "etc/passwd", mode: 0o644, body: []byte(passwd)},
		{name: "etc/ssl/", mode: 0o755 | tarDir},
		{name: "etc/ssl/certs/", mode: 0o755 | tarDir},
		{name: strings.TrimPrefix(CACertsPath, "/"), mode: 0o644, body: certs},
		{name: "tmp/", mode: 0o1777 | tarDir},
		{name: "usr/", mode: 0o755 | tarDir},
		{name: "usr/local/", mode: 0o755 | tarDir},
		{name: "usr/local/bin/", mode: 0o755 | tarDir},
		{name: strings.TrimPrefix(binPath, "/"), mode: 0o755, body: binary},
	}
}

// assemble makes an image of one layer holding files, with config's entrypoint, environment,
// user, exposed ports and labels, created at created for platform.
func assemble(files []file, created time.Time, platform v1.Platform, comment string, config v1.Config) (v1.Image, error) {
	layerTar, err := tarOf(files, created)
	if err != nil {
		return nil, err
	}
	layer, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(layerTar)), nil },
		tarball.WithMediaType(types.OCILayer), tarball.WithCompressionLevel(gzip.DefaultCompression)) // as docker build
	if err != nil {
		return nil, fmt.Errorf("layer: %w", err)
	}
	base := mutate.ConfigMediaType(mutate.MediaType(empty.Image, types.OCIManifestSchema1), types.OCIConfigJSON)
	img, err := mutate.Append(base, mutate.Addendum{Layer: layer, History: v1.History{
		Created: v1.Time{Time: created}, CreatedBy: "internal/image: the Dockerfile's root file system", Comment: comment,
	}})
	if err != nil {
		return nil, fmt.Errorf("append layer: %w", err)
	}
	cf, err := img.ConfigFile()
	if err != nil {
		return nil, err
	}
	cf = cf.DeepCopy()
	cf.OS, cf.Architecture, cf.Variant = platform.OS, platform.Architecture, platform.Variant
	cf.Created = v1.Time{Time: created}
	cf.Config.Entrypoint = config.Entrypoint
	cf.Config.Env = config.Env
	cf.Config.User = config.User
	cf.Config.ExposedPorts = config.ExposedPorts
	cf.Config.Labels = config.Labels
	img, err = mutate.ConfigFile(img, cf)
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	return img, nil
}

// elfMachines are the ELF machines of the platforms the image is built for.
var elfMachines = map[string]elf.Machine{
	"amd64": elf.EM_X86_64, "arm64": elf.EM_AARCH64, "arm": elf.EM_ARM, "386": elf.EM_386,
	"ppc64le": elf.EM_PPC64, "s390x": elf.EM_S390, "riscv64": elf.EM_RISCV,
}

// readBusybox reads a static busybox for the platform and the applets it lists, without busybox
// itself (the binary is BusyboxDir/busybox).
func readBusybox(path string, p v1.Platform) ([]byte, []string, error) {
	const install = "Debian: apt-get install busybox-static"
	body, err := os.ReadFile(path)
	if err != nil {
		return nil, nil, fmt.Errorf("busybox, the image's shell (%s): %w", install, err)
	}
	exe, err := elf.NewFile(bytes.NewReader(body))
	if err != nil {
		return nil, nil, fmt.Errorf("busybox %s is not an ELF executable (%s): %w", path, install, err)
	}
	if want, ok := elfMachines[p.Architecture]; !ok || exe.Machine != want {
		return nil, nil, fmt.Errorf("busybox %s is for %s, not the image's %s/%s", path, exe.Machine, p.OS, p.Architecture)
	}
	for _, prog := range exe.Progs {
		if prog.Type == elf.PT_INTERP {
			return nil, nil, fmt.Errorf("busybox %s is dynamically linked, and the image has no libc (%s: a static busybox)", path, install)
		}
	}
	out, err := exec.Command(path, "--list").Output()
	if err != nil {
		var exit *exec.ExitError
		if errors.As(err, &exit) {
			err = fmt.Errorf("%w: %s", err, bytes.TrimSpace(exit.Stderr))
		}
		return nil, nil, fmt.Errorf("busybox --list: %w", err)
	}
	var applets []string
	for _, a := range strings.Fields(string(out)) {
		if a == "busybox" {
			continue
		}
		if strings.Contains(a, "/") || a == "." || a == ".." {
			return nil, nil, fmt.Errorf("busybox --list: %q is not an applet name", a)
		}
		applets = append(applets, a)
	}
	if !slices.Contains(applets, "sh") {
		return nil, nil, fmt.Errorf("busybox %s has no sh applet: GitLab jobs need a shell", path)
	}
	return body, applets, nil
}

// Size is an image's size.
type Size struct {
	// Stored is what a registry stores and a pull transfers: manifest, config and compressed layers.
	Stored int64
	// Unpacked is the layers' uncompressed size: what `docker images` shows.
	Unpacked int64
}

// SizeOf measures an image.
func SizeOf(img v1.Image) (Size, error) {
	var s Size
	manifest, err := img.RawManifest()
	if err != nil {
		return s, err
	}
	config, err := img.RawConfigFile()
	if err != nil {
		return s, err
	}
	s.Stored = int64(len(manifest) + len(config))
	layers, err := img.Layers()
	if err != nil {
		return s, err
	}
	for _, l := range layers {
		n, err := l.Size()
		if err != nil {
			return s, err
		}
		s.Stored += n
		rc, err := l.Uncompressed()
		if err != nil {
			return s, err
		}
		m, err := io.Copy(io.Discard, rc)
		rc.Close()
		if err != nil {
			return s, err
		}
		s.Unpacked += m
	}
	return s, nil
}

// tarDir marks a file entry as a directory.
const tarDir = 1 << 31

type file struct {
	name string
	mode int64
	body []byte
	link string // a symbolic link to link, when set
	uid  int    // owner and group; root's when 0
	gid  int
}

// tarOf writes the files, sorted, owned by root (as COPY makes them) unless a file names its owner,
// at time mtime.
func tarOf(files []file, mtime time.Time) ([]byte, error) {
	sort.Slice(files, func(i, j int) bool { return files[i].name < files[j].name })
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, f := range files {
		h := &tar.Header{Name: f.name, Mode: f.mode &^ tarDir, ModTime: mtime.Truncate(time.Second), Uid: f.uid, Gid: f.gid}
		switch {
		case f.mode&tarDir != 0:
			h.Typeflag = tar.TypeDir
		case f.link != "":
			h.Typeflag, h.Linkname = tar.TypeSymlink, f.link
		default:
			h.Typeflag, h.Size = tar.TypeReg, int64(len(f.body))
		}
		if err := tw.WriteHeader(h); err != nil {
			return nil, fmt.Errorf("tar %s: %w", f.name, err)
		}
		if _, err := tw.Write(f.body); err != nil {
			return nil, fmt.Errorf("tar %s: %w", f.name, err)
		}
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
