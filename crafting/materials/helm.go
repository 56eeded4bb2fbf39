package materials

import (
	"archive/tar"
	"bufio"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"regexp"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/custody-dev/custody/attestation"
	"github.com/custody-dev/custody/contract"
)

func init() { register(contract.KindHelmChart, craftHelmChart) }

// claimsHelmChart: a gzip-compressed tar with a <chart>/Chart.yaml (or one misplaced at the root,
// the validator's error) among the entries the sniff lists (`helm package` writes Chart.yaml first),
// so an archive that is no chart is not decompressed whole.
func claimsHelmChart(s *sniffed) bool {
	for _, name := range s.entries {
		if dir, file := path.Split(path.Clean(name)); file == "Chart.yaml" && strings.Count(dir, "/") <= 1 {
			return true
		}
	}
	return false
}

func craftHelmChart(ctx context.Context, c *Crafter, value string) (*attestation.Material, error) {
	return c.craftFile(ctx, value, validateHelmChart)
}

// Limits on reading a chart archive, so that a gzip bomb cannot exhaust memory or time. They are
// Helm's own (helm.sh/helm/v3 pkg/chart/loader, v3.22: MaxDecompressedChartSize and
// MaxDecompressedFileSize), checked as Helm checks them, on each entry's declared size before it is
// read, so no chart Helm can load is refused. Helm bounds neither the number of entries nor the tar's
// own headers; custody bounds those (maxChartTarOverhead) far beyond any chart (at least 51,200
// entries), so an archive of endless empty entries ends too.
const (
	maxChartUncompressed = 100 << 20 // the chart's files together, below this (Helm refuses reaching it)
	maxChartFileSize     = 5 << 20   // one file of the chart
	maxChartTarOverhead  = 100 << 20 // tar headers and padding besides the files' content
	maxChartStream       = maxChartUncompressed + maxChartTarOverhead
	maxChartProblems     = 5 // path problems named in the error; the rest are counted
)

var (
	errChartTooLarge  = fmt.Errorf("archive unpacks to more than %s (Helm's limit for a chart)", humanBytes(maxChartUncompressed))
	errChartStreamEnd = fmt.Errorf("archive unpacks to more than %s", humanBytes(maxChartStream))
)

// semverPattern is the SemVer grammar as Helm reads a chart version (Masterminds semver v3.5's
// NewVersion, which Helm's chart validation calls): SemVer 2 (major.minor.patch[-pre][+build]), where
// Helm also tolerates a leading "v", leading zeros and a missing minor or patch, which it reads as 0.
// helmSemver adds the rules the pattern cannot say.
var semverPattern = regexp.MustCompile(`^v?([0-9]+)(\.[0-9]+)?(\.[0-9]+)?` +
	`(-([0-9A-Za-z-]+(\.[0-9A-Za-z-]+)*))?(\+[0-9A-Za-z-]+(\.[0-9A-Za-z-]+)*)?$`)

// maxSemverLen is Masterminds semver's MaxVersionLen.
const maxSemverLen = 256

// helmSemver reports whether Helm takes v as a chart version: the pattern, at most 256 bytes, each
// number fits 64 bits, and no numeric pre-release identifier has a leading zero (1.0.0-01 is not
// SemVer; 1.0.0-alpha.1 and 0.1.0-alpha are).
func helmSemver(v string) bool {
	m := semverPattern.FindStringSubmatch(v)
	if len(v) > maxSemverLen || m == nil {
		return false
	}
	for _, n := range m[1:4] {
		if n = strings.TrimPrefix(n, "."); n != "" {
			if _, err := strconv.ParseUint(n, 10, 64); err != nil {
				return false
			}
		}
	}
	if m[5] == "" {
		return true
	}
	for _, id := range strings.Split(m[5], ".") {
		if len(id) > 1 && id[0] == '0' && strings.Trim(id, "0123456789") == "" {
			return false
		}
	}
	return true
}

// chartMetadata is the part of Chart.yaml that is validated and recorded.
type chartMetadata struct {
	APIVersion string `yaml:"apiVersion"`
	Name       string `yaml:"name"`
	Version    string `yaml:"version"`
	AppVersion string `yaml:"appVersion"`
	Type       string `yaml:"type"`
}

