package api

import (
	"encoding/json"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"net/http"
	"net/http/httptest"
	"os"
	"reflect"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/custody-dev/custody/wire"
)

// The OpenAPI document (openapi.yaml, served at /v1/openapi.yaml) is checked against what the server
// and the wire package really are: a route, a problem code or a wire field added without its
// documentation fails here.

// wireTypes maps every JSON type of package wire to its schema. request marks request bodies: their
// required properties may only be fields without omitempty; a response schema requires exactly those.
var wireTypes = []struct {
	v       any
	request bool
}{
	{wire.Problem{}, false},
	{wire.Project{}, false},
	{wire.CreateProject{}, true},
	{wire.CertificateRequest{}, true},
	{wire.Certificate{}, false},
	{wire.Workflow{}, false},
	{wire.CreateWorkflow{}, true},
	{wire.ContractRevision{}, false},
	{wire.UpdateContract{}, true},
	{wire.PublicKey{}, false},
	{wire.AddPublicKey{}, true},
	{wire.Token{}, false},
	{wire.CreateToken{}, true},
	{wire.CreatedToken{}, false},
	{wire.WhoAmI{}, false},
	{wire.Runner{}, true}, // in InitRun's body and in Run: every field is optional
	{wire.InitRun{}, true},
	{wire.Run{}, false},
	{wire.InitializedRun{}, false},
	{wire.Signing{}, false},
	{wire.FinishRun{}, true},
	{wire.RemoteState{}, false},
	{wire.PutRemoteState{}, true},
	{wire.Attestation{}, false},
	{wire.GitRef{}, true}, // in InitRun's body and in Run: every field is optional
	{wire.Mention{}, false},
	{wire.Pushed{}, false},
	{wire.Blob{}, false},
	{wire.ExchangeOIDC{}, true},
	{wire.Exchanged{}, false},
	{wire.TrustPolicy{}, true}, // the body of POST .../trust (id and createdAt are the server's) and its answer
}

// extraSchemas are schemas of no wire type: the health answers and the Sigstore bundle.
var extraSchemas = []string{"Status", "Bundle"}

const wireFile = "../../wire/wire.go"

var methods = []string{"get", "put", "post", "delete", "patch", "head", "options", "trace"}

type doc = map[string]any

func loadOpenAPI(t *testing.T) doc {
	t.Helper()
	var d doc
	if err := yaml.Unmarshal(OpenAPI, &d); err != nil {
		t.Fatalf("openapi.yaml: %v", err)
	}
	if v, _ := d["openapi"].(string); !strings.HasPrefix(v, "3.1.") {
		t.Fatalf("openapi.yaml: openapi %q, want 3.1.x", v)
	}
	return d
}

// obj returns v as a mapping, failing the test with where when it is not one.
func obj(t *testing.T, v any, where string) doc {
	t.Helper()
	m, ok := v.(doc)
	if !ok {
		t.Fatalf("%s: want a mapping with string keys, got %T (quote numeric keys such as '200')", where, v)
	}
	return m
}

// resolve follows a local $ref ("#/components/...").
func resolve(d doc, ref string) (any, bool) {
	p, ok := strings.CutPrefix(ref, "#/")
	if !ok {
		return nil, false
	}
	var cur any = d
	for _, part := range strings.Split(p, "/") {
		part = strings.NewReplacer("~1", "/", "~0", "~").Replace(part)
		m, ok := cur.(doc)
		if !ok {
			return nil, false
		}
		if cur, ok = m[part]; !ok {
			return nil, false
		}
	}
	return cur, true
}

// deref returns the mapping v refers to when it is a {$ref: ...}, v itself otherwise.
func deref(t *testing.T, d doc, v any, where string) doc {
	t.Helper()
	m := obj(t, v, where)
	if ref, ok := m["$ref"].(string); ok {
		target, ok := resolve(d, ref)
		if !ok {
			t.Fatalf("%s: $ref %q does not resolve", where, ref)
		}
		return obj(t, target, ref)
	}
	return m
}

type operation struct {
	method, path string
	op           doc
	pathItem     doc
}

func (o operation) String() string { return strings.ToUpper(o.method) + " " + o.path }

func operations(t *testing.T, d doc) []operation {
	t.Helper()
	var ops []operation
	for path, item := range obj(t, d["paths"], "paths") {
		pi := obj(t, item, path)
		for _, m := range methods {
			if op, ok := pi[m]; ok {
				ops = append(ops, operation{method: m, path: path, op: obj(t, op, m+" "+path), pathItem: pi})
			}
		}
	}
	sort.Slice(ops, func(i, j int) bool { return ops[i].String() < ops[j].String() })
	return ops
}

