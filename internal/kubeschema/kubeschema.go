// Package kubeschema converts Kubernetes' own API descriptions into the JSON schemas kubeconform
// validates manifests with, offline: the OpenAPI v2 document Kubernetes ships
// (api/openapi-spec/swagger.json in the k8s.io/kubernetes module) and CustomResourceDefinitions (a
// CRD's openAPIV3Schema, such as prometheus-operator's ServiceMonitor).
//
// Each kind of each group version becomes one standalone, strict schema, named as kubeconform looks
// it up with the schema location DIR/{{ .ResourceKind }}{{ .KindSuffix }}.json: the kind in lower
// case, then "-" and the group's first label (none for the core group), then "-" and the version
// (deployment-apps-v1.json, service-v1.json, servicemonitor-monitoring-v1.json). Standalone: the
// definitions a kind refers to travel in the file's own "definitions". Strict: an object that lists
// its properties admits no other (kubeconform -strict expects its schemas so), and the values the
// API server accepts in two JSON types (int-or-string, quantities) say so.
package kubeschema

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"gopkg.in/yaml.v3"
)

// MaxDocument bounds a document converted (Kubernetes 1.34's swagger.json is 3.7 MiB).
const MaxDocument = 64 << 20

// quantity is the definition of resource quantities ("500m", 2, "1Gi"): a string or a number.
const quantity = "io.k8s.apimachinery.pkg.api.resource.Quantity"

// FileName is the file kubeconform reads the schema of kind in apiVersion ("apps/v1", "v1") from.
func FileName(apiVersion, kind string) string {
	group, version, ok := strings.Cut(apiVersion, "/")
	if !ok {
		return strings.ToLower(kind) + "-" + strings.ToLower(apiVersion) + ".json"
	}
	first, _, _ := strings.Cut(group, ".")
	return strings.ToLower(kind) + "-" + strings.ToLower(first) + "-" + strings.ToLower(version) + ".json"
}

type gvk struct {
	Group   string `json:"group"`
	Version string `json:"version"`
	Kind    string `json:"kind"`
}

func (g gvk) apiVersion() string {
	if g.Group == "" {
		return g.Version
	}
	return g.Group + "/" + g.Version
}

// FromSwagger converts an OpenAPI v2 document of the Kubernetes API into one schema per kind and
// group version, by file name (FileName).
func FromSwagger(doc []byte) (map[string][]byte, error) {
	if len(doc) > MaxDocument {
		return nil, fmt.Errorf("OpenAPI document of %d bytes, over %d", len(doc), MaxDocument)
	}
	var spec struct {
		Definitions map[string]map[string]any `json:"definitions"`
	}
	if err := json.Unmarshal(doc, &spec); err != nil {
		return nil, fmt.Errorf("OpenAPI document: %w", err)
	}
	if len(spec.Definitions) == 0 {
		return nil, errors.New("OpenAPI document: no definitions")
	}
	out := map[string][]byte{}
	for _, name := range sortedKeys(spec.Definitions) {
		def := spec.Definitions[name]
		raw, ok := def["x-kubernetes-group-version-kind"].([]any)
		if !ok || def["properties"] == nil {
			continue
		}
		var kinds []gvk
		if err := remarshal(raw, &kinds); err != nil {
			return nil, fmt.Errorf("definition %s: x-kubernetes-group-version-kind: %w", name, err)
		}
		defs := map[string]any{}
		if err := closure(spec.Definitions, name, defs); err != nil {
			return nil, err
		}
		for _, k := range kinds {
			if k.Kind == "" || k.Version == "" {
				return nil, fmt.Errorf("definition %s: a group version kind without kind or version", name)
			}
			schema := strictCopy(def).(map[string]any)
			schema["definitions"] = defs
			b, err := json.Marshal(schema)
			if err != nil {
				return nil, fmt.Errorf("definition %s: %w", name, err)
			}
			out[FileName(k.apiVersion(), k.Kind)] = b
		}
	}
	if len(out) == 0 {
		return nil, errors.New("OpenAPI document: no definition names a kind (x-kubernetes-group-version-kind)")
	}
	return out, nil
}

// closure adds the strict copies of definition name and of every definition it refers to, directly
// or not, to defs.
func closure(all map[string]map[string]any, name string, defs map[string]any) error {
	if _, ok := defs[name]; ok {
		return nil
	}
	def, ok := all[name]
	if !ok {
		return fmt.Errorf("a reference to the missing definition %s", name)
	}
	defs[name] = strictCopy(def)
	var refs []string
	collectRefs(def, &refs)
	for _, r := range refs {
		target, ok := strings.CutPrefix(r, "#/definitions/")
		if !ok {
			return fmt.Errorf("definition %s: reference %q is not to a definition of the document", name, r)
		}
		if target == quantity {
			continue // strictCopy replaces the reference
		}
		if err := closure(all, target, defs); err != nil {
			return err
		}
	}
	return nil
}

