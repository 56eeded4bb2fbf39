package materials

import (
	"archive/zip"
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestSniffBytes(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		head string
		want format
	}{
		{name: "empty", head: "", want: formatOther},
		{name: "JSON object", head: `{"bomFormat":"CycloneDX"}`, want: formatJSON},
		{name: "JSON after whitespace", head: " \r\n\t{}", want: formatJSON},
		{name: "JSON after a byte order mark", head: "\xef\xbb\xbf{}", want: formatJSON},
		{name: "JSON array", head: `[{"a":1}]`, want: formatJSON},
		{name: "JSON Lines", head: "{\"a\":1}\n{\"a\":2}\n", want: formatJSONLines},
		{name: "two objects on one line are not JSON Lines", head: `{"a":1} {"a":2}`, want: formatJSON},
		{name: "XML declaration", head: `<?xml version="1.0"?><testsuites/>`, want: formatXML},
		{name: "XML after a byte order mark and newline", head: "\xef\xbb\xbf\n<testsuites/>", want: formatXML},
		{name: "gzip", head: "\x1f\x8b\x08\x00", want: formatGzip},
		{name: "gzip magic only", head: "\x1f\x8b", want: formatGzip},
		{name: "half a gzip magic", head: "\x1f", want: formatOther},
		{name: "zip", head: "PK\x03\x04\x14\x00", want: formatZip},
		{name: "empty zip", head: "PK\x05\x06", want: formatZip},
		{name: "ELF binary", head: "\x7fELF\x02\x01\x01", want: formatOther},
		{name: "plain text", head: "hello {world}", want: formatOther},
		{name: "whitespace only", head: "   \n", want: formatOther},
	} {
		if got := sniffBytes([]byte(tc.head)).format; got != tc.want {
			t.Errorf("%s: sniffBytes(%q).format = %v, want %v", tc.name, tc.head, got, tc.want)
		}
	}
}

// TestSniffJSONKeys: the top-level keys within the prefix, small values whole, large or cut ones as
// present only, whatever the nesting before them.
func TestSniffJSONKeys(t *testing.T) {
	t.Parallel()
	deep := strings.Repeat("[", 3<<20) // deeper and longer than the prefix
	big := `"` + strings.Repeat("x", sniffValueLimit) + `"`
	for _, tc := range []struct {
		name     string
		doc      string
		want     map[string]string // key -> raw value ("" for present without a value)
		complete bool
		elem     map[string]string
		err      string
	}{
		{name: "flat", doc: `{"bomFormat": "CycloneDX", "specVersion":"1.6" , "n": -1.5e3, "t": true, "z": null}`,
			want: map[string]string{"bomFormat": `"CycloneDX"`, "specVersion": `"1.6"`, "n": "-1.5e3", "t": "true", "z": "null"}, complete: true},
		{name: "nested values and escapes", doc: `{"a": {"b": [1, "]}\"", {}]}, "k\"ey": "v\\"}`,
			want: map[string]string{"a": `{"b": [1, "]}\"", {}]}`, `k"ey`: `"v\\"`}, complete: true},
		{name: "a value past the size kept", doc: `{"a": ` + big + `, "b": 1}`,
			want: map[string]string{"a": "", "b": "1"}, complete: true},
		{name: "markers after a value deeper than the prefix", doc: `{"first": 1, "x": ` + deep,
			want: map[string]string{"first": "1", "x": ""}},
		{name: "empty object", doc: `{}`, want: map[string]string{}, complete: true},
		{name: "broken after a marker", doc: `{"bomFormat": "CycloneDX" "x": 1}`,
			want: map[string]string{"bomFormat": `"CycloneDX"`}, err: "want ',' or '}'"},
		{name: "array of objects", doc: `[{"RuleID": "aws", "Secret": "x"}, {"RuleID": 2}]`,
			want: map[string]string{}, elem: map[string]string{"RuleID": `"aws"`, "Secret": `"x"`}},
		{name: "JSON Lines", doc: "{\"payloadType\": \"x\"}\n{\"payloadType\": \"y\"}",
			want: map[string]string{"payloadType": `"x"`}, elem: map[string]string{"payloadType": `"x"`}, complete: true},
	} {
		s := sniffBytes([]byte(tc.doc))
		got := map[string]string{}
		for k, v := range s.keys {
			got[k] = string(v)
		}
		if len(got) != len(tc.want) || !mapsEqual(got, tc.want) {
			t.Errorf("%s: keys = %v, want %v", tc.name, got, tc.want)
		}
		gotElem := map[string]string{}
		for k, v := range s.elem {
			gotElem[k] = string(v)
		}
		if len(gotElem) != len(tc.elem) || !mapsEqual(gotElem, tc.elem) {
			t.Errorf("%s: elem = %v, want %v", tc.name, gotElem, tc.elem)
		}
		if s.complete != tc.complete {
			t.Errorf("%s: complete = %v, want %v", tc.name, s.complete, tc.complete)
		}
		if tc.err == "" && s.jsonErr != nil || tc.err != "" && (s.jsonErr == nil || !strings.Contains(s.jsonErr.Error(), tc.err)) {
			t.Errorf("%s: jsonErr = %v, want %q", tc.name, s.jsonErr, tc.err)
		}
	}
}