func TestOpenAPIRoutes(t *testing.T) {
	t.Parallel()
	d := loadOpenAPI(t)
	served := map[string]bool{}
	for _, r := range New(Config{}).Routes() {
		served[r] = true
	}
	documented := map[string]bool{}
	for _, o := range operations(t, d) {
		if o.method == "head" {
			// Go's ServeMux answers HEAD with the GET route: a documented HEAD needs that GET.
			if !served["GET "+o.path] {
				t.Errorf("%s is documented but no GET %s route serves it", o, o.path)
			}
			continue
		}
		documented[o.String()] = true
	}
	var missing, extra []string
	for r := range served {
		if !documented[r] {
			missing = append(missing, r)
		}
	}
	for r := range documented {
		if !served[r] {
			extra = append(extra, r)
		}
	}
	sort.Strings(missing)
	sort.Strings(extra)
	if len(missing) > 0 {
		t.Errorf("routes served but not in openapi.yaml (document them):\n  %s", strings.Join(missing, "\n  "))
	}
	if len(extra) > 0 {
		t.Errorf("operations in openapi.yaml that no route serves (remove them, or register the route):\n  %s", strings.Join(extra, "\n  "))
	}
}

var pathParam = regexp.MustCompile(`\{([^}]+)\}`)

func TestOpenAPIOperations(t *testing.T) {
	t.Parallel()
	d := loadOpenAPI(t)
	schemes := obj(t, obj(t, d["components"], "components")["securitySchemes"], "securitySchemes")
	bearer := obj(t, schemes["bearer"], "securitySchemes.bearer")
	if bearer["type"] != "http" || bearer["scheme"] != "bearer" {
		t.Errorf("securitySchemes.bearer: want type http, scheme bearer; got %v", bearer)
	}
	ids := map[string]string{}
	for _, o := range operations(t, d) {
		id, _ := o.op["operationId"].(string)
		if id == "" {
			t.Errorf("%s: no operationId", o)
		} else if prev, dup := ids[id]; dup {
			t.Errorf("%s: operationId %q already names %s", o, id, prev)
		}
		ids[id] = o.String()

		responses := obj(t, o.op["responses"], o.String()+" responses")
		var success bool
		for code, r := range responses {
			if _, err := strconv.Atoi(code); err != nil {
				t.Errorf("%s: response %q: want an HTTP status code", o, code)
				continue
			}
			success = success || code[0] == '2'
			if code[0] >= '4' && o.method != "head" {
				checkProblemResponse(t, d, r, fmt.Sprintf("%s %s", o, code))
			}
		}
		if !success {
			t.Errorf("%s: no 2xx response", o)
		}

		switch authed, declared := security(t, o); {
		case !declared:
			t.Errorf("%s: no security: declare [{bearer: []}], or [] for a public route", o)
		case authed && responses["401"] == nil:
			t.Errorf("%s: needs a token but documents no 401", o)
		}

		checkPathParams(t, d, o)
	}
}

// security tells whether the operation needs the bearer token, and whether it says either way.
func security(t *testing.T, o operation) (authed, declared bool) {
	t.Helper()
	s, ok := o.op["security"]
	if !ok {
		return false, false
	}
	reqs, ok := s.([]any)
	if !ok {
		t.Fatalf("%s: security: want a list", o)
	}
	for _, r := range reqs {
		if _, ok := obj(t, r, o.String()+" security")["bearer"]; ok {
			authed = true
		}
	}
	return authed, true
}

func checkProblemResponse(t *testing.T, d doc, r any, where string) {
	t.Helper()
	resp := deref(t, d, r, where)
	content, _ := resp["content"].(doc)
	pj, ok := content["application/problem+json"].(doc)
	if !ok || len(content) != 1 {
		t.Errorf("%s: an error response has exactly one content, application/problem+json", where)
		return
	}
	if ref, _ := obj(t, pj["schema"], where+" schema")["$ref"].(string); ref != "#/components/schemas/Problem" {
		t.Errorf("%s: schema %q, want #/components/schemas/Problem", where, ref)
	}
}

// checkPathParams checks every {param} of the path is declared as a required path parameter, and
// that no path parameter is declared that the path does not hold.
func checkPathParams(t *testing.T, d doc, o operation) {
	t.Helper()
	declared := map[string]bool{}
	for _, list := range []any{o.pathItem["parameters"], o.op["parameters"]} {
		ps, _ := list.([]any)
		for _, p := range ps {
			param := deref(t, d, p, o.String()+" parameter")
			if param["in"] != "path" {
				continue
			}
			name, _ := param["name"].(string)
			if param["required"] != true {
				t.Errorf("%s: path parameter %q must be required", o, name)
			}
			declared[name] = true
		}
	}
	for _, m := range pathParam.FindAllStringSubmatch(o.path, -1) {
		if !declared[m[1]] {
			t.Errorf("%s: path parameter {%s} is not declared", o, m[1])
		}
		delete(declared, m[1])
	}
	for name := range declared {
		t.Errorf("%s: declares path parameter %q the path does not hold", o, name)
	}
}

