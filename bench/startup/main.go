// Command startup measures the start-up of the custody binary as a whole process, the working tree
// against a base revision, in one hyperfine invocation so a noisy shared machine hits both alike:
//
//	go run ./bench/startup [-base 2f4f5a9] [-runs 30] [-cold]
//
// It builds cmd/custody from both trees twice, as `go build` does by default and as a release is
// built (-trimpath -ldflags='-s -w'), then times `custody version` and `custody --help` with a warm
// page cache, and with -cold also `custody version` with the binary evicted from the page cache
// before every run (the first command of a CI job in a fresh container). It prints markdown tables
// of medians for docs/benchmarks.md, with the load average at the start and the end. Two reference
// programs, built the release way and timed in the same invocation, split the figure: an empty Go
// program (the floor) and one that links only sigstore-go's bundle, root and verify packages (what
// custody pays for verifying bundles in-process). Needs hyperfine (apt-get install -y hyperfine) and,
// for -cold, GNU dd.
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"
)

type options struct {
	base     string
	runs     int
	rounds   int
	warmup   int
	cold     bool
	keep     bool
	waitLoad float64
}

// build is one custody binary: a tree (base or head) built one way (dev or release).
type build struct {
	tree, kind, bin string
	size            int64
	packages        int
}

func main() {
	var o options
	flag.StringVar(&o.base, "base", "2f4f5a9", "git revision to compare the working tree with")
	flag.IntVar(&o.runs, "runs", 30, "measured runs of each command; the median is reported")
	flag.IntVar(&o.rounds, "rounds", 5, "hyperfine invocations the runs are split into, each timing every command, so drift on a shared machine hits all alike")
	flag.IntVar(&o.warmup, "warmup", 5, "unmeasured runs of each command before it is measured (warm page cache)")
	flag.BoolVar(&o.cold, "cold", false, "also time `custody version` with the binary evicted from the page cache before each run")
	flag.BoolVar(&o.keep, "keep", false, "keep the working directory")
	flag.Float64Var(&o.waitLoad, "wait-load", 0, "after building, wait (up to 10 minutes) until the 1-minute load average is at most this; 0: do not wait")
	flag.Parse()
	if err := run(o); err != nil {
		fmt.Fprintf(os.Stderr, "startup: %v\n", err)
		os.Exit(1)
	}
}

func run(o options) error {
	if _, err := exec.LookPath("hyperfine"); err != nil {
		return fmt.Errorf("hyperfine not found: apt-get install -y hyperfine")
	}
	dir, err := os.MkdirTemp("", "custody-startup-")
	if err != nil {
		return err
	}
	if o.keep {
		fmt.Fprintf(os.Stderr, "startup: working directory %s\n", dir)
	} else {
		defer os.RemoveAll(dir)
	}
	baseSrc := filepath.Join(dir, "src-base")
	if err := exportTree(o.base, baseSrc); err != nil {
		return err
	}
	var builds []build
	for _, kind := range []string{"release", "dev"} {
		for _, tree := range []struct{ name, src string }{{"base", baseSrc}, {"head", "."}} {
			b, err := buildCustody(tree.src, tree.name, kind, dir)
			if err != nil {
				return err
			}
			builds = append(builds, b)
		}
	}

	var refs []build
	for _, pkg := range []string{"empty", "sigstorego"} {
		r, err := buildProgram(".", "./bench/startup/"+pkg, filepath.Join(dir, pkg), "release")
		if err != nil {
			return err
		}
		refs = append(refs, r)
	}

	if o.waitLoad > 0 {
		for deadline := time.Now().Add(10 * time.Minute); load() > o.waitLoad && time.Now().Before(deadline); {
			time.Sleep(5 * time.Second)
		}
	}
	m := measurement{builds: builds, refs: refs, perRound: max(1, o.runs/max(1, o.rounds)), startLoad: loadAverage()}
	var warm []command
	for _, args := range []string{"version", "--help"} {
		for _, b := range builds {
			warm = append(warm, command{name: b.tree + " " + b.kind + " " + args, line: b.bin + " " + args})
		}
	}
	for _, r := range refs {
		warm = append(warm, command{name: r.tree, line: r.bin})
	}
	if m.warm, err = hyperfine(dir, o.rounds, []string{"--warmup", fmt.Sprint(o.warmup), "--runs", fmt.Sprint(m.perRound)}, warm); err != nil {
		return err
	}
	if o.cold {
		var cold []command
		for _, b := range builds {
			cold = append(cold, command{name: b.tree + " " + b.kind + " version", line: b.bin + " version",
				prepare: "dd if=" + b.bin + " iflag=nocache count=0 status=none"})
		}
		if m.cold, err = hyperfine(dir, o.rounds, []string{"--runs", fmt.Sprint(m.perRound)}, cold); err != nil {
			return err
		}
	}
	m.endLoad = loadAverage()
	m.print(o)
	return nil
}

