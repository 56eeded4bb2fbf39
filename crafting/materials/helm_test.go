package materials

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"fmt"
	"maps"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/custody-dev/custody/contract"
)

func TestCraftHelmChart(t *testing.T) {
	t.Parallel()
	runDocCases(t, contract.KindHelmChart, []docCase{
		{file: "helm/demo-0.1.0.tgz", want: map[string]string{
			"format": "Helm chart", "apiVersion": "v2", "name": "demo", "version": "0.1.0", "appVersion": "1.16.0",
		}},
		// Its subchart's umbrella/charts/sub/Chart.yaml is not the chart's.
		{file: "helm/umbrella-1.2.3-rc.1.tgz", want: map[string]string{
			"format": "Helm chart", "apiVersion": "v2", "name": "umbrella", "version": "1.2.3-rc.1", "appVersion": "v2.5.0",
		}},
		{file: "helm/broken-no-version.tgz", wantErr: []string{"demo/Chart.yaml: version is missing"}},
		{file: "helm/broken-no-name.tgz", wantErr: []string{"demo/Chart.yaml: name is missing"}},
		{file: "helm/broken-apiversion.tgz", wantErr: []string{`apiVersion "v3" is not supported (v1 or v2)`}},
		{file: "helm/broken-version-not-semver.tgz", wantErr: []string{`version "latest" is not a SemVer version`}},
		{file: "helm/broken-chart-yaml-syntax.tgz", wantErr: []string{"demo/Chart.yaml: invalid YAML", "line 1"}},
		{file: "helm/broken-chart-yaml-at-root.tgz", wantErr: []string{"Chart.yaml is not in the chart's base directory"}},
		{file: "helm/broken-truncated.tgz", wantErr: []string{"unexpected end of archive (truncated?)"}},
		{file: "helm/not-a-chart-source.tgz", wantErr: []string{"no <chart>/Chart.yaml in the archive"}, notThisKind: true},
		{file: "helm/not-gzip-chart.tar", wantErr: []string{"not gzip-compressed"}, notThisKind: true},
		{file: "cyclonedx/custody-mod.cdx.json", wantErr: []string{"not gzip-compressed"}, notThisKind: true},
	})
}

// tarEntry is one entry of a hand-built archive.
type tarEntry struct {
	name     string
	typeflag byte
	body     string
	size     int64 // when body is empty and size is set, size zero bytes
	// declared, when set, is the size the header declares, followed by body alone: the archive ends
	// there (an entry cut short must be the last).
	declared int64
	// sparse, when set, makes a PAX GNU sparse 1.0 entry of this size, all hole: a few hundred bytes
	// of archive that unpack to sparse bytes.
	sparse int64
}

