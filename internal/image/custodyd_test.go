package image

import (
	"archive/tar"
	"bufio"
	"bytes"
	"context"
	"debug/elf"
	"encoding/json"
	"io"
	"maps"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// builtCustodyd is the custodyd image of the working tree.
func builtCustodyd(t *testing.T) v1.Image {
	t.Helper()
	needFiles(t, map[string]string{DebianCACerts: "ca-certificates"})
	return builtOf(t, "custodyd", BuildCustodyd)
}

// TestCustodydImage builds the custodyd image as CI does (go-containerregistry, no Docker engine),
// prints its size and fails over MaxCustodydSize; checks its config (entrypoint, non-root user, the
// exposed port, environment, labels) and file system (a static custodyd, CA certificates, no shell,
// the data directory owned by the user); then starts the image's custodyd from its unpacked file
// system, as its user, with its environment, against its data directory, and checks /healthz,
// /readyz, /metrics, the bootstrap token, the files it made, and a clean stop on SIGTERM.
func TestCustodydImage(t *testing.T) {
	t.Parallel()
	img := builtCustodyd(t)
	checkSize(t, img, "custodyd", MaxCustodydSize)

	cf, err := img.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	c := cf.Config
	if c.User != "65532:65532" {
		t.Errorf("the image runs as %q, want 65532:65532 (not root)", c.User)
	}
	if !slices.Equal(c.Entrypoint, []string{"/usr/local/bin/custodyd"}) || len(c.Cmd) != 0 || cf.OS != "linux" || cf.Architecture != "amd64" {
		t.Errorf("entrypoint %v, cmd %v on %s/%s", c.Entrypoint, c.Cmd, cf.OS, cf.Architecture)
	}
	if ports := slices.Sorted(maps.Keys(c.ExposedPorts)); !slices.Equal(ports, []string{"8080/tcp"}) {
		t.Errorf("exposed ports %v, want 8080/tcp", ports)
	}
	if want := []string{"CUSTODY_LISTEN=:8080", "CUSTODY_DATA_DIR=/var/lib/custodyd"}; !slices.Equal(c.Env, want) {
		t.Errorf("env %q, want %q: custodyd's own default listens on loopback, unreachable from outside a container", c.Env, want)
	}
	for _, k := range []string{"title", "description", "source", "documentation", "version", "revision", "created"} {
		if c.Labels["org.opencontainers.image."+k] == "" {
			t.Errorf("label org.opencontainers.image.%s is missing: %v", k, c.Labels)
		}
	}
	if got := c.Labels["org.opencontainers.image.title"]; got != "custodyd" {
		t.Errorf("title label %q, want custodyd", got)
	}

	files := layerFiles(t, img)
	want := map[string]struct {
		mode     int64
		uid, gid int
	}{
		"etc/": {0o755, 0, 0}, "etc/group": {0o644, 0, 0}, "etc/passwd": {0o644, 0, 0}, "etc/ssl/": {0o755, 0, 0},
		"etc/ssl/certs/": {0o755, 0, 0}, "etc/ssl/certs/ca-certificates.crt": {0o644, 0, 0}, "tmp/": {0o1777, 0, 0},
		"usr/": {0o755, 0, 0}, "usr/local/": {0o755, 0, 0}, "usr/local/bin/": {0o755, 0, 0}, "usr/local/bin/custodyd": {0o755, 0, 0},
		"var/": {0o755, 0, 0}, "var/lib/": {0o755, 0, 0}, "var/lib/custodyd/": {0o700, 65532, 65532},
	}
	if got := slices.Sorted(maps.Keys(files)); !slices.Equal(got, slices.Sorted(maps.Keys(want))) {
		t.Errorf("the layer holds %q\nwant %q (no shell, nothing else)", got, slices.Sorted(maps.Keys(want)))
	}
	for name, w := range want {
		if f, ok := files[name]; !ok || f.hdr.Mode != w.mode || f.hdr.Uid != w.uid || f.hdr.Gid != w.gid {
			t.Errorf("%s: %+v, want mode %o owned by %d:%d", name, f.hdr, w.mode, w.uid, w.gid)
		}
	}
	if got := string(files["etc/passwd"].body); !strings.Contains(got, "\ncustodyd:x:65532:65532:custodyd:/var/lib/custodyd:/sbin/nologin\n") {
		t.Errorf("/etc/passwd does not name the user 65532 with its home in the data directory:\n%s", got)
	}
	exe, err := elf.NewFile(bytes.NewReader(files["usr/local/bin/custodyd"].body))
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range exe.Progs {
		if p.Type == elf.PT_INTERP {
			t.Errorf("custodyd is dynamically linked (it has an interpreter): the image has no libc")
		}
	}
	if exe.Section(".symtab") != nil {
		t.Errorf("custodyd keeps its symbol table: -ldflags '-s -w' strips it")
	}

	runUnpacked(t, img)
}

// runUnpacked starts the image's custodyd from its unpacked file system, as a container runtime
// would (as the image's user when the test runs as root, with the image's environment), but on
// 127.0.0.1 and a free port rather than every interface.
func runUnpacked(t *testing.T, img v1.Image) {
	root := t.TempDir()
	asUser := os.Getuid() == 0
	if asUser {
		// The image's user must reach its data directory through the test's temp directories.
		for _, d := range []string{filepath.Dir(root), root} {
			if err := os.Chmod(d, 0o755); err != nil {
				t.Fatal(err)
			}
		}
	}
	unpack(t, img, root, asUser)
	cf, err := img.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	dataDir := filepath.Join(root, CustodydDataDir)
	env := []string{}
	for _, kv := range cf.Config.Env {
		k, v, _ := strings.Cut(kv, "=")
		switch k {
		case "CUSTODY_LISTEN":
			v = "127.0.0.1:0"
		case "CUSTODY_DATA_DIR":
			v = filepath.Join(root, v)
		}
		env = append(env, k+"="+v)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, filepath.Join(root, cf.Config.Entrypoint[0]))
	cmd.Env, cmd.Dir = env, "/"
	if asUser {
		uid, gid, _ := strings.Cut(cf.Config.User, ":")
		u, _ := strconv.ParseUint(uid, 10, 32)
		g, _ := strconv.ParseUint(gid, 10, 32)
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: uint32(u), Gid: uint32(g)}}
	}
	var stdout bytes.Buffer
	cmd.Stdout = &stdout
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start the image's custodyd: %v", err)
	}
	serving := regexp.MustCompile(`"msg":"custodyd serving","addr":"([^"]+)"`)
	addr := make(chan string, 1)
	var log bytes.Buffer
	logDone := make(chan struct{})
	go func() {
		defer close(logDone)
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			log.Write(append(sc.Bytes(), '\n'))
			if m := serving.FindSubmatch(sc.Bytes()); m != nil {
				addr <- string(m[1])
			}
		}
	}()
	var base string
	select {
	case a := <-addr:
		base = "http://" + a
	case <-logDone:
		_ = cmd.Wait()
		t.Fatalf("the image's custodyd stopped before serving:\n%s", log.String())
	}
	for _, path := range []string{"/healthz", "/readyz", "/metrics"} {
		resp, err := http.Get(base + path)
		if err != nil {
			t.Fatalf("GET %s: %v", path, err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Errorf("GET %s: %d %s", path, resp.StatusCode, body)
		}
		if path == "/metrics" && !bytes.Contains(body, []byte("custody_http_requests_total")) {
			t.Errorf("GET /metrics has no custody_http_requests_total:\n%.500s", body)
		}
	}
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	<-logDone
	if err := cmd.Wait(); err != nil {
		t.Errorf("custodyd after SIGTERM: %v\n%s", err, log.String())
	}
	if !strings.Contains(stdout.String(), "bootstrap admin token (shown once, keep it safe): cst_") {
		t.Errorf("stdout has no bootstrap admin token: %q", stdout.String())
	}
	// What custodyd made in its data directory is its user's; the database and the keys its alone.
	for _, name := range []string{"custody.db", "ca/intermediate.key", "ca/root.key", "tsa/tsa.key", "tsa/root.key"} {
		info, err := os.Stat(filepath.Join(dataDir, name))
		if err != nil {
			t.Errorf("the data directory: %v", err)
			continue
		}
		st := info.Sys().(*syscall.Stat_t)
		if perm := info.Mode().Perm(); perm&0o077 != 0 || (asUser && st.Uid != CustodydUID) {
			t.Errorf("%s: mode %04o owned by %d, want the image's user alone", name, perm, st.Uid)
		}
	}
}

