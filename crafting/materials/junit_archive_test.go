package materials

import (
	"archive/tar"
	"archive/zip"
	"bytes"
	"compress/flate"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/custody-dev/custody/contract"
)

// antReports is what Ant's two reports (the zip and the .tar.gz of test-reports/) record together.
func antReports(archive string) map[string]string {
	return map[string]string{
		"format": "JUnit XML", "archive": archive, "reports": "2",
		"suites": "2", "tests": "8", "failures": "1", "errors": "1", "skipped": "1",
	}
}

func TestCraftJUnitArchive(t *testing.T) {
	t.Parallel()
	runDocCases(t, contract.KindJUnitXML, []docCase{
		{file: "junit-archive/ant-reports.zip", want: antReports("zip")},
		{file: "junit-archive/ant-reports.tar.gz", want: antReports("tar.gz")},
		// A chart is a .tar.gz without a report.
		{file: "helm/demo-0.1.0.tgz", wantErr: []string{"tar.gz of JUnit reports: it holds no .xml report"}},
	})
}

// zipEntry is one entry of a hand-built zip: body stored deflated; declared, when set, replaces
// the uncompressed size its central directory declares.
type zipEntry struct {
	name     string
	body     string
	declared uint64
}

func zipOf(t testing.TB, entries ...zipEntry) []byte {
	t.Helper()
	var b bytes.Buffer
	zw := zip.NewWriter(&b)
	for _, e := range entries {
		if e.declared == 0 {
			w, err := zw.Create(e.name)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := io.WriteString(w, e.body); err != nil {
				t.Fatal(err)
			}
			continue
		}
		var raw bytes.Buffer
		fw, _ := flate.NewWriter(&raw, flate.BestCompression)
		_, _ = io.WriteString(fw, e.body)
		_ = fw.Close()
		w, err := zw.CreateRaw(&zip.FileHeader{Name: e.name, Method: zip.Deflate,
			CompressedSize64: uint64(raw.Len()), UncompressedSize64: e.declared})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.Write(raw.Bytes()); err != nil {
			t.Fatal(err)
		}
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// tarHeaderOnly is a .tar.gz whose one entry declares size bytes and holds none of them.
func tarHeaderOnly(t testing.TB, name string, size int64) []byte {
	t.Helper()
	var b bytes.Buffer
	tw := tar.NewWriter(&b)
	if err := tw.WriteHeader(&tar.Header{Name: name, Mode: 0o644, Size: size, Typeflag: tar.TypeReg}); err != nil {
		t.Fatal(err)
	}
	return gzipped(t, b.Bytes()) // not closed: the body is missing
}

const miniReport = `<testsuites><testsuite name="s" tests="1"><testcase name="c"/></testsuite></testsuites>`

func writeBytes(t *testing.T, name string, data []byte) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestJUnitArchiveRefuses(t *testing.T) {
	t.Parallel()
	const big = 300 << 20 // over the 256 MiB of one report
	runRefusals(t, contract.KindJUnitXML, []refusalCase{
		{name: "zip entry leaving the archive", path: writeBytes(t, "r.zip", zipOf(t, zipEntry{name: "../evil.xml", body: miniReport})),
			wantErr: []string{`zip of JUnit reports: entry "../evil.xml" lies outside the archive`}},
		{name: "zip entry leaving it the Windows way", path: writeBytes(t, "r.zip", zipOf(t, zipEntry{name: `reports\..\..\evil.xml`, body: miniReport})),
			wantErr: []string{`lies outside the archive`}},
		{name: "zip entry at an absolute path", path: writeBytes(t, "r.zip", zipOf(t, zipEntry{name: "/etc/evil.xml", body: miniReport})),
			wantErr: []string{`entry "/etc/evil.xml" has an absolute path`}},
		{name: "zip entry at a drive", path: writeBytes(t, "r.zip", zipOf(t, zipEntry{name: `C:\evil.xml`, body: miniReport})),
			wantErr: []string{`has an absolute path`}},
		{name: "tar entry leaving the archive", path: writeBytes(t, "r.tgz", chartTGZ(t, tarEntry{name: "reports/../../evil.xml", body: miniReport})),
			wantErr: []string{`tar.gz of JUnit reports: entry "reports/../../evil.xml" lies outside the archive`}},
		{name: "zip entry declaring more than one report may hold", path: writeBytes(t, "r.zip", zipOf(t, zipEntry{name: "huge.log", body: "x", declared: big})),
			wantErr: []string{"huge.log unpacks to 300.0MiB, more than the 256.0MiB allowed for one entry"}},
		{name: "zip entries declaring more than the archive may hold", path: writeBytes(t, "r.zip", zipOf(t,
			zipEntry{name: "a.log", body: "x", declared: 200 << 20}, zipEntry{name: "b.log", body: "x", declared: 200 << 20},
			zipEntry{name: "c.log", body: "x", declared: 200 << 20})),
			wantErr: []string{"the archive unpacks to more than 512.0MiB (at c.log)"}},
		{name: "tar entry declaring 100 GiB it does not hold", path: writeBytes(t, "r.tgz", tarHeaderOnly(t, "sparse.xml", 100<<30)),
			wantErr: []string{"sparse.xml unpacks to 100.0GiB, more than the 256.0MiB allowed for one entry"}},
		{name: "zip entry holding more than it declares", path: writeBytes(t, "r.zip", zipOf(t, zipEntry{name: "TEST-a.xml", body: miniReport + strings.Repeat(" ", 4096), declared: 100})),
			wantErr: []string{"TEST-a.xml: read JUnit report: zip: not a valid zip file"}},
		{name: "an XML entry that is not a report", path: writeBytes(t, "r.zip", zipOf(t, zipEntry{name: "TEST-a.xml", body: miniReport},
			zipEntry{name: "jacoco.xml", body: `<report name="r"/>`})),
			wantErr: []string{"jacoco.xml: the root element is <report>, not <testsuites> or <testsuite>: not a JUnit report"}},
		{name: "a broken report", path: writeBytes(t, "r.zip", zipOf(t, zipEntry{name: "TEST-a.xml", body: miniReport[:40]})),
			wantErr: []string{"TEST-a.xml: read JUnit report: invalid XML at line 1: unexpected EOF"}},
		{name: "no report", path: writeBytes(t, "r.zip", zipOf(t, zipEntry{name: "output.txt", body: "ok"})),
			wantErr: []string{"zip of JUnit reports: it holds no .xml report"}},
		{name: "truncated tar.gz", path: writeBytes(t, "r.tgz", chartTGZ(t, tarEntry{name: "TEST-a.xml", body: miniReport})[:60]),
			wantErr: []string{"tar.gz of JUnit reports"}},
	})
}

// Entries that are not reports are passed over: other extensions, directories, macOS metadata.
func TestJUnitArchivePassesOver(t *testing.T) {
	t.Parallel()
	path := writeBytes(t, "r.zip", zipOf(t,
		zipEntry{name: "reports/"},
		zipEntry{name: "reports/TEST-a.XML", body: miniReport},
		zipEntry{name: "reports/output.txt", body: "not xml"},
		zipEntry{name: "__MACOSX/reports/._TEST-a.XML", body: "\x00\x05\x16\x07 AppleDouble"},
		zipEntry{name: "reports/._TEST-b.xml", body: "\x00\x05\x16\x07 AppleDouble"},
	))
	m, err := newDocCrafter(t).Craft(t.Context(), contract.KindJUnitXML, path)
	if err != nil {
		t.Fatalf("Craft: %v", err)
	}
	want := map[string]string{"format": "JUnit XML", "archive": "zip", "reports": "1", "suites": "1", "tests": "1", "failures": "0", "errors": "0", "skipped": "0"}
	if !mapsEqual(m.Validated, want) {
		t.Errorf("Validated = %v, want %v", m.Validated, want)
	}
}

// Auto-detection leaves archives to ARTIFACT: an archive of anything may hold XML.
func TestDetectJUnitArchiveIsArtifact(t *testing.T) {
	t.Parallel()
	runDetectCases(t, []detectCase{
		{"testdata/junit-archive/ant-reports.zip", contract.KindArtifact},
		{"testdata/junit-archive/ant-reports.tar.gz", contract.KindArtifact},
	})
}

// walkArchive's bounds, at small limits: entries, the bytes of one entry and of all of them, the tar
// stream's headers. Every refusal comes before an entry is read past its limit.
func TestWalkArchiveBounds(t *testing.T) {
	t.Parallel()
	lim := archiveLimits{entries: 3, entry: 1 << 10, total: 2 << 10}
	many := func(n int) []zipEntry {
		var es []zipEntry
		for i := range n {
			es = append(es, zipEntry{name: fmt.Sprintf("f%d.txt", i), body: "x"})
		}
		return es
	}
	var tarEntries []tarEntry
	for i := range 4 {
		tarEntries = append(tarEntries, tarEntry{name: fmt.Sprintf("f%d.txt", i), body: "x"})
	}
	var pax bytes.Buffer
	tw := tar.NewWriter(&pax)
	_ = tw.WriteHeader(&tar.Header{Name: "f.txt", Mode: 0o644, Size: 1, Typeflag: tar.TypeReg,
		PAXRecords: map[string]string{"comment": strings.Repeat("x", 64<<10)}})
	_, _ = tw.Write([]byte("x"))
	_ = tw.Close()
	for _, tc := range []struct {
		name string
		data []byte
		kind format
		want string
	}{
		{"zip entries", zipOf(t, many(4)...), formatZip, "the archive has more than 3 entries"},
		{"tar entries", chartTGZ(t, tarEntries...), formatGzip, "the archive has more than 3 entries"},
		{"zip entry", zipOf(t, zipEntry{name: "a.txt", body: strings.Repeat("x", 2<<10)}), formatZip, "a.txt unpacks to 2.0KiB, more than the 1.0KiB allowed for one entry"},
		{"tar entry", chartTGZ(t, tarEntry{name: "a.txt", body: strings.Repeat("x", 2<<10)}), formatGzip, "a.txt unpacks to 2.0KiB, more than the 1.0KiB"},
		{"zip total", zipOf(t, zipEntry{name: "a.txt", body: strings.Repeat("x", 1<<10)}, zipEntry{name: "b.txt", body: strings.Repeat("x", 1<<10)},
			zipEntry{name: "c.txt", body: "x"}), formatZip, "the archive unpacks to more than 2.0KiB (at c.txt)"},
		{"tar headers", gzipped(t, pax.Bytes()), formatGzip, "the archive unpacks to more than 8.0KiB"},
		{"not an archive", []byte("plain"), formatJSON, "JSON is not an archive"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f, err := os.Open(writeBytes(t, "a", tc.data))
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			read := 0
			err = walkArchive(f, tc.kind, lim, func(e archiveEntry) error {
				n, err := io.Copy(io.Discard, e.body)
				read += int(n)
				return err
			})
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("walkArchive = %v, want an error with %q", err, tc.want)
			}
			if read > int(lim.total) {
				t.Errorf("read %d bytes, past the %d allowed", read, lim.total)
			}
		})
	}
}

