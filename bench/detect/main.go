// Command detect measures auto-detection (`custody attestation add --value FILE`, no kind) of large
// and hostile files against the hashing floor (bench/hashfloor) of the same file, interleaved in the
// same run, as whole processes: wall time and peak RSS. It prints a markdown table for
// docs/benchmarks.md and exits 1 when a JSON file of no kind takes more than 2x its floor, or any add
// more than 128 MiB of peak RSS (issue 9's bounds):
//
//	go run ./bench/detect [-size-mib 200] [-runs 5]
package main

import (
	"archive/tar"
	"bufio"
	"compress/gzip"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"github.com/custody-dev/custody/bench/internal/artifact"
	"github.com/custody-dev/custody/bench/internal/proc"
)

// The bounds the run is held to.
const (
	maxRatio  = 2.0       // wall time of a no-kind JSON file's add over its floor
	maxRSSKiB = 128 << 10 // peak RSS of any add
)

type input struct {
	name   string
	what   string
	kind   string // "" to detect; else the kind named with --kind
	noKind bool   // a JSON file no kind claims: held to maxRatio
	write  func(path string, size int64) error
}

func main() {
	sizeMiB := flag.Int64("size-mib", 200, "size of each generated file in MiB")
	runs := flag.Int("runs", 5, "runs of each command; the median is reported")
	flag.Parse()
	if err := run(*sizeMiB<<20, *runs); err != nil {
		fmt.Fprintf(os.Stderr, "detect: %v\n", err)
		os.Exit(1)
	}
}

func inputs() []input {
	return []input{
		{name: "binary.bin", what: "random bytes (an ARTIFACT)", write: func(p string, size int64) error {
			_, err := artifact.Write(p, size>>20)
			return err
		}},
		{name: "flat-report.json", what: "a wide, flat JSON report of no kind", noKind: true, write: writeFlat},
		{name: "nested.json", what: `{"x":[[[...]]]}, no markers`, noKind: true, write: func(p string, size int64) error {
			return writeNested(p, `{"x":`, `}`, size)
		}},
		{name: "nested-markers-last.json", what: `{"x":[[[...]]],"bomFormat":"CycloneDX"}`, noKind: true, write: func(p string, size int64) error {
			return writeNested(p, `{"x":`, `,"bomFormat":"CycloneDX","specVersion":"1.6"}`, size)
		}},
		{name: "nested-markers-first.json", what: `{"bomFormat":"CycloneDX",...,"components":[[[...]]]}`, write: func(p string, size int64) error {
			return writeNested(p, `{"bomFormat":"CycloneDX","specVersion":"1.6","components":`, `}`, size)
		}},
		{name: "nested-array.json", what: "[[[...]]]", noKind: true, write: func(p string, size int64) error {
			return writeNested(p, "", "", size)
		}},
		{name: "flat-report.json", what: "the flat report, --kind SARIF", kind: "SARIF", write: writeFlat},
		{name: "nested.json", what: "the nested file, --kind SBOM_CYCLONEDX_JSON", kind: "SBOM_CYCLONEDX_JSON", write: func(p string, size int64) error {
			return writeNested(p, `{"x":`, `}`, size)
		}},
		{name: "zeros-first.tgz", what: "gzip tar: the size in zeros, then a Chart.yaml", write: writeZerosFirst},
	}
}

func run(size int64, runs int) error {
	dir, err := os.MkdirTemp("", "custody-detectbench-")
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
	contract := filepath.Join(dir, "contract.yaml")
	if err := os.WriteFile(contract, []byte("apiVersion: custody.dev/v1\nkind: Contract\nmetadata:\n  name: bench\n"), 0o644); err != nil {
		return err
	}
	fmt.Printf("files of %d MiB; %d runs each, interleaved with the floor of the same file; medians\n\n", size>>20, runs)
	fmt.Println("| file | add | verdict | add wall | floor wall | add / floor | add peak RSS |")
	fmt.Println("|---|---|---|---|---|---|---|")
	failed := false
	written := map[string]bool{}
	for _, in := range inputs() {
		path := filepath.Join(dir, in.name)
		if !written[in.name] {
			if err := in.write(path, size); err != nil {
				return fmt.Errorf("write %s: %w", in.name, err)
			}
			written[in.name] = true
		}
		if _, err := proc.Measure(dir, false, floor, path); err != nil { // into the page cache
			return err
		}
		var adds, floors []proc.Sample
		for i := range runs {
			state := filepath.Join(dir, fmt.Sprintf("state-%d.json", i))
			os.Remove(state)
			if _, err := proc.Measure(dir, false, custody, "--state-file", state, "attestation", "init", "--workflow", "w", "--project", "p", "--contract", contract, "--dry-run"); err != nil {
				return err
			}
			args := []string{"--state-file", state, "attestation", "add", "--value", path}
			if in.kind != "" {
				args = append(args, "--name", "m", "--kind", in.kind)
			}
			a, err := proc.Measure(dir, true, custody, args...)
			if err != nil {
				return err
			}
			f, err := proc.Measure(dir, false, floor, path)
			if err != nil {
				return err
			}
			adds, floors = append(adds, a), append(floors, f)
		}
		a, f := proc.Median(adds), proc.Median(floors)
		ratio := a.Wall.Seconds() / f.Wall.Seconds()
		mark := ""
		if in.noKind && ratio > maxRatio || a.MaxRSS > maxRSSKiB {
			mark, failed = " **over the bound**", true
		}
		how := "detect"
		if in.kind != "" {
			how = "--kind " + in.kind
		}
		fmt.Printf("| %s (%s) | %s | %s | %s | %s | %.2fx | %.1f MiB%s |\n", in.name, in.what, how, verdict(a.Output),
			a.Wall.Round(time.Millisecond), f.Wall.Round(time.Millisecond), ratio, float64(a.MaxRSS)/1024, mark)
	}
	if failed {
		return fmt.Errorf("an add passed its bound (%.0fx the floor for a JSON file of no kind, %d MiB of peak RSS)", maxRatio, maxRSSKiB>>10)
	}
	return nil
}

