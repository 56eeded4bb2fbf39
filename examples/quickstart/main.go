// Command quickstart runs the seed walkthrough of custody on one machine, with nothing but Go. It
// builds custody and custodyd, starts custodyd on its embedded defaults (SQLite and a filesystem CAS
// in a temporary data directory, and its CA and timestamp authority) in the background, bootstraps a
// project, a workflow with its contract and a workflow token, makes sample files (a rootfs tarball, a CycloneDX SBOM,
// a JUnit report) and an in-process OCI registry holding the skynet control-plane image, then runs
// the walkthrough against the control plane, printing each command as a user would type it. The push
// is keyless; the bundle is verified offline with the control plane's trusted root, by custody and by
// cosign when it is installed:
//
//	go run ./examples/quickstart            # against custodyd
//	go run ./examples/quickstart -offline   # no control plane: signed with a cosign key, kept on the machine
//
// Everything happens in a temporary directory, removed at the end (-keep keeps it).
package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"
)

func main() {
	keep := flag.Bool("keep", false, "keep the working directory")
	offline := flag.Bool("offline", false, "run without a control plane")
	flag.Parse()
	if err := run(*keep, *offline); err != nil {
		fmt.Fprintf(os.Stderr, "quickstart: %v\n", err)
		os.Exit(1)
	}
}

// session runs the binaries in the working directory and prints what it runs.
type session struct {
	dir, bin string
	env      []string
	// secrets are shown by name in printed command lines, never by value.
	secrets map[string]string
}

func (s *session) run(name string, args ...string) (string, error) {
	return s.runTo(os.Stdout, "", name, args...)
}

// runTo runs a command whose stdout goes to w; redirect is what the printed command line shows.
func (s *session) runTo(w io.Writer, redirect, name string, args ...string) (string, error) {
	shown := strings.Join(quote(args), " ")
	for secret, name := range s.secrets {
		shown = strings.ReplaceAll(shown, secret, name)
	}
	fmt.Printf("\n$ %s %s%s\n", name, shown, redirect)
	cmd := exec.Command(filepath.Join(s.bin, name), args...)
	cmd.Dir, cmd.Env = s.dir, s.env
	var out bytes.Buffer
	cmd.Stdout = io.MultiWriter(w, &out)
	cmd.Stderr = os.Stdout
	if err := cmd.Run(); err != nil {
		return out.String(), fmt.Errorf("%s %s: %w", name, strings.Join(args, " "), err)
	}
	return out.String(), nil
}

func quote(args []string) []string {
	out := make([]string, len(args))
	for i, a := range args {
		if strings.ContainsAny(a, " \"") {
			a = "\"" + a + "\""
		}
		out[i] = a
	}
	return out
}

func run(keep, offline bool) error {
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "custody-quickstart-")
	if err != nil {
		return err
	}
	if keep {
		fmt.Printf("# working directory: %s\n", dir)
	} else {
		defer os.RemoveAll(dir)
	}
	s := &session{dir: filepath.Join(dir, "work"), bin: filepath.Join(dir, "bin")}
	if err := os.MkdirAll(s.dir, 0o755); err != nil {
		return err
	}
	fmt.Println("# building custody and custodyd")
	if err := build(s.bin); err != nil {
		return err
	}
	s.env = cleanEnv(dir)

	image, stopRegistry, err := startRegistry(ctx)
	if err != nil {
		return err
	}
	defer stopRegistry()
	if err := writeSamples(s.dir); err != nil {
		return err
	}
	if offline {
		// Offline there is no control plane to certify a key: the run is signed with a cosign key.
		// The password is set in the environment (cleanEnv), as a pipeline's secret would be: show it,
		// so every command printed works when typed. On a terminal, custody asks for it when it is unset.
		fmt.Println("\n$ export COSIGN_PASSWORD=quickstart   # the password of cosign.key; unset, custody asks for it on a terminal")
		if _, err := s.run("custody", "generate-key-pair"); err != nil {
			return err
		}
		return walkthrough(s, image, []string{"--contract", "contract.yaml"}, "")
	}

	url, admin, stop, err := startControlPlane(s, filepath.Join(dir, "data"))
	if err != nil {
		return err
	}
	defer stop()
	s.env = append(s.env, "CUSTODY_CONTROL_PLANE="+url)
	s.secrets = map[string]string{admin: "$ADMIN"}
	fmt.Printf("\n$ export CUSTODY_CONTROL_PLANE=%s ADMIN=cst_...   # the bootstrap admin token printed above\n", url)
	adminFlag := "--token=" + admin
	steps := [][]string{
		{adminFlag, "project", "create", "skynet"},
		{adminFlag, "workflow", "create", "build-and-test", "--project", "skynet", "--contract", "contract.yaml"},
	}
	for _, args := range steps {
		if _, err := s.run("custody", args...); err != nil {
			return err
		}
	}
	out, err := s.run("custody", adminFlag, "token", "create", "--project", "skynet", "--workflow", "build-and-test", "--expires", "720h")
	if err != nil {
		return err
	}
	s.env = append(s.env, "CUSTODY_TOKEN="+strings.TrimSpace(out))
	fmt.Println("\n$ export CUSTODY_TOKEN=cst_...   # the workflow token, as a pipeline secret would hold it")
	return walkthrough(s, image, nil, url)
}

