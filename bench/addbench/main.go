// Command addbench measures `custody attestation add` of a large ARTIFACT against the hashing floor
// (bench/hashfloor) and coreutils' sha256sum, in the same run. (Start-up is bench/startup's.) It
// prints a markdown table of medians and ratios for docs/benchmarks.md:
//
//	go run ./bench/addbench [-size 1GiB] [-runs 5]
package main

import (
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/custody-dev/custody/bench/internal/artifact"
	"github.com/custody-dev/custody/bench/internal/proc"
)

func main() {
	sizeMiB := flag.Int64("size-mib", 1024, "size of the artifact in MiB")
	runs := flag.Int("runs", 5, "runs of each command; the median is reported")
	flag.Parse()
	if err := run(*sizeMiB, *runs); err != nil {
		fmt.Fprintf(os.Stderr, "addbench: %v\n", err)
		os.Exit(1)
	}
}

func run(sizeMiB int64, runs int) error {
	dir, err := os.MkdirTemp("", "custody-addbench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	custody, floor := filepath.Join(dir, "custody"), filepath.Join(dir, "hashfloor")
	for bin, pkg := range map[string]string{custody: "./cmd/custody", floor: "./bench/hashfloor"} {
		if out, err := exec.Command("go", "build", "-o", bin, pkg).CombinedOutput(); err != nil {
			return fmt.Errorf("build %s: %v\n%s", pkg, err, out)
		}
	}
	artifactPath := filepath.Join(dir, "artifact.bin")
	if _, err := artifact.Write(artifactPath, sizeMiB); err != nil {
		return err
	}
	contract := filepath.Join(dir, "contract.yaml")
	if err := os.WriteFile(contract, []byte("apiVersion: custody.dev/v1\nkind: Contract\nmetadata:\n  name: bench\n"), 0o644); err != nil {
		return err
	}
	state := filepath.Join(dir, "state.json")
	if _, err := proc.Measure(dir, false, custody, "--state-file", state, "attestation", "init", "--workflow", "w", "--project", "p", "--contract", contract); err != nil {
		return err
	}
	// Warm the page cache so every contender reads from memory.
	if _, err := proc.Measure(dir, false, floor, artifactPath); err != nil {
		return err
	}

	results := map[string][]proc.Sample{}
	order := []string{"floor (crypto/sha256, 1 MiB buffer)", "sha256sum", "custody attestation add"}
	for i := range runs {
		// Interleave the contenders so drift on a shared machine hits them alike.
		cmds := map[string][]string{
			order[0]: {floor, artifactPath},
			order[1]: {"sha256sum", artifactPath},
			order[2]: {custody, "--state-file", state, "attestation", "add", "--name", fmt.Sprintf("artifact-%d", i), "--kind", "ARTIFACT", "--value", artifactPath},
		}
		for _, name := range order {
			s, err := proc.Measure(dir, false, cmds[name][0], cmds[name][1:]...)
			if err != nil {
				return fmt.Errorf("%s: %w", name, err)
			}
			results[name] = append(results[name], s)
		}
	}

	floorMed := proc.Median(results[order[0]]).Wall
	shaMed := proc.Median(results[order[1]]).Wall
	fmt.Printf("artifact: %d MiB; %d runs each, interleaved; median wall time and peak RSS\n\n", sizeMiB, runs)
	fmt.Println("| command | median wall | peak RSS | vs floor | vs sha256sum | all runs |")
	fmt.Println("|---|---|---|---|---|---|")
	for _, name := range order {
		m := proc.Median(results[name])
		var all []string
		for _, s := range results[name] {
			all = append(all, s.Wall.Round(time.Millisecond).String())
		}
		fmt.Printf("| %s | %s | %.1f MiB | %.2fx | %.2fx | %s |\n", name, m.Wall.Round(time.Millisecond), float64(m.MaxRSS)/1024,
			m.Wall.Seconds()/floorMed.Seconds(), m.Wall.Seconds()/shaMed.Seconds(), strings.Join(all, " "))
	}
	return nil
}
