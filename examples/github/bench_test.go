package github_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// BenchmarkSingleJob times, in turns so a noisy machine hits each alike, the whole wall time of:
//
//   - act: `act` running examples/github/single-job.yml in host mode (checkout, init, the build, two adds,
//     push, an echo) through the composite wrapper, as one process from start to exit;
//   - plain: the same commands run as processes one after the other (custody attestation init, the build's
//     shell lines, add, add, push) in a workspace of the same files;
//   - act-floor: act running a job of one echo step: what act costs before any step of custody runs.
//
// Each is against the same custodyd on loopback, with a workflow token. It reports the medians (s) and
// act/plain; docs/benchmarks.md records them:
//
//	go test ./examples/github -run '^$' -bench SingleJob -benchtime 10x
func BenchmarkSingleJob(b *testing.B) {
	cp := startControlPlane(b, readContract(b))
	repo := newActRepo(b, "single-job.yml")
	floor := newActRepo(b, writeFloorWorkflow(b))
	plain := plainPipeline(b, cp, repo)
	var act, base, empty []time.Duration
	load := loadavg()
	b.ResetTimer()
	for range b.N {
		start := time.Now()
		if r := repo.run(b, cp, "refs/heads/main", "CUSTODY_TOKEN="+cp.token); r.code != 0 {
			b.Fatalf("act: exit %d\n%s", r.code, r.log)
		}
		act = append(act, time.Since(start))
		start = time.Now()
		plain()
		base = append(base, time.Since(start))
		start = time.Now()
		if r := floor.run(b, cp, "refs/heads/main"); r.code != 0 {
			b.Fatalf("act floor: exit %d\n%s", r.code, r.log)
		}
		empty = append(empty, time.Since(start))
	}
	b.StopTimer()
	b.ReportMetric(median(act).Seconds(), "act-s")
	b.ReportMetric(median(base).Seconds(), "plain-s")
	b.ReportMetric(median(empty).Seconds(), "act-floor-s")
	b.ReportMetric(float64(median(act))/float64(median(base)), "act/plain")
	b.Logf("load average: %s at the start, %s at the end", load, loadavg())
}

// plainPipeline returns a function running the example's commands as plain processes in a fresh
// workspace each time, in the environment of a GitHub Actions step.
func plainPipeline(b *testing.B, cp *controlPlane, repo *actRepo) func() {
	custody := filepath.Join(binDir(b), "custody")
	head := repo.head(b)
	return func() {
		dir := b.TempDir()
		// What `run: custody ...` steps of a GitHub job see (the contract wants GitHub Actions).
		env := []string{"PATH=" + os.Getenv("PATH"), "HOME=" + dir, "CUSTODY_CONTROL_PLANE=" + cp.url, "CUSTODY_TOKEN=" + cp.token,
			"GITHUB_SHA=" + head, "GITHUB_ACTIONS=true", "CI=true", "GITHUB_WORKSPACE=" + dir, "GITHUB_OUTPUT=" + filepath.Join(dir, "output"),
			"GITHUB_STEP_SUMMARY=" + filepath.Join(dir, "summary"), "GITHUB_ENV=" + filepath.Join(dir, "env")}
		for _, args := range [][]string{
			{custody, "attestation", "init", "--workflow", "build-and-test", "--project", "skynet"},
			{"sh", "-ec", "mkdir -p dist\necho \"app built from $GITHUB_SHA\" > dist/app.txt\ntar -czf dist/app.tar.gz -C dist app.txt"},
			{custody, "attestation", "add", "--name", "app", "--value", "dist/app.tar.gz"},
			{custody, "attestation", "add", "--name", "build-ref", "--value", head},
			{custody, "attestation", "push", "--bundle", "attestation.sigstore.json"},
		} {
			cmd := exec.Command(args[0], args[1:]...)
			cmd.Dir, cmd.Env = dir, env
			if out, err := cmd.CombinedOutput(); err != nil {
				b.Fatalf("%s: %v\n%s", strings.Join(args, " "), err, out)
			}
		}
	}
}

// writeFloorWorkflow writes a workflow of one echo step and returns its path.
func writeFloorWorkflow(b *testing.B) string {
	path := filepath.Join(b.TempDir(), "floor.yml")
	wf := "name: floor\non: push\njobs:\n  build:\n    runs-on: ubuntu-latest\n    steps:\n      - run: echo floor\n"
	if err := os.WriteFile(path, []byte(wf), 0o644); err != nil {
		b.Fatal(err)
	}
	return path
}

func median(d []time.Duration) time.Duration {
	s := slices.Clone(d)
	slices.Sort(s)
	return s[len(s)/2]
}

func loadavg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	return strings.Join(strings.Fields(string(b))[:3], " ")
}