// measurement is what run measured, for print.
type measurement struct {
	builds, refs       []build // builds: base and head, release then dev
	warm, cold         map[string]result
	perRound           int
	startLoad, endLoad string
}

// print writes the markdown tables of docs/benchmarks.md.
func (m measurement) print(o options) {
	fmt.Printf("custody start-up, whole process (hyperfine -N), base %s vs the working tree; %d rounds of %d runs of each command\n",
		o.base, o.rounds, m.perRound)
	fmt.Printf("(warm: after %d warm-up runs per round);\n", o.warmup)
	fmt.Printf("load average (1 min) %s at the start, %s at the end; %s\n\n", m.startLoad, m.endLoad, time.Now().UTC().Format("2006-01-02 15:04 UTC"))
	fmt.Println("| build | binary base → head | packages linked base → head |")
	fmt.Println("|---|---|---|")
	for i := 0; i+1 < len(m.builds); i += 2 {
		b, h := m.builds[i], m.builds[i+1]
		fmt.Printf("| %s | %.1f → %.1f MiB | %d → %d |\n", b.kind, mib(b.size), mib(h.size), b.packages, h.packages)
	}
	fmt.Println()
	fmt.Println("| command | build | page cache | base median (min … max) | head median (min … max) | head / base | head user + sys |")
	fmt.Println("|---|---|---|---|---|---|---|")
	rows := func(res map[string]result, cache string, args []string) {
		for _, a := range args {
			for _, kind := range []string{"release", "dev"} {
				b, h := res["base "+kind+" "+a], res["head "+kind+" "+a]
				fmt.Printf("| custody %s | %s | %s | %s | %s | %.2fx | %s + %s |\n", a, kind, cache, b.summary(), h.summary(),
					h.Median/b.Median, ms(h.User), ms(h.System))
			}
		}
	}
	rows(m.warm, "warm", []string{"version", "--help"})
	if m.cold != nil {
		rows(m.cold, "cold", []string{"version"})
	}
	fmt.Println()
	fmt.Println("| reference program (release build, warm) | binary | packages | median (min … max) | user + sys |")
	fmt.Println("|---|---|---|---|---|")
	for _, r := range m.refs {
		res := m.warm[r.tree]
		fmt.Printf("| %s | %.1f MiB | %d | %s | %s + %s |\n", r.tree, mib(r.size), r.packages, res.summary(), ms(res.User), ms(res.System))
	}
}

// exportTree writes the files of revision rev into dir (git archive), without touching the checkout.
func exportTree(rev, dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	archive := exec.Command("git", "archive", "--format=tar", rev)
	untar := exec.Command("tar", "-x", "-C", dir)
	pipe, err := archive.StdoutPipe()
	if err != nil {
		return err
	}
	untar.Stdin = pipe
	var stderr strings.Builder
	archive.Stderr, untar.Stderr = &stderr, &stderr
	if err := untar.Start(); err != nil {
		return err
	}
	if err := archive.Run(); err != nil {
		return fmt.Errorf("git archive %s: %v\n%s", rev, err, stderr.String())
	}
	if err := untar.Wait(); err != nil {
		return fmt.Errorf("untar %s: %v\n%s", rev, err, stderr.String())
	}
	return nil
}

// buildCustody builds cmd/custody of the tree in src.
func buildCustody(src, tree, kind, dir string) (build, error) {
	b, err := buildProgram(src, "./cmd/custody", filepath.Join(dir, "custody-"+tree+"-"+kind), kind)
	b.tree = tree
	return b, err
}