func mapsEqual(a, b map[string]string) bool {
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}

func TestSniffXMLRoot(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ doc, want string }{
		{`<?xml version="1.0" encoding="UTF-8"?><!-- c --><testsuites name="x">`, "testsuites"},
		{`<?xml version="1.0"?><!DOCTYPE report PUBLIC "-//JACOCO//DTD Report 1.1//EN" "report.dtd"><report name="r">`, "report"},
		{`<coverage line-rate="0.5"`, ""}, // the root's tag does not end within the prefix
		{`<?xml version="1.1"?><testsuites/>`, ""},
		{`<<<`, ""},
	} {
		s := sniffBytes([]byte(tc.doc))
		got := ""
		if s.root != nil {
			got = s.root.Name.Local
		}
		if got != tc.want {
			t.Errorf("root of %q = %q, want %q", tc.doc, got, tc.want)
		}
	}
}

// TestSniffArchiveEntries: a gzip tar's entries are listed within sniffArchiveLimit decompressed
// bytes; a zip's from its central directory.
func TestSniffArchiveEntries(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	tgz := func(name string, entries ...tarEntry) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, chartTGZ(t, entries...), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	sniffAt := func(p string) *sniffed {
		f, err := os.Open(p)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		s, err := sniffFile(f)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}

	chart := tgz("chart.tgz", tarEntry{name: "app/Chart.yaml", body: "name: app"}, tarEntry{name: "app/values.yaml", body: "{}"})
	if s := sniffAt(chart); !slices.Equal(s.entries, []string{"app/Chart.yaml", "app/values.yaml"}) || !claimsHelmChart(s) {
		t.Errorf("chart entries = %q, claimed %v", s.entries, claimsHelmChart(s))
	}
	// A chart whose Chart.yaml comes after more decompressed bytes than the sniff reads is not claimed.
	late := tgz("late.tgz", tarEntry{name: "app/zeros.bin", size: sniffArchiveLimit + 1}, tarEntry{name: "app/Chart.yaml", body: "name: app"})
	if s := sniffAt(late); slices.Contains(s.entries, "app/Chart.yaml") || claimsHelmChart(s) {
		t.Errorf("entries past the bound were read: %q", s.entries)
	}
	if s := sniffAt(tgz("nested.tgz", tarEntry{name: "a/b/Chart.yaml", body: "x"})); claimsHelmChart(s) {
		t.Errorf("a Chart.yaml two levels deep is claimed as a chart")
	}

	var zbuf bytes.Buffer
	zw := zip.NewWriter(&zbuf)
	for _, n := range []string{"report_json.json", "report_md.md"} {
		if _, err := zw.Create(n); err != nil {
			t.Fatal(err)
		}
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	zp := filepath.Join(dir, "zap.zip")
	if err := os.WriteFile(zp, zbuf.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	if s := sniffAt(zp); s.format != formatZip || !slices.Equal(s.entries, []string{"report_json.json", "report_md.md"}) {
		t.Errorf("zip: format %v, entries %q", s.format, s.entries)
	}
}

func TestSniffMissingFile(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "gone.bin")
	if _, err := sniffPath(t.Context(), path); err == nil || !strings.Contains(err.Error(), path) {
		t.Errorf("sniffPath(%q) error = %v, want one naming the path", path, err)
	}
}

// FuzzSniff: no panic, and for a prefix that is a whole JSON object the keys are exactly
// encoding/json's, with the small values byte for byte.
func FuzzSniff(f *testing.F) {
	for _, s := range []string{"", "{}", "\xef\xbb\xbf {", "<a/>", "\x1f\x8b", "\x7fELF", `{"a":[1,{"b":"}"}],"c":"\\""}`, "[{\"x\":1}]", "{}\n{}"} {
		f.Add([]byte(s))
	}
	addFixtureSeeds(f, func(head []byte) { f.Add(head) })
	f.Fuzz(func(t *testing.T, head []byte) {
		s := sniffBytes(head)
		trimmed := bytes.TrimLeft(bytes.TrimPrefix(head, []byte("\xef\xbb\xbf")), " \t\r\n")
		if s.format == formatJSON && !bytes.HasPrefix(trimmed, []byte("{")) && !bytes.HasPrefix(trimmed, []byte("[")) {
			t.Errorf("sniffBytes(%q) = JSON without a leading { or [", head)
		}
		var want map[string]json.RawMessage
		if s.format != formatJSON || json.Unmarshal(head, &want) != nil {
			return
		}
		if !s.complete || s.jsonErr != nil || len(s.keys) != len(want) {
			t.Fatalf("sniff of the object %q: keys %v (complete %v, err %v), want %d keys", head, s.keys, s.complete, s.jsonErr, len(want))
		}
		for k, v := range want {
			got, ok := s.keys[k]
			if !ok || got != nil && !bytes.Equal(bytes.TrimSpace(got), bytes.TrimSpace(v)) {
				t.Errorf("key %q = %q, want %q", k, got, v)
			}
		}
	})
}
