package gitlabci

import (
	"archive/tar"
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"gopkg.in/yaml.v3"

	"github.com/custody-dev/custody/internal/image"
	"github.com/custody-dev/custody/internal/oidctest"
)

// The tests here run the components' jobs in the custody image itself, as GitLab's Docker executor
// runs a job: the image built as CI builds it (internal/image), unpacked into a directory, and each job
// started there (chroot) as the image's user with the image's environment, by `sh -c` found through the
// image's PATH. Nothing of the machine is reachable from a job but the network: a command the image
// lacks is "not found", as it would be on a runner.

// imageVersion is the version the image's custody carries.
const imageVersion = "v0.0.0-image"

// jobProjectDir is CI_PROJECT_DIR in the image, where GitLab's Docker executor clones the project.
const jobProjectDir = "/builds/" + componentProject

// imageRoot is the image's root file system and config, unpacked once for the package's tests.
var imageRoot struct {
	once sync.Once
	dir  string
	cfg  v1.Config
	err  error
}

// unpackedImage builds the image and unpacks it, as a container runtime would. It needs root (to
// chroot into it, make /dev/null and run as the image's user) and Debian's busybox-static (the
// image's shell): without either the test is skipped, or fails in CI, which has both.
func unpackedImage(t *testing.T) (string, v1.Config) {
	t.Helper()
	missing := ""
	if os.Geteuid() != 0 {
		missing = "root, to run a job in the image's file system as its user (chroot)"
	} else if _, err := os.Stat(image.DebianBusybox); err != nil {
		missing = "Debian's busybox-static, the image's shell (apt-get install -y busybox-static)"
	}
	if missing != "" {
		if os.Getenv("CI") == "true" {
			t.Fatalf("running GitLab jobs in the custody image needs %s (CI=true, so this fails rather than skips)", missing)
		}
		t.Skipf("running GitLab jobs in the custody image needs %s", missing)
	}
	bin := binaries(t) // removed with the package's binaries
	imageRoot.once.Do(func() {
		imageRoot.dir, imageRoot.cfg, imageRoot.err = buildAndUnpack(filepath.Join(bin, "image"))
	})
	if imageRoot.err != nil {
		t.Fatal(imageRoot.err)
	}
	return imageRoot.dir, imageRoot.cfg
}

func buildAndUnpack(dir string) (string, v1.Config, error) {
	var cfg v1.Config
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", cfg, err
	}
	bin := filepath.Join(dir, "custody")
	if err := image.BuildBinary(context.Background(), root, "custody", bin, imageVersion); err != nil {
		return "", cfg, err
	}
	img, err := image.Build(image.Options{Binary: bin, Version: imageVersion, Created: time.Unix(1700000000, 0)})
	if err != nil {
		return "", cfg, err
	}
	cf, err := img.ConfigFile()
	if err != nil {
		return "", cfg, err
	}
	rootfs := filepath.Join(dir, "rootfs")
	if err := unpack(mutate.Extract(img), rootfs); err != nil {
		return "", cfg, fmt.Errorf("unpack the image: %w", err)
	}
	// What a container runtime adds: /dev/null (the components' scripts read it).
	if err := os.MkdirAll(filepath.Join(rootfs, "dev"), 0o755); err != nil {
		return "", cfg, err
	}
	if err := syscall.Mknod(filepath.Join(rootfs, "dev", "null"), syscall.S_IFCHR|0o666, 1<<8|3); err != nil {
		return "", cfg, fmt.Errorf("mknod /dev/null: %w", err)
	}
	if err := os.Chmod(filepath.Join(rootfs, "dev", "null"), 0o666); err != nil {
		return "", cfg, err
	}
	return rootfs, cf.Config, nil
}

// unpack writes the flattened file system of an image (mutate.Extract) into dir, with each entry's
// mode and owner.
func unpack(rc io.ReadCloser, dir string) error {
	defer rc.Close()
	tr := tar.NewReader(rc)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		name := path.Clean(h.Name)
		if !filepath.IsLocal(name) {
			return fmt.Errorf("entry %q leaves the root file system", h.Name)
		}
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return err
		}
		switch h.Typeflag {
		case tar.TypeDir:
			if err := os.MkdirAll(p, 0o755); err != nil {
				return err
			}
		case tar.TypeReg:
			f, err := os.OpenFile(p, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
			if err != nil {
				return err
			}
			_, err = io.Copy(f, tr)
			if cerr := f.Close(); err == nil {
				err = cerr
			}
			if err != nil {
				return err
			}
		case tar.TypeSymlink:
			if err := os.Symlink(h.Linkname, p); err != nil {
				return err
			}
		default:
			return fmt.Errorf("entry %s: type %c, which the image does not use", h.Name, h.Typeflag)
		}
		if err := os.Lchown(p, h.Uid, h.Gid); err != nil {
			return err
		}
		if h.Typeflag != tar.TypeSymlink {
			if err := os.Chmod(p, fileMode(h.Mode)); err != nil {
				return err
			}
		}
	}
}

