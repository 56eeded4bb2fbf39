// Command verify measures `custody attestation verify` of many keyless bundles in one call against
// a shell loop of `cosign verify-blob-attestation` over the same bundles, in the same run. The
// bundles come from a virtual custody CA and TSA (internal/keylesstest): custodyd's shape, a
// 10-minute certificate, an RFC 3161 timestamp, no transparency log. It prints a markdown table of
// medians for docs/benchmarks.md:
//
//	go run ./bench/verify [-n 1000] [-cosign-n 1000] [-runs 3]
package main

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/custody-dev/custody/attestation"
	"github.com/custody-dev/custody/internal/keylesstest"
)

const controlPlane = "https://custody.example"

type options struct {
	n, cosignN, runs int
	cosign           string
	keep             bool
}

func main() {
	var o options
	flag.IntVar(&o.n, "n", 1000, "bundles custody verifies in one call")
	flag.IntVar(&o.cosignN, "cosign-n", 1000, "bundles the cosign loop verifies (the first of the same bundles)")
	flag.IntVar(&o.runs, "runs", 3, "runs of each contender, interleaved; medians are reported")
	flag.StringVar(&o.cosign, "cosign", "", "cosign binary (default: on PATH, else ~/go/bin/cosign)")
	flag.BoolVar(&o.keep, "keep", false, "keep the temp directory (bundles, trusted root)")
	flag.Parse()
	if err := run(o); err != nil {
		fmt.Fprintf(os.Stderr, "bench/verify: %v\n", err)
		os.Exit(1)
	}
}

func run(o options) error {
	if o.cosignN > o.n {
		o.cosignN = o.n
	}
	cosign, err := findCosign(o.cosign)
	if err != nil {
		return err
	}
	dir, err := os.MkdirTemp("", "custody-verifybench-")
	if err != nil {
		return err
	}
	if o.keep {
		fmt.Fprintf(os.Stderr, "keeping %s\n", dir)
	} else {
		defer os.RemoveAll(dir)
	}
	custody := filepath.Join(dir, "custody")
	if out, err := exec.Command("go", "build", "-o", custody, "./cmd/custody").CombinedOutput(); err != nil {
		return fmt.Errorf("build custody: %v\n%s", err, out)
	}
	bundles, err := generate(dir, o.n)
	if err != nil {
		return err
	}
	san := attestation.WorkflowIdentityURI(controlPlane, "skynet", "build-and-test")
	custodyCmd := append([]string{custody, "attestation", "verify", "--trusted-root", "trusted_root.json",
		"--certificate-identity", san, "--certificate-oidc-issuer", controlPlane, "--artifact", "rootfs.tar.gz"}, bundles...)
	// A real shell loop, as a user scripts cosign over a directory.
	loop := `for b in "$@"; do "$COSIGN" verify-blob-attestation --new-bundle-format --trusted-root trusted_root.json ` +
		`--insecure-ignore-tlog --insecure-ignore-sct --use-signed-timestamps --certificate-identity "$SAN" ` +
		`--certificate-oidc-issuer "$ISSUER" --type "$TYPE" --bundle "$b" rootfs.tar.gz >/dev/null 2>&1 || { echo "cosign refused $b" >&2; exit 1; }; done`
	cosignCmd := append([]string{"sh", "-c", loop, "sh"}, bundles[:o.cosignN]...)
	env := append(os.Environ(), "COSIGN="+cosign, "SAN="+san, "ISSUER="+controlPlane, "TYPE="+attestation.PredicateType,
		"TUF_ROOT="+filepath.Join(dir, ".sigstore"), "HOME="+dir)

	load0 := loadavg()
	var custodyRuns, cosignRuns []sample
	for range o.runs {
		s, err := timed(dir, env, custodyCmd)
		if err != nil {
			return fmt.Errorf("custody: %w", err)
		}
		custodyRuns = append(custodyRuns, s)
		if s, err = timed(dir, env, cosignCmd); err != nil {
			return fmt.Errorf("cosign loop: %w", err)
		}
		cosignRuns = append(cosignRuns, s)
	}
	load1 := loadavg()

	fmt.Printf("load average (1, 5, 15 min): %s at the start, %s at the end; %d runs each, interleaved\n\n", load0, load1, o.runs)
	fmt.Println("| contender | bundles | runs (wall) | median wall | median wall per bundle | median CPU per bundle |")
	fmt.Println("|---|---|---|---|---|---|")
	cu := report("`custody attestation verify` (one call)", o.n, custodyRuns)
	co := report("shell loop of `cosign verify-blob-attestation`", o.cosignN, cosignRuns)
	fmt.Printf("\ncustody is %.0fx faster per bundle (median wall per bundle, cosign / custody); %.0fx by CPU time\n",
		float64(co.wall)/float64(cu.wall), float64(co.cpu)/float64(cu.cpu))
	return nil
}

