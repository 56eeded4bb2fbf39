package attestation

import (
	"bytes"
	"encoding/json"
	"os"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/custody-dev/custody/contract"
)

const schemaPath = "../docs/predicate.schema.json"

func compileSchema(t *testing.T) *jsonschema.Schema {
	t.Helper()
	raw, err := os.ReadFile(schemaPath)
	if err != nil {
		t.Fatal(err)
	}
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(raw))
	if err != nil {
		t.Fatalf("%s: %v", schemaPath, err)
	}
	c := jsonschema.NewCompiler()
	c.AssertFormat()
	if err := c.AddResource("predicate.schema.json", doc); err != nil {
		t.Fatal(err)
	}
	sch, err := c.Compile("predicate.schema.json")
	if err != nil {
		t.Fatalf("compile %s: %v", schemaPath, err)
	}
	return sch
}

func instance(t *testing.T, v any) any {
	t.Helper()
	raw, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	return inst
}

// zeroFields lists the fields of v (recursively, through pointers, slices and struct fields) that
// hold their zero value.
func zeroFields(v reflect.Value, path string) []string {
	switch v.Kind() {
	case reflect.Pointer:
		if v.IsNil() {
			return []string{path}
		}
		return zeroFields(v.Elem(), path)
	case reflect.Slice, reflect.Map:
		if v.Len() == 0 {
			return []string{path}
		}
		if v.Kind() == reflect.Slice {
			return zeroFields(v.Index(0), path+"[0]")
		}
		return nil
	case reflect.Struct:
		if v.Type().PkgPath() == "time" {
			if v.IsZero() {
				return []string{path}
			}
			return nil
		}
		var zero []string
		for i := range v.NumField() {
			zero = append(zero, zeroFields(v.Field(i), path+"."+v.Type().Field(i).Name)...)
		}
		return zero
	default:
		if v.IsZero() {
			return []string{path}
		}
		return nil
	}
}

func TestPredicateSchemaAcceptsFullPredicate(t *testing.T) {
	sch := compileSchema(t)
	p := fullPredicate()
	// A field added to Predicate must be filled in fullPredicate, and so checked against the schema.
	img := p.Materials[0]
	img.File, img.Image = nil, &Image{Repository: "registry.example.com/app", Tag: "v1", Digest: "sha256:" + hexB, Source: "registry"}
	full := *p
	full.Materials = []Material{p.Materials[0]}
	withImage := full
	withImage.Materials = []Material{img}
	if zero := zeroFields(reflect.ValueOf(full), "Predicate"); len(zero) > 0 {
		// Material.Image is covered by withImage.
		zero = slices.DeleteFunc(zero, func(s string) bool { return s == "Predicate.Materials[0].Image" })
		if len(zero) > 0 {
			t.Fatalf("fullPredicate leaves fields unset: %v: fill them, and describe them in %s", zero, schemaPath)
		}
	}
	for _, pred := range []Predicate{full, withImage} {
		if err := sch.Validate(instance(t, pred)); err != nil {
			t.Errorf("schema rejects a valid predicate: %v", err)
		}
	}
	// And what a statement carries, after the trip through protobuf's Struct.
	st, err := NewStatement(SubjectsFrom(p.Materials), p)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := MarshalStatement(st)
	if err != nil {
		t.Fatal(err)
	}
	var decoded struct{ Predicate json.RawMessage }
	if err := json.Unmarshal(raw, &decoded); err != nil {
		t.Fatal(err)
	}
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(decoded.Predicate))
	if err != nil {
		t.Fatal(err)
	}
	if err := sch.Validate(inst); err != nil {
		t.Errorf("schema rejects the predicate of a statement: %v", err)
	}
	// And the predicate of the cosign fixture.
	fixture, err := jsonschema.UnmarshalJSON(bytes.NewReader(readFixture(t, "predicate.json")))
	if err != nil {
		t.Fatal(err)
	}
	if err := sch.Validate(fixture); err != nil {
		t.Errorf("schema rejects testdata/predicate.json: %v", err)
	}
}

func TestPredicateSchemaRejects(t *testing.T) {
	sch := compileSchema(t)
	tests := []struct {
		name   string
		mutate func(m map[string]any)
		want   string
	}{
		{"no workflow", func(m map[string]any) { delete(m, "workflow") }, "workflow"},
		{"unknown field", func(m map[string]any) { m["surprise"] = 1 }, "surprise"},
		{"bad digest", func(m map[string]any) { material(m)["digest"] = "sha1:abc" }, "sha256"},
		{"unknown kind", func(m map[string]any) { material(m)["kind"] = "BLOB" }, "/materials/0/kind"},
		{"bad time", func(m map[string]any) { m["finishedAt"] = "yesterday" }, "date-time"},
		{"authenticated without its issuer", func(m map[string]any) { delete(runnerOf(m), "issuer") }, "issuer"},
		{"an issuer without authenticated", func(m map[string]any) { delete(runnerOf(m), "authenticated") }, "authenticated"},
		{"authenticated false", func(m map[string]any) { runnerOf(m)["authenticated"] = false }, "/runner/authenticated"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var m map[string]any
			raw, _ := json.Marshal(fullPredicate())
			if err := json.Unmarshal(raw, &m); err != nil {
				t.Fatal(err)
			}
			tt.mutate(m)
			err := sch.Validate(instance(t, m))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Validate() = %v, want an error naming %q", err, tt.want)
			}
		})
	}
}

func material(m map[string]any) map[string]any { return m["materials"].([]any)[0].(map[string]any) }

func runnerOf(m map[string]any) map[string]any { return m["runner"].(map[string]any) }

func TestPredicateSchemaKindsMatchContract(t *testing.T) {
	var schema struct {
		Defs struct {
			Material struct {
				Properties struct {
					Kind struct{ Enum []contract.Kind }
				}
			}
		} `json:"$defs"`
	}
	raw, err := os.ReadFile(schemaPath)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(raw, &schema); err != nil {
		t.Fatal(err)
	}
	if got := schema.Defs.Material.Properties.Kind.Enum; !slices.Equal(got, contract.Kinds()) {
		t.Errorf("schema material kinds %v, contract.Kinds() %v", got, contract.Kinds())
	}
}