// fileMode is a tar header's mode as an os.FileMode, with the sticky, setuid and setgid bits.
func fileMode(m int64) os.FileMode {
	mode := os.FileMode(m & 0o777)
	for bit, fm := range map[int64]os.FileMode{0o1000: os.ModeSticky, 0o2000: os.ModeSetgid, 0o4000: os.ModeSetuid} {
		if m&bit != 0 {
			mode |= fm
		}
	}
	return mode
}

// detectShell is what GitLab's Docker executor runs with `sh -c` in a job's container: the first of its
// shells that the image has, which then reads the job's script on its standard input.
const detectShell = `for s in /usr/local/bin/bash /usr/bin/bash /bin/bash /usr/local/bin/sh /usr/bin/sh /bin/sh /busybox/sh; do
  if [ -x "$s" ]; then exec "$s"; fi
done
echo "shell not found" >&2
exit 1`

// imageJob is one GitLab job to run in the image: its script lines and variables, in a project
// directory that holds files (a fresh checkout and the artifacts of earlier jobs).
type imageJob struct {
	script, afterScript []string
	vars                map[string]string
	files               map[string][]byte
	// artifacts are the paths the job keeps, as its artifacts:paths.
	artifacts []string
}

// jobResult is what a job printed (stdout and stderr interleaved, as a job log has them) and its
// exit code.
type jobResult struct {
	log  string
	code int
	// artifacts are the files the job kept, by path in the project.
	artifacts map[string][]byte
}

// imageJobs runs one job at a time in the image: they share its project directory, as jobs on one
// runner share the path.
var imageJobs sync.Mutex

// runInImage runs a job in the unpacked image the way GitLab's Docker executor does: `sh -c` (found
// through the image's PATH) picks the shell, which reads a script that sets errexit (and pipefail when
// the shell has it), enters CI_PROJECT_DIR and evaluates the job's script lines with an empty
// standard input; after_script runs in a shell of its own with CI_JOB_STATUS.
func runInImage(t *testing.T, rootfs string, cfg v1.Config, job imageJob) jobResult {
	t.Helper()
	imageJobs.Lock()
	defer imageJobs.Unlock()
	// A fresh project directory with the checkout and artifacts: GitLab's Docker executor writes it
	// with umask 0000 (unless FF_DISABLE_UMASK_FOR_DOCKER_EXECUTOR), so an image's non-root user can.
	project := filepath.Join(rootfs, jobProjectDir)
	if err := os.RemoveAll(project); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(project, 0o777); err != nil {
		t.Fatal(err)
	}
	for name, body := range job.files {
		p := filepath.Join(project, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o777); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, body, 0o666); err != nil {
			t.Fatal(err)
		}
	}
	if err := filepath.WalkDir(filepath.Join(rootfs, "builds"), func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			return os.Chmod(p, 0o777)
		}
		return os.Chmod(p, 0o666)
	}); err != nil {
		t.Fatal(err)
	}

	env := map[string]string{}
	for _, kv := range cfg.Env {
		k, v, _ := strings.Cut(kv, "=")
		env[k] = v
	}
	sh := lookPathIn(rootfs, env["PATH"], "sh")
	if sh == "" {
		t.Fatalf("GitLab's Docker executor starts a job with `sh -c` through the image's PATH (%s): the image has no sh there", env["PATH"])
	}
	uid, gid := imageUser(t, cfg.User)
	for k, v := range gitlabPredefined() {
		env[k] = v
	}
	for k, v := range job.vars {
		env[k] = v
	}
	run := func(lines []string, extra ...string) (string, int) {
		var script strings.Builder
		script.WriteString("if set -o | grep pipefail >/dev/null; then set -o pipefail; fi\nset -o errexit\n")
		script.WriteString(`cd "$CI_PROJECT_DIR"` + "\n")
		script.WriteString(": | eval " + shellQuote(strings.Join(lines, "\n")) + "\nexit 0\n")
		var vars []string
		for k, v := range env {
			vars = append(vars, k+"="+v)
		}
		slices.Sort(vars)
		cmd := &exec.Cmd{Path: sh, Args: []string{"sh", "-c", detectShell}, Env: append(vars, extra...), Dir: "/"}
		cmd.SysProcAttr = &syscall.SysProcAttr{Chroot: rootfs, Credential: &syscall.Credential{Uid: uid, Gid: gid},
			Setpgid: true, Pdeathsig: syscall.SIGKILL}
		cmd.Stdin = strings.NewReader(script.String())
		var out lockedBuffer
		cmd.Stdout, cmd.Stderr = &out, &out
		done := make(chan error, 1)
		if err := cmd.Start(); err != nil {
			t.Fatalf("start the job's shell %s in the image: %v", sh, err)
		}
		go func() { done <- cmd.Wait() }()
		var err error
		select {
		case err = <-done:
		case <-time.After(waitLimit):
			_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
			t.Fatalf("the job did not finish within %s:\n%s", waitLimit, out.String())
		}
		var exit *exec.ExitError
		if err != nil && !errors.As(err, &exit) {
			t.Fatalf("the job's shell: %v", err)
		}
		return out.String(), cmd.ProcessState.ExitCode()
	}
	log, code := run(job.script)
	if len(job.afterScript) > 0 {
		status := "success"
		if code != 0 {
			status = "failed"
		}
		after, _ := run(job.afterScript, "CI_JOB_STATUS="+status)
		log += after
	}
	return jobResult{log: log, code: code, artifacts: collect(t, project, job.artifacts)}
}

