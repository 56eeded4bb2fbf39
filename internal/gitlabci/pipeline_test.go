package gitlabci

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/custody-dev/custody/internal/testtool"
)

// waitLimit bounds each wait for a process (custodyd to serve, a pipeline to finish): generous,
// because the machines are shared, and never an assertion about speed.
const waitLimit = 5 * time.Minute

// The workflow the examples attest, with examples/gitlab/contract.yaml.
const (
	project  = "skynet"
	workflow = "build-and-test"
)

// originURL is the test repository's origin: gitlab-ci-local takes CI_PROJECT_PATH from it, and
// resolves a component of that project at $CI_COMMIT_SHA to the repository's own templates/.
const originURL = "https://gitlab.example.com/" + componentProject + ".git"

func TestMain(m *testing.M) {
	code := m.Run()
	if bins.dir != "" {
		os.RemoveAll(bins.dir)
	}
	os.Exit(code)
}

// bins are custody and custodyd, built once for the tests that run pipelines.
var bins struct {
	once sync.Once
	dir  string
	err  error
}

func binaries(t *testing.T) string {
	t.Helper()
	bins.once.Do(func() {
		if bins.dir, bins.err = os.MkdirTemp("", "custody-gitlabci-"); bins.err != nil {
			return
		}
		cmd := exec.Command("go", "build", "-o", bins.dir+string(filepath.Separator),
			"github.com/custody-dev/custody/cmd/custody", "github.com/custody-dev/custody/cmd/custodyd")
		if out, err := cmd.CombinedOutput(); err != nil {
			bins.err = fmt.Errorf("build custody and custodyd: %w\n%s", err, out)
		}
	})
	if bins.err != nil {
		t.Fatal(bins.err)
	}
	return bins.dir
}

// gitlabCILocal finds gitlab-ci-local and rsync (its shell isolation copies the repository with it):
// a test without them is skipped, or fails in CI, which installs them.
func gitlabCILocal(t *testing.T) string {
	t.Helper()
	rsync := testtool.Path(t, "rsync", "RSYNC_BIN", "apt-get install -y rsync")
	if _, err := exec.LookPath("rsync"); err != nil {
		t.Setenv("PATH", filepath.Dir(rsync)+string(os.PathListSeparator)+os.Getenv("PATH"))
	}
	return testtool.Path(t, "gitlab-ci-local", "GITLAB_CI_LOCAL_BIN", "npm install -g gitlab-ci-local@4.73.0")
}

// controlPlane is a custodyd process on 127.0.0.1 with the examples' workflow.
type controlPlane struct {
	t          *testing.T
	bin        string
	URL        string
	AdminToken string
	// Token is a workflow token of the examples' workflow.
	Token string
	// TrustedRoot is the path of its trusted_root.json.
	TrustedRoot string
}

var (
	servingLine = regexp.MustCompile(`"msg":"custodyd serving","addr":"([^"]+)"`)
	tokenLine   = regexp.MustCompile(`keep it safe\): (cst_\S+)`)
)

