package kubeschema

import (
	"encoding/json"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestFileName(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ apiVersion, kind, want string }{
		{"v1", "Service", "service-v1.json"},
		{"apps/v1", "Deployment", "deployment-apps-v1.json"},
		{"networking.k8s.io/v1", "NetworkPolicy", "networkpolicy-networking-v1.json"},
		{"policy/v1", "PodDisruptionBudget", "poddisruptionbudget-policy-v1.json"},
		{"monitoring.coreos.com/v1", "ServiceMonitor", "servicemonitor-monitoring-v1.json"},
	} {
		if got := FileName(tc.apiVersion, tc.kind); got != tc.want {
			t.Errorf("FileName(%s, %s) = %s, want %s", tc.apiVersion, tc.kind, got, tc.want)
		}
	}
}

// swagger is a small OpenAPI v2 document shaped as Kubernetes': a kind in a group, one in the core
// group under two group versions, a shared definition, a recursive one, an int-or-string and a
// quantity, and a definition that is not a kind.
const swagger = `{"definitions": {
 "io.k8s.api.apps.v1.Thing": {"type": "object", "x-kubernetes-group-version-kind": [{"group": "apps", "version": "v1", "kind": "Thing"}],
  "properties": {"apiVersion": {"type": "string"}, "kind": {"type": "string"}, "spec": {"$ref": "#/definitions/io.k8s.api.apps.v1.ThingSpec"}}},
 "io.k8s.api.apps.v1.ThingSpec": {"type": "object", "properties": {
   "port": {"type": "string", "format": "int-or-string"},
   "limits": {"type": "object", "additionalProperties": {"$ref": "#/definitions/io.k8s.apimachinery.pkg.api.resource.Quantity"}},
   "labels": {"type": "object", "additionalProperties": {"type": "string"}},
   "tree": {"$ref": "#/definitions/io.k8s.api.apps.v1.Tree"}}},
 "io.k8s.api.apps.v1.Tree": {"type": "object", "properties": {"children": {"type": "array", "items": {"$ref": "#/definitions/io.k8s.api.apps.v1.Tree"}}}},
 "io.k8s.apimachinery.pkg.api.resource.Quantity": {"type": "string"},
 "io.k8s.api.core.v1.Opts": {"type": "object", "x-kubernetes-group-version-kind": [{"group": "", "version": "v1", "kind": "Opts"}, {"group": "batch", "version": "v2", "kind": "Opts"}],
  "properties": {"properties": {"type": "string"}}},
 "io.k8s.api.core.v1.Unused": {"type": "object", "properties": {"a": {"type": "string"}}}
}}`

func TestFromSwagger(t *testing.T) {
	t.Parallel()
	files, err := FromSwagger([]byte(swagger))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := slices.Sorted(maps.Keys(files)), []string{"opts-batch-v2.json", "opts-v1.json", "thing-apps-v1.json"}; !slices.Equal(got, want) {
		t.Fatalf("files %q, want %q", got, want)
	}
	var thing map[string]any
	if err := json.Unmarshal(files["thing-apps-v1.json"], &thing); err != nil {
		t.Fatal(err)
	}
	if thing["additionalProperties"] != false {
		t.Errorf("the kind's object admits other properties: %v", thing["additionalProperties"])
	}
	defs := thing["definitions"].(map[string]any)
	if got, want := slices.Sorted(maps.Keys(defs)), []string{"io.k8s.api.apps.v1.Thing", "io.k8s.api.apps.v1.ThingSpec",
		"io.k8s.api.apps.v1.Tree"}; !slices.Equal(got, want) {
		t.Errorf("definitions %q, want %q: what the kind refers to, recursion included, and nothing else", got, want)
	}
	spec := defs["io.k8s.api.apps.v1.ThingSpec"].(map[string]any)
	props := spec["properties"].(map[string]any)
	for name, want := range map[string]string{
		"port":   `{"oneOf":[{"type":"string"},{"type":"integer"}]}`,
		"limits": `{"additionalProperties":{"oneOf":[{"type":"string"},{"type":"number"}]},"type":"object"}`,
		"labels": `{"additionalProperties":{"type":"string"},"type":"object"}`,
	} {
		if got, _ := json.Marshal(props[name]); string(got) != want {
			t.Errorf("property %s: %s, want %s", name, got, want)
		}
	}
	if spec["additionalProperties"] != false {
		t.Errorf("a referred definition admits other properties")
	}
	// A property named "properties" is a property, not the keyword.
	var opts map[string]any
	json.Unmarshal(files["opts-v1.json"], &opts)
	if got, _ := json.Marshal(opts["properties"]); string(got) != `{"properties":{"type":"string"}}` {
		t.Errorf("opts' properties: %s", got)
	}
}

