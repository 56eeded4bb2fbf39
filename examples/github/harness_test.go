package github_test

import (
	"bufio"
	"context"
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
	"testing"
	"time"

	"github.com/custody-dev/custody/client"
	"github.com/custody-dev/custody/internal/image"
	"github.com/custody-dev/custody/internal/testtool"
	"github.com/custody-dev/custody/wire"
)

// waitLimit bounds each wait for a process: generous, since the machines are shared, and never an
// assertion about speed.
const waitLimit = 2 * time.Minute

// repoRoot is the repository's root, from this directory.
const repoRoot = "../.."

// bins holds custody and custodyd, built once when a test first needs them.
var bins struct {
	once sync.Once
	dir  string
	err  error
}

func TestMain(m *testing.M) {
	code := m.Run()
	if bins.dir != "" {
		os.RemoveAll(bins.dir)
	}
	os.Exit(code)
}

// binDir builds custody and custodyd as the image's build does into a directory the tests put first on
// PATH.
func binDir(t testing.TB) string {
	t.Helper()
	bins.once.Do(func() {
		if bins.dir, bins.err = os.MkdirTemp("", "custody-act-bin-"); bins.err != nil {
			return
		}
		for _, command := range []string{"custody", "custodyd"} {
			if bins.err = image.BuildBinary(context.Background(), repoRoot, command, filepath.Join(bins.dir, command), "v0.0.0-act"); bins.err != nil {
				return
			}
		}
	})
	if bins.err != nil {
		t.Fatal(bins.err)
	}
	return bins.dir
}

// controlPlane is a custodyd process on 127.0.0.1 with a project and a workflow.
type controlPlane struct {
	url        string
	adminToken string
	admin      *client.Client
	// token is scoped to the workflow skynet/build-and-test.
	token string
}

var servingLine = regexp.MustCompile(`"msg":"custodyd serving","addr":"([^"]+)"`)

// startControlPlane starts custodyd on a free loopback port with its data in a temp directory, creates
// the project skynet and its workflow build-and-test with the contract, and a token for the workflow.
// It is killed when the test ends.
func startControlPlane(t testing.TB, contract string, args ...string) *controlPlane {
	t.Helper()
	dir := t.TempDir()
	cmd := exec.Command(filepath.Join(binDir(t), "custodyd"), append([]string{"--data-dir", dir, "--listen", "127.0.0.1:0"}, args...)...)
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + dir}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start custodyd: %v", err)
	}
	var log lockedBuffer
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		if t.Failed() {
			t.Logf("custodyd log:\n%s", log.String())
		}
	})
	addr, token := make(chan string, 1), make(chan string, 1)
	go scanLines(io.TeeReader(stderr, &log), func(line string) {
		if m := servingLine.FindStringSubmatch(line); m != nil {
			addr <- m[1]
		}
	})
	go scanLines(stdout, func(line string) {
		if _, tok, ok := strings.Cut(line, "keep it safe): "); ok {
			token <- strings.TrimSpace(tok)
		}
	})
	cp := &controlPlane{}
	for _, ch := range []struct {
		c   chan string
		out *string
	}{{addr, &cp.url}, {token, &cp.token}} {
		select {
		case v := <-ch.c:
			*ch.out = v
		case <-time.After(waitLimit):
			t.Fatalf("custodyd did not start within %s:\n%s", waitLimit, log.String())
		}
	}
	cp.url, cp.adminToken = "http://"+cp.url, cp.token
	if cp.admin, err = client.New(cp.url, cp.adminToken); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if _, err := cp.admin.CreateProject(ctx, "skynet"); err != nil {
		t.Fatal(err)
	}
	if _, err := cp.admin.CreateWorkflow(ctx, "skynet", wire.CreateWorkflow{Name: "build-and-test", Contract: contract}); err != nil {
		t.Fatal(err)
	}
	tok, err := cp.admin.CreateToken(ctx, wire.CreateToken{Project: "skynet", Workflow: "build-and-test"})
	if err != nil {
		t.Fatal(err)
	}
	cp.token = tok.Secret
	return cp
}

// custody runs the custody binary in dir with the admin token, and fails the test unless it exits 0.
func (cp *controlPlane) custody(t testing.TB, dir string, args ...string) string {
	t.Helper()
	cmd := exec.Command(filepath.Join(binDir(t), "custody"), args...)
	cmd.Dir = dir
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + dir, "CUSTODY_CONTROL_PLANE=" + cp.url, "CUSTODY_TOKEN=" + cp.adminToken}
	out, err := cmd.Output()
	if err != nil {
		var stderr []byte
		if exit, ok := err.(*exec.ExitError); ok {
			stderr = exit.Stderr
		}
		t.Fatalf("custody %s: %v\n%s%s", strings.Join(args, " "), err, out, stderr)
	}
	return string(out)
}

// runs lists the workflow's runs, newest first.
func (cp *controlPlane) runs(t testing.TB) []wire.Run {
	t.Helper()
	runs, err := cp.admin.ListRuns(context.Background(), "skynet", "build-and-test", 100)
	if err != nil {
		t.Fatal(err)
	}
	return runs
}

func scanLines(r io.Reader, fn func(string)) {
	s := bufio.NewScanner(r)
	s.Buffer(make([]byte, 64<<10), 1<<20)
	for s.Scan() {
		fn(s.Text())
	}
	_, _ = io.Copy(io.Discard, r)
}

type lockedBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// actEvent is a line of act's --json log: a message, or a workflow command a step wrote.
type actEvent struct {
	Job       string            `json:"job"`
	Msg       string            `json:"msg"`
	Level     string            `json:"level"`
	Command   string            `json:"command"`
	Name      string            `json:"name"`
	Arg       string            `json:"arg"`
	Content   string            `json:"content"`
	KVPairs   map[string]string `json:"kvPairs"`
	JobResult string            `json:"jobResult"`
}