// TestOpenAPISecurityServed checks the documented security is what the server does: a request
// without a token to a bearer operation gets the documented 401 problem, and a public one does not.
// The server has no App: an authed route refuses a missing token before any use case runs, while a
// public route that needs the App panics on the nil App, which shows it did not ask for a token.
func TestOpenAPISecurityServed(t *testing.T) {
	t.Parallel()
	d := loadOpenAPI(t)
	srv := New(Config{})
	for _, o := range operations(t, d) {
		authed, _ := security(t, o)
		path := pathParam.ReplaceAllString(o.path, "x")
		req := httptest.NewRequest(strings.ToUpper(o.method), path, strings.NewReader("{}"))
		rec := httptest.NewRecorder()
		reachedApp := func() (panicked bool) {
			defer func() { panicked = recover() != nil }()
			srv.ServeHTTP(rec, req)
			return false
		}()
		switch {
		case authed && rec.Code != http.StatusUnauthorized:
			t.Errorf("%s without a token: status %d, want 401 (the document says it needs a token)", o, rec.Code)
		case authed && o.method != "head":
			var p wire.Problem
			if ct := rec.Header().Get("Content-Type"); ct != "application/problem+json" {
				t.Errorf("%s without a token: Content-Type %q, want application/problem+json", o, ct)
			} else if err := json.Unmarshal(rec.Body.Bytes(), &p); err != nil || p.Code != wire.CodeUnauthenticated || p.Status != 401 {
				t.Errorf("%s without a token: problem %+v (%v), want code unauthenticated, status 401", o, p, err)
			}
		case !authed && !reachedApp && rec.Code == http.StatusUnauthorized:
			t.Errorf("%s without a token: 401, but the document says it is public (security: [])", o)
		}
	}
}

func TestOpenAPIRefsResolve(t *testing.T) {
	t.Parallel()
	d := loadOpenAPI(t)
	n := 0
	var walk func(v any, where string)
	walk = func(v any, where string) {
		switch v := v.(type) {
		case doc:
			if ref, ok := v["$ref"].(string); ok {
				n++
				if _, ok := resolve(d, ref); !ok {
					t.Errorf("%s: $ref %q does not resolve", where, ref)
				}
			}
			for k, c := range v {
				walk(c, where+"/"+k)
			}
		case []any:
			for i, c := range v {
				walk(c, where+"/"+strconv.Itoa(i))
			}
		}
	}
	walk(d, "#")
	if n == 0 {
		t.Fatal("no $ref found: the walk is broken")
	}
}

// schemaKeywords are the JSON Schema keywords this document uses. Any other key in a schema is most
// likely a YAML slip: in a flow mapping, `{description: a, b}` makes "b" a key of its own.
var schemaKeywords = map[string]bool{
	"$ref": true, "type": true, "format": true, "description": true, "properties": true, "required": true,
	"items": true, "enum": true, "allOf": true, "additionalProperties": true, "pattern": true, "minimum": true, "maximum": true,
	"contentEncoding": true, "contentMediaType": true, "externalDocs": true, "example": true, "examples": true,
}

func TestOpenAPISchemaKeywords(t *testing.T) {
	t.Parallel()
	d := loadOpenAPI(t)
	var check func(v any, where string)
	check = func(v any, where string) {
		s := obj(t, v, where)
		for k, c := range s {
			if !schemaKeywords[k] {
				t.Errorf("%s: %q is not a schema keyword this document uses (an unquoted comma in a flow mapping?)", where, k)
			}
			switch k {
			case "properties":
				for name, p := range obj(t, c, where+"/properties") {
					check(p, where+"/properties/"+name)
				}
			case "items":
				check(c, where+"/items")
			case "allOf":
				parts, _ := c.([]any)
				for i, p := range parts {
					check(p, fmt.Sprintf("%s/allOf/%d", where, i))
				}
			case "additionalProperties":
				if _, isBool := c.(bool); !isBool {
					check(c, where+"/additionalProperties")
				}
			}
		}
	}
	for name, s := range schemas(t, d) {
		check(s, "#/components/schemas/"+name)
	}
	// Schemas inline in parameters, headers and media types.
	var walk func(v any, where string)
	walk = func(v any, where string) {
		switch v := v.(type) {
		case doc:
			for k, c := range v {
				if k == "schema" {
					check(c, where+"/schema")
				} else {
					walk(c, where+"/"+k)
				}
			}
		case []any:
			for i, c := range v {
				walk(c, where+"/"+strconv.Itoa(i))
			}
		}
	}
	walk(d["paths"], "#/paths")
	walk(obj(t, d["components"], "components")["parameters"], "#/components/parameters")
	walk(obj(t, d["components"], "components")["headers"], "#/components/headers")
	walk(obj(t, d["components"], "components")["responses"], "#/components/responses")
}

