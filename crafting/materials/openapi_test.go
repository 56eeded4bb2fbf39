package materials

import (
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/custody-dev/custody/contract"
)

func TestCraftOpenAPI(t *testing.T) {
	t.Parallel()
	oas := func(version, title string, paths, operations int) map[string]string {
		return map[string]string{
			"format": "OpenAPI", "openapiVersion": version, "title": title, "version": "1.0.0",
			"pathCount": strconv.Itoa(paths), "operationCount": strconv.Itoa(operations),
		}
	}
	runDocCases(t, contract.KindOpenAPISpec, []docCase{
		{file: "openapi/oai-v3.0-petstore.yaml", want: oas("3.0.0", "Swagger Petstore", 2, 3)},
		{file: "openapi/oai-v3.0-petstore-expanded.json", want: oas("3.0.0", "Swagger Petstore", 2, 4)},
		{file: "openapi/oai-v3.0-callback-example.yaml", want: oas("3.0.0", "Callback Example", 1, 1)},
		{file: "openapi/oai-v3.0-link-example.json", want: oas("3.0.0", "Link Example", 6, 6)},
		{file: "openapi/oai-v3.1-non-oauth-scopes.json", want: oas("3.1.0", "Non-oAuth Scopes example", 1, 1)},
		// OpenAPI 3.1 makes paths optional: webhooks only.
		{file: "openapi/oai-v3.1-webhook-example.yaml", want: oas("3.1.0", "Webhook Example", 0, 0)},
		{file: "openapi/oai-v2.0-petstore.json", want: oas("2.0", "Swagger Petstore", 2, 3)},
		{file: "openapi/oai-v2.0-uber.yaml", want: oas("2.0", "Uber API", 5, 5)},
		// Its top-level mapping is indented by two spaces.
		{file: "openapi/oai-v2.0-petstore-minimal.yaml", want: oas("2.0", "Swagger Petstore", 1, 1)},

		{file: "openapi/broken-external-ref.yaml", wantErr: []string{`read OpenAPI document: encountered disallowed external reference: "https://example.com/pets.yaml#/Pets"`}},
		{file: "openapi/broken-path-parameter.yaml", wantErr: []string{"invalid OpenAPI 3.0.0 document: invalid paths: operation GET /pets/{petId} must define exactly all path parameters"}},
		{file: "openapi/broken-unknown-field.yaml", wantErr: []string{"invalid OpenAPI 3.0.0 document: extra sibling fields: [servlets]"}},
		{file: "openapi/broken-version.yaml", wantErr: []string{`openapi "3.2.0" is not supported (OpenAPI 3.0.x or 3.1.x, or Swagger 2.0)`}},
		{file: "openapi/broken-truncated.yaml", wantErr: []string{"read OpenAPI document:", "line 58"}},
		{file: "openapi/broken-swagger-scheme.json", wantErr: []string{"the Swagger 2.0 document does not match the schema: at /schemes/0: value must be one of 'http', 'https', 'ws', 'wss'"}},
		{file: "openapi/broken-swagger-external-ref.json", wantErr: []string{`$ref "definitions.json#/Pets" refers outside the document`}},
		{file: "openapi/broken-swagger-number.yaml", wantErr: []string{`swagger is the number 2, want the string "2.0" (in YAML: swagger: "2.0")`}},

		{file: "csaf/custody-vex-2026-0001.json", wantErr: []string{"no openapi or swagger field, not an OpenAPI document"}, notThisKind: true},
		{file: "junit/pytest.junit.xml", wantErr: []string{"no openapi or swagger field", "neither a JSON object nor a YAML mapping"}, notThisKind: true},
		{file: "helm/demo-0.1.0.tgz", wantErr: []string{"no openapi or swagger field"}, notThisKind: true},
	})
}

// TestCraftOpenAPIOfCustody checks custody's own API description, read where it lives.
func TestCraftOpenAPIOfCustody(t *testing.T) {
	t.Parallel()
	m, err := newDocCrafter(t).Detect(t.Context(), "../../controlplane/api/openapi.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if m.Kind != contract.KindOpenAPISpec || m.Validated["openapiVersion"] != "3.1.0" || m.Validated["title"] != "custody control plane" {
		t.Errorf("custody's openapi.yaml = %s %v, want an OpenAPI 3.1.0 OPENAPI_SPEC", m.Kind, m.Validated)
	}
}

func FuzzValidateOpenAPI(f *testing.F) {
	fuzzSummary(f, validateOpenAPI, func(t *testing.T, validated map[string]string) {
		paths, perr := strconv.Atoi(validated["pathCount"])
		operations, oerr := strconv.Atoi(validated["operationCount"])
		if validated["format"] != "OpenAPI" || perr != nil || oerr != nil || paths < 0 || operations < 0 {
			t.Errorf("accepted a document as %v", validated)
		}
	}, "openapi", "other")
}

// TestOpenAPIValidationTime checks a document kin-openapi would work on for long is refused once
// openAPIValidationTime has passed: 400 schemas each referring to the next take it about a second.
// Not parallel: it sets the bound the other tests use.
func TestOpenAPIValidationTime(t *testing.T) {
	defer func(d time.Duration) { openAPIValidationTime = d }(openAPIValidationTime)
	openAPIValidationTime = time.Millisecond
	path := writeTemp(t, "chain.json", referenceChain(400))
	_, err := newDocCrafter(t).Craft(t.Context(), contract.KindOpenAPISpec, path)
	checkDocError(t, err, contract.KindOpenAPISpec, path, []string{"validating the OpenAPI document takes longer than 1ms", "refused"}, false)
}

// referenceChain is an OpenAPI document of n paths, each returning a schema that refers to the next,
// the last to the first.
func referenceChain(n int) string {
	var paths, schemas []string
	for i := range n {
		paths = append(paths, fmt.Sprintf(`"/t%d": {"get": {"responses": {"200": {"description": "ok", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/R%d"}}}}}}}`, i, i))
		schemas = append(schemas, fmt.Sprintf(`"R%d": {"type": "object", "properties": {"id": {"type": "integer"}, "next": {"$ref": "#/components/schemas/R%d"}}}`, i, (i+1)%n))
	}
	return `{"openapi": "3.0.3", "info": {"title": "chain", "version": "1"}, "paths": {` + strings.Join(paths, ",") +
		`}, "components": {"schemas": {` + strings.Join(schemas, ",") + `}}}`
}
