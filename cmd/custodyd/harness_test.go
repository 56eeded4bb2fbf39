package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/custody-dev/custody/attestation"
	"github.com/custody-dev/custody/client"
	"github.com/custody-dev/custody/crafting"
	"github.com/custody-dev/custody/internal/pgtest"
	"github.com/custody-dev/custody/signing"
	"github.com/custody-dev/custody/wire"
)

// The binaries the process tests run, built once by TestMain.
var bins struct{ custody, custodyd string }

func TestMain(m *testing.M) {
	os.Exit(testMain(m))
}

func testMain(m *testing.M) int {
	dir, err := os.MkdirTemp("", "custodyd-test-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	bins.custody, bins.custodyd = filepath.Join(dir, "custody"), filepath.Join(dir, "custodyd")
	for bin, pkg := range map[string]string{bins.custody: "../custody", bins.custodyd: "."} {
		if out, err := exec.Command("go", "build", "-o", bin, pkg).CombinedOutput(); err != nil {
			fmt.Fprintf(os.Stderr, "build %s: %v\n%s", pkg, err, out)
			return 1
		}
	}
	return pgtest.Main(m)
}

// waitLimit bounds every wait of these tests for something a process does: generous, because the
// machines are shared, and never an assertion about speed.
const waitLimit = 2 * time.Minute

// daemon is a custodyd process.
type daemon struct {
	t       *testing.T
	cmd     *exec.Cmd
	dataDir string
	addr    string // host:port it serves on
	tokens  chan string

	exited   chan struct{} // closed once the process is reaped
	exitErr  error
	out      *lineWriter // stdout
	log      *lineWriter // stderr: JSON log lines
	stopping chan struct{}
}

var servingLine = regexp.MustCompile(`"msg":"custodyd serving","addr":"([^"]+)"`)

// startDaemon starts custodyd on a free loopback port with its data in dataDir (SQLite and a
// filesystem CAS, unless args say otherwise), and waits until it serves.
func startDaemon(t *testing.T, dataDir string, args ...string) *daemon {
	t.Helper()
	d := &daemon{t: t, dataDir: dataDir, exited: make(chan struct{}), stopping: make(chan struct{})}
	serving := make(chan string, 1)
	d.tokens = make(chan string, 1)
	var stopOnce sync.Once
	d.log = newLineWriter(func(line string) {
		if m := servingLine.FindStringSubmatch(line); m != nil {
			serving <- m[1]
		}
		if strings.Contains(line, `"msg":"shutting down`) {
			stopOnce.Do(func() { close(d.stopping) })
		}
	})
	d.out = newLineWriter(func(line string) {
		if _, tok, ok := strings.Cut(line, "keep it safe): "); ok {
			d.tokens <- strings.TrimSpace(tok)
		}
	})
	d.cmd = exec.Command(bins.custodyd, append([]string{"--data-dir", dataDir, "--listen", "127.0.0.1:0"}, args...)...)
	d.cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + dataDir}
	d.cmd.Stdout, d.cmd.Stderr = d.out, d.log
	if err := d.cmd.Start(); err != nil {
		t.Fatalf("start custodyd: %v", err)
	}
	go func() {
		d.exitErr = d.cmd.Wait()
		close(d.exited)
	}()
	t.Cleanup(func() {
		d.kill()
		if t.Failed() {
			t.Logf("custodyd (pid %d) log:\n%s", d.cmd.Process.Pid, d.log.String())
		}
	})
	select {
	case d.addr = <-serving:
	case <-d.exited:
		t.Fatalf("custodyd exited before serving: %v\n%s", d.exitErr, d.log.String())
	case <-time.After(waitLimit):
		t.Fatalf("custodyd did not serve within %s\n%s", waitLimit, d.log.String())
	}
	return d
}

// bootstrapToken returns the admin token custodyd prints when it starts on an empty store.
func (d *daemon) bootstrapToken() string {
	d.t.Helper()
	select {
	case tok := <-d.tokens:
		return tok
	case <-time.After(waitLimit):
		d.t.Fatalf("custodyd printed no bootstrap token:\n%s", d.out.String())
		return ""
	}
}

// url is the daemon's base URL.
func (d *daemon) url() string { return "http://" + d.addr }

// kill sends SIGKILL and reaps the process; a process already gone is fine.
func (d *daemon) kill() {
	d.t.Helper()
	_ = d.cmd.Process.Signal(syscall.SIGKILL)
	d.wait()
}

// wait reaps the process and returns its exit code (-1 when killed by a signal).
func (d *daemon) wait() int {
	d.t.Helper()
	select {
	case <-d.exited:
	case <-time.After(waitLimit):
		d.t.Fatalf("custodyd (pid %d) did not exit within %s", d.cmd.Process.Pid, waitLimit)
	}
	return d.cmd.ProcessState.ExitCode()
}