func collectRefs(v any, refs *[]string) {
	switch v := v.(type) {
	case map[string]any:
		if r, ok := v["$ref"].(string); ok {
			*refs = append(*refs, r)
		}
		for _, k := range sortedKeys(v) {
			collectRefs(v[k], refs)
		}
	case []any:
		for _, e := range v {
			collectRefs(e, refs)
		}
	}
}

// strictCopy copies a schema, closing each object that lists its properties to others (unless it
// says what others may be, or keeps unknown fields), and letting int-or-string values and
// quantities be either JSON type.
func strictCopy(v any) any {
	switch v := v.(type) {
	case map[string]any:
		if v["format"] == "int-or-string" || v["x-kubernetes-int-or-string"] == true {
			return map[string]any{"oneOf": []any{map[string]any{"type": "string"}, map[string]any{"type": "integer"}}}
		}
		if v["$ref"] == "#/definitions/"+quantity {
			return map[string]any{"oneOf": []any{map[string]any{"type": "string"}, map[string]any{"type": "number"}}}
		}
		out := make(map[string]any, len(v)+1)
		for k, e := range v {
			if props, ok := e.(map[string]any); ok && k == "properties" {
				// Property names are names, not schema keywords: copy each property's schema.
				copied := make(map[string]any, len(props))
				for name, p := range props {
					copied[name] = strictCopy(p)
				}
				out[k] = copied
				continue
			}
			out[k] = strictCopy(e)
		}
		if _, ok := v["properties"].(map[string]any); ok && v["additionalProperties"] == nil && v["x-kubernetes-preserve-unknown-fields"] != true {
			out["additionalProperties"] = false
		}
		return out
	case []any:
		out := make([]any, len(v))
		for i, e := range v {
			out[i] = strictCopy(e)
		}
		return out
	}
	return v
}

// FromCRD converts a CustomResourceDefinition (YAML or JSON, apiextensions.k8s.io/v1) into one
// schema per served version, by file name.
func FromCRD(doc []byte) (map[string][]byte, error) {
	if len(doc) > MaxDocument {
		return nil, fmt.Errorf("CustomResourceDefinition of %d bytes, over %d", len(doc), MaxDocument)
	}
	var crd struct {
		APIVersion string `yaml:"apiVersion"`
		Kind       string `yaml:"kind"`
		Spec       struct {
			Group string `yaml:"group"`
			Names struct {
				Kind string `yaml:"kind"`
			} `yaml:"names"`
			Versions []struct {
				Name   string `yaml:"name"`
				Served bool   `yaml:"served"`
				Schema struct {
					OpenAPIV3Schema map[string]any `yaml:"openAPIV3Schema"`
				} `yaml:"schema"`
			} `yaml:"versions"`
		} `yaml:"spec"`
	}
	if err := yaml.Unmarshal(doc, &crd); err != nil {
		return nil, fmt.Errorf("CustomResourceDefinition: %w", err)
	}
	if crd.APIVersion != "apiextensions.k8s.io/v1" || crd.Kind != "CustomResourceDefinition" {
		return nil, fmt.Errorf("a %s %s, not an apiextensions.k8s.io/v1 CustomResourceDefinition", crd.APIVersion, crd.Kind)
	}
	if crd.Spec.Group == "" || crd.Spec.Names.Kind == "" {
		return nil, errors.New("CustomResourceDefinition: no spec.group or spec.names.kind")
	}
	out := map[string][]byte{}
	for _, v := range crd.Spec.Versions {
		if !v.Served {
			continue
		}
		if v.Name == "" || v.Schema.OpenAPIV3Schema == nil {
			return nil, fmt.Errorf("CustomResourceDefinition %s: version %q has no name or no openAPIV3Schema", crd.Spec.Names.Kind, v.Name)
		}
		var schema any
		// Through JSON: YAML's maps become JSON's, and only JSON's values remain.
		if err := remarshal(v.Schema.OpenAPIV3Schema, &schema); err != nil {
			return nil, fmt.Errorf("CustomResourceDefinition %s %s: %w", crd.Spec.Names.Kind, v.Name, err)
		}
		b, err := json.Marshal(strictCopy(schema))
		if err != nil {
			return nil, err
		}
		out[FileName(crd.Spec.Group+"/"+v.Name, crd.Spec.Names.Kind)] = b
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("CustomResourceDefinition %s serves no version", crd.Spec.Names.Kind)
	}
	return out, nil
}

// Write writes the schemas into dir (created if needed), each file whole.
func Write(dir string, schemas map[string][]byte) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	for _, name := range sortedKeys(schemas) {
		if name != filepath.Base(name) || !strings.HasSuffix(name, ".json") {
			return fmt.Errorf("schema file name %q", name)
		}
		if err := os.WriteFile(filepath.Join(dir, name), schemas[name], 0o644); err != nil {
			return fmt.Errorf("write schema: %w", err)
		}
	}
	return nil
}

func remarshal(in, out any) error {
	b, err := json.Marshal(in)
	if err != nil {
		return err
	}
	return json.Unmarshal(b, out)
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