// sample is one run: its wall time and its CPU time (user and system, the children's included).
type sample struct{ wall, cpu time.Duration }

// report prints a row and returns the medians per bundle.
func report(name string, n int, runs []sample) sample {
	walls, cpus := make([]time.Duration, len(runs)), make([]time.Duration, len(runs))
	for i, r := range runs {
		walls[i], cpus[i] = r.wall, r.cpu
	}
	per := sample{wall: median(walls) / time.Duration(n), cpu: median(cpus) / time.Duration(n)}
	fmt.Printf("| %s | %d | %s | %s | %s | %s |\n", name, n, list(walls), round(median(walls)), round(per.wall), round(per.cpu))
	return per
}

// generate writes a trusted root, the artifact and n keyless bundles, each signed with its own key
// and certificate, and returns the bundles' names.
func generate(dir string, n int) ([]string, error) {
	at := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	ca, err := keylesstest.New("custody bench", at)
	if err != nil {
		return nil, err
	}
	tr, err := ca.TrustedRootJSON()
	if err != nil {
		return nil, err
	}
	content := []byte("the root file system of the benchmark\n")
	statement, err := keylesstest.Statement("skynet", "build-and-test", "rootfs.tar.gz", content, at)
	if err != nil {
		return nil, err
	}
	if err := errors.Join(os.WriteFile(filepath.Join(dir, "trusted_root.json"), tr, 0o644),
		os.WriteFile(filepath.Join(dir, "rootfs.tar.gz"), content, 0o644), os.Mkdir(filepath.Join(dir, "bundles"), 0o755)); err != nil {
		return nil, err
	}
	signing := keylesstest.Signing{SAN: attestation.WorkflowIdentityURI(controlPlane, "skynet", "build-and-test"), Issuer: controlPlane}
	names := make([]string, n)
	for i := range n {
		signing.At = at.Add(time.Duration(i) * time.Second)
		b, err := ca.Sign(statement, signing)
		if err != nil {
			return nil, err
		}
		names[i] = filepath.Join("bundles", fmt.Sprintf("%04d.json", i))
		if err := os.WriteFile(filepath.Join(dir, names[i]), b, 0o644); err != nil {
			return nil, err
		}
	}
	return names, nil
}

// timed runs args in dir and returns its wall and CPU time; a failure is an error with its output.
func timed(dir string, env, args []string) (sample, error) {
	cmd := exec.Command(args[0], args[1:]...)
	cmd.Dir, cmd.Env = dir, env
	var out strings.Builder
	cmd.Stderr = &out
	start := time.Now()
	err := cmd.Run()
	wall := time.Since(start)
	if err != nil {
		return sample{}, fmt.Errorf("%v\n%s", err, out.String())
	}
	// wait4's usage of the child includes the children it waited for (the shell's cosigns).
	return sample{wall: wall, cpu: cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()}, nil
}

func findCosign(flagged string) (string, error) {
	if flagged != "" {
		return flagged, nil
	}
	if p, err := exec.LookPath("cosign"); err == nil {
		return p, nil
	}
	home, _ := os.UserHomeDir()
	if p := filepath.Join(home, "go", "bin", "cosign"); fileExists(p) {
		return p, nil
	}
	return "", errors.New("cosign not found: go install github.com/sigstore/cosign/v2/cmd/cosign@v2.6.5, or give -cosign")
}

func fileExists(p string) bool { _, err := os.Stat(p); return err == nil }

func loadavg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "?"
	}
	return strings.Join(f[:3], " ")
}

func median(ds []time.Duration) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[len(s)/2]
}

func list(ds []time.Duration) string {
	parts := make([]string, len(ds))
	for i, d := range ds {
		parts[i] = round(d).String()
	}
	return strings.Join(parts, ", ")
}

func round(d time.Duration) time.Duration {
	switch {
	case d >= time.Second:
		return d.Round(10 * time.Millisecond)
	case d >= time.Millisecond:
		return d.Round(10 * time.Microsecond)
	}
	return d.Round(time.Microsecond)
}
