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

// Limits on reading a chart archive, so that a gzip bomb cannot exhaust memory or time. The sizes
// are Helm's own (MaxDecompressedChartSize, and its per-file limit is 5 MiB; a Chart.yaml is a few
// KiB): no chart Helm can install is refused.
const (
	maxChartUncompressed = 100 << 20
	maxChartYAMLSize     = 1 << 20
	maxChartEntries      = 20000
)

var errChartTooLarge = fmt.Errorf("archive unpacks to more than %s (Helm's limit for a chart)", humanBytes(maxChartUncompressed))

// semverPattern is the SemVer grammar as Helm reads a chart version (Masterminds semver): SemVer 2
// (major.minor.patch[-pre][+build]), where Helm also tolerates a leading "v" and a missing minor or
// patch, which it reads as 0.
var semverPattern = regexp.MustCompile(`^v?[0-9]+(\.[0-9]+)?(\.[0-9]+)?` +
	`(-[0-9A-Za-z-]+(\.[0-9A-Za-z-]+)*)?(\+[0-9A-Za-z-]+(\.[0-9A-Za-z-]+)*)?$`)

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
}

func (s *chartScan) meet(name string) {
	if !s.found {
		s.found, s.chartPath = true, name
	}
}

// validateHelmChart accepts a packaged Helm chart (`helm package`): a gzip-compressed tar holding
// <chart>/Chart.yaml with apiVersion v1 or v2, a name and a SemVer version, every path inside the
// chart's base directory. Chart.yaml is read with yaml.v3 (Helm itself is too heavy a dependency for
// the CLI). A file that is not gzip, not a tar, or a tar without Chart.yaml is not a Helm chart.
func validateHelmChart(f *os.File) (map[string]string, error) {
	r, err := rewound(f)
	if err != nil {
		return nil, err
	}
	gz, err := gzip.NewReader(bufio.NewReader(r))
	if err != nil {
		return nil, fmt.Errorf("not gzip-compressed (%v), not a packaged Helm chart: %w", err, ErrNotThisKind)
	}
	scan, err := scanChartArchive(newCappedReader(gz, maxChartUncompressed, errChartTooLarge))
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
		return nil, fmt.Errorf("chart archive: %s", strings.Join(scan.problems, "; "))
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
// keeping only <chart>/Chart.yaml, and notes the paths Helm's loader refuses.
func scanChartArchive(r io.Reader) (chartScan, error) {
	var scan chartScan
	tr := tar.NewReader(r)
	for entries := 0; ; entries++ {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return scan, fmt.Errorf("read archive: %s", tarReason(err))
		}
		if entries >= maxChartEntries {
			return scan, fmt.Errorf("archive has more than %d entries", maxChartEntries)
		}
		if hdr.Typeflag == tar.TypeDir || hdr.Typeflag == tar.TypeXGlobalHeader || hdr.Typeflag == tar.TypeXHeader {
			continue
		}
		name := strings.ReplaceAll(hdr.Name, `\`, "/")
		top, rest, _ := strings.Cut(name, "/")
		if problem := chartPathProblem(hdr.Name, top, rest); problem != "" {
			scan.problems = append(scan.problems, problem)
			if top == "Chart.yaml" {
				scan.meet(hdr.Name)
			}
			continue
		}
		if path.Clean(rest) != "Chart.yaml" {
			continue
		}
		if scan.found {
			scan.problems = append(scan.problems, fmt.Sprintf("more than one chart at the top: %s and %s", scan.chartPath, hdr.Name))
			continue
		}
		scan.meet(hdr.Name)
		if hdr.Typeflag != tar.TypeReg {
			scan.problems = append(scan.problems, fmt.Sprintf("%s is not a regular file", hdr.Name))
			continue
		}
		data, err := io.ReadAll(io.LimitReader(tr, maxChartYAMLSize+1))
		if err != nil {
			return scan, fmt.Errorf("read %s: %s", hdr.Name, tarReason(err))
		}
		if len(data) > maxChartYAMLSize {
			return scan, fmt.Errorf("%s is larger than %s", hdr.Name, humanBytes(maxChartYAMLSize))
		}
		scan.chartYAML = data
	}
	// Read to the end of the gzip stream: its checksum is verified there.
	if _, err := io.Copy(io.Discard, r); err != nil {
		return scan, fmt.Errorf("read archive: %s", tarReason(err))
	}
	return scan, nil
}

// chartPathProblem says why Helm's loader would refuse an entry's path, or "" when it would not.
func chartPathProblem(raw, top, rest string) string {
	switch {
	case top == "":
		return fmt.Sprintf("%q is an absolute path", raw)
	case top == "Chart.yaml" && rest == "":
		return "Chart.yaml is not in the chart's base directory"
	case rest == "" || path.Clean(rest) == ".":
		return fmt.Sprintf("%q lies outside the chart's base directory", raw)
	case path.IsAbs(rest):
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
	switch {
	case md.APIVersion == "":
		return md, errors.New("apiVersion is missing")
	case md.APIVersion != "v1" && md.APIVersion != "v2":
		return md, fmt.Errorf("apiVersion %q is not supported (v1 or v2)", md.APIVersion)
	case md.Name == "":
		return md, errors.New("name is missing")
	case md.Name != path.Base(md.Name) || strings.ContainsAny(md.Name, `/\`) || md.Name == "." || md.Name == "..":
		return md, fmt.Errorf("name %q is not a valid chart name", md.Name)
	case md.Version == "":
		return md, errors.New("version is missing")
	case !semverPattern.MatchString(md.Version):
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