// unpack writes the image's one layer into root, with each entry's owner when chown is set.
func unpack(t *testing.T, img v1.Image, root string, chown bool) {
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
	tr := tar.NewReader(rc)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return
		}
		if err != nil {
			t.Fatal(err)
		}
		path := filepath.Join(root, h.Name)
		if !strings.HasPrefix(path, root+string(filepath.Separator)) {
			t.Fatalf("the layer's %q leaves the root", h.Name)
		}
		mode := h.FileInfo().Mode() & (os.ModePerm | os.ModeSticky)
		switch h.Typeflag {
		case tar.TypeDir:
			err = os.MkdirAll(path, mode)
		case tar.TypeReg:
			var body []byte
			if body, err = io.ReadAll(tr); err == nil {
				err = os.WriteFile(path, body, mode)
			}
		default:
			t.Fatalf("the layer's %s has type %c", h.Name, h.Typeflag)
		}
		if err == nil {
			err = os.Chmod(path, mode) // past the umask
		}
		if err == nil && chown {
			err = os.Lchown(path, h.Uid, h.Gid)
		}
		if err != nil {
			t.Fatal(err)
		}
	}
}

// TestCustodydImageMatchesDockerfile: the custodyd image built here and Dockerfile.custodyd's are
// the same: build flags, base, file system, user, environment, port, entrypoint and labels.
func TestCustodydImageMatchesDockerfile(t *testing.T) {
	d := readDockerfile(t, "../../Dockerfile.custodyd", "build", "")
	build, final := strings.Join(d["build"]["RUN"], "\n"), d[""]
	for _, want := range []string{`CGO_ENABLED=0`, `go build -trimpath -ldflags "-s -w -X main.version=${VERSION}"`,
		"-o /rootfs" + CustodydBinaryPath + " ./cmd/custodyd",
		"cp " + DebianCACerts + " /rootfs" + CACertsPath,
		"printf '" + strings.ReplaceAll(custodydPasswd, "\n", `\n`) + "' > /rootfs/etc/passwd",
		"printf '" + strings.ReplaceAll(custodydGroup, "\n", `\n`) + "' > /rootfs/etc/group", "chmod 1777 /rootfs/tmp",
		"install -d -m 0700 -o 65532 -g 65532 /rootfs" + CustodydDataDir} {
		if !strings.Contains(build, want) {
			t.Errorf("Dockerfile.custodyd's build stage does not run %q", want)
		}
	}
	for instr, want := range map[string][]string{
		"FROM": {"scratch"}, "COPY": {"--from=build /rootfs/ /"}, "USER": {CustodydUser}, "ENV": {strings.Join(CustodydEnv, " ")},
		"EXPOSE": {CustodydExposedPort},
	} {
		if got := final[instr]; !slices.Equal(got, want) {
			t.Errorf("Dockerfile.custodyd's final stage: %s %q, want %q", instr, got, want)
		}
	}
	var entrypoint []string
	if got := final["ENTRYPOINT"]; len(got) != 1 || json.Unmarshal([]byte(got[0]), &entrypoint) != nil || !slices.Equal(entrypoint, CustodydEntrypoint) {
		t.Errorf("ENTRYPOINT %q, want %q", got, CustodydEntrypoint)
	}
	checkLabels(t, final, CustodydLabels)
	for instr := range final {
		if !slices.Contains([]string{"FROM", "COPY", "ARG", "LABEL", "ENV", "EXPOSE", "USER", "ENTRYPOINT"}, instr) {
			t.Errorf("the final stage has %s, which the image built here does not do", instr)
		}
	}
}