// lineWriter hands each complete line written to it to fn, and keeps everything for failure logs.
type lineWriter struct {
	mu      sync.Mutex
	all     bytes.Buffer
	partial []byte
	fn      func(string)
}

func newLineWriter(fn func(string)) *lineWriter { return &lineWriter{fn: fn} }

func (w *lineWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	w.all.Write(p)
	w.partial = append(w.partial, p...)
	var lines []string
	for {
		i := bytes.IndexByte(w.partial, '\n')
		if i < 0 {
			break
		}
		lines = append(lines, string(w.partial[:i]))
		w.partial = w.partial[i+1:]
	}
	w.mu.Unlock()
	for _, l := range lines {
		w.fn(l)
	}
	return len(p), nil
}

func (w *lineWriter) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.all.String()
}

// eventually polls cond every few milliseconds until it holds, failing the test after waitLimit.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(waitLimit)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", waitLimit, what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// tempFiles lists the CAS's temp files (uploads being received, or left by a killed process).
func tempFiles(t *testing.T, dataDir string) map[string]int64 {
	t.Helper()
	entries, err := os.ReadDir(filepath.Join(dataDir, "cas", "tmp"))
	if err != nil {
		t.Fatalf("read the CAS temp dir: %v", err)
	}
	out := map[string]int64{}
	for _, e := range entries {
		if info, err := e.Info(); err == nil {
			out[e.Name()] = info.Size()
		}
	}
	return out
}

// receiving reports whether the CAS has a temp file holding at least one byte.
func receiving(t *testing.T, dataDir string) bool {
	for _, size := range tempFiles(t, dataDir) {
		if size > 0 {
			return true
		}
	}
	return false
}

// project is what the tests' pipelines run against: a project, a workflow with a contract, a
// trusted key and a workflow token.
type project struct {
	name, workflow string
	admin          string // admin token
	token          string // workflow token
	keyDir         string // holds cosign.key and cosign.pub, password in keyPassword
}

const keyPassword = "fault-test-password"

// contractArtifactAndString requires one ARTIFACT and one STRING.
const contractArtifactAndString = `apiVersion: custody.dev/v1
kind: Contract
metadata:
  name: fault
spec:
  materials:
    - name: artifact
      type: ARTIFACT
      output: true
    - name: build-ref
      type: STRING
`