// walkthrough is the seed's crafting lifecycle, then the checks a consumer makes. Online (controlPlane
// is its URL) the push is keyless; offline it is signed with cosign.key.
func walkthrough(s *session, image string, initArgs []string, controlPlane string) error {
	offline := controlPlane == ""
	init := append([]string{"attestation", "init", "--workflow", "build-and-test", "--project", "skynet"}, initArgs...)
	push := []string{"attestation", "push"}
	if offline {
		push = append(push, "--key", "cosign.key", "--bundle", "attestation.sigstore.json")
	}
	steps := [][]string{
		init,
		{"attestation", "add", "--name", "skynet-control-plane", "--value", image},
		{"attestation", "add", "--name", "rootfs", "--value", "rootfs.tar.gz"},
		{"attestation", "add", "--name", "build-ref", "--value", "80e461e9b385c6986cdb8096c9dc99928943d667"},
		{"attestation", "add", "--name", "skynet-sbom", "--value", "sbom.cyclonedx.json"},
		{"attestation", "add", "--value", "junit.xml"},
		{"attestation", "status", "--full"},
	}
	for _, args := range steps {
		if _, err := s.run("custody", args...); err != nil {
			return err
		}
	}
	out, err := s.run("custody", append(push, "-o", "json")...)
	if err != nil {
		return err
	}
	if !offline {
		var pushed struct{ Digest string }
		if err := json.Unmarshal([]byte(out), &pushed); err != nil {
			return fmt.Errorf("push -o json: %w", err)
		}
		if _, err := s.run("custody", "attestation", "list", "--workflow", "build-and-test", "--project", "skynet"); err != nil {
			return err
		}
		if _, err := s.run("custody", "attestation", "get", pushed.Digest); err != nil {
			return err
		}
		bundle, err := s.runTo(io.Discard, " > attestation.sigstore.json", "custody", "attestation", "get", pushed.Digest, "--output", "bundle")
		if err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(s.dir, "attestation.sigstore.json"), []byte(bundle), 0o644); err != nil {
			return err
		}
		rootfs := "sha256:7c4f39951919d1763f0bf466a449b859cc1eeca2679daafb8547be7fd7aae4bc"
		if _, err := s.run("custody", "attestation", "list", "--digest", rootfs); err != nil {
			return err
		}
		if _, err := s.run("custody", "artifact", "download", rootfs, "-o", "rootfs-from-cas.tar.gz"); err != nil {
			return err
		}
	}
	verify := []string{"attestation", "verify", "--key", "cosign.pub", "--artifact", "rootfs.tar.gz", "attestation.sigstore.json"}
	if !offline {
		root, err := s.runTo(io.Discard, " > trusted_root.json", "custody", "trusted-root")
		if err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(s.dir, "trusted_root.json"), []byte(root), 0o644); err != nil {
			return err
		}
		verify = []string{"attestation", "verify", "--trusted-root", "trusted_root.json", "--workflow", "build-and-test", "--project", "skynet",
			"--artifact", "rootfs.tar.gz", "attestation.sigstore.json"}
	}
	if _, err := s.run("custody", verify...); err != nil {
		return err
	}
	return cosignVerify(s, controlPlane)
}

func build(bin string) error {
	for _, pkg := range []string{"./cmd/custody", "./cmd/custodyd"} {
		out, err := exec.Command("go", "build", "-o", bin+string(os.PathSeparator), pkg).CombinedOutput()
		if err != nil {
			return fmt.Errorf("go build %s (run the quickstart from the repository root): %v\n%s", pkg, err, out)
		}
	}
	return nil
}

// cleanEnv is the process environment without custody's own settings, so nothing of the user's
// configuration or CI leaks into the walkthrough.
func cleanEnv(dir string) []string {
	env := []string{"COSIGN_PASSWORD=quickstart", "HOME=" + filepath.Join(dir, "home"), "XDG_CONFIG_HOME=" + filepath.Join(dir, "home", ".config")}
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		switch {
		case strings.HasPrefix(k, "CUSTODY_"), k == "HOME", k == "XDG_CONFIG_HOME", k == "COSIGN_PASSWORD",
			k == "GITHUB_WORKSPACE", k == "CI_PROJECT_DIR", k == "GITHUB_ACTIONS", k == "GITLAB_CI", k == "DOCKER_CONFIG":
			continue
		}
		env = append(env, kv)
	}
	return env
}

var serving = regexp.MustCompile(`"msg":"custodyd serving","addr":"([^"]+)"`)

