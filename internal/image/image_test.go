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
	"runtime"
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

// needInputs skips the test without the machine's files the image takes (Debian's CA bundle and
// busybox-static), or fails it in CI (CI=true), which installs them.
func needInputs(t *testing.T) {
	t.Helper()
	needFiles(t, map[string]string{DebianCACerts: "ca-certificates", DebianBusybox: "busybox-static"})
}

// needFiles skips the test without the machine's files (path: Debian package), or fails it in CI.
func needFiles(t *testing.T, files map[string]string) {
	t.Helper()
	for path, pkg := range files {
		if _, err := os.Stat(path); err != nil {
			if os.Getenv("CI") == "true" {
				t.Fatalf("no %s (CI=true, so this fails rather than skips; Debian: apt-get install %s): %v", path, pkg, err)
			}
			t.Skipf("no %s (Debian: apt-get install %s): %v", path, pkg, err)
		}
	}
}

// built is the image of the working tree.
func built(t *testing.T) v1.Image {
	t.Helper()
	needInputs(t)
	return builtOf(t, "custody", Build)
}

// builtOf is the image build makes of the working tree's command.
func builtOf(t *testing.T, command string, build func(Options) (v1.Image, error)) v1.Image {
	t.Helper()
	bin := filepath.Join(t.TempDir(), command)
	if err := BuildBinary(t.Context(), "../..", command, bin, "v0.0.0-test"); err != nil {
		t.Fatal(err)
	}
	img, err := build(Options{Binary: bin, Version: "v0.0.0-test", Revision: "0123456789abcdef", Created: time.Unix(1700000000, 0)})
	if err != nil {
		t.Fatal(err)
	}
	return img
}