var quotedPath = regexp.MustCompile(` "[^"]*": `)

// verdict is the kind an add recorded, or the start of its error.
func verdict(out []byte) string {
	s := strings.TrimSpace(string(out))
	if i := strings.Index(s, "("); strings.Contains(s, "added to attestation") && i >= 0 {
		return strings.TrimSuffix(strings.Fields(s[i+1:])[0], ")")
	}
	s = quotedPath.ReplaceAllString(strings.TrimPrefix(s, "ERR add: "), ": ")
	s = strings.ReplaceAll(s, "|", "/")
	if len(s) > 100 {
		s = s[:100] + "..."
	}
	return "refused: " + s
}

// writeFlat writes a wide JSON report of no kind: {"scanner":...,"items":[{...},...]}.
func writeFlat(path string, size int64) error {
	return writeFile(path, func(w *sizedWriter) error {
		fmt.Fprint(w, `{"scanner":{"name":"bench","version":"1.0"},"items":[`)
		for i := 0; w.n < size-256; i++ {
			if i > 0 {
				fmt.Fprint(w, ",")
			}
			fmt.Fprintf(w, `{"id":"ITEM-%d","package":"pkg-%d","installed":"1.%d.%d","severity":"High","title":"finding %d of the bench report","locations":[{"path":"/usr/lib/pkg-%d/lib.so","line":%d}]}`,
				i, i%5000, i%97, i%13, i, i%5000, i%1000)
		}
		_, err := fmt.Fprint(w, "]}")
		return err
	})
}

// writeNested writes prefix, then brackets nested as deep as size allows, then suffix.
func writeNested(path, prefix, suffix string, size int64) error {
	return writeFile(path, func(w *sizedWriter) error {
		n := (size - int64(len(prefix)+len(suffix))) / 2
		fmt.Fprint(w, prefix)
		for _, b := range []string{"[", "]"} {
			chunk := strings.Repeat(b, 1<<16)
			for left := n; left > 0; left -= int64(len(chunk)) {
				fmt.Fprint(w, chunk[:min(left, int64(len(chunk)))])
			}
		}
		_, err := fmt.Fprint(w, suffix)
		return err
	})
}

// sizedWriter is a buffered file writer that counts what it was given.
type sizedWriter struct {
	w *bufio.Writer
	n int64
}

func (s *sizedWriter) Write(p []byte) (int, error) {
	n, err := s.w.Write(p)
	s.n += int64(n)
	return n, err
}

func writeFile(path string, fill func(*sizedWriter) error) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	w := &sizedWriter{w: bufio.NewWriterSize(f, 1<<20)}
	if err := fill(w); err != nil {
		f.Close()
		return err
	}
	if err := w.w.Flush(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// writeZerosFirst writes a gzip-compressed tar of size zeros, then a chart's Chart.yaml: detection
// must not decompress the zeros to learn it is no chart it can see.
func writeZerosFirst(path string, size int64) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	defer f.Close()
	gz, err := gzip.NewWriterLevel(f, gzip.BestSpeed)
	if err != nil {
		return err
	}
	tw := tar.NewWriter(gz)
	if err := tw.WriteHeader(&tar.Header{Name: "bomb/zeros.bin", Mode: 0o644, Size: size}); err != nil {
		return err
	}
	if _, err := io.CopyN(tw, zeros{}, size); err != nil {
		return err
	}
	chart := []byte("apiVersion: v2\nname: bomb\nversion: 1.0.0\n")
	if err := tw.WriteHeader(&tar.Header{Name: "bomb/Chart.yaml", Mode: 0o644, Size: int64(len(chart))}); err != nil {
		return err
	}
	if _, err := tw.Write(chart); err != nil {
		return err
	}
	if err := tw.Close(); err != nil {
		return err
	}
	return gz.Close()
}

type zeros struct{}

func (zeros) Read(p []byte) (int, error) {
	clear(p)
	return len(p), nil
}