// startControlPlane starts custodyd in the background on a free port and reads its bootstrap token.
func startControlPlane(s *session, dataDir string) (url, token string, stop func(), err error) {
	args := []string{"--data-dir", dataDir, "--listen", "127.0.0.1:0"}
	fmt.Printf("\n$ custodyd %s &\n", strings.Join(args, " "))
	cmd := exec.Command(filepath.Join(s.bin, "custodyd"), args...)
	cmd.Env = s.env
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return "", "", nil, err
	}
	stderr, err := cmd.StderrPipe()
	if err != nil {
		return "", "", nil, err
	}
	if err := cmd.Start(); err != nil {
		return "", "", nil, fmt.Errorf("start custodyd: %w", err)
	}
	stop = func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		_ = cmd.Wait()
		fmt.Println("\n# custodyd stopped")
	}
	tokens := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			fmt.Println(sc.Text())
			if _, t, ok := strings.Cut(sc.Text(), ": cst_"); ok {
				tokens <- "cst_" + t
			}
		}
	}()
	addrs := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			if m := serving.FindStringSubmatch(sc.Text()); m != nil {
				addrs <- m[1]
			}
		}
		close(addrs)
	}()
	select {
	case addr, ok := <-addrs:
		if !ok {
			stop()
			return "", "", nil, fmt.Errorf("custodyd exited before serving")
		}
		url = "http://" + addr
	case <-time.After(30 * time.Second):
		stop()
		return "", "", nil, fmt.Errorf("custodyd did not start within 30s")
	}
	select {
	case token = <-tokens:
	case <-time.After(5 * time.Second):
		stop()
		return "", "", nil, fmt.Errorf("custodyd printed no bootstrap token")
	}
	return url, token, stop, nil
}

// startRegistry serves an in-process OCI registry on loopback and pushes the seed's image to it.
func startRegistry(ctx context.Context) (string, func(), error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, err
	}
	srv := &http.Server{Handler: registry.New(registry.Logger(log.New(io.Discard, "", 0))), ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(ln) //nolint:errcheck // ends with Shutdown
	stop := func() { _ = srv.Shutdown(ctx) }
	ref := ln.Addr().String() + "/skynet/control-plane:v0.7.6"
	img, err := random.Image(1024, 2)
	if err != nil {
		stop()
		return "", nil, err
	}
	tag, err := name.ParseReference(ref)
	if err != nil {
		stop()
		return "", nil, err
	}
	if err := remote.Write(tag, img, remote.WithContext(ctx)); err != nil {
		stop()
		return "", nil, fmt.Errorf("push sample image: %w", err)
	}
	return ref, stop, nil
}

// cosignVerify checks the bundle with cosign, a verifier custody did not write, when it is installed:
// a keyless bundle of the control plane at controlPlane with its trusted root and the workflow's
// identity, a key-signed one (controlPlane "") with cosign.pub.
func cosignVerify(s *session, controlPlane string) error {
	cosign, err := exec.LookPath("cosign")
	if err != nil {
		if gopath, gerr := exec.Command("go", "env", "GOPATH").Output(); gerr == nil {
			cosign = filepath.Join(strings.TrimSpace(string(gopath)), "bin", "cosign")
		}
	}
	if _, err := os.Stat(cosign); err != nil {
		fmt.Println("\n# cosign is not installed: skipping the cross-check (go install github.com/sigstore/cosign/v2/cmd/cosign@v2.6.5)")
		return nil
	}
	args := []string{"verify-blob-attestation", "--new-bundle-format", "--insecure-ignore-tlog", "--insecure-ignore-sct", "--use-signed-timestamps",
		"--trusted-root", "trusted_root.json", "--certificate-identity", controlPlane + "/projects/skynet/workflows/build-and-test",
		"--certificate-oidc-issuer", controlPlane,
		"--type", "https://custody.dev/attestation/v1", "--bundle", "attestation.sigstore.json", "rootfs.tar.gz"}
	if controlPlane == "" {
		root := `{"mediaType":"application/vnd.dev.sigstore.trustedroot+json;version=0.1","tlogs":[],"certificateAuthorities":[],"ctlogs":[],"timestampAuthorities":[]}`
		if err := os.WriteFile(filepath.Join(s.dir, "empty.json"), []byte(root), 0o644); err != nil {
			return err
		}
		args = []string{"verify-blob-attestation", "--new-bundle-format", "--key", "cosign.pub", "--insecure-ignore-tlog",
			"--trusted-root", "empty.json", "--type", "https://custody.dev/attestation/v1", "--bundle", "attestation.sigstore.json", "rootfs.tar.gz"}
	}
	fmt.Printf("\n$ cosign %s\n", strings.Join(args, " "))
	cmd := exec.Command(cosign, args...)
	cmd.Dir, cmd.Env = s.dir, s.env
	cmd.Stdout, cmd.Stderr = os.Stdout, os.Stdout
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("cosign verify-blob-attestation: %w", err)
	}
	return nil
}