func TestFromSwaggerRefusals(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ doc, want string }{
		{`[]`, "OpenAPI document: json: cannot unmarshal array"},
		{`{"definitions": {}}`, "OpenAPI document: no definitions"},
		{`{"definitions": {"a": {"type": "object", "properties": {}}}}`, "no definition names a kind"},
		{`{"definitions": {"a": {"x-kubernetes-group-version-kind": [{"group": "g", "version": "v1", "kind": "A"}], "properties": {"b": {"$ref": "#/definitions/gone"}}}}}`,
			"a reference to the missing definition gone"},
		{`{"definitions": {"a": {"x-kubernetes-group-version-kind": [{"group": "g", "version": "v1", "kind": "A"}], "properties": {"b": {"$ref": "other.json#/x"}}}}}`,
			`definition a: reference "other.json#/x" is not to a definition of the document`},
		{`{"definitions": {"a": {"x-kubernetes-group-version-kind": [{"group": "g", "kind": "A"}], "properties": {}}}}`,
			"definition a: a group version kind without kind or version"},
		{`{"definitions": {"a": {"x-kubernetes-group-version-kind": [7], "properties": {}}}}`, "definition a: x-kubernetes-group-version-kind"},
	} {
		if _, err := FromSwagger([]byte(tc.doc)); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want %q", tc.doc, err, tc.want)
		}
	}
	if _, err := FromSwagger(make([]byte, MaxDocument+1)); err == nil || !strings.Contains(err.Error(), "over") {
		t.Errorf("a document over the bound: %v", err)
	}
}

const crd = `apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
spec:
  group: monitoring.coreos.com
  names: {kind: ServiceMonitor}
  versions:
  - name: v1
    served: true
    schema:
      openAPIV3Schema:
        type: object
        properties:
          spec:
            type: object
            properties:
              port: {anyOf: [{type: integer}, {type: string}], x-kubernetes-int-or-string: true}
              free: {type: object, x-kubernetes-preserve-unknown-fields: true, properties: {a: {type: string}}}
  - name: v0
    served: false
    schema: {openAPIV3Schema: {type: object}}
`

func TestFromCRD(t *testing.T) {
	t.Parallel()
	files, err := FromCRD([]byte(crd))
	if err != nil {
		t.Fatal(err)
	}
	if got := slices.Sorted(maps.Keys(files)); !slices.Equal(got, []string{"servicemonitor-monitoring-v1.json"}) {
		t.Fatalf("files %q: want the served version alone", got)
	}
	want := `{"additionalProperties":false,"properties":{"spec":{"additionalProperties":false,"properties":{` +
		`"free":{"properties":{"a":{"type":"string"}},"type":"object","x-kubernetes-preserve-unknown-fields":true},` +
		`"port":{"oneOf":[{"type":"string"},{"type":"integer"}]}},"type":"object"}},"type":"object"}`
	if got := string(files["servicemonitor-monitoring-v1.json"]); got != want {
		t.Errorf("schema\n%s\nwant\n%s", got, want)
	}
	for _, tc := range []struct{ doc, want string }{
		{"kind: ConfigMap\napiVersion: v1", "a v1 ConfigMap, not an apiextensions.k8s.io/v1 CustomResourceDefinition"},
		{"apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nspec: {group: g}", "no spec.group or spec.names.kind"},
		{"apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nspec: {group: g, names: {kind: K}, versions: [{name: v1, served: true}]}",
			`CustomResourceDefinition K: version "v1" has no name or no openAPIV3Schema`},
		{"apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nspec: {group: g, names: {kind: K}}", "CustomResourceDefinition K serves no version"},
		{"{", "CustomResourceDefinition: yaml"},
	} {
		if _, err := FromCRD([]byte(tc.doc)); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: %v, want %q", tc.doc, err, tc.want)
		}
	}
}

func TestWrite(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "schemas")
	if err := Write(dir, map[string][]byte{"a-v1.json": []byte("{}")}); err != nil {
		t.Fatal(err)
	}
	if b, err := os.ReadFile(filepath.Join(dir, "a-v1.json")); err != nil || string(b) != "{}" {
		t.Errorf("written: %q %v", b, err)
	}
	for _, name := range []string{"../a.json", "a/b.json", "a.yaml"} {
		if err := Write(dir, map[string][]byte{name: nil}); err == nil {
			t.Errorf("Write %q: no error", name)
		}
	}
}

// FuzzFromSwagger and FuzzFromCRD: any bytes: no panic, and every schema made is JSON.
func FuzzFromSwagger(f *testing.F) {
	f.Add([]byte(swagger))
	f.Add([]byte(`{"definitions": {"a": {"x-kubernetes-group-version-kind": [{"version": "v1", "kind": "A"}], "properties": {"b": {"$ref": "#/definitions/a"}}}}}`))
	f.Fuzz(func(t *testing.T, doc []byte) {
		files, err := FromSwagger(doc)
		checkJSON(t, files, err)
	})
}

func FuzzFromCRD(f *testing.F) {
	f.Add([]byte(crd))
	f.Fuzz(func(t *testing.T, doc []byte) {
		files, err := FromCRD(doc)
		checkJSON(t, files, err)
	})
}

func checkJSON(t *testing.T, files map[string][]byte, err error) {
	if err != nil {
		return
	}
	for name, b := range files {
		if !json.Valid(b) || !strings.HasSuffix(name, ".json") || strings.Contains(name, "/") {
			t.Errorf("%q: %s", name, b)
		}
	}
}