// bootstrap creates the project, workflow (with contract), trusted key and workflow token through
// the API with the admin token.
func bootstrap(t *testing.T, url, admin, contract string) *project {
	t.Helper()
	ctx := context.Background()
	c, err := client.New(url, admin)
	if err != nil {
		t.Fatal(err)
	}
	p := &project{name: "skynet", workflow: "build-and-test", admin: admin, keyDir: t.TempDir()}
	if _, err := c.CreateProject(ctx, p.name); err != nil {
		t.Fatalf("create project: %v", err)
	}
	if _, err := c.CreateWorkflow(ctx, p.name, wire.CreateWorkflow{Name: p.workflow, Contract: contract}); err != nil {
		t.Fatalf("create workflow: %v", err)
	}
	keys, err := signing.GenerateKeyPair(p.keyDir, func() ([]byte, error) { return []byte(keyPassword), nil }, false)
	if err != nil {
		t.Fatalf("generate key pair: %v", err)
	}
	pub, err := os.ReadFile(keys.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.AddKey(ctx, p.name, p.workflow, string(pub)); err != nil {
		t.Fatalf("add key: %v", err)
	}
	tok, err := c.CreateToken(ctx, wire.CreateToken{Project: p.name, Workflow: p.workflow, ExpiresIn: "1h"})
	if err != nil {
		t.Fatalf("create token: %v", err)
	}
	p.token = tok.Secret
	return p
}

// apiClient is a client of url with the admin token that does not retry: the tests see every failure.
func (p *project) apiClient(t *testing.T, url string) *client.Client {
	t.Helper()
	c, err := client.New(url, p.admin, client.WithRetry(client.Retry{}))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// pipeline is a CI job's workspace: a directory and the environment custody runs with.
type pipeline struct {
	t   *testing.T
	dir string
	env []string
}

func (p *project) pipeline(t *testing.T, url string, extraEnv ...string) *pipeline {
	t.Helper()
	home := t.TempDir()
	env := []string{
		"PATH=" + os.Getenv("PATH"), "HOME=" + home, "XDG_CONFIG_HOME=" + filepath.Join(home, ".config"),
		"DOCKER_CONFIG=" + filepath.Join(home, ".docker"), "COSIGN_PASSWORD=" + keyPassword,
		"CUSTODY_CONTROL_PLANE=" + url, "CUSTODY_TOKEN=" + p.token,
	}
	return &pipeline{t: t, dir: t.TempDir(), env: append(env, extraEnv...)}
}

type result struct {
	stdout, stderr string
	code           int
}

// cli is a custody process started in the pipeline's workspace.
type cli struct {
	cmd            *exec.Cmd
	args           []string
	stdout, stderr bytes.Buffer
	done           chan struct{}
}

func (p *pipeline) start(args ...string) *cli {
	p.t.Helper()
	c := &cli{cmd: exec.Command(bins.custody, args...), args: args, done: make(chan struct{})}
	c.cmd.Dir, c.cmd.Env = p.dir, p.env
	c.cmd.Stdout, c.cmd.Stderr = &c.stdout, &c.stderr
	if err := c.cmd.Start(); err != nil {
		p.t.Fatalf("start custody %v: %v", args, err)
	}
	go func() {
		_ = c.cmd.Wait()
		close(c.done)
	}()
	p.t.Cleanup(func() {
		_ = c.cmd.Process.Kill()
		<-c.done
	})
	return c
}

// wait waits for the command to exit and returns what it printed and its exit code.
func (c *cli) wait(t *testing.T) result {
	t.Helper()
	select {
	case <-c.done:
	case <-time.After(waitLimit):
		t.Fatalf("custody %v did not exit within %s", c.args, waitLimit)
	}
	return result{stdout: c.stdout.String(), stderr: c.stderr.String(), code: c.cmd.ProcessState.ExitCode()}
}

// run runs custody and returns its result, whatever the exit code.
func (p *pipeline) run(args ...string) result {
	p.t.Helper()
	return p.start(args...).wait(p.t)
}

// ok runs custody and fails the test unless it exits 0.
func (p *pipeline) ok(args ...string) result {
	p.t.Helper()
	r := p.run(args...)
	if r.code != 0 {
		p.t.Fatalf("custody %s: exit %d\nstdout: %s\nstderr: %s", strings.Join(args, " "), r.code, r.stdout, r.stderr)
	}
	return r
}

func (p *pipeline) path(name string) string { return filepath.Join(p.dir, name) }

// writeRandom writes size pseudo-random bytes (seeded, so reproducible) to a file of the workspace
// and returns its digest.
func (p *pipeline) writeRandom(name string, size int64, seed uint64) string {
	p.t.Helper()
	f, err := os.Create(p.path(name))
	if err != nil {
		p.t.Fatal(err)
	}
	h := sha256.New()
	if _, err := io.Copy(io.MultiWriter(f, h), io.LimitReader(newXorshift(seed), size)); err != nil {
		p.t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		p.t.Fatal(err)
	}
	return "sha256:" + hex.EncodeToString(h.Sum(nil))
}

// xorshift is a fast deterministic byte source for large test files.
type xorshift struct{ x uint64 }

func newXorshift(seed uint64) *xorshift { return &xorshift{x: seed | 1} }

func (r *xorshift) Read(p []byte) (int, error) {
	for i := range p {
		if i%8 == 0 {
			r.x ^= r.x << 13
			r.x ^= r.x >> 7
			r.x ^= r.x << 17
		}
		p[i] = byte(r.x >> (8 * (i % 8)))
	}
	return len(p), nil
}

// download fetches a blob and returns its bytes' digest, or the client's error.
func download(ctx context.Context, c *client.Client, digest string) (string, error) {
	h := sha256.New()
	if _, err := c.DownloadBlob(ctx, digest, h); err != nil {
		return "", err
	}
	return "sha256:" + hex.EncodeToString(h.Sum(nil)), nil
}

// isNotFound reports a 404 from the control plane.
func isNotFound(err error) bool {
	var e *client.Error
	return errors.As(err, &e) && e.Problem.Status == 404
}

// statusJSON is `custody attestation status -o json` (and init's).
type statusJSON crafting.Status

// material returns the material called name, set or not, or nil.
func (s *statusJSON) material(name string) *attestation.Material {
	for _, m := range s.Materials {
		if m.Name == name {
			return m.Material
		}
	}
	return nil
}

// set counts the materials recorded.
func (s *statusJSON) set() int {
	n := 0
	for _, m := range s.Materials {
		if m.Set {
			n++
		}
	}
	return n
}

// json runs custody with -o json and decodes its stdout into out.
func (p *pipeline) json(out any, args ...string) {
	p.t.Helper()
	r := p.ok(append(args, "-o", "json")...)
	if err := json.Unmarshal([]byte(r.stdout), out); err != nil {
		p.t.Fatalf("custody %s -o json: %v\n%s", strings.Join(args, " "), err, r.stdout)
	}
}
