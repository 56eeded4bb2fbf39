package contract

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/santhosh-tekuri/jsonschema/v6/kind"
	"gopkg.in/yaml.v3"
)

const schemaPath = "../docs/contract.schema.json"

// loadSchema compiles docs/contract.schema.json, the schema editors use.
func loadSchema(t *testing.T) (*jsonschema.Schema, map[string]any) {
	t.Helper()
	data, err := os.ReadFile(schemaPath)
	if err != nil {
		t.Fatal(err)
	}
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("%s: %v", schemaPath, err)
	}
	c := jsonschema.NewCompiler()
	c.DefaultDraft(jsonschema.Draft2020)
	if err := c.AddResource("contract.schema.json", doc); err != nil {
		t.Fatal(err)
	}
	sch, err := c.Compile("contract.schema.json")
	if err != nil {
		t.Fatalf("compile %s: %v", schemaPath, err)
	}
	var raw map[string]any
	if err := json.Unmarshal(data, &raw); err != nil {
		t.Fatal(err)
	}
	return sch, raw
}

// instance reads a YAML or JSON contract the way an editor's schema check sees it: as JSON data.
func instance(t *testing.T, doc []byte) any {
	t.Helper()
	doc = bytes.TrimPrefix(doc, utf8BOM)
	var v any
	if err := yaml.Unmarshal(doc, &v); err != nil {
		t.Fatalf("not YAML: %v", err)
	}
	js, err := json.Marshal(v)
	if err != nil {
		t.Fatalf("not JSON data: %v", err)
	}
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(js))
	if err != nil {
		t.Fatal(err)
	}
	return inst
}

// acceptedDocuments are every example contract and every valid fixture.
func acceptedDocuments(t *testing.T) []string {
	t.Helper()
	examples, _ := filepath.Glob("../examples/contracts/*")
	valid, _ := filepath.Glob("testdata/valid/*")
	if len(examples) < 3 || len(valid) == 0 {
		t.Fatalf("found %d examples and %d valid fixtures", len(examples), len(valid))
	}
	return append(examples, valid...)
}

func TestSchemaAndParserAcceptTheSameContracts(t *testing.T) {
	sch, _ := loadSchema(t)
	for _, f := range acceptedDocuments(t) {
		t.Run(f, func(t *testing.T) {
			doc, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := Parse(doc); err != nil {
				t.Errorf("parser rejects it:\n%v", err)
			}
			if err := sch.Validate(instance(t, doc)); err != nil {
				t.Errorf("schema rejects it:\n%v", err)
			}
		})
	}
	t.Run("Default", func(t *testing.T) {
		js, err := json.Marshal(Default("build-and-test"))
		if err != nil {
			t.Fatal(err)
		}
		if err := sch.Validate(instance(t, js)); err != nil {
			t.Errorf("schema rejects Default: %s\n%v", js, err)
		}
	})
}

func TestSchemaRejectsWhatTheParserRejects(t *testing.T) {
	sch, _ := loadSchema(t)
	n := 0
	for _, tc := range rejectCases {
		if !tc.schema {
			continue
		}
		n++
		t.Run(tc.name, func(t *testing.T) {
			if _, err := Parse([]byte(tc.doc)); err == nil {
				t.Fatal("parser accepts it")
			}
			err := sch.Validate(instance(t, []byte(tc.doc)))
			if err == nil {
				t.Fatalf("schema accepts it:\n%s", tc.doc)
			}
			// The schema must object to the same places: each field the parser names, or the
			// object holding it (where "required" and "additionalProperties" report).
			locations := map[string]bool{}
			collectLocations(err.(*jsonschema.ValidationError), locations)
			for _, w := range tc.want {
				if !locations[pointer(w.path)] && !locations[pointer(parentPath(w.path))] && !locations["propertyName:"+lastSegment(w.path)] {
					t.Errorf("the schema says nothing at %s or its parent; it says:\n%v", w.path, err)
				}
			}
		})
	}
	if n < 10 {
		t.Errorf("only %d reject cases are checked against the schema", n)
	}
}