// A zip whose list of entries is larger than maxZipDirectory is refused before archive/zip reads
// it; so is one whose end record is missing.
func TestZipDirectoryBound(t *testing.T) {
	t.Parallel()
	var entries []zipEntry
	name := strings.Repeat("n", 400)
	for i := range (maxZipDirectory / 450) + 100 {
		entries = append(entries, zipEntry{name: fmt.Sprintf("%s%06d", name, i)})
	}
	huge := zipOf(t, entries...)
	// Over 65,535 entries, archive/zip writes zip64 end records: the directory's size is read from them.
	var many []zipEntry
	for i := range 70000 {
		many = append(many, zipEntry{name: fmt.Sprint(i)})
	}
	zip64 := zipOf(t, many...)
	if !bytes.Contains(zip64[len(zip64)-200:], []byte("PK\x06\x06")) {
		t.Fatal("archive/zip wrote no zip64 end record")
	}
	for _, tc := range []struct {
		name string
		data []byte
		want string
	}{
		{"large directory", huge, "the zip's list of entries takes 4.1MiB, more than 4.0MiB"},
		{"no end record", huge[:len(huge)-22], "no end of central directory record"},
		{"zip64", zip64, "the archive has more than 10000 entries"},
	} {
		f, err := os.Open(writeBytes(t, "a.zip", tc.data))
		if err != nil {
			t.Fatal(err)
		}
		err = walkArchive(f, formatZip, junitArchiveLimits, func(archiveEntry) error { return errors.New("read an entry") })
		f.Close()
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: walkArchive = %v, want an error with %q", tc.name, err, tc.want)
		}
	}
}

func TestCheckEntryName(t *testing.T) {
	t.Parallel()
	for name, ok := range map[string]bool{
		"a.xml": true, "reports/TEST-a.xml": true, "./a.xml": true, "a/../b.xml": true, "..a.xml": true,
		"": false, "/a.xml": false, "../a.xml": false, "a/../../b.xml": false, `..\a.xml`: false, `C:\a.xml`: false, `\a.xml`: false, "..": false,
	} {
		if err := checkEntryName(name); (err == nil) != ok {
			t.Errorf("checkEntryName(%q) = %v, want ok %v", name, err, ok)
		}
	}
}

func FuzzValidateJUnitArchive(f *testing.F) {
	f.Add(zipOf(f, zipEntry{name: "TEST-a.xml", body: miniReport}))
	f.Add(gzipped(f, []byte("not a tar")))
	fuzzSummary(f, validateJUnit, func(t *testing.T, v map[string]string) {
		if v["archive"] != "" && v["reports"] == "0" {
			t.Errorf("an archive accepted without a report: %v", v)
		}
	}, "junit-archive")
}
