package image

import (
	"archive/tar"
	"bytes"
	"crypto/x509"
	"debug/elf"
	"encoding/json"
	"fmt"
	"io"
	"log"
	"maps"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/remote"
)

// built is the image of the working tree, built once.
func built(t *testing.T) v1.Image {
	t.Helper()
	if _, err := os.Stat(DebianCACerts); err != nil {
		t.Skipf("no CA bundle at %s (Debian: apt-get install ca-certificates): %v", DebianCACerts, err)
	}
	bin := filepath.Join(t.TempDir(), "custody")
	if err := BuildBinary(t.Context(), "../..", "custody", bin, "v0.0.0-test"); err != nil {
		t.Fatal(err)
	}
	img, err := Build(Options{Binary: bin, Version: "v0.0.0-test", Revision: "0123456789abcdef", Created: time.Unix(1700000000, 0)})
	if err != nil {
		t.Fatal(err)
	}
	return img
}

// TestImage builds the image as CI does (go-containerregistry, no Docker engine), prints its size and
// fails over MaxSize; checks its config (entrypoint, non-root user, labels) and file system (a static
// custody that runs, CA certificates, /tmp); and writes it to an OCI layout and a registry.
func TestImage(t *testing.T) {
	t.Parallel()
	img := built(t)
	size, err := SizeOf(img)
	if err != nil {
		t.Fatal(err)
	}
	// Printed, not only logged: the figure CI records (docs/benchmarks.md).
	fmt.Printf("custody image: %.1f MiB stored (manifest, config, compressed layer), %.1f MiB unpacked\n",
		float64(size.Stored)/(1<<20), float64(size.Unpacked)/(1<<20))
	if size.Stored > MaxSize {
		t.Errorf("the image is %d bytes, over %d", size.Stored, MaxSize)
	}

	cf, err := img.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	c := cf.Config
	if uid, _, _ := strings.Cut(c.User, ":"); uid == "" || uid == "0" || uid == "root" {
		t.Errorf("the image runs as %q: want a non-root user", c.User)
	}
	if !slices.Equal(c.Entrypoint, []string{BinaryPath}) || cf.OS != "linux" || cf.Architecture != "amd64" {
		t.Errorf("entrypoint %v on %s/%s", c.Entrypoint, cf.OS, cf.Architecture)
	}
	for _, k := range []string{"title", "description", "source", "documentation", "version", "revision", "created"} {
		if c.Labels["org.opencontainers.image."+k] == "" {
			t.Errorf("label org.opencontainers.image.%s is missing: %v", k, c.Labels)
		}
	}

	files := layerFiles(t, img)
	for name, mode := range map[string]int64{"usr/local/bin/custody": 0o755, "etc/ssl/certs/ca-certificates.crt": 0o644, "tmp/": 0o1777,
		"etc/passwd": 0o644, "etc/group": 0o644} {
		if f, ok := files[name]; !ok || f.hdr.Mode != mode || f.hdr.Uid != 0 {
			t.Errorf("%s: %+v, want mode %o owned by root", name, f.hdr, mode)
		}
	}
	if n := len(files); n != 11 {
		t.Errorf("the layer holds %d entries, want 11: %v", n, slices.Sorted(maps.Keys(files)))
	}
	certs := files["etc/ssl/certs/ca-certificates.crt"].body
	if n := bytes.Count(certs, []byte("-----BEGIN CERTIFICATE-----")); !x509.NewCertPool().AppendCertsFromPEM(certs) || n < 100 {
		t.Errorf("the CA bundle holds %d certificates", n)
	}
	custody := files["usr/local/bin/custody"].body
	exe, err := elf.NewFile(bytes.NewReader(custody))
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range exe.Progs {
		if p.Type == elf.PT_INTERP {
			t.Error("custody is dynamically linked (it has an interpreter): the image has no libc")
		}
	}
	if exe.Section(".symtab") != nil {
		t.Error("custody keeps its symbol table: -ldflags '-s -w' strips it")
	}
	bin := filepath.Join(t.TempDir(), "custody")
	if err := os.WriteFile(bin, custody, 0o755); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(bin, "version").CombinedOutput(); err != nil || !strings.Contains(string(out), "v0.0.0-test") {
		t.Errorf("the image's custody version: %v\n%s", err, out)
	}

	want, err := img.Digest()
	if err != nil {
		t.Fatal(err)
	}
	oci, err := layout.Write(t.TempDir(), empty.Index)
	if err != nil {
		t.Fatal(err)
	}
	if err := oci.AppendImage(img); err != nil {
		t.Fatalf("write to an OCI layout: %v", err)
	}
	reg := httptest.NewServer(registry.New(registry.Logger(log.New(io.Discard, "", 0))))
	t.Cleanup(reg.Close)
	ref, err := name.ParseReference(strings.TrimPrefix(reg.URL, "http://") + "/custody-dev/custody:test")
	if err != nil {
		t.Fatal(err)
	}
	if err := remote.Write(ref, img); err != nil {
		t.Fatalf("push to a registry: %v", err)
	}
	if got, err := remote.Head(ref); err != nil || got.Digest != want {
		t.Errorf("the registry has %v (%v), want %s", got, err, want)
	}
}

