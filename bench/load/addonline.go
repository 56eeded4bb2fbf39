package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"time"

	"github.com/custody-dev/custody/bench/internal/artifact"
	"github.com/custody-dev/custody/bench/internal/proc"
)

// addOnline measures `custody attestation add` of a large ARTIFACT uploaded to custodyd's filesystem
// CAS on loopback against the hashing floor (bench/hashfloor) in the same run, with the CLI's peak
// RSS and custodyd's RSS growth. Each run starts from a CAS without the blob, so every add is a
// first upload (received, hashed, written, fsynced and renamed into place).
func addOnline(ctx context.Context, out io.Writer, root, dir string, sizeMiB int64, runs int) error {
	startLoad := proc.LoadAverage()
	custody, custodyd, floor := filepath.Join(dir, "custody"), filepath.Join(dir, "custodyd"), filepath.Join(dir, "hashfloor")
	for bin, pkg := range map[string]string{custody: "./cmd/custody", custodyd: "./cmd/custodyd", floor: "./bench/hashfloor"} {
		if err := goBuild(root, bin, pkg); err != nil {
			return err
		}
	}
	artifactPath := filepath.Join(dir, "artifact.bin")
	digest, err := artifact.Write(artifactPath, sizeMiB)
	if err != nil {
		return err
	}
	// Two servers: the CAS in the data dir on the disk (the default), and a CAS on tmpfs, where
	// fsync is free: the difference is what the disk costs.
	type target struct {
		name, casDir string
		work         string
		srv          *server
		fx           *fixture
		env          []string
		adds         []sample
		idle, after  usage
	}
	shm, err := os.MkdirTemp("/dev/shm", "custody-addonline-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(shm)
	targets := []*target{
		{name: "custody attestation add → custodyd, CAS on disk (default)", casDir: filepath.Join(dir, "disk", "data", "cas")},
		{name: "custody attestation add → custodyd, CAS on tmpfs", casDir: filepath.Join(shm, "cas")},
	}
	for i, tg := range targets {
		data := filepath.Join(dir, fmt.Sprintf("server%d", i), "data")
		if tg.srv, err = startServer(custodyd, data, "--cas", "file://"+tg.casDir); err != nil {
			return err
		}
		defer tg.srv.stop()
		if tg.fx, err = bootstrap(ctx, tg.srv.url, tg.srv.token, signKey); err != nil {
			return err
		}
		tg.work = filepath.Join(dir, fmt.Sprintf("work%d", i))
		if err := os.MkdirAll(tg.work, 0o755); err != nil {
			return err
		}
		tg.env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + tg.work, "CUSTODY_CONTROL_PLANE=" + tg.srv.url, "CUSTODY_TOKEN=" + tg.fx.token}
		if _, err := measure(tg.work, tg.env, custody, "attestation", "init", "--workflow", tg.fx.workflow, "--project", tg.fx.project); err != nil {
			return err
		}
		if tg.idle, err = tg.srv.usage(); err != nil {
			return err
		}
	}
	// Warm the page cache so every contender reads the file from memory.
	if _, err := measure(dir, nil, floor, artifactPath); err != nil {
		return err
	}
	var floors []sample
	for i := range runs {
		f, err := measure(dir, nil, floor, artifactPath)
		if err != nil {
			return err
		}
		floors = append(floors, f)
		for _, tg := range targets {
			// A first upload every time: the blob is not in the CAS yet.
			blob := filepath.Join(tg.casDir, "blobs", "sha256", digest[:2], digest)
			if err := os.Remove(blob); err != nil && !os.IsNotExist(err) {
				return err
			}
			a, err := measure(tg.work, tg.env, custody,
				"attestation", "add", "--name", fmt.Sprintf("large-upload-%d", i), "--kind", "ARTIFACT", "--value", artifactPath)
			if err != nil {
				return err
			}
			if _, err := os.Stat(blob); err != nil {
				return fmt.Errorf("after add %d the CAS has no blob %s: %w", i, digest, err)
			}
			tg.adds = append(tg.adds, a)
		}
	}
	for _, tg := range targets {
		if tg.after, err = tg.srv.usage(); err != nil {
			return err
		}
	}

	fm := medianOf(floors)
	fmt.Fprintf(out, "artifact: %d MiB; %d runs each, interleaved; median wall time; load average at the start %s, at the end %s\n\n",
		sizeMiB, runs, startLoad, proc.LoadAverage())
	fmt.Fprintln(out, "| command | median wall | vs floor | CPU: command (median) + custodyd (mean) | peak RSS | all runs |")
	fmt.Fprintln(out, "|---|---|---|---|---|---|")
	row := func(name string, m sample, server time.Duration, all []sample) {
		var s []string
		for _, x := range all {
			s = append(s, x.wall.Round(time.Millisecond).String())
		}
		cpu := medianCPU(all).Round(time.Millisecond).String()
		if server > 0 {
			cpu += " + " + server.Round(time.Millisecond).String()
		}
		fmt.Fprintf(out, "| %s | %s | %.2fx | %s | %.1f MiB | %s |\n", name, m.wall.Round(time.Millisecond), m.wall.Seconds()/fm.wall.Seconds(),
			cpu, float64(m.maxRSSKiB)/1024, strings.Join(s, " "))
	}
	row("floor (crypto/sha256 of the file, 1 MiB buffer)", fm, 0, floors)
	for _, tg := range targets {
		row(tg.name, medianOf(tg.adds), (tg.after.cpu-tg.idle.cpu)/time.Duration(runs), tg.adds)
	}
	fmt.Fprintln(out)
	for _, tg := range targets {
		fmt.Fprintf(out, "- custodyd RSS (%s): %.1f MiB idle → %.1f MiB after the adds, peak %.1f MiB (growth over idle: %+.1f MiB at peak)\n",
			strings.TrimPrefix(tg.name, "custody attestation add → custodyd, "), mib(tg.idle.rssKiB), mib(tg.after.rssKiB),
			mib(tg.after.hwmKiB), mib(tg.after.hwmKiB-tg.idle.rssKiB))
	}
	return nil
}

type sample struct {
	wall      time.Duration
	cpu       time.Duration // user + system
	maxRSSKiB int64
}

// measure runs a command to completion and returns its wall time and peak RSS.
func measure(dir string, env []string, bin string, args ...string) (sample, error) {
	cmd := exec.Command(bin, args...)
	cmd.Dir, cmd.Env = dir, env
	start := time.Now()
	out, err := cmd.CombinedOutput()
	wall := time.Since(start)
	if err != nil {
		return sample{}, fmt.Errorf("%s %v: %v\n%s", bin, args, err, out)
	}
	s := sample{wall: wall}
	if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
		s.maxRSSKiB = ru.Maxrss
	}
	s.cpu = cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()
	return s, nil
}

func medianCPU(s []sample) time.Duration {
	c := make([]time.Duration, len(s))
	for i := range s {
		c[i] = s[i].cpu
	}
	sort.Slice(c, func(i, j int) bool { return c[i] < c[j] })
	return c[len(c)/2]
}

func medianOf(s []sample) sample {
	c := append([]sample(nil), s...)
	sort.Slice(c, func(i, j int) bool { return c[i].wall < c[j].wall })
	return c[len(c)/2]
}