// actRun is what a workflow run under act did.
type actRun struct {
	code   int
	events []actEvent
	log    string
}

// outputs returns the step outputs the jobs whose name contains job set, the last value of each name.
func (r actRun) outputs(job string) map[string]string {
	out := map[string]string{}
	for _, e := range r.events {
		if e.Command == "set-output" && strings.Contains(e.Job, job) {
			out[e.Name] = e.Arg
		}
	}
	return out
}

// summaries returns the step summaries written, in order.
func (r actRun) summaries() []string {
	var out []string
	for _, e := range r.events {
		if e.Command == "summary" {
			out = append(out, e.Content)
		}
	}
	return out
}

// annotations returns the annotations of a level written.
func (r actRun) annotations(level string) []actEvent {
	var out []actEvent
	for _, e := range r.events {
		if e.Command == level {
			out = append(out, e)
		}
	}
	return out
}

// printed returns the lines steps printed (act's raw output lines).
func (r actRun) printed() string {
	var b strings.Builder
	for _, e := range r.events {
		if e.Command == "" && e.Level == "info" && !strings.HasPrefix(strings.TrimSpace(e.Msg), "⭐") {
			b.WriteString(e.Msg)
		}
	}
	return b.String()
}

// actRepo is a repository checkout with one workflow, as a GitHub runner would see it.
type actRepo struct {
	dir, workflow string
}

// newActRepo makes a git repository (branch main, origin github.com/acme/app) holding the example
// workflow file as it is, and returns it.
func newActRepo(t testing.TB, example string) *actRepo {
	t.Helper()
	dir := t.TempDir()
	r := &actRepo{dir: dir, workflow: filepath.Join(".github", "workflows", filepath.Base(example))}
	copyFile(t, example, filepath.Join(dir, r.workflow))
	if err := os.WriteFile(filepath.Join(dir, "README.md"), []byte("# app\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{{"init", "-q", "-b", "main"}, {"add", "-A"},
		{"-c", "user.name=ci", "-c", "user.email=ci@example.com", "commit", "-q", "-m", "app"},
		{"remote", "add", "origin", "https://github.com/acme/app.git"}} {
		cmd := exec.Command("git", args...)
		cmd.Dir, cmd.Env = dir, []string{"PATH=" + os.Getenv("PATH"), "HOME=" + dir}
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("git %v: %v\n%s", args, err, out)
		}
	}
	return r
}

// head is the checked-out commit.
func (r *actRepo) head(t testing.TB) string {
	t.Helper()
	cmd := exec.Command("git", "rev-parse", "HEAD")
	cmd.Dir = r.dir
	out, err := cmd.Output()
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(string(out))
}

// custodyAction is a directory standing in for the repository custody-dev/custody at v1 (act's
// --local-repository): the composite wrapper as its action.yml (no Docker engine runs here) and the
// reusable workflow, so the examples run unchanged and offline.
func custodyAction(t testing.TB) string {
	t.Helper()
	dir := t.TempDir()
	copyFile(t, filepath.Join(repoRoot, ".github", "actions", "custody-local", "action.yml"), filepath.Join(dir, "action.yml"))
	copyFile(t, filepath.Join(repoRoot, ".github", "workflows", "custody-attest.yml"), filepath.Join(dir, ".github", "workflows", "custody-attest.yml"))
	return dir
}

// run runs the repository's workflow under act in host mode for the event whose ref is given, with the
// custody binaries first on PATH, the control plane in the repository variable CUSTODY_CONTROL_PLANE,
// and env as the job's environment (--env NAME=VALUE each).
func (r *actRepo) run(t testing.TB, cp *controlPlane, ref string, env ...string) actRun {
	t.Helper()
	act := testtool.Path(t, "act", "ACT_BIN", "go install github.com/nektos/act@v0.2.89")
	home := t.TempDir()
	event := filepath.Join(home, "event.json")
	if err := os.WriteFile(event, []byte(fmt.Sprintf(`{"ref": %q}`, ref)), 0o644); err != nil {
		t.Fatal(err)
	}
	args := []string{"push", "-W", r.workflow, "-e", event, "--json",
		"-P", "ubuntu-latest=-self-hosted", "--no-cache-server", // host mode; the cache server would bind a non-loopback address
		"--local-repository", "custody-dev/custody@v1=" + custodyAction(t),
		"--var", "CUSTODY_CONTROL_PLANE=" + cp.url, "--env", "CUSTODY_RETRY_DEADLINE=30s"}
	for _, e := range env {
		args = append(args, "--env", e)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*waitLimit)
	defer cancel()
	cmd := exec.CommandContext(ctx, act, args...)
	cmd.Dir = r.dir
	cmd.Env = []string{"PATH=" + binDir(t) + string(os.PathListSeparator) + os.Getenv("PATH"), "HOME=" + home}
	out, err := cmd.CombinedOutput()
	var exit *exec.ExitError
	if err != nil && !errors.As(err, &exit) {
		t.Fatalf("act: %v\n%s", err, out)
	}
	res := actRun{code: cmd.ProcessState.ExitCode(), log: string(out)}
	for _, line := range strings.Split(string(out), "\n") {
		var e actEvent
		if json.Unmarshal([]byte(line), &e) == nil {
			res.events = append(res.events, e)
		}
	}
	return res
}

func copyFile(t testing.TB, from, to string) {
	t.Helper()
	b, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Dir(to), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(to, b, 0o644); err != nil {
		t.Fatal(err)
	}
}