// chartScan is what reading the archive found.
type chartScan struct {
	found     bool     // a Chart.yaml was met: the archive is a chart, if perhaps a broken one
	chartYAML []byte   // content of <chart>/Chart.yaml
	chartPath string   // its path in the archive
	problems  []string // reasons Helm would refuse the archive, reported once it is known to be a chart
	more      int      // problems past maxChartProblems, counted only
}

func (s *chartScan) meet(name string) {
	if !s.found {
		s.found, s.chartPath = true, name
	}
}

func (s *chartScan) problem(p string) {
	if len(s.problems) < maxChartProblems {
		s.problems = append(s.problems, p)
		return
	}
	s.more++
}

// validateHelmChart accepts a packaged Helm chart (`helm package`): a gzip-compressed tar holding
// <chart>/Chart.yaml with apiVersion v1 or v2 (none: v1), a name and a SemVer version, within Helm's
// limits, every path inside the chart's base directory. Chart.yaml is read with yaml.v3 (Helm itself
// is too heavy a dependency for the CLI). A file that is not gzip, not a tar, or a tar without Chart.yaml is not a Helm chart.
func validateHelmChart(f *os.File) (map[string]string, error) {
	r, err := rewound(f)
	if err != nil {
		return nil, err
	}
	gz, err := gzip.NewReader(bufio.NewReader(r))
	if err != nil {
		return nil, fmt.Errorf("not gzip-compressed (%v), not a packaged Helm chart: %w", err, ErrNotThisKind)
	}
	scan, err := scanChartArchive(gz)
	if !scan.found {
		reason := "no <chart>/Chart.yaml in the archive"
		if err != nil {
			reason = err.Error()
		}
		return nil, fmt.Errorf("%s, not a packaged Helm chart: %w", reason, ErrNotThisKind)
	}
	if err != nil {
		return nil, err
	}
	if len(scan.problems) > 0 {
		more := ""
		if scan.more > 0 {
			more = fmt.Sprintf(" (and %d more)", scan.more)
		}
		return nil, fmt.Errorf("chart archive: %s%s", strings.Join(scan.problems, "; "), more)
	}
	md, err := parseChartYAML(scan.chartYAML)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", scan.chartPath, err)
	}
	validated := map[string]string{
		"format":     "Helm chart",
		"apiVersion": md.APIVersion,
		"name":       md.Name,
		"version":    md.Version,
	}
	if md.AppVersion != "" {
		validated["appVersion"] = md.AppVersion
	}
	return validated, nil
}

