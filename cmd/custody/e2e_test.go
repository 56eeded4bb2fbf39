package main

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/custody-dev/custody/internal/cosigntest"
	"github.com/custody-dev/custody/internal/testregistry"
	"github.com/custody-dev/custody/internal/testtool"
)

// custodyBin is the custody binary built once for the end-to-end tests.
var custodyBin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "custody-e2e-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	custodyBin = filepath.Join(dir, "custody")
	if out, err := exec.Command("go", "build", "-o", custodyBin, ".").CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "build custody: %v\n%s", err, out)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// workspace is a pipeline's checkout: a directory, and the environment the steps run with.
type workspace struct {
	t   *testing.T
	dir string
	env []string
}

func newWorkspace(t *testing.T) *workspace {
	t.Helper()
	dir := t.TempDir()
	home := t.TempDir()
	return &workspace{t: t, dir: dir, env: []string{
		"PATH=" + os.Getenv("PATH"), "HOME=" + home, "DOCKER_CONFIG=" + filepath.Join(home, ".docker"),
		"COSIGN_PASSWORD=e2e-password",
	}}
}

type result struct {
	stdout, stderr string
	code           int
}

// custody runs the binary in the workspace.
func (w *workspace) custody(args ...string) result {
	w.t.Helper()
	return w.run(exec.Command(custodyBin, args...))
}

// run runs cmd in the workspace and returns what it printed and its exit code.
func (w *workspace) run(cmd *exec.Cmd) result {
	w.t.Helper()
	cmd.Dir, cmd.Env = w.dir, w.env
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	var exit *exec.ExitError
	if err != nil && !errors.As(err, &exit) {
		w.t.Fatalf("run %v: %v", cmd.Args, err)
	}
	return result{stdout: stdout.String(), stderr: stderr.String(), code: cmd.ProcessState.ExitCode()}
}

// ok runs custody and fails the test unless it exits 0.
func (w *workspace) ok(args ...string) result {
	w.t.Helper()
	r := w.custody(args...)
	if r.code != 0 {
		w.t.Fatalf("custody %s: exit %d\nstdout: %s\nstderr: %s", strings.Join(args, " "), r.code, r.stdout, r.stderr)
	}
	return r
}

func (w *workspace) write(name, content string) string {
	w.t.Helper()
	if err := os.WriteFile(filepath.Join(w.dir, name), []byte(content), 0o644); err != nil {
		w.t.Fatal(err)
	}
	return name
}

func (w *workspace) copyFixture(src, name string) string {
	w.t.Helper()
	b, err := os.ReadFile(src)
	if err != nil {
		w.t.Fatal(err)
	}
	return w.write(name, string(b))
}

func (w *workspace) stateBytes() []byte {
	w.t.Helper()
	b, err := os.ReadFile(filepath.Join(w.dir, ".custody", "attestation.json"))
	if err != nil {
		w.t.Fatal(err)
	}
	return b
}

// startCraneRegistry runs `crane registry serve` on a free loopback port and returns its host:port.
func startCraneRegistry(t *testing.T) string {
	t.Helper()
	crane := testtool.Path(t, "crane", "CRANE_BIN", "go install github.com/google/go-containerregistry/cmd/crane@v0.22.1")
	cmd := exec.Command(crane, "registry", "serve", "--address", "127.0.0.1:0")
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start crane registry: %v", err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	scanner := bufio.NewScanner(stderr)
	for scanner.Scan() {
		if _, port, ok := strings.Cut(scanner.Text(), "serving on port "); ok {
			go func() { // keep draining the log so the registry never blocks on a full pipe
				for scanner.Scan() {
				}
			}()
			return "127.0.0.1:" + strings.TrimSpace(port)
		}
	}
	t.Fatalf("crane registry exited before serving: %v", scanner.Err())
	return ""
}