// buildProgram builds the package pkg of the module in src into bin: kind "dev" as plain `go build`
// does, "release" with -trimpath -ldflags='-s -w'. It counts the packages the binary links.
func buildProgram(src, pkg, bin, kind string) (build, error) {
	b := build{tree: filepath.Base(pkg), kind: kind, bin: bin}
	args := []string{"build", "-o", bin}
	if kind == "release" {
		args = append(args, "-trimpath", "-ldflags=-s -w")
	}
	cmd := exec.Command("go", append(args, pkg)...)
	cmd.Dir = src
	if out, err := cmd.CombinedOutput(); err != nil {
		return b, fmt.Errorf("build %s in %s (%s): %v\n%s", pkg, src, kind, err, out)
	}
	// Write the binary back now: the page cache cannot drop dirty pages, and -cold evicts them.
	f, err := os.Open(bin)
	if err != nil {
		return b, err
	}
	defer f.Close()
	if err := f.Sync(); err != nil {
		return b, fmt.Errorf("sync %s: %w", bin, err)
	}
	fi, err := f.Stat()
	if err != nil {
		return b, err
	}
	b.size = fi.Size()
	list := exec.Command("go", "list", "-deps", pkg)
	list.Dir = src
	out, err := list.Output()
	if err != nil {
		return b, fmt.Errorf("go list -deps %s in %s: %v", pkg, src, err)
	}
	b.packages = strings.Count(string(out), "\n")
	return b, nil
}

type command struct{ name, line, prepare string }

// result is one command's timing over every round, in seconds.
type result struct {
	Median, Min, Max, User, System float64
}

func (r result) summary() string {
	return fmt.Sprintf("**%s** (%s … %s)", ms(r.Median), ms(r.Min), ms(r.Max))
}

// hyperfine runs the commands rounds times, each time in one invocation (no shell: -N), and returns
// by name the median, min and max over all runs, and the mean user and system time.
func hyperfine(dir string, rounds int, args []string, cmds []command) (map[string]result, error) {
	export := filepath.Join(dir, "hyperfine.json")
	args = append([]string{"-N", "--style", "none", "--export-json", export}, args...)
	for _, c := range cmds {
		if c.prepare != "" {
			args = append(args, "--prepare", c.prepare)
		}
	}
	for _, c := range cmds {
		args = append(args, "--command-name", c.name)
	}
	for _, c := range cmds {
		args = append(args, c.line)
	}
	times := map[string][]float64{}
	user, system := map[string]float64{}, map[string]float64{}
	for range max(1, rounds) {
		cmd := exec.Command("hyperfine", args...)
		cmd.Stderr = os.Stderr
		if out, err := cmd.Output(); err != nil {
			return nil, fmt.Errorf("hyperfine: %v\n%s", err, out)
		}
		raw, err := os.ReadFile(export)
		if err != nil {
			return nil, err
		}
		var doc struct {
			Results []struct {
				Command string    `json:"command"`
				Times   []float64 `json:"times"`
				User    float64   `json:"user"`
				System  float64   `json:"system"`
			} `json:"results"`
		}
		if err := json.Unmarshal(raw, &doc); err != nil {
			return nil, fmt.Errorf("hyperfine's export %s: %w", export, err)
		}
		for _, r := range doc.Results {
			times[r.Command] = append(times[r.Command], r.Times...)
			user[r.Command] += r.User * float64(len(r.Times))
			system[r.Command] += r.System * float64(len(r.Times))
		}
	}
	res := map[string]result{}
	for _, c := range cmds {
		t := times[c.name]
		if len(t) == 0 {
			return nil, fmt.Errorf("hyperfine's export has no result for %q", c.name)
		}
		sort.Float64s(t)
		n := float64(len(t))
		res[c.name] = result{Median: (t[(len(t)-1)/2] + t[len(t)/2]) / 2, Min: t[0], Max: t[len(t)-1], User: user[c.name] / n, System: system[c.name] / n}
	}
	return res, nil
}

// loadAverage is the 1-minute load average as /proc/loadavg writes it.
func loadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	return strings.Fields(string(b))[0]
}

func load() float64 {
	v, err := strconv.ParseFloat(loadAverage(), 64)
	if err != nil {
		return 0
	}
	return v
}

func ms(s float64) string { return fmt.Sprintf("%.1f ms", s*1000) }

func mib(n int64) float64 { return float64(n) / (1 << 20) }