// lookPathIn finds name through a PATH of the image, as the container runtime resolves a command:
// the path in the image, or "".
func lookPathIn(rootfs, pathList, name string) string {
	for _, dir := range filepath.SplitList(pathList) {
		if !path.IsAbs(dir) {
			continue
		}
		p := path.Join(dir, name)
		if info, err := os.Stat(filepath.Join(rootfs, p)); err == nil && info.Mode().IsRegular() && info.Mode()&0o111 != 0 {
			return p
		}
	}
	return ""
}

// imageUser is the uid and gid of the image's USER, numeric as the custody image has it.
func imageUser(t *testing.T, user string) (uint32, uint32) {
	t.Helper()
	u, g, _ := strings.Cut(user, ":")
	uid, err := strconv.ParseUint(u, 10, 32)
	if err != nil || uid == 0 {
		t.Fatalf("the image's user %q: want a numeric non-root uid", user)
	}
	gid, err := strconv.ParseUint(g, 10, 32)
	if err != nil {
		gid = uid
	}
	return uint32(uid), uint32(gid)
}

// gitlabPredefined are the predefined variables of a GitLab job that custody reads, for a pipeline
// of the components' project on its protected main branch.
func gitlabPredefined() map[string]string {
	return map[string]string{
		"CI": "true", "GITLAB_CI": "true", "CI_SERVER_URL": "https://gitlab.example.com", "CI_SERVER_FQDN": "gitlab.example.com",
		"CI_PROJECT_PATH": componentProject, "CI_PROJECT_DIR": jobProjectDir, "CI_PIPELINE_ID": "574", "CI_PIPELINE_SOURCE": "push",
		"CI_PIPELINE_URL": "https://gitlab.example.com/" + componentProject + "/-/pipelines/574",
		"CI_JOB_ID":       "302", "CI_JOB_NAME": "custody", "CI_JOB_URL": "https://gitlab.example.com/" + componentProject + "/-/jobs/302",
		"CI_COMMIT_SHA": strings.Repeat("ab", 20), "CI_COMMIT_REF_NAME": "main", "CI_COMMIT_BRANCH": "main",
		"CI_COMMIT_REF_PROTECTED": "true", "CUSTODY_RETRY_DEADLINE": "10s",
	}
}