// TestImage builds the image as CI does (go-containerregistry, no Docker engine), prints its size and
// fails over MaxSize; checks its config (entrypoint, non-root user, PATH, labels) and file system (a
// static custody that runs, a static busybox with a link per applet, CA certificates, /tmp); and writes
// it to an OCI layout and a registry.
func TestImage(t *testing.T) {
	t.Parallel()
	img := built(t)
	checkSize(t, img, "custody", MaxSize)

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
	if !slices.Contains(c.Env, "PATH=/usr/local/bin:/busybox") {
		t.Errorf("env %q: want PATH=/usr/local/bin:/busybox (custody, then the shell's applets)", c.Env)
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
	applets := busyboxApplets(t)
	if n, want := len(files), 13+len(applets); n != want {
		t.Errorf("the layer holds %d entries, want %d: %v", n, want, slices.Sorted(maps.Keys(files)))
	}
	busybox, err := os.ReadFile(DebianBusybox)
	if err != nil {
		t.Fatal(err)
	}
	if f := files["busybox/busybox"]; f.hdr == nil || f.hdr.Mode != 0o755 || !bytes.Equal(f.body, busybox) {
		t.Errorf("busybox/busybox is not the machine's %s with mode 755", DebianBusybox)
	}
	for _, a := range append(applets, "sh", "cp", "mkdir", "rm", "dirname", "grep") {
		if f := files["busybox/"+a]; f.hdr == nil || f.hdr.Typeflag != tar.TypeSymlink || f.hdr.Linkname != "busybox" {
			t.Errorf("busybox/%s: %+v, want a link to busybox", a, f.hdr)
		}
	}
	certs := files["etc/ssl/certs/ca-certificates.crt"].body
	if n := bytes.Count(certs, []byte("-----BEGIN CERTIFICATE-----")); !x509.NewCertPool().AppendCertsFromPEM(certs) || n < 100 {
		t.Errorf("the CA bundle holds %d certificates", n)
	}
	custody := files["usr/local/bin/custody"].body
	for name, body := range map[string][]byte{"custody": custody, "busybox": files["busybox/busybox"].body} {
		exe, err := elf.NewFile(bytes.NewReader(body))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		for _, p := range exe.Progs {
			if p.Type == elf.PT_INTERP {
				t.Errorf("%s is dynamically linked (it has an interpreter): the image has no libc", name)
			}
		}
		if exe.Section(".symtab") != nil {
			t.Errorf("%s keeps its symbol table: -ldflags '-s -w' strips it", name)
		}
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

// checkSize prints the image's size and fails it over max.
func checkSize(t *testing.T, img v1.Image, name string, max int64) {
	t.Helper()
	size, err := SizeOf(img)
	if err != nil {
		t.Fatal(err)
	}
	// Printed, not only logged: the figure CI records (docs/benchmarks.md).
	fmt.Printf("%s image: %.1f MiB stored (manifest, config, compressed layer), %.1f MiB unpacked\n",
		name, float64(size.Stored)/(1<<20), float64(size.Unpacked)/(1<<20))
	if size.Stored > max {
		t.Errorf("the %s image is %d bytes, over %d", name, size.Stored, max)
	}
}

// TestImageIsReproducible: the same binary and options make the same image.
func TestImageIsReproducible(t *testing.T) {
	t.Parallel()
	needInputs(t)
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

// busyboxApplets are the applets the machine's busybox lists, without busybox itself.
func busyboxApplets(t *testing.T) []string {
	t.Helper()
	out, err := exec.Command(DebianBusybox, "--list").Output()
	if err != nil {
		t.Fatalf("%s --list: %v", DebianBusybox, err)
	}
	return slices.DeleteFunc(strings.Fields(string(out)), func(a string) bool { return a == "busybox" })
}

// Build refuses a busybox the image could not run, naming the package to install.
func TestBuildRefusesABusyboxItCannotUse(t *testing.T) {
	t.Parallel()
	if _, err := os.Stat(DebianCACerts); err != nil {
		t.Skipf("no CA bundle at %s: %v", DebianCACerts, err)
	}
	dir := t.TempDir()
	custody := filepath.Join(dir, "custody")
	text := filepath.Join(dir, "busybox.txt")
	for _, p := range []string{custody, text} {
		if err := os.WriteFile(p, []byte("not really a binary"), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	// A dynamically linked program of this machine: the Go toolchain's go command may be static, the
	// shell is not.
	dynamic, err := exec.LookPath("sh")
	if err != nil {
		t.Skip("no sh on PATH")
	}
	if dynamic, err = filepath.EvalSymlinks(dynamic); err != nil {
		t.Fatal(err)
	}
	here := v1.Platform{OS: "linux", Architecture: runtime.GOARCH}
	other := v1.Platform{OS: "linux", Architecture: "s390x"}
	if runtime.GOARCH == "s390x" {
		other.Architecture = "amd64"
	}
	tests := []struct {
		busybox  string
		platform v1.Platform
		want     string
	}{
		{filepath.Join(dir, "none"), here, "busybox, the image's shell (Debian: apt-get install busybox-static): open " + filepath.Join(dir, "none") + ": no such file or directory"},
		{text, here, "busybox " + text + " is not an ELF executable (Debian: apt-get install busybox-static)"},
		{dynamic, other, "busybox " + dynamic + " is for "},
		{dynamic, here, "busybox " + dynamic + " is dynamically linked, and the image has no libc (Debian: apt-get install busybox-static: a static busybox)"},
	}
	for _, tt := range tests {
		_, err := Build(Options{Binary: custody, Busybox: tt.busybox, Platform: tt.platform, Created: time.Unix(1700000000, 0)})
		if err == nil || !strings.HasPrefix(err.Error(), tt.want) {
			t.Errorf("Build with busybox %s for %s: %v, want %q", tt.busybox, tt.platform.Architecture, err, tt.want)
		}
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

// dockerfile is the Dockerfile's stages by name (the final one unnamed): each stage's instructions
// and their arguments, continuation lines joined.
type dockerfile map[string]map[string][]string

func readDockerfile(t *testing.T, path string, stages ...string) dockerfile {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	text := regexp.MustCompile(`\\\n\s*`).ReplaceAllString(string(b), " ")
	d := dockerfile{}
	var stage map[string][]string
	var names []string
	for _, line := range strings.Split(text, "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		instr, args, _ := strings.Cut(line, " ")
		if instr == "FROM" {
			_, name, _ := strings.Cut(args, " AS ")
			stage = map[string][]string{"FROM": {args}}
			d[name] = stage
			names = append(names, name)
			continue
		}
		if stage != nil {
			stage[instr] = append(stage[instr], args)
		}
	}
	if !slices.Equal(names, stages) {
		t.Fatalf("%s has stages %q, want %q (the final one unnamed)", path, names, stages)
	}
	return d
}

// checkLabels holds a final stage's LABELs to the image's labels, with the build arguments for
// the version, revision and time.
func checkLabels(t *testing.T, final map[string][]string, labelsOf func(version, revision string, created time.Time) map[string]string) {
	t.Helper()
	labels := map[string]string{}
	for _, l := range final["LABEL"] {
		for _, m := range regexp.MustCompile(`(\S+)="([^"]*)"`).FindAllStringSubmatch(l, -1) {
			labels[m[1]] = m[2]
		}
	}
	want := labelsOf("${VERSION}", "${REVISION}", time.Unix(1700000000, 0))
	want["org.opencontainers.image.created"] = "${CREATED}"
	if !maps.Equal(labels, want) {
		t.Errorf("the Dockerfile's labels %v\nwant %v", labels, want)
	}
}

// TestImageMatchesDockerfile: the image built here and the Dockerfile's are the same: its build flags,
// base, file system, user, environment, entrypoint and labels.
func TestImageMatchesDockerfile(t *testing.T) {
	d := readDockerfile(t, "../../Dockerfile", "build", "busybox", "")
	build, final := strings.Join(d["build"]["RUN"], "\n"), d[""]
	for _, want := range []string{`CGO_ENABLED=0`, `go build -trimpath -ldflags "-s -w -X main.version=${VERSION}"`,
		"-o /rootfs" + BinaryPath + " ./cmd/custody",
		"cp " + DebianCACerts + " /rootfs" + CACertsPath,
		"printf '" + strings.ReplaceAll(passwd, "\n", `\n`) + "' > /rootfs/etc/passwd",
		"printf '" + strings.ReplaceAll(group, "\n", `\n`) + "' > /rootfs/etc/group", "chmod 1777 /rootfs/tmp"} {
		if !strings.Contains(build, want) {
			t.Errorf("the Dockerfile's build stage does not run %q", want)
		}
	}
	busybox := strings.Join(d["busybox"]["RUN"], "\n")
	for _, want := range []string{"apt-get install -y --no-install-recommends busybox-static",
		"mkdir -p /rootfs" + BusyboxDir, "cp " + DebianBusybox + " /rootfs" + BusyboxDir + "/busybox",
		`for a in $(` + DebianBusybox + ` --list); do [ "$a" = busybox ] || ln -s busybox "/rootfs` + BusyboxDir + `/$a"; done`} {
		if !strings.Contains(busybox, want) {
			t.Errorf("the Dockerfile's busybox stage does not run %q", want)
		}
	}
	if from := d["busybox"]["FROM"]; len(from) != 1 || strings.Contains(from[0], "--platform") || !strings.HasPrefix(from[0], "debian:") {
		t.Errorf("the busybox stage is FROM %q: want Debian for the target platform (its busybox runs in the image)", from)
	}
	if got := final["COPY"]; !slices.Equal(got, []string{"--from=build /rootfs/ /", "--from=busybox /rootfs/ /"}) {
		t.Errorf("the final stage copies %q, want the build and busybox stages' /rootfs/ alone", got)
	}
	if got := final["USER"]; !slices.Equal(got, []string{User}) {
		t.Errorf("USER %q, want %s", got, User)
	}
	if got := final["ENV"]; !slices.Equal(got, []string{strings.Join(Env, " ")}) {
		t.Errorf("ENV %q, want %q", got, Env)
	}
	var entrypoint []string
	if got := final["ENTRYPOINT"]; len(got) != 1 || json.Unmarshal([]byte(got[0]), &entrypoint) != nil || !slices.Equal(entrypoint, Entrypoint) {
		t.Errorf("ENTRYPOINT %q, want %q", got, Entrypoint)
	}
	checkLabels(t, final, Labels)
	if got := final["FROM"]; !slices.Equal(got, []string{"scratch"}) {
		t.Errorf("the final stage is FROM %q, want scratch", got)
	}
	for instr := range final {
		if !slices.Contains([]string{"FROM", "COPY", "ARG", "LABEL", "ENV", "USER", "ENTRYPOINT"}, instr) {
			t.Errorf("the final stage has %s, which the image built here does not do", instr)
		}
	}
}