func TestSchemaEnumsMatchTheCode(t *testing.T) {
	_, raw := loadSchema(t)
	defs := raw["$defs"].(map[string]any)
	enum := func(def string) []string {
		var out []string
		for _, v := range defs[def].(map[string]any)["enum"].([]any) {
			out = append(out, v.(string))
		}
		return out
	}
	var kinds, runners []string
	for _, k := range Kinds() {
		kinds = append(kinds, string(k))
	}
	for _, r := range RunnerTypes() {
		runners = append(runners, string(r))
	}
	if got := enum("materialType"); !reflect.DeepEqual(got, kinds) {
		t.Errorf("schema material types = %v\ncontract.Kinds()      = %v", got, kinds)
	}
	if got := enum("runnerType"); !reflect.DeepEqual(got, runners) {
		t.Errorf("schema runner types  = %v\ncontract.RunnerTypes() = %v", got, runners)
	}
	if got := enum("secretEnv"); !reflect.DeepEqual(got, SecretEnv()) {
		t.Errorf("schema secret env  = %v\ncontract.SecretEnv() = %v", got, SecretEnv())
	}
}

func TestSchemaPatternsMatchTheCode(t *testing.T) {
	_, raw := loadSchema(t)
	defs := raw["$defs"].(map[string]any)
	prop := func(def, name string) map[string]any {
		return defs[def].(map[string]any)["properties"].(map[string]any)[name].(map[string]any)
	}
	spec := defs["spec"].(map[string]any)["properties"].(map[string]any)
	for _, c := range []struct {
		what   string
		schema map[string]any
		re     string
		max    int
	}{
		{"material name", prop("material", "name"), dnsLabel.String(), maxLabel},
		{"contract name", prop("metadata", "name"), dnsSubdomain.String(), maxSubdomain},
		{"annotation name", defs["annotationName"].(map[string]any), annotationName.String(), maxAnnotationName},
		{"env var name", spec["envAllowList"].(map[string]any)["items"].(map[string]any), envVarName.String(), 0},
	} {
		if got := c.schema["pattern"]; got != c.re {
			t.Errorf("%s: schema pattern %v, code %s", c.what, got, c.re)
		}
		if got, _ := c.schema["maxLength"].(float64); int(got) != c.max {
			t.Errorf("%s: schema maxLength %v, code %d", c.what, got, c.max)
		}
	}
}

func TestExamplesPointEditorsAtTheSchema(t *testing.T) {
	files, _ := filepath.Glob("../examples/contracts/*")
	for _, f := range files {
		doc, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		want := "# yaml-language-server: $schema=../../docs/contract.schema.json"
		if strings.HasSuffix(f, ".json") {
			want = `"$schema": "../../docs/contract.schema.json"`
		}
		if !strings.Contains(string(doc), want) {
			t.Errorf("%s does not contain %s", f, want)
		}
	}
}

// collectLocations gathers the JSON pointers every schema error in the tree points at.
func collectLocations(e *jsonschema.ValidationError, into map[string]bool) {
	into["/"+strings.Join(e.InstanceLocation, "/")] = true
	if pn, ok := e.ErrorKind.(*kind.PropertyNames); ok {
		// jsonschema v6 reports a bad property name at the root, not at its object: keep the name.
		into["propertyName:"+pn.Property] = true
	}
	for _, c := range e.Causes {
		collectLocations(c, into)
	}
}

// pointer turns a parser path (spec.materials[0].name, metadata.annotations["a/b"]) into the JSON
// pointer of the same field (/spec/materials/0/name, /metadata/annotations/a~1b).
func pointer(path string) string {
	var parts []string
	for ; path != ""; path = parentPath(path) {
		last := strings.ReplaceAll(strings.ReplaceAll(lastSegment(path), "~", "~0"), "/", "~1")
		parts = append([]string{last}, parts...)
	}
	return "/" + strings.Join(parts, "/")
}

// lastSegment is the last key or index of a path: name, 0, a/b.
func lastSegment(path string) string {
	last := strings.TrimPrefix(path[len(parentPath(path)):], ".")
	if strings.HasPrefix(last, "[") {
		last = strings.TrimSuffix(strings.TrimPrefix(last, "["), "]")
		if unq, err := strconv.Unquote(last); err == nil {
			last = unq
		}
	}
	return last
}