// shellQuote quotes s as one word for a POSIX shell.
func shellQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// componentJob is a component's job with its inputs given: the script lines, the CUSTODY_INPUT_*
// variables and the artifact paths, with each $[[ inputs.NAME ]] replaced by the input or its default.
func componentJob(t *testing.T, c *component, given map[string]string) (j job, artifacts []string) {
	t.Helper()
	if problems := c.check(toAny(given)); len(problems) > 0 {
		t.Fatalf("%s: GitLab would refuse the inputs: %s", c.Name, strings.Join(problems, "; "))
	}
	values := map[string]string{}
	for _, name := range c.Order {
		if v, ok := given[name]; ok {
			values[name] = v
			continue
		}
		v, _, err := c.Inputs[name].defaultValue()
		if err != nil {
			t.Fatal(err)
		}
		values[name] = fmt.Sprint(v)
	}
	var jobs map[string]struct {
		job       `yaml:",inline"`
		Artifacts struct{ Paths []string } `yaml:"artifacts"`
	}
	if err := yaml.Unmarshal([]byte(c.Body), &jobs); err != nil || len(jobs) != 1 {
		t.Fatalf("%s: want one job, have %d (%v)", c.Name, len(jobs), err)
	}
	interpolation := regexp.MustCompile(`\$\[\[\s*inputs\.([A-Za-z0-9_-]+)\s*\]\]`)
	interpolate := func(s string) string {
		return interpolation.ReplaceAllStringFunc(s, func(m string) string { return values[interpolation.FindStringSubmatch(m)[1]] })
	}
	for _, got := range jobs {
		j = got.job
		vars := map[string]string{}
		for k, v := range j.Variables {
			vars[k] = interpolate(v)
		}
		j.Variables = vars
		for _, p := range got.Artifacts.Paths {
			artifacts = append(artifacts, interpolate(p))
		}
	}
	return j, artifacts
}

func toAny(m map[string]string) map[string]any {
	out := map[string]any{}
	for k, v := range m {
		out[k] = v
	}
	return out
}

// The image runs custody in a GitLab job: `custody version` in a job's script.
func TestImageRunsAJob(t *testing.T) {
	t.Parallel()
	rootfs, cfg := unpackedImage(t)
	r := runInImage(t, rootfs, cfg, imageJob{script: []string{"custody version"}})
	if r.code != 0 || !strings.Contains(r.log, imageVersion) {
		t.Errorf("custody version in the image: exit %d\n%s", r.code, r.log)
	}
}