// TestImageIsReproducible: the same binary and options make the same image.
func TestImageIsReproducible(t *testing.T) {
	t.Parallel()
	if _, err := os.Stat(DebianCACerts); err != nil {
		t.Skipf("no CA bundle at %s: %v", DebianCACerts, err)
	}
	bin := filepath.Join(t.TempDir(), "custody")
	if err := os.WriteFile(bin, []byte("not really a binary"), 0o755); err != nil {
		t.Fatal(err)
	}
	var digests []v1.Hash
	for range 2 {
		img, err := Build(Options{Binary: bin, Version: "v1", Created: time.Unix(1700000000, 0)})
		if err != nil {
			t.Fatal(err)
		}
		d, err := img.Digest()
		if err != nil {
			t.Fatal(err)
		}
		digests = append(digests, d)
	}
	if digests[0] != digests[1] {
		t.Errorf("two builds: %v", digests)
	}
}

type layerFile struct {
	hdr  *tar.Header
	body []byte
}

func layerFiles(t *testing.T, img v1.Image) map[string]layerFile {
	t.Helper()
	layers, err := img.Layers()
	if err != nil || len(layers) != 1 {
		t.Fatalf("%d layers (%v), want 1", len(layers), err)
	}
	rc, err := layers[0].Uncompressed()
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	out := map[string]layerFile{}
	tr := tar.NewReader(rc)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		body, err := io.ReadAll(tr)
		if err != nil {
			t.Fatal(err)
		}
		out[h.Name] = layerFile{hdr: h, body: body}
	}
}

// dockerfile is the final stage of the Dockerfile and its build commands, continuation lines joined.
type dockerfile struct {
	build []string            // RUN commands of the build stage
	final map[string][]string // instruction -> arguments, in the final stage
}

func readDockerfile(t *testing.T) dockerfile {
	t.Helper()
	b, err := os.ReadFile("../../Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	text := regexp.MustCompile(`\\\n\s*`).ReplaceAllString(string(b), " ")
	d := dockerfile{final: map[string][]string{}}
	stage := 0
	for _, line := range strings.Split(text, "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		instr, args, _ := strings.Cut(line, " ")
		switch {
		case instr == "FROM":
			stage++
		case stage == 1 && instr == "RUN":
			d.build = append(d.build, args)
		case stage == 2:
			d.final[instr] = append(d.final[instr], args)
		}
	}
	if stage != 2 {
		t.Fatalf("the Dockerfile has %d stages, want build and final", stage)
	}
	return d
}

// TestImageMatchesDockerfile: the image built here and the Dockerfile's are the same: its build flags,
// base, file system, user, environment, entrypoint and labels.
func TestImageMatchesDockerfile(t *testing.T) {
	d := readDockerfile(t)
	build := strings.Join(d.build, "\n")
	for _, want := range []string{`CGO_ENABLED=0`, `go build -trimpath -ldflags "-s -w -X main.version=${VERSION}"`,
		"-o /rootfs" + BinaryPath + " ./cmd/custody",
		"cp " + DebianCACerts + " /rootfs" + CACertsPath,
		"printf '" + strings.ReplaceAll(passwd, "\n", `\n`) + "' > /rootfs/etc/passwd",
		"printf '" + strings.ReplaceAll(group, "\n", `\n`) + "' > /rootfs/etc/group", "chmod 1777 /rootfs/tmp"} {
		if !strings.Contains(build, want) {
			t.Errorf("the Dockerfile's build stage does not run %q", want)
		}
	}
	if got := d.final["COPY"]; !slices.Equal(got, []string{"--from=build /rootfs/ /"}) {
		t.Errorf("the final stage copies %q, want the build stage's /rootfs/ alone", got)
	}
	if got := d.final["USER"]; !slices.Equal(got, []string{User}) {
		t.Errorf("USER %q, want %s", got, User)
	}
	if got := d.final["ENV"]; !slices.Equal(got, []string{strings.Join(Env, " ")}) {
		t.Errorf("ENV %q, want %q", got, Env)
	}
	var entrypoint []string
	if got := d.final["ENTRYPOINT"]; len(got) != 1 || json.Unmarshal([]byte(got[0]), &entrypoint) != nil || !slices.Equal(entrypoint, Entrypoint) {
		t.Errorf("ENTRYPOINT %q, want %q", got, Entrypoint)
	}
	labels := map[string]string{}
	for _, l := range d.final["LABEL"] {
		for _, m := range regexp.MustCompile(`(\S+)="([^"]*)"`).FindAllStringSubmatch(l, -1) {
			labels[m[1]] = m[2]
		}
	}
	created := time.Unix(1700000000, 0)
	want := Labels("${VERSION}", "${REVISION}", created)
	want["org.opencontainers.image.created"] = "${CREATED}"
	if !maps.Equal(labels, want) {
		t.Errorf("the Dockerfile's labels %v\nwant %v", labels, want)
	}
	for instr := range d.final {
		if !slices.Contains([]string{"COPY", "ARG", "LABEL", "ENV", "USER", "ENTRYPOINT"}, instr) {
			t.Errorf("the final stage has %s, which the image built here does not do", instr)
		}
	}
}