// startControlPlane starts custodyd with args on a free loopback port, and creates the examples'
// project and workflow, a workflow token and the trusted root.
func startControlPlane(t *testing.T, args ...string) *controlPlane {
	t.Helper()
	bin := binaries(t)
	data := t.TempDir()
	cmd := exec.Command(filepath.Join(bin, "custodyd"), append([]string{"--data-dir", data, "--listen", "127.0.0.1:0"}, args...)...)
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + data}
	setDeathSignal(cmd)
	var log lockedBuffer
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
	exited := make(chan struct{})
	addr, token := make(chan string, 1), make(chan string, 1)
	var readers sync.WaitGroup
	scan := func(r io.Reader, re *regexp.Regexp, found chan<- string) {
		defer readers.Done()
		s := bufio.NewScanner(r)
		for s.Scan() {
			log.Write(append(s.Bytes(), '\n'))
			if m := re.FindStringSubmatch(s.Text()); m != nil {
				select {
				case found <- m[1]:
				default:
				}
			}
		}
	}
	readers.Add(2)
	go scan(stderr, servingLine, addr)
	go scan(stdout, tokenLine, token)
	go func() {
		readers.Wait()
		_ = cmd.Wait()
		close(exited)
	}()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-exited
		if t.Failed() {
			t.Logf("custodyd log:\n%s", log.String())
		}
	})
	cp := &controlPlane{t: t, bin: bin}
	for _, v := range []struct {
		into *string
		from chan string
		what string
	}{{&cp.URL, addr, "serve"}, {&cp.AdminToken, token, "print its bootstrap token"}} {
		select {
		case got := <-v.from:
			*v.into = got
		case <-exited:
			t.Fatalf("custodyd exited before it would %s:\n%s", v.what, log.String())
		case <-time.After(waitLimit):
			t.Fatalf("custodyd did not %s within %s:\n%s", v.what, waitLimit, log.String())
		}
	}
	cp.URL = "http://" + cp.URL
	cp.admin("project", "create", project)
	cp.admin("workflow", "create", workflow, "--project", project, "--contract", filepath.Join(root, "examples", "gitlab", "contract.yaml"))
	cp.Token = strings.TrimSpace(cp.admin("token", "create", "--project", project, "--workflow", workflow, "--expires", "1h"))
	cp.TrustedRoot = filepath.Join(t.TempDir(), "trusted_root.json")
	if err := os.WriteFile(cp.TrustedRoot, []byte(cp.admin("trusted-root")), 0o644); err != nil {
		t.Fatal(err)
	}
	return cp
}

// custody runs the CLI against the control plane with token, and returns stdout, stderr and the
// exit code.
func (cp *controlPlane) custody(token string, args ...string) (stdout, stderr string, code int) {
	cp.t.Helper()
	cmd := exec.Command(filepath.Join(cp.bin, "custody"), args...)
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + cp.t.TempDir(), "CUSTODY_CONTROL_PLANE=" + cp.URL,
		"CUSTODY_TOKEN=" + token, "CUSTODY_RETRY_DEADLINE=5s"}
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	var exit *exec.ExitError
	if err != nil && !errors.As(err, &exit) {
		cp.t.Fatalf("custody %s: %v", strings.Join(args, " "), err)
	}
	return out.String(), errb.String(), cmd.ProcessState.ExitCode()
}

// admin runs the CLI with the admin token and fails the test unless it exits 0.
func (cp *controlPlane) admin(args ...string) string {
	cp.t.Helper()
	out, stderr, code := cp.custody(cp.AdminToken, args...)
	if code != 0 {
		cp.t.Fatalf("custody %s: exit %d\n%s%s", strings.Join(args, " "), code, out, stderr)
	}
	return out
}

// run is a run of the workflow as the control plane lists it.
type run struct {
	ID, State, Reason, AttestationDigest string
}

// runs lists the workflow's runs, newest first.
func (cp *controlPlane) runs() []run {
	cp.t.Helper()
	var out []run
	if err := json.Unmarshal([]byte(cp.admin("attestation", "list", "--workflow", workflow, "--project", project, "-o", "json")), &out); err != nil {
		cp.t.Fatal(err)
	}
	return out
}

// verify checks bundle offline against the control plane's trusted root, for the workflow and the
// artifact, as an auditor would.
func (cp *controlPlane) verify(bundle, artifact string) {
	cp.t.Helper()
	out, stderr, code := cp.custody("", "attestation", "verify", "--trusted-root", cp.TrustedRoot,
		"--workflow", workflow, "--project", project, "--artifact", artifact, bundle)
	if code != 0 || !strings.Contains(out, "Verified OK") {
		cp.t.Errorf("verify %s for %s: exit %d\n%s%s", bundle, filepath.Base(artifact), code, out, stderr)
	}
}

// localPipeline is an example pipeline whose components resolve to this repository's templates/:
// each `@~latest` becomes `@$CI_COMMIT_SHA`, which gitlab-ci-local reads from the repository itself.
func localPipeline(t *testing.T, example string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(root, "examples", "gitlab", example, ".gitlab-ci.yml"))
	if err != nil {
		t.Fatal(err)
	}
	return localComponents(t, string(b))
}

func localComponents(t *testing.T, pipeline string) string {
	t.Helper()
	n := strings.Count(pipeline, "component: ")
	if n == 0 || strings.Count(pipeline, "@~latest\n") != n {
		t.Fatalf("want each of the %d components at @~latest in:\n%s", n, pipeline)
	}
	return strings.ReplaceAll(pipeline, "@~latest\n", "@$CI_COMMIT_SHA\n")
}

