package materials

import (
	"bufio"
	"encoding/xml"
	"fmt"
	"io"
	"os"
	"path"
	"strings"
)

// junitArchiveLimits bound a zip or .tar.gz of JUnit reports: one report as large as a single one may
// be, 512 MiB in all, 10,000 entries (a Maven build writes one report per test class).
var junitArchiveLimits = archiveLimits{entries: 10000, entry: maxDocumentSize, total: 2 * maxDocumentSize}

// validateJUnitArchive reads every .xml entry of a zip or gzip-compressed tar (kind) as a JUnit
// report and adds their counts up. Entries with another extension are passed over (test runners
// leave their output and logs beside the reports), as are macOS's metadata entries (__MACOSX/, ._*).
// An archive without an .xml entry, or with one that is not a JUnit report, is refused.
func validateJUnitArchive(f *os.File, kind format) (map[string]string, error) {
	var total junitCounts
	reports := 0
	err := walkArchive(f, kind, junitArchiveLimits, func(e archiveEntry) error {
		if !isReportEntry(e.name, ".xml") {
			return nil
		}
		counts, err := readJUnitReport(e.body)
		if err != nil {
			return fmt.Errorf("%s: %w", e.name, err)
		}
		reports++
		total.suites += counts.suites
		total.tests += counts.tests
		total.failures += counts.failures
		total.errors += counts.errors
		total.skipped += counts.skipped
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("%s of JUnit reports: %w", archiveName(kind), err)
	}
	if reports == 0 {
		return nil, fmt.Errorf("%s of JUnit reports: it holds no .xml report", archiveName(kind))
	}
	return map[string]string{
		"format":   "JUnit XML",
		"archive":  archiveName(kind),
		"reports":  itoa(reports),
		"suites":   itoa(total.suites),
		"tests":    itoa(total.tests),
		"failures": itoa(total.failures),
		"errors":   itoa(total.errors),
		"skipped":  itoa(total.skipped),
	}, nil
}

// archiveName names an archive format as users call it.
func archiveName(kind format) string {
	if kind == formatZip {
		return "zip"
	}
	return "tar.gz"
}

// isReportEntry reports whether an archive entry's name ends in ext (any case) and is not macOS
// metadata: an AppleDouble ._ file or anything under __MACOSX/.
func isReportEntry(name, ext string) bool {
	slashed := strings.ReplaceAll(name, `\`, "/")
	base := path.Base(slashed)
	return strings.EqualFold(path.Ext(base), ext) && !strings.HasPrefix(base, "._") &&
		!strings.HasPrefix(slashed, "__MACOSX/") && !strings.Contains(slashed, "/__MACOSX/")
}

// readJUnitReport reads one JUnit report from r, streaming, and counts it.
func readJUnitReport(r io.Reader) (junitCounts, error) {
	dec := xml.NewDecoder(bufio.NewReader(r))
	dec.CharsetReader = charsetReader
	root, err := rootElement(dec)
	if err != nil {
		return junitCounts{}, fmt.Errorf("no XML root element (%s)", xmlReason(err))
	}
	if !isJUnitRoot(root.Name.Local) {
		return junitCounts{}, fmt.Errorf("the root element is <%s>, not <testsuites> or <testsuite>: not a JUnit report", root.Name.Local)
	}
	return countJUnit(dec, root)
}

func isJUnitRoot(name string) bool { return name == "testsuites" || name == "testsuite" }