// scanChartArchive reads the tar stream to its end (so a truncated or corrupt archive is caught),
// keeping only <chart>/Chart.yaml, and notes the paths Helm's loader refuses. Each entry's declared
// size is checked against Helm's limits before any of it is read: a sparse entry declaring 100 GiB is
// refused without being unpacked.
func scanChartArchive(gz io.Reader) (chartScan, error) {
	var scan chartScan
	stream := newCappedReader(gz, maxChartStream, errChartStreamEnd)
	tr := tar.NewReader(stream)
	var content int64 // the declared sizes of the files so far
	for entries := 1; ; entries++ {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return scan, fmt.Errorf("read archive: %s", tarReason(err))
		}
		if overhead := maxChartStream - stream.left - content; overhead > maxChartTarOverhead {
			return scan, fmt.Errorf("archive holds more than %s of tar headers besides its files (%d entries)",
				humanBytes(maxChartTarOverhead), entries)
		}
		if hdr.Typeflag == tar.TypeDir || hdr.Typeflag == tar.TypeXGlobalHeader || hdr.Typeflag == tar.TypeXHeader {
			continue
		}
		name := strings.ReplaceAll(hdr.Name, `\`, "/")
		top, rest, _ := strings.Cut(name, "/")
		problem := chartPathProblem(hdr.Name, top, rest)
		chartYAML := problem == "" && path.Clean(rest) == "Chart.yaml"
		if err := chartEntrySize(hdr, content); err != nil {
			if chartYAML || top == "Chart.yaml" {
				scan.meet(hdr.Name)
			}
			return scan, err
		}
		content += hdr.Size
		if problem != "" {
			scan.problem(problem)
			if top == "Chart.yaml" {
				scan.meet(hdr.Name)
			}
			continue
		}
		if !chartYAML {
			continue
		}
		if scan.found {
			scan.problem(fmt.Sprintf("more than one chart at the top: %s and %s", scan.chartPath, hdr.Name))
			continue
		}
		scan.meet(hdr.Name)
		if hdr.Typeflag != tar.TypeReg {
			scan.problem(fmt.Sprintf("%s is not a regular file", hdr.Name))
			continue
		}
		data, err := io.ReadAll(tr) // at most its declared size, checked above
		if err != nil {
			return scan, fmt.Errorf("read %s: %s", hdr.Name, tarReason(err))
		}
		scan.chartYAML = data
	}
	// Read to the end of the gzip stream: its checksum is verified there.
	if _, err := io.Copy(io.Discard, stream); err != nil {
		return scan, fmt.Errorf("read archive: %s", tarReason(err))
	}
	return scan, nil
}

// chartEntrySize checks an entry's declared size as Helm's loader does, before reading it: the files
// together stay below maxChartUncompressed, each is at most maxChartFileSize.
func chartEntrySize(hdr *tar.Header, before int64) error {
	if hdr.Size >= maxChartUncompressed-before {
		return fmt.Errorf("%w: %s declares %s after %s of files", errChartTooLarge, hdr.Name, humanBytes(hdr.Size), humanBytes(before))
	}
	if hdr.Size > maxChartFileSize {
		return fmt.Errorf("%s is larger than %s (Helm's limit for a file of a chart): it declares %s",
			hdr.Name, humanBytes(maxChartFileSize), humanBytes(hdr.Size))
	}
	return nil
}

// windowsDrive starts a path with a drive letter, which Helm's loader refuses inside a chart.
var windowsDrive = regexp.MustCompile(`^[a-zA-Z]:/`)

// chartPathProblem says why Helm's loader would refuse an entry's path, or "" when it would not.
func chartPathProblem(raw, top, rest string) string {
	switch {
	case top == "":
		return fmt.Sprintf("%q is an absolute path", raw)
	case top == "Chart.yaml" && rest == "":
		return "Chart.yaml is not in the chart's base directory"
	case rest == "" || path.Clean(rest) == ".":
		return fmt.Sprintf("%q lies outside the chart's base directory", raw)
	case path.IsAbs(rest) || windowsDrive.MatchString(path.Clean(rest)):
		return fmt.Sprintf("%q is an absolute path", raw)
	case top == ".." || strings.HasPrefix(path.Clean(rest), ".."):
		return fmt.Sprintf("%q refers to a parent directory", raw)
	}
	return ""
}

// parseChartYAML checks Chart.yaml the way Helm's chart metadata validation does, for the fields
// that identify the chart.
func parseChartYAML(data []byte) (chartMetadata, error) {
	var md chartMetadata
	if len(strings.TrimSpace(string(data))) == 0 {
		return md, errors.New("Chart.yaml is empty")
	}
	if err := yaml.Unmarshal(data, &md); err != nil {
		return md, fmt.Errorf("invalid YAML: %w", err)
	}
	if md.APIVersion == "" {
		// As Helm's loader: "Helm 2 accepted charts that did not provide an APIVersion".
		md.APIVersion = "v1"
	}
	switch {
	case md.APIVersion != "v1" && md.APIVersion != "v2":
		return md, fmt.Errorf("apiVersion %q is not supported (v1 or v2)", md.APIVersion)
	case md.Name == "":
		return md, errors.New("name is missing")
	case md.Name != path.Base(md.Name) || strings.ContainsAny(md.Name, `/\`) || md.Name == "." || md.Name == "..":
		return md, fmt.Errorf("name %q is not a valid chart name", md.Name)
	case md.Version == "":
		return md, errors.New("version is missing")
	case !helmSemver(md.Version):
		return md, fmt.Errorf("version %q is not a SemVer version", md.Version)
	case md.Type != "" && md.Type != "application" && md.Type != "library":
		return md, fmt.Errorf("type %q is not application or library", md.Type)
	}
	return md, nil
}

// tarReason words an error of reading a compressed tar for a user.
func tarReason(err error) string {
	switch {
	case errors.Is(err, io.ErrUnexpectedEOF):
		return "unexpected end of archive (truncated?)"
	case errors.Is(err, gzip.ErrChecksum):
		return "gzip checksum mismatch (corrupt archive)"
	case errors.Is(err, tar.ErrHeader):
		return "not a tar archive"
	}
	return err.Error()
}