// wireDecls parses wire.go: the values of its Code* constants and the names of its struct types.
func wireDecls(t *testing.T) (codes map[string]string, structs []string) {
	t.Helper()
	f, err := parser.ParseFile(token.NewFileSet(), wireFile, nil, 0)
	if err != nil {
		t.Fatalf("parse %s: %v", wireFile, err)
	}
	codes = map[string]string{}
	for _, decl := range f.Decls {
		g, ok := decl.(*ast.GenDecl)
		if !ok {
			continue
		}
		for _, spec := range g.Specs {
			switch s := spec.(type) {
			case *ast.ValueSpec:
				for i, name := range s.Names {
					if !strings.HasPrefix(name.Name, "Code") || i >= len(s.Values) {
						continue
					}
					lit, ok := s.Values[i].(*ast.BasicLit)
					if !ok || lit.Kind != token.STRING {
						t.Fatalf("%s: %s is not a string literal", wireFile, name.Name)
					}
					v, _ := strconv.Unquote(lit.Value)
					codes[name.Name] = v
				}
			case *ast.TypeSpec:
				if _, ok := s.Type.(*ast.StructType); ok && s.Name.IsExported() {
					structs = append(structs, s.Name.Name)
				}
			}
		}
	}
	if len(codes) == 0 || len(structs) == 0 {
		t.Fatalf("%s: found %d codes and %d struct types: the parse is broken", wireFile, len(codes), len(structs))
	}
	return codes, structs
}

func schemas(t *testing.T, d doc) doc {
	t.Helper()
	return obj(t, obj(t, d["components"], "components")["schemas"], "components.schemas")
}

func TestOpenAPIProblemCodes(t *testing.T) {
	t.Parallel()
	d := loadOpenAPI(t)
	codes, _ := wireDecls(t)
	problem := obj(t, schemas(t, d)["Problem"], "schemas.Problem")
	code := obj(t, obj(t, problem["properties"], "Problem.properties")["code"], "Problem.properties.code")
	enum := map[string]bool{}
	list, _ := code["enum"].([]any)
	for _, v := range list {
		s, _ := v.(string)
		enum[s] = true
	}
	guide, err := os.ReadFile("../../docs/api.md")
	if err != nil {
		t.Fatalf("read docs/api.md: %v", err)
	}
	known := map[string]bool{}
	for name, v := range codes {
		known[v] = true
		if !enum[v] {
			t.Errorf("wire.%s = %q is not in the Problem schema's code enum in openapi.yaml", name, v)
		}
		if !strings.Contains(string(guide), "| `"+v+"` |") {
			t.Errorf("wire.%s = %q has no row in the codes table of docs/api.md", name, v)
		}
	}
	for v := range enum {
		if !known[v] {
			t.Errorf("the Problem code enum lists %q, which is no wire.Code* constant", v)
		}
	}
}

// field is a JSON field of a wire type, embedded structs flattened as encoding/json does.
type field struct {
	name      string
	omitempty bool
	typ       reflect.Type
}

func jsonFields(t reflect.Type) []field {
	var out []field
	for i := range t.NumField() {
		f := t.Field(i)
		tag := f.Tag.Get("json")
		if tag == "-" || !f.IsExported() {
			continue
		}
		name, opts, _ := strings.Cut(tag, ",")
		if f.Anonymous && name == "" && f.Type.Kind() == reflect.Struct {
			out = append(out, jsonFields(f.Type)...)
			continue
		}
		if name == "" {
			name = f.Name
		}
		out = append(out, field{name: name, omitempty: slices.Contains(strings.Split(opts, ","), "omitempty"), typ: f.Type})
	}
	return out
}

