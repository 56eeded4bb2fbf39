package materials

import (
	"archive/tar"
	"bytes"
	"maps"
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
}

// chartTGZ builds a gzip-compressed tar of entries.
func chartTGZ(t testing.TB, entries ...tarEntry) []byte {
	t.Helper()
	var b bytes.Buffer
	tw := tar.NewWriter(&b)
	for _, e := range entries {
		flag := e.typeflag
		if flag == 0 {
			flag = tar.TypeReg
		}
		size := int64(len(e.body))
		if e.body == "" && e.size > 0 {
			size = e.size
		}
		if flag != tar.TypeReg {
			size = 0
		}
		if err := tw.WriteHeader(&tar.Header{Name: e.name, Typeflag: flag, Size: size, Mode: 0o644, Linkname: "x"}); err != nil {
			t.Fatal(err)
		}
		if flag == tar.TypeReg {
			body := []byte(e.body)
			if e.body == "" {
				body = make([]byte, size)
			}
			if _, err := tw.Write(body); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	return gzipped(t, b.Bytes())
}

const demoChartYAML = "apiVersion: v2\nname: demo\nversion: 0.1.0\n"

func TestCraftHelmChartArchives(t *testing.T) {
	t.Parallel()
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
			name:    "Chart.yaml past its size limit",
			entries: []tarEntry{{name: "demo/Chart.yaml", size: maxChartYAMLSize + 1}},
			wantErr: []string{"demo/Chart.yaml is larger than 1.0MiB"},
		},
		{
			name:    "gzip bomb after Chart.yaml",
			entries: []tarEntry{{name: "demo/Chart.yaml", body: demoChartYAML}, {name: "demo/zeros", size: maxChartUncompressed}},
			wantErr: []string{"archive unpacks to more than 100.0MiB"},
		},
		{
			name:        "gzip bomb without Chart.yaml",
			entries:     []tarEntry{{name: "src/zeros", size: maxChartUncompressed}},
			wantErr:     []string{"archive unpacks to more than 100.0MiB", "not a packaged Helm chart"},
			notThisKind: true,
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

func TestCraftHelmChartTooManyEntries(t *testing.T) {
	t.Parallel()
	entries := []tarEntry{{name: "demo/Chart.yaml", body: demoChartYAML}}
	for i := range maxChartEntries {
		entries = append(entries, tarEntry{name: "demo/templates/t" + strings.Repeat("x", i%7), typeflag: tar.TypeDir})
	}
	path := writeTemp(t, "chart.tgz", string(chartTGZ(t, entries...)))
	_, err := newDocCrafter(t).Craft(t.Context(), contract.KindHelmChart, path)
	checkDocError(t, err, contract.KindHelmChart, path, []string{"archive has more than 20000 entries"}, false)
}