// The components init, add and push run in the image, each job with its own ID token, the state
// handed over as job artifacts as GitLab hands them to later jobs, and the bundle verifies as the
// pipeline's.
func TestComponentsRunInTheImage(t *testing.T) {
	t.Parallel()
	rootfs, cfg := unpackedImage(t)
	cp, iss := oidcControlPlane(t)
	components := loadComponents(t)
	checkout := map[string][]byte{"dist/app-amd64": []byte("app for amd64\n"), "dist/app-arm64": []byte("app for arm64\n")}
	artifacts := map[string][]byte{} // of the jobs so far, by path in the project
	for _, step := range []struct {
		component string
		inputs    map[string]string
	}{
		{"init", map[string]string{"workflow": workflow, "project": project}},
		{"add", map[string]string{"materials": "app-amd64=dist/app-amd64\napp-arm64=dist/app-arm64\nbuild-ref=" + strings.Repeat("ab", 20)}},
		{"push", nil},
	} {
		j, paths := componentJob(t, components[step.component], step.inputs)
		// The job's GitLab is the token's issuer: the control plane checks the recorded runner (its
		// job URL) against the verified token, as the ID-token pipelines do.
		vars := map[string]string{"CUSTODY_CONTROL_PLANE": cp.URL, "CUSTODY_ID_TOKEN": iss.Token(t, oidctest.GitLabClaims(componentProject, "main")),
			"CI_SERVER_URL": iss.URL, "CI_JOB_URL": iss.URL + "/" + componentProject + "/-/jobs/302"}
		for k, v := range j.Variables {
			vars[k] = v
		}
		files := maps.Clone(checkout)
		maps.Copy(files, artifacts)
		r := runInImage(t, rootfs, cfg, imageJob{script: j.Script, afterScript: j.AfterScript, vars: vars, files: files, artifacts: paths})
		if r.code != 0 {
			t.Fatalf("the %s job in the image: exit %d\n%s", step.component, r.code, r.log)
		}
		maps.Copy(artifacts, r.artifacts)
	}
	bundle, ok := artifacts["attestation.sigstore.json"]
	if !ok {
		t.Fatalf("push kept no bundle as an artifact: %v", slices.Sorted(maps.Keys(artifacts)))
	}
	dir := t.TempDir()
	for name, body := range map[string][]byte{"bundle.json": bundle, "app-amd64": checkout["dist/app-amd64"]} {
		if err := os.WriteFile(filepath.Join(dir, name), body, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	verifyCI(t, cp, iss, filepath.Join(dir, "bundle.json"), filepath.Join(dir, "app-amd64"))
}

// attest runs in the image, its after_script too: a job whose material is not there fails, and the
// after_script resets the run with the job's URL as the reason.
func TestAttestFailsAndResetsInTheImage(t *testing.T) {
	t.Parallel()
	rootfs, cfg := unpackedImage(t)
	cp := startControlPlane(t)
	j, _ := componentJob(t, loadComponents(t)["attest"], map[string]string{"workflow": workflow, "project": project, "materials": "app-amd64=dist/app-amd64"})
	vars := map[string]string{"CUSTODY_CONTROL_PLANE": cp.URL, "CUSTODY_TOKEN": cp.Token}
	maps.Copy(vars, j.Variables)
	r := runInImage(t, rootfs, cfg, imageJob{script: j.Script, afterScript: j.AfterScript, vars: vars})
	if r.code == 0 || !strings.Contains(r.log, "dist/app-amd64") || !strings.Contains(r.log, " reset (failed)") {
		t.Errorf("attest without its material: exit %d, want a failure and a reset:\n%s", r.code, r.log)
	}
	if runs := cp.runs(); len(runs) != 1 || runs[0].State != "failed" || runs[0].Reason != "GitLab job custody failed: "+gitlabPredefined()["CI_JOB_URL"] {
		t.Errorf("runs %+v; want the run failed, with the job as the reason", runs)
	}
}

// collect reads a job's artifacts: the files under paths in the project directory.
func collect(t *testing.T, project string, paths []string) map[string][]byte {
	t.Helper()
	out := map[string][]byte{}
	for _, p := range paths {
		top := filepath.Join(project, p)
		if _, err := os.Stat(top); errors.Is(err, os.ErrNotExist) {
			continue
		}
		err := filepath.WalkDir(top, func(f string, d os.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return err
			}
			b, err := os.ReadFile(f)
			if err != nil {
				return err
			}
			rel, err := filepath.Rel(project, f)
			out[filepath.ToSlash(rel)] = b
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	return out
}

// runnerCommands are what GitLab Runner calls in a job's container around the job's lines: in the
// job script its shell writer (shells/bash.go) writes, the pipefail probe (grep), file-type variables
// (mkdir, printf), dotenv and environment files (cat, touch), section markers (date), cleanup (chmod,
// rm, find) and the shell's builtins; and `id -u`, `id -g` to find the image's user when
// FF_DISABLE_UMASK_FOR_DOCKER_EXECUTOR is on.
var runnerCommands = []string{"cat", "cd", "chmod", "date", "echo", "eval", "exit", "export", "find", "grep", "id",
	"mkdir", "printf", "rm", "set", "touch", "trap"}

// Every command the components' scripts call, and those GitLab Runner's job script calls around them,
// is in the image: a builtin of its shell, or found through its PATH.
func TestImageHasEveryCommandOfTheComponents(t *testing.T) {
	t.Parallel()
	rootfs, cfg := unpackedImage(t)
	callers := map[string][]string{}
	for _, c := range runnerCommands {
		callers[c] = []string{"GitLab Runner"}
	}
	for name, c := range loadComponents(t) {
		var jobs map[string]job
		if err := yaml.Unmarshal([]byte(c.Body), &jobs); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		for _, j := range jobs {
			for _, script := range append(append([]string{}, j.Script...), j.AfterScript...) {
				cmds, err := scriptCommands(script)
				if err != nil {
					t.Fatalf("templates/%s: %v", name, err)
				}
				for _, cmd := range cmds {
					callers[cmd] = append(callers[cmd], "templates/"+name)
				}
			}
		}
	}
	for _, want := range []string{"custody", "cp", "mkdir"} {
		if !slices.ContainsFunc(callers[want], func(s string) bool { return strings.HasPrefix(s, "templates/") }) {
			t.Fatalf("the components' scripts call %v: %s is not among them (the script reader is broken)", slices.Sorted(maps.Keys(callers)), want)
		}
	}
	var check []string
	for _, cmd := range slices.Sorted(maps.Keys(callers)) {
		check = append(check, "command -v "+shellQuote(cmd)+" >/dev/null || echo missing: "+shellQuote(cmd))
	}
	r := runInImage(t, rootfs, cfg, imageJob{script: check})
	if r.code != 0 {
		t.Fatalf("the check in the image: exit %d\n%s", r.code, r.log)
	}
	for _, line := range strings.Split(r.log, "\n") {
		if cmd, ok := strings.CutPrefix(line, "missing: "); ok {
			t.Errorf("the image has no %s, which %s calls", cmd, strings.Join(slices.Compact(slices.Sorted(slices.Values(callers[cmd]))), " and "))
		}
	}
}