// flatten merges an object schema's properties and required list with those of its allOf parts.
func flatten(t *testing.T, d doc, s doc, where string) (props doc, required map[string]bool) {
	t.Helper()
	props, required = doc{}, map[string]bool{}
	parts := []doc{s}
	if all, ok := s["allOf"].([]any); ok {
		for i, p := range all {
			parts = append(parts, deref(t, d, p, fmt.Sprintf("%s allOf[%d]", where, i)))
		}
	}
	for _, p := range parts {
		if ps, ok := p["properties"].(doc); ok {
			for k, v := range ps {
				props[k] = v
			}
		}
		rs, _ := p["required"].([]any)
		for _, r := range rs {
			required[r.(string)] = true
		}
	}
	return props, required
}

var timeType = reflect.TypeFor[time.Time]()

// schemaMismatch says how the property schema p does not describe Go type typ, or "".
func schemaMismatch(p doc, typ reflect.Type) string {
	if typ.Kind() == reflect.Pointer {
		typ = typ.Elem()
	}
	want := func(k, v string) string {
		if got, _ := p[k].(string); got != v {
			return fmt.Sprintf("%s %q, want %q", k, got, v)
		}
		return ""
	}
	switch {
	case typ == timeType:
		if m := want("type", "string"); m != "" {
			return m
		}
		return want("format", "date-time")
	case typ.Kind() == reflect.Struct:
		return want("$ref", "#/components/schemas/"+typ.Name())
	case typ.Kind() == reflect.Slice && typ.Elem().Kind() == reflect.Uint8:
		if m := want("type", "string"); m != "" {
			return m
		}
		return want("contentEncoding", "base64")
	case typ.Kind() == reflect.Slice:
		if m := want("type", "array"); m != "" {
			return m
		}
		items, _ := p["items"].(doc)
		if m := schemaMismatch(items, typ.Elem()); m != "" {
			return "items: " + m
		}
		return ""
	case typ.Kind() == reflect.String:
		if f, _ := p["format"].(string); f == "date-time" {
			return "format date-time on a Go string"
		}
		return want("type", "string")
	case typ.Kind() == reflect.Bool:
		return want("type", "boolean")
	case typ.Kind() >= reflect.Int && typ.Kind() <= reflect.Uint64:
		return want("type", "integer")
	case typ.Kind() == reflect.Map && typ.Key().Kind() == reflect.String:
		if m := want("type", "object"); m != "" {
			return m
		}
		values, _ := p["additionalProperties"].(doc)
		if m := schemaMismatch(values, typ.Elem()); m != "" {
			return "additionalProperties: " + m
		}
		return ""
	}
	return "no rule for Go type " + typ.String()
}

func TestOpenAPIWireSchemas(t *testing.T) {
	t.Parallel()
	d := loadOpenAPI(t)
	all := schemas(t, d)
	_, structs := wireDecls(t)
	inTable := map[string]bool{}
	for _, w := range wireTypes {
		inTable[reflect.TypeOf(w.v).Name()] = true
	}
	for _, s := range structs {
		if !inTable[s] {
			t.Errorf("wire.%s is not in wireTypes of this test: add it, and its schema to openapi.yaml", s)
		}
	}
	for name := range all {
		if !inTable[name] && !slices.Contains(extraSchemas, name) {
			t.Errorf("schema %s is no wire type and not in extraSchemas", name)
		}
	}
	for _, w := range wireTypes {
		typ := reflect.TypeOf(w.v)
		t.Run(typ.Name(), func(t *testing.T) {
			raw, ok := all[typ.Name()]
			if !ok {
				t.Fatalf("openapi.yaml has no schema %s for wire.%s", typ.Name(), typ.Name())
			}
			props, required := flatten(t, d, obj(t, raw, typ.Name()), typ.Name())
			seen := map[string]bool{}
			for _, f := range jsonFields(typ) {
				seen[f.name] = true
				p, ok := props[f.name]
				if !ok {
					t.Errorf("field %q of wire.%s is not a property of its schema", f.name, typ.Name())
					continue
				}
				if m := schemaMismatch(obj(t, p, typ.Name()+"."+f.name), f.typ); m != "" {
					t.Errorf("%s.%s (Go %s): %s", typ.Name(), f.name, f.typ, m)
				}
				switch {
				case required[f.name] && f.omitempty:
					t.Errorf("%s.%s is required in the schema but omitempty in Go: it may be absent", typ.Name(), f.name)
				case !required[f.name] && !f.omitempty && !w.request:
					t.Errorf("%s.%s is always in the answer (no omitempty): list it in required", typ.Name(), f.name)
				}
			}
			for name := range props {
				if !seen[name] {
					t.Errorf("property %q of schema %s is no JSON field of wire.%s", name, typ.Name(), typ.Name())
				}
			}
			for name := range required {
				if !seen[name] {
					t.Errorf("schema %s requires %q, which wire.%s does not have", typ.Name(), name, typ.Name())
				}
			}
		})
	}
}