// chartTGZ builds a gzip-compressed tar of entries.
func chartTGZ(t testing.TB, entries ...tarEntry) []byte {
	t.Helper()
	var b bytes.Buffer
	tw := tar.NewWriter(&b)
	for _, e := range entries {
		if e.sparse > 0 {
			if err := tw.Flush(); err != nil {
				t.Fatal(err)
			}
			b.Write(sparseTarEntry(e.name, e.sparse))
			continue
		}
		flag := e.typeflag
		if flag == 0 {
			flag = tar.TypeReg
		}
		size := int64(len(e.body))
		if e.body == "" && e.size > 0 {
			size = e.size
		}
		if e.declared > 0 {
			size = e.declared
		}
		if flag != tar.TypeReg {
			size = 0
		}
		if err := tw.WriteHeader(&tar.Header{Name: e.name, Typeflag: flag, Size: size, Mode: 0o644, Linkname: "x"}); err != nil {
			t.Fatal(err)
		}
		if flag == tar.TypeReg {
			body := []byte(e.body)
			if e.body == "" && e.declared == 0 {
				body = make([]byte, size)
			}
			if _, err := tw.Write(body); err != nil {
				t.Fatal(err)
			}
		}
		if e.declared > 0 {
			return gzipped(t, b.Bytes()) // cut short: no more entries, no end of archive
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	return gzipped(t, b.Bytes())
}

// sparseTarEntry is a PAX extended header naming a GNU sparse 1.0 file of size bytes (the format GNU
// tar writes with --sparse --format=pax), then the file: its sparse map of no data block, so every
// byte is a hole. archive/tar's Writer does not write sparse files, so the blocks are built here.
func sparseTarEntry(name string, size int64) []byte {
	var records bytes.Buffer
	for _, kv := range [][2]string{
		{"GNU.sparse.major", "1"}, {"GNU.sparse.minor", "0"},
		{"GNU.sparse.name", name}, {"GNU.sparse.realsize", strconv.FormatInt(size, 10)},
	} {
		// A PAX record is "LEN KEY=VALUE\n", LEN counting itself.
		rest := " " + kv[0] + "=" + kv[1] + "\n"
		n := len(rest) + 1
		for len(strconv.Itoa(n))+len(rest) != n {
			n++
		}
		records.WriteString(strconv.Itoa(n) + rest)
	}
	sparseMap := []byte("0\n") // no data block
	var out bytes.Buffer
	out.Write(ustarBlock("PaxHeaders/"+path.Base(name), tar.TypeXHeader, int64(records.Len())))
	out.Write(padBlock(records.Bytes()))
	out.Write(ustarBlock(path.Dir(name)+"/GNUSparseFile.0/"+path.Base(name), tar.TypeReg, int64(len(padBlock(sparseMap)))))
	out.Write(padBlock(sparseMap))
	return out.Bytes()
}

// ustarBlock is a ustar header block.
func ustarBlock(name string, typeflag byte, size int64) []byte {
	h := make([]byte, 512)
	copy(h[0:], name)
	copy(h[100:], "0000644\x00")
	copy(h[108:], "0000000\x00")
	copy(h[116:], "0000000\x00")
	copy(h[124:], fmt.Sprintf("%011o\x00", size))
	copy(h[136:], "00000000000\x00")
	h[156] = typeflag
	copy(h[257:], "ustar\x0000")
	copy(h[148:], "        ")
	sum := 0
	for _, c := range h {
		sum += int(c)
	}
	copy(h[148:], fmt.Sprintf("%06o\x00 ", sum))
	return h
}

// padBlock pads data with zeros to a whole number of 512-byte blocks.
func padBlock(data []byte) []byte {
	return append(slices.Clone(data), make([]byte, (512-len(data)%512)%512)...)
}

const demoChartYAML = "apiVersion: v2\nname: demo\nversion: 0.1.0\n"

func TestCraftHelmChartArchives(t *testing.T) {
	t.Parallel()
	// Helm's loader bounds the files' content (100 MiB, declared sizes checked before they are read),
	// not the number of entries.
	many := []tarEntry{{name: "demo/Chart.yaml", body: demoChartYAML}}
	for i := range 25000 {
		many = append(many, tarEntry{name: fmt.Sprintf("demo/templates/t%d.yaml", i), body: "x"})
	}
	full := []tarEntry{{name: "demo/Chart.yaml", body: demoChartYAML}}
	for i := range maxChartUncompressed/maxChartFileSize - 1 {
		full = append(full, tarEntry{name: fmt.Sprintf("demo/files/f%d", i), size: maxChartFileSize})
	}
	full = append(full, tarEntry{name: "demo/files/last", body: "short", declared: maxChartFileSize - int64(len(demoChartYAML))})
	for _, tc := range []struct {
		name        string
		entries     []tarEntry
		want        map[string]string
		wantErr     []string
		notThisKind bool
	}{
		{
			name:    "directory entries, a v1 chart, a version Helm reads as 1.0.0",
			entries: []tarEntry{{name: "old/", typeflag: tar.TypeDir}, {name: "old/Chart.yaml", body: "apiVersion: v1\nname: old\nversion: v1.0\n"}},
			want:    map[string]string{"format": "Helm chart", "apiVersion": "v1", "name": "old", "version": "v1.0"},
		},
		{
			name:    "two charts at the top",
			entries: []tarEntry{{name: "a/Chart.yaml", body: demoChartYAML}, {name: "b/Chart.yaml", body: demoChartYAML}},
			wantErr: []string{"more than one chart at the top: a/Chart.yaml and b/Chart.yaml"},
		},
		{
			name:    "path escaping the chart",
			entries: []tarEntry{{name: "demo/Chart.yaml", body: demoChartYAML}, {name: "demo/../../etc/cron.d/x", body: "x"}},
			wantErr: []string{`"demo/../../etc/cron.d/x" refers to a parent directory`},
		},
		{
			name:    "absolute path",
			entries: []tarEntry{{name: "demo/Chart.yaml", body: demoChartYAML}, {name: "/etc/passwd", body: "x"}},
			wantErr: []string{`"/etc/passwd" is an absolute path`},
		},
		{
			name:    "Chart.yaml is a symlink",
			entries: []tarEntry{{name: "demo/Chart.yaml", typeflag: tar.TypeSymlink}},
			wantErr: []string{"demo/Chart.yaml is not a regular file"},
		},
		{
			name:    "empty Chart.yaml",
			entries: []tarEntry{{name: "demo/Chart.yaml", body: "\n"}},
			wantErr: []string{"demo/Chart.yaml: Chart.yaml is empty"},
		},
		{
			name:    "invalid type",
			entries: []tarEntry{{name: "demo/Chart.yaml", body: demoChartYAML + "type: plugin\n"}},
			wantErr: []string{`type "plugin" is not application or library`},
		},
		{
			name:    "name with a path",
			entries: []tarEntry{{name: "demo/Chart.yaml", body: "apiVersion: v2\nname: ../demo\nversion: 1.0.0\n"}},
			wantErr: []string{`name "../demo" is not a valid chart name`},
		},
		{
			name:    "no apiVersion: a v1 chart, as Helm's loader reads it; a pre-release version",
			entries: []tarEntry{{name: "pre/Chart.yaml", body: "name: pre\nversion: 0.1.0-alpha\n"}},
			want:    map[string]string{"format": "Helm chart", "apiVersion": "v1", "name": "pre", "version": "0.1.0-alpha"},
		},
		{
			name:    "a Windows drive path",
			entries: []tarEntry{{name: "demo/Chart.yaml", body: demoChartYAML}, {name: "demo/c:/x", body: "x"}},
			wantErr: []string{`"demo/c:/x" is an absolute path`},
		},
		{
			name: "a 2 MiB Chart.yaml, which Helm loads",
			entries: []tarEntry{{name: "demo/Chart.yaml",
				body: demoChartYAML + "description: " + strings.Repeat("x", 2<<20) + "\n"}},
			want: map[string]string{"format": "Helm chart", "apiVersion": "v2", "name": "demo", "version": "0.1.0"},
		},
		{
			name:    "Chart.yaml past Helm's limit for a file",
			entries: []tarEntry{{name: "demo/Chart.yaml", size: maxChartFileSize + 1}},
			wantErr: []string{"demo/Chart.yaml is larger than 5.0MiB (Helm's limit for a file of a chart)"},
		},
		{
			name:    "a template past Helm's limit for a file",
			entries: []tarEntry{{name: "demo/Chart.yaml", body: demoChartYAML}, {name: "demo/templates/big.yaml", size: 6 << 20}},
			wantErr: []string{"demo/templates/big.yaml is larger than 5.0MiB (Helm's limit for a file of a chart): it declares 6.0MiB"},
		},
		{
			name: "a sparse entry declaring 100 GiB, refused unread",
			entries: []tarEntry{{name: "demo/Chart.yaml", body: demoChartYAML},
				{name: "demo/templates/zeros.yaml", sparse: 100 << 30}},
			wantErr: []string{"archive unpacks to more than 100.0MiB (Helm's limit for a chart): demo/templates/zeros.yaml declares 100.0GiB"},
		},
		{
			name: "an entry declaring 100 GiB, cut short, refused before its body is read",
			entries: []tarEntry{{name: "demo/Chart.yaml", body: demoChartYAML},
				{name: "demo/templates/zeros.yaml", body: "short", declared: 100 << 30}},
			wantErr: []string{"archive unpacks to more than 100.0MiB (Helm's limit for a chart): demo/templates/zeros.yaml declares 100.0GiB"},
		},
		{
			name:        "a sparse entry declaring 100 GiB, no Chart.yaml",
			entries:     []tarEntry{{name: "src/zeros", sparse: 100 << 30}},
			wantErr:     []string{"archive unpacks to more than 100.0MiB", "not a packaged Helm chart"},
			notThisKind: true,
		},
		{
			name: "eight paths Helm refuses: five named, the rest counted",
			entries: []tarEntry{{name: "demo/Chart.yaml", body: demoChartYAML},
				{name: "/a", body: "x"}, {name: "/b", body: "x"}, {name: "/c", body: "x"}, {name: "/d", body: "x"},
				{name: "/e", body: "x"}, {name: "/f", body: "x"}, {name: "/g", body: "x"}, {name: "/h", body: "x"}},
			wantErr: []string{`chart archive: "/a" is an absolute path; "/b"`, `"/e" is an absolute path (and 3 more)`},
		},
		{
			name:    "25,000 entries",
			entries: many,
			want:    map[string]string{"format": "Helm chart", "apiVersion": "v2", "name": "demo", "version": "0.1.0"},
		},
		{
			name:    "files reaching 100 MiB together, the last refused before it is read",
			entries: full,
			wantErr: []string{"archive unpacks to more than 100.0MiB (Helm's limit for a chart): demo/files/last declares 5.0MiB after 95.0MiB of files"},
		},
		{
			name:        "empty archive",
			wantErr:     []string{"no <chart>/Chart.yaml in the archive"},
			notThisKind: true,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			path := writeTemp(t, "chart.tgz", string(chartTGZ(t, tc.entries...)))
			m, err := newDocCrafter(t).Craft(t.Context(), contract.KindHelmChart, path)
			if tc.wantErr != nil {
				checkDocError(t, err, contract.KindHelmChart, path, tc.wantErr, tc.notThisKind)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !maps.Equal(m.Validated, tc.want) {
				t.Errorf("Validated = %v, want %v", m.Validated, tc.want)
			}
		})
	}
}

// Besides Helm's limits, custody bounds the tar's own headers: an archive of endless empty entries,
// which Helm would read to its end, is refused past 100 MiB of them. Written to the file as it is
// compressed, so the test holds no 100 MiB buffer.
func TestCraftHelmChartTarOverhead(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "chart.tgz")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	gz, _ := gzip.NewWriterLevel(f, gzip.BestSpeed)
	tw := tar.NewWriter(gz)
	for i := range maxChartTarOverhead/512 + 2 {
		name := "demo/Chart.yaml"
		if i > 0 {
			name = fmt.Sprintf("demo/e%d", i)
		}
		if err := tw.WriteHeader(&tar.Header{Name: name, Typeflag: tar.TypeReg, Mode: 0o644}); err != nil {
			t.Fatal(err)
		}
	}
	for _, c := range []interface{ Close() error }{tw, gz, f} {
		if err := c.Close(); err != nil {
			t.Fatal(err)
		}
	}
	_, err = newDocCrafter(t).Craft(t.Context(), contract.KindHelmChart, path)
	checkDocError(t, err, contract.KindHelmChart, path, []string{"archive holds more than 100.0MiB of tar headers besides its files (204801 entries)"}, false)
}

// The corpus's chart of helm's own tests (pkg/action/lint_test.go lints it): no apiVersion, version
// 0.1.0-alpha.
func TestCraftHelmChartCorpus(t *testing.T) {
	t.Parallel()
	path := sharedCorpus(t, "helm/helm-pre-release-chart-0.1.0-alpha.tgz")
	m, err := newDocCrafter(t).Craft(t.Context(), contract.KindHelmChart, path)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"format": "Helm chart", "apiVersion": "v1", "name": "pre-release-chart", "version": "0.1.0-alpha"}
	if !maps.Equal(m.Validated, want) {
		t.Errorf("Validated = %v, want %v", m.Validated, want)
	}
}

func TestHelmSemver(t *testing.T) {
	t.Parallel()
	for v, want := range map[string]bool{
		"0.1.0-alpha": true, "1.2.3-rc.1+build.5": true, "v1.0": true, "1": true, "01.2.3": true,
		"1.0.0-alpha.0": true, "1.0.0-0a": true,
		"1.0.0-01": false, "1.0.0-alpha.007": false, "99999999999999999999.0.0": false, "latest": false,
		"1.0.0-": false, "1.0.0+": false, "1.0.0-a..b": false, "1.0.0_1": false,
		"1.0.0-" + strings.Repeat("a", 250): true, "1.0.0-" + strings.Repeat("a", 251): false,
	} {
		if got := helmSemver(v); got != want {
			t.Errorf("helmSemver(%q) = %v, want %v", v, got, want)
		}
	}
}
