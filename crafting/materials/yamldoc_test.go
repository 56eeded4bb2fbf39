package materials

import (
	"encoding/json"
	"errors"
	"io"
	"maps"
	"os"
	"reflect"
	"strings"
	"testing"
)

func TestYAMLTopKeys(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name  string
		head  string
		whole bool
		want  map[string]string
	}{
		{name: "plain", head: "openapi: 3.0.3\ninfo:\n  title: x\npaths: {}\n", whole: true,
			want: map[string]string{"openapi": "3.0.3", "info": "", "paths": ""}},
		{name: "quoted and commented", head: "# API\n%YAML 1.2\n---\n\"swagger\": '2.0' # version\n'info': \"a # b\"\n", whole: true,
			want: map[string]string{"swagger": "2.0", "info": "a # b"}},
		{name: "indented mapping", head: "---\n  swagger: \"2.0\"\n  info: \n    title: t\n  paths: \n", whole: true,
			want: map[string]string{"swagger": "2.0", "info": "", "paths": ""}},
		{name: "block scalar", head: "asyncapi: 3.0.0\ndescription: |\n  asyncapi: 2.0.0\nid: x\n", whole: true,
			want: map[string]string{"asyncapi": "3.0.0", "description": "", "id": "x"}},
		{name: "second document", head: "a: 1\n---\nb: 2\n", whole: true, want: map[string]string{"a": "1"}},
		{name: "end of document", head: "a: 1\n...\nb: 2\n", whole: true, want: map[string]string{"a": "1"}},
		{name: "last line cut by the prefix", head: "a: 1\nopenap", want: map[string]string{"a": "1"}},
		{name: "last line of a whole file", head: "a: 1\nb: 2", whole: true, want: map[string]string{"a": "1", "b": "2"}},
		{name: "stops at a line that is no key", head: "a: 1\nnot a key\nb: 2\n", whole: true, want: map[string]string{"a": "1"}},
		{name: "URL value", head: "url: https://x.example/a\n", whole: true, want: map[string]string{"url": "https://x.example/a"}},
		{name: "sequence", head: "- a: 1\n", whole: true},
		{name: "text", head: "txt file", whole: true},
		{name: "JSON-ish", head: "{\"a\": 1}", whole: true},
		{name: "tab", head: "\ta: 1\n", whole: true},
		{name: "binary", head: "\x7fELF\x02\x01\x01\x00", whole: true},
		{name: "empty", head: "", whole: true},
	} {
		if got := yamlTopKeys([]byte(tc.head), tc.whole); !maps.Equal(got, tc.want) || (got == nil) != (tc.want == nil) {
			t.Errorf("%s: yamlTopKeys(%q) = %v, want %v", tc.name, tc.head, got, tc.want)
		}
	}
}

func TestYAMLInstance(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, doc string
		want      any
		wantErr   string
	}{
		{name: "scalars", doc: "s: x\ni: 42\nf: 2.5\nb: true\nn: null\nd: 2026-01-02\nq: \"2.0\"\nu: 2.0\n",
			want: map[string]any{"s": "x", "i": json.Number("42"), "f": json.Number("2.5"), "b": true, "n": nil,
				"d": "2026-01-02", "q": "2.0", "u": json.Number("2")}},
		{name: "integer keys", doc: "responses:\n  200: ok\n", want: map[string]any{"responses": map[string]any{"200": "ok"}}},
		{name: "aliases and merge keys", doc: "base: &b {x: 1, y: 2}\nuse: *b\nmerged:\n  <<: *b\n  y: 3\n",
			want: map[string]any{
				"base":   map[string]any{"x": json.Number("1"), "y": json.Number("2")},
				"use":    map[string]any{"x": json.Number("1"), "y": json.Number("2")},
				"merged": map[string]any{"x": json.Number("1"), "y": json.Number("3")},
			}},
		{name: "JSON", doc: `{"a": [1, "b"]}`, want: map[string]any{"a": []any{json.Number("1"), "b"}}},
		{name: "infinity", doc: "a: .inf\n", wantErr: ".inf has no JSON twin"},
		{name: "two documents", doc: "a: 1\n---\nb: 2\n", wantErr: "more than one YAML document"},
		{name: "empty", doc: "", wantErr: "the YAML document is empty"},
		{name: "duplicate key", doc: "a: 1\na: 2\n", wantErr: `line 2: mapping key "a" is defined twice`},
		{name: "syntax", doc: "a: [1\n", wantErr: "yaml:"},
		{name: "alias bomb", doc: aliasBomb(), wantErr: "more than 2000000 values"},
		{name: "deep", doc: strings.Repeat("[", 20000) + strings.Repeat("]", 20000), wantErr: "exceeded max depth"},
	} {
		got, err := yamlInstance([]byte(tc.doc))
		switch {
		case tc.wantErr != "":
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("%s: yamlInstance: %v, want an error with %q", tc.name, err, tc.wantErr)
			}
		case err != nil:
			t.Errorf("%s: yamlInstance: %v", tc.name, err)
		case !reflect.DeepEqual(got, tc.want):
			t.Errorf("%s: yamlInstance = %#v\nwant %#v", tc.name, got, tc.want)
		}
	}
}

// aliasBomb is a billion laughs in YAML: nine levels of ten aliases to the level below.
func aliasBomb() string {
	var b strings.Builder
	b.WriteString("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n")
	for i := 1; i < 10; i++ {
		b.WriteString("a" + string(rune('0'+i)) + ": &a" + string(rune('0'+i)) + " [")
		for j := range 10 {
			if j > 0 {
				b.WriteString(", ")
			}
			b.WriteString("*a" + string(rune('0'+i-1)))
		}
		b.WriteString("]\n")
	}
	return b.String()
}

// FuzzYAMLTopKeys: the line scan never panics and keeps at most maxYAMLTopKeys keys.
func FuzzYAMLTopKeys(f *testing.F) {
	fuzzSummary(f, readFuzzFile(func(data []byte) (map[string]string, error) {
		keys := yamlTopKeys(data, true)
		if keys == nil {
			return nil, errors.New("no YAML mapping")
		}
		return keys, nil
	}), func(t *testing.T, keys map[string]string) {
		if len(keys) > maxYAMLTopKeys {
			t.Errorf("%d keys, more than %d", len(keys), maxYAMLTopKeys)
		}
	}, "openapi", "asyncapi", "other")
}

// FuzzYAMLInstance: turning YAML into JSON never panics, and refuses with a reason.
func FuzzYAMLInstance(f *testing.F) {
	f.Add([]byte(aliasBomb()))
	fuzzSummary(f, readFuzzFile(func(data []byte) (map[string]string, error) {
		if _, err := yamlInstance(data); err != nil {
			return nil, err
		}
		return map[string]string{"read": "yes"}, nil
	}), nil, "openapi", "asyncapi")
}

// readFuzzFile makes a validator of a function of the file's bytes.
func readFuzzFile(fn func([]byte) (map[string]string, error)) validator {
	return func(f *os.File) (map[string]string, error) {
		data, err := io.ReadAll(f)
		if err != nil {
			return nil, err
		}
		return fn(data)
	}
}