// pushImage pushes a random image and returns its digest.
func pushImage(t *testing.T, ref string) string {
	t.Helper()
	img, err := random.Image(512, 1)
	if err != nil {
		t.Fatal(err)
	}
	tag, err := name.ParseReference(ref)
	if err != nil {
		t.Fatal(err)
	}
	if err := remote.Write(tag, img); err != nil {
		t.Fatalf("push %s: %v", ref, err)
	}
	d, err := img.Digest()
	if err != nil {
		t.Fatal(err)
	}
	return d.String()
}

// seedContract is the example contract of the seed walkthrough, as users find it in examples/.
var seedContract = func() string {
	b, err := os.ReadFile("../../examples/contracts/build-and-test.yaml")
	if err != nil {
		panic(err)
	}
	return string(b)
}()

const fixtures = "../../crafting/materials/testdata/"

// The walkthrough, run as a user would, against a registry process, checked by cosign.
func TestWalkthroughEndToEnd(t *testing.T) {
	t.Parallel()
	registry := startCraneRegistry(t)
	cosign := cosigntest.Path(t)
	image := registry + "/skynet/control-plane:v0.7.6"
	imageDigest := pushImage(t, image)

	w := newWorkspace(t)
	w.write("contract.yaml", seedContract)
	w.write("rootfs.tar.gz", "rootfs!")
	w.copyFixture(fixtures+"cyclonedx/custody-mod.cdx.json", "sbom.cyclonedx.json")
	w.copyFixture(fixtures+"junit/go-junit-report-pass.junit.xml", "junit.xml")

	w.ok("generate-key-pair")
	init := w.ok("attestation", "init", "--workflow", "build-and-test", "--project", "skynet", "--contract", "contract.yaml", "--dry-run")
	for _, want := range []string{"Initialized At", "build-and-test", "skynet-control-plane", "CONTAINER_IMAGE", "IS OUTPUT"} {
		if !strings.Contains(init.stdout, want) {
			t.Errorf("init table lacks %q:\n%s", want, init.stdout)
		}
	}
	w.ok("attestation", "add", "--name", "skynet-control-plane", "--value", image)
	w.ok("attestation", "add", "--name", "rootfs", "--value", "rootfs.tar.gz")
	w.ok("attestation", "add", "--name", "build-ref", "--value", "80e461e9b385c6986cdb8096c9dc99928943d667")
	w.ok("attestation", "add", "--name", "skynet-sbom", "--value", "sbom.cyclonedx.json")
	w.ok("attestation", "add", "--value", "junit.xml")

	status := w.ok("attestation", "status", "--full", "-o", "json")
	var st struct {
		Materials []struct {
			Name     string `json:"name"`
			Type     string `json:"type"`
			Set      bool   `json:"set"`
			Material *struct {
				Value  string `json:"value"`
				Digest string `json:"digest"`
			} `json:"material"`
		} `json:"materials"`
	}
	if err := json.Unmarshal([]byte(status.stdout), &st); err != nil {
		t.Fatalf("status -o json: %v\n%s", err, status.stdout)
	}
	got := map[string]string{}
	for _, m := range st.Materials {
		if m.Material != nil {
			got[m.Name+" "+m.Type] = m.Material.Digest
		}
	}
	if got["skynet-control-plane CONTAINER_IMAGE"] != imageDigest {
		t.Errorf("image resolved to %q, the registry holds %s", got["skynet-control-plane CONTAINER_IMAGE"], imageDigest)
	}
	if _, ok := got["junit-xml JUNIT_XML"]; !ok {
		t.Errorf("junit.xml without a name was not detected as JUNIT_XML named junit-xml: %v", got)
	}
	full := w.ok("attestation", "status", "--full")
	if !strings.Contains(full.stdout, "rootfs.tar.gz@sha256:7c4f39951919d1763f0bf466a449b859cc1eeca2679daafb8547be7fd7aae4bc") {
		t.Errorf("status --full lacks the rootfs value:\n%s", full.stdout)
	}

	w.ok("attestation", "push", "--key", "cosign.key", "--bundle", "attestation.sigstore.json")
	if _, err := os.Stat(filepath.Join(w.dir, ".custody", "attestation.json")); !os.IsNotExist(err) {
		t.Errorf("the state survived a successful push: %v", err)
	}
	v := w.ok("attestation", "verify", "--key", "cosign.pub", "--artifact", "rootfs.tar.gz", "attestation.sigstore.json")
	if !strings.Contains(v.stdout, "Verified OK") {
		t.Errorf("verify said:\n%s", v.stdout)
	}
	w.write("empty.json", cosigntest.EmptyTrustedRoot)
	if out, err := cosignVerify(w, cosign, "attestation.sigstore.json", "rootfs.tar.gz"); err != nil || !strings.Contains(out, "Verified OK") {
		t.Fatalf("cosign verify-blob-attestation: %v\n%s", err, out)
	}

	// One flipped byte in the payload: both verifiers refuse.
	w.write("tampered.json", string(flipPayloadByte(t, filepath.Join(w.dir, "attestation.sigstore.json"))))
	if r := w.custody("attestation", "verify", "--key", "cosign.pub", "--artifact", "rootfs.tar.gz", "tampered.json"); r.code != 7 || !strings.Contains(r.stdout, "FAIL tampered.json") {
		t.Errorf("custody verify of a tampered bundle: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if out, err := cosignVerify(w, cosign, "tampered.json", "rootfs.tar.gz"); err == nil {
		t.Errorf("cosign accepted a tampered bundle:\n%s", out)
	}
	// Both bundles at once: one verdict each, and a failing exit.
	r := w.custody("attestation", "verify", "--key", "cosign.pub", "attestation.sigstore.json", "--bundle", "tampered.json")
	if r.code != 7 || !strings.Contains(r.stdout, "OK   attestation.sigstore.json") || !strings.Contains(r.stdout, "FAIL tampered.json") {
		t.Errorf("verify of a good and a bad bundle: exit %d\n%s", r.code, r.stdout)
	}
}

func cosignVerify(w *workspace, cosign, bundle, artifact string) (string, error) {
	cmd := exec.Command(cosign, "verify-blob-attestation", "--new-bundle-format", "--key", "cosign.pub", "--insecure-ignore-tlog",
		"--trusted-root", "empty.json", "--type", "https://custody.dev/attestation/v1", "--bundle", bundle, artifact)
	cmd.Dir, cmd.Env = w.dir, w.env
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// flipPayloadByte flips one bit of one byte of the DSSE payload of a bundle file.
func flipPayloadByte(t *testing.T, path string) []byte {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var b map[string]any
	if err := json.Unmarshal(raw, &b); err != nil {
		t.Fatal(err)
	}
	env := b["dsseEnvelope"].(map[string]any)
	payload, err := base64.StdEncoding.DecodeString(env["payload"].(string))
	if err != nil {
		t.Fatal(err)
	}
	i := bytes.Index(payload, []byte("skynet"))
	payload[i] ^= 0x01 // "skynet" becomes "rkynet"
	env["payload"] = base64.StdEncoding.EncodeToString(payload)
	out, err := json.Marshal(b)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// Every failing command leaves the state file byte-identical and exits with its documented code.
func TestFailedCommandsLeaveStateByteIdentical(t *testing.T) {
	t.Parallel()
	w := newWorkspace(t)
	w.write("contract.yaml", seedContract)
	w.write("rootfs.tar.gz", "rootfs!")
	w.write("other.tar.gz", "other")
	w.write("broken-sbom.json", `{"bomFormat":"CycloneDX","specVersion":"9.9"}`)
	w.write("secret.yaml", "apiVersion: custody.dev/v1\nkind: Contract\nmetadata:\n  name: c\nspec:\n  envAllowList: [CUSTODY_TOKEN]\n")
	w.ok("generate-key-pair")
	w.ok("attestation", "init", "--workflow", "build-and-test", "--project", "skynet", "--contract", "contract.yaml")
	w.ok("attestation", "add", "--name", "rootfs", "--value", "rootfs.tar.gz")
	before := w.stateBytes()

	tests := []struct {
		name string
		env  []string
		args []string
		code int
		want string
	}{
		{"push with materials missing", nil, []string{"attestation", "push", "--key", "cosign.key"}, 4,
			"required materials not set: skynet-control-plane, build-ref, skynet-sbom"},
		{"init over a run", nil, []string{"attestation", "init", "--workflow", "w", "--project", "p", "--contract", "contract.yaml"}, 5, "already in progress"},
		{"add a missing file", nil, []string{"attestation", "add", "--name", "dockerfile", "--value", "Dockerfile.missing"}, 3, "no such file"},
		{"add a broken SBOM", nil, []string{"attestation", "add", "--name", "skynet-sbom", "--value", "broken-sbom.json"}, 3, "SBOM_CYCLONEDX_JSON"},
		{"add over a set material", nil, []string{"attestation", "add", "--name", "rootfs", "--value", "other.tar.gz"}, 5, "already set"},
		{"add with an unknown kind", nil, []string{"attestation", "add", "--value", "x", "--kind", "BLOB"}, 3, "unknown kind"},
		{"push with a wrong password", []string{"COSIGN_PASSWORD=wrong"}, []string{"attestation", "push", "--key", "cosign.key"}, 3, "key"},
		{"unknown flag", nil, []string{"attestation", "add", "--bogus"}, 2, "unknown flag"},
		{"add under a misspelt name", nil, []string{"attestation", "add", "--name", "skynet-sbon", "--value", "other.tar.gz"}, 3,
			"material skynet-sbon is not in contract build-and-test; did you mean skynet-sbom?"},
		{"add a missing file as text", nil, []string{"attestation", "add", "--value", "README.md"}, 3, `"README.md" looks like a file path`},
		{"init recording a credential", nil, []string{"attestation", "init", "--workflow", "w", "--project", "p", "--contract", "secret.yaml", "--replace"}, 3,
			`"CUSTODY_TOKEN" is a credential (custody's API token)`},
	}
	for _, tt := range tests {
		saved := w.env
		w.env = append(append([]string{}, w.env...), tt.env...)
		r := w.custody(tt.args...)
		w.env = saved
		if r.code != tt.code || !strings.Contains(r.stderr, tt.want) {
			t.Errorf("%s: exit %d, stderr %q; want exit %d mentioning %q", tt.name, r.code, r.stderr, tt.code, tt.want)
		}
		if !bytes.Equal(w.stateBytes(), before) {
			t.Fatalf("%s changed the state file", tt.name)
		}
	}
}

// Steps running at once on one runner serialize on the state file: every add lands.
func TestParallelAddProcessesAllLand(t *testing.T) {
	t.Parallel()
	w := newWorkspace(t)
	w.write("contract.yaml", "apiVersion: custody.dev/v1\nkind: Contract\nmetadata:\n  name: empty\n")
	w.ok("attestation", "init", "--workflow", "w", "--project", "p", "--contract", "contract.yaml")
	const n = 8
	var wg sync.WaitGroup
	results := make([]result, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[i] = w.custody("attestation", "add", "--name", fmt.Sprintf("ref-%d", i), "--value", fmt.Sprintf("value-%d", i), "--kind", "STRING")
		}()
	}
	wg.Wait()
	for i, r := range results {
		if r.code != 0 {
			t.Errorf("add %d: exit %d: %s", i, r.code, r.stderr)
		}
	}
	var st struct {
		Materials []struct{ Name string } `json:"materials"`
	}
	if err := json.Unmarshal([]byte(w.ok("attestation", "status", "-o", "json").stdout), &st); err != nil {
		t.Fatal(err)
	}
	if len(st.Materials) != n {
		t.Fatalf("%d materials after %d parallel adds", len(st.Materials), n)
	}
}

// A step killed with SIGKILL at any point of an add leaves a state file that reads, holding either
// the materials before the add or the materials after it.
func TestKillDuringAddLeavesValidState(t *testing.T) {
	t.Parallel()
	w := newWorkspace(t)
	w.write("contract.yaml", "apiVersion: custody.dev/v1\nkind: Contract\nmetadata:\n  name: empty\n")
	w.ok("attestation", "init", "--workflow", "w", "--project", "p", "--contract", "contract.yaml")
	big := make([]byte, 4<<20)
	if err := os.WriteFile(filepath.Join(w.dir, "big.bin"), big, 0o644); err != nil {
		t.Fatal(err)
	}
	count := func() int {
		var st struct {
			Materials []struct{ Name string } `json:"materials"`
		}
		r := w.ok("attestation", "status", "-o", "json")
		if err := json.Unmarshal([]byte(r.stdout), &st); err != nil {
			t.Fatalf("state unreadable after a kill: %v", err)
		}
		return len(st.Materials)
	}
	landed := 0
	// The kill lands wherever the add happens to be: before hashing, while hashing, in the middle of
	// the write. Whatever the point, the state must read and hold n or n+1 materials.
	for i := range 30 {
		cmd := exec.Command(custodyBin, "attestation", "add", "--name", fmt.Sprintf("m-%d", i), "--value", "big.bin", "--kind", "ARTIFACT")
		cmd.Dir, cmd.Env = w.dir, w.env
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		for range i * 50 { // a varying amount of work before the kill
			_, _ = os.Stat(filepath.Join(w.dir, ".custody", "attestation.json"))
		}
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		n := count()
		if n != landed && n != landed+1 {
			t.Fatalf("after kill %d: %d materials, want %d or %d", i, n, landed, landed+1)
		}
		landed = n
	}
	entries, err := os.ReadDir(filepath.Join(w.dir, ".custody"))
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if strings.HasSuffix(e.Name(), ".tmp") {
			t.Logf("a killed add left its temp file %s beside the state (harmless: never read)", e.Name())
		}
	}
}

// The binary finds registry credentials where `docker login` put them (DOCKER_CONFIG), and a
// registry's refusal is an error with its reason, never a STRING.
func TestImageFromRegistryThatDemandsAuth(t *testing.T) {
	t.Parallel()
	reg := testregistry.New(t, testregistry.WithBasicAuth("ci", "s3cret"))
	digest := reg.PushRandom(t, "skynet/control-plane:v0.7.6")
	image := reg.Ref("skynet/control-plane:v0.7.6")

	w := newWorkspace(t)
	w.write("contract.yaml", "apiVersion: custody.dev/v1\nkind: Contract\nmetadata:\n  name: empty\n")
	w.ok("attestation", "init", "--workflow", "w", "--project", "p", "--contract", "contract.yaml")
	before := w.stateBytes()
	r := w.custody("attestation", "add", "--value", image)
	if r.code != 3 || !strings.Contains(r.stderr, "UNAUTHORIZED") || !strings.Contains(r.stderr, image) {
		t.Fatalf("add without credentials: exit %d, %s", r.code, r.stderr)
	}
	if !bytes.Equal(w.stateBytes(), before) {
		t.Fatal("a refused add changed the state")
	}

	w.env = append(w.env, "DOCKER_CONFIG="+testregistry.WriteDockerConfig(t, reg.Host, "ci", "s3cret"))
	out := w.ok("attestation", "add", "--value", image, "-o", "json")
	var m struct {
		Name, Kind, Digest string
	}
	if err := json.Unmarshal([]byte(out.stdout), &m); err != nil {
		t.Fatal(err)
	}
	if m.Kind != "CONTAINER_IMAGE" || m.Digest != digest || m.Name != "control-plane" {
		t.Errorf("added %+v, want CONTAINER_IMAGE control-plane at %s", m, digest)
	}
}