// repository is a git repository holding a Go program, this repository's templates/ and pipeline as
// its .gitlab-ci.yml, with an origin at gitlab.example.com/custody-dev/custody.
//
// Its includes must pass the components' specs, as GitLab would have them before it runs anything.
func repository(t *testing.T, pipeline string) string {
	t.Helper()
	problems, _, err := checkIncludes(loadComponents(t), []byte(pipeline))
	if err != nil || len(problems) > 0 {
		t.Fatalf("GitLab would refuse this pipeline (%v): %s\n%s", err, strings.Join(problems, "; "), pipeline)
	}
	dir := t.TempDir()
	if err := os.CopyFS(filepath.Join(dir, "templates"), os.DirFS(filepath.Join(root, "templates"))); err != nil {
		t.Fatal(err)
	}
	files := map[string]string{
		".gitlab-ci.yml": pipeline,
		"go.mod":         "module example.com/app\n\ngo 1.22\n",
		"main.go":        "package main\n\nfunc main() { println(\"app\") }\n",
	}
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for _, args := range [][]string{
		{"init", "-q", "-b", "main"},
		{"remote", "add", "origin", originURL},
		{"add", "-A"},
		{"commit", "-q", "-m", "app"},
		{"update-ref", "refs/remotes/origin/main", "HEAD"},
		{"symbolic-ref", "refs/remotes/origin/HEAD", "refs/remotes/origin/main"},
	} {
		cmd := exec.Command("git", append([]string{"-c", "commit.gpgsign=false"}, args...)...)
		cmd.Dir = dir
		cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + dir, "GIT_CONFIG_NOSYSTEM=1",
			"GIT_AUTHOR_NAME=Dev", "GIT_AUTHOR_EMAIL=dev@example.com", "GIT_COMMITTER_NAME=Dev", "GIT_COMMITTER_EMAIL=dev@example.com"}
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("git %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
	return dir
}

// pipelineRun is what gitlab-ci-local did with a repository's pipeline.
type pipelineRun struct {
	t      *testing.T
	dir    string
	output string
	code   int
}

// runPipeline runs the repository's pipeline (or only jobs) under gitlab-ci-local, every job in a
// shell with custody on PATH and the variables vars, as project CI/CD variables would be given.
//
// isolated gives each job a copy of the repository (--shell-isolation), so state reaches a job only
// as the artifacts of earlier ones, as on a GitLab runner. gitlab-ci-local then copies the repository
// again before after_script, which loses what the script made (custody attest's bundle): a
// single-job pipeline runs without it.
//
// gitlab-ci-local gives a job that names an image CI_PROJECT_DIR=/builds/GROUP/PROJECT even when it
// runs the job in a shell elsewhere; CI_PROJECT_DIR=. puts it back where GitLab has it, the job's
// working directory, where custody keeps its state. GITLAB_CI is true on GitLab (gitlab-ci-local
// says false): the examples' contract demands a GitLab pipeline.
func runPipeline(t *testing.T, dir string, isolated bool, vars map[string]string, jobs ...string) *pipelineRun {
	t.Helper()
	gcl := gitlabCILocal(t)
	bin := binaries(t)
	all := map[string]string{"CI_PROJECT_DIR": ".", "GITLAB_CI": "true", "CUSTODY_RETRY_DEADLINE": "10s"}
	for k, v := range vars {
		all[k] = v
	}
	predefined := []string{"GITLAB_CI", "CI_PROJECT_DIR"}
	for _, k := range []string{"CI_SERVER_URL", "CI_JOB_URL"} { // set by the ID-token tests, to the test issuer's
		if _, ok := vars[k]; ok {
			predefined = append(predefined, k)
		}
	}
	args := []string{"--no-color", "--force-shell-executor", "--ignore-predefined-vars", strings.Join(predefined, ",")}
	if isolated {
		args = append(args, "--shell-isolation", "--no-artifacts-to-source")
	}
	names := make([]string, 0, len(all))
	for k := range all {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		args = append(args, "--variable", k+"="+all[k])
	}
	args = append(args, jobs...)

	ctx, cancel := context.WithTimeout(context.Background(), waitLimit)
	defer cancel()
	cmd := exec.CommandContext(ctx, gcl, args...)
	cmd.Dir = dir
	cmd.Env = []string{"PATH=" + bin + string(os.PathListSeparator) + os.Getenv("PATH"), "HOME=" + t.TempDir(), "GOTOOLCHAIN=local"}
	for _, k := range []string{"GOCACHE", "GOMODCACHE", "GOPATH"} {
		cmd.Env = append(cmd.Env, k+"="+goEnv(t, k))
	}
	killGroup(cmd)
	out, err := cmd.CombinedOutput()
	var exit *exec.ExitError
	if err != nil && !errors.As(err, &exit) {
		t.Fatalf("gitlab-ci-local: %v\n%s", err, out)
	}
	if ctx.Err() != nil {
		t.Fatalf("gitlab-ci-local did not finish within %s:\n%s", waitLimit, out)
	}
	return &pipelineRun{t: t, dir: dir, output: string(out), code: cmd.ProcessState.ExitCode()}
}

var goEnvCache sync.Map

func goEnv(t *testing.T, key string) string {
	t.Helper()
	if v, ok := goEnvCache.Load(key); ok {
		return v.(string)
	}
	out, err := exec.Command("go", "env", key).Output()
	if err != nil {
		t.Fatalf("go env %s: %v", key, err)
	}
	v := strings.TrimSpace(string(out))
	goEnvCache.Store(key, v)
	return v
}

// jobs returns the verdict gitlab-ci-local gave each job that ran: PASS, FAIL or WARN.
func (r *pipelineRun) jobs() map[string]string {
	out := map[string]string{}
	for _, m := range regexp.MustCompile(`(?m)^ (PASS|FAIL|WARN)  (\S+)`).FindAllStringSubmatch(r.output, -1) {
		out[m[2]] = m[1]
	}
	return out
}

// wantJobs fails the test unless exactly these jobs ran, with these verdicts.
func (r *pipelineRun) wantJobs(want map[string]string) {
	r.t.Helper()
	got := r.jobs()
	if fmt.Sprint(got) != fmt.Sprint(want) {
		r.t.Fatalf("jobs %v, want %v (gitlab-ci-local exit %d):\n%s", got, want, r.code, r.output)
	}
}

// log is a job's log.
func (r *pipelineRun) log(job string) string {
	r.t.Helper()
	b, err := os.ReadFile(filepath.Join(r.dir, ".gitlab-ci-local", "output", job+".log"))
	if err != nil {
		r.t.Fatal(err)
	}
	return string(b)
}

// artifact is the path of a file among a job's artifacts.
func (r *pipelineRun) artifact(job, path string) string {
	r.t.Helper()
	p := filepath.Join(r.dir, ".gitlab-ci-local", "artifacts", job, path)
	if _, err := os.Stat(p); err != nil {
		r.t.Fatalf("job %s has no artifact %s: %v\n%s", job, path, err, r.output)
	}
	return p
}

// statement is the part of a pushed statement the tests check.
type statement struct {
	Subject []struct {
		Name   string
		Digest map[string]string
	}
	Predicate struct {
		Runner struct {
			Type, URL   string
			Environment map[string]string
		}
		Materials []struct{ Name, Value string }
		Workflow  struct{ Name, Project, RunID string }
	}
}

// readStatement decodes the in-toto statement a bundle signs.
func readStatement(t *testing.T, bundle string) statement {
	t.Helper()
	var b struct {
		DSSEEnvelope struct{ Payload string } `json:"dsseEnvelope"`
	}
	raw, err := os.ReadFile(bundle)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(raw, &b); err != nil {
		t.Fatalf("%s: %v", bundle, err)
	}
	payload, err := base64.StdEncoding.DecodeString(b.DSSEEnvelope.Payload)
	if err != nil {
		t.Fatal(err)
	}
	var s statement
	if err := json.Unmarshal(payload, &s); err != nil {
		t.Fatal(err)
	}
	return s
}

// materials are a statement's materials by name, with their values.
func (s statement) materials() map[string]string {
	out := map[string]string{}
	for _, m := range s.Predicate.Materials {
		out[m.Name] = m.Value
	}
	return out
}

// lockedBuffer is a bytes.Buffer for several writers.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
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

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	b, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(to, b, 0o644); err != nil {
		t.Fatal(err)
	}
}
