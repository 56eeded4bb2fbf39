package materials

import (
	"context"
	"embed"
	"encoding/json"
	"fmt"
	"os"
	"regexp"
	"strings"
	"time"

	"github.com/getkin/kin-openapi/openapi3"

	"github.com/custody-dev/custody/attestation"
	"github.com/custody-dev/custody/contract"
)

// OPENAPI_SPEC: an OpenAPI 3.0 or 3.1 document, validated by kin-openapi, or a Swagger 2.0 one,
// validated against its official JSON schema; JSON or YAML.

func init() { register(contract.KindOpenAPISpec, craftOpenAPI) }

func craftOpenAPI(ctx context.Context, c *Crafter, value string) (*attestation.Material, error) {
	return c.craftFile(ctx, value, validateOpenAPI)
}

// claimsOpenAPI: a top-level openapi version 3.x, or swagger "2.0" with info and paths.
func claimsOpenAPI(s *sniffed) bool {
	h := specHeadOf(s)
	return strings.HasPrefix(h.keys["openapi"], "3.") || h.keys["swagger"] == "2.0" && h.has("info") && h.has("paths")
}

// openAPIVersion matches the OpenAPI versions custody validates: 3.0.x and 3.1.x.
var openAPIVersion = regexp.MustCompile(`^3\.[01]\.\d+$`)

const openAPISupported = "OpenAPI 3.0.x or 3.1.x, or Swagger 2.0"

// maxOpenAPIErrorLen bounds the reason kin-openapi gives, which can quote a schema.
const maxOpenAPIErrorLen = 512

//go:embed schemas/openapi/swagger-2.0.json
var swaggerSchemaFS embed.FS

var swaggerSchema = &embeddedSchema{fsys: swaggerSchemaFS, main: "http://swagger.io/v2/schema.json",
	files: map[string]string{"http://swagger.io/v2/schema.json": "schemas/openapi/swagger-2.0.json"}}

// validateOpenAPI accepts an OpenAPI 3.0.x or 3.1.x document that kin-openapi loads and validates,
// and a Swagger 2.0 document its official JSON schema accepts. A $ref to another file or a URL is
// refused: the document must stand alone, and nothing is fetched.
func validateOpenAPI(f *os.File) (map[string]string, error) {
	s, err := sniffFile(f)
	if err != nil {
		return nil, err
	}
	h := specHeadOf(s)
	marked := h.has("openapi") || h.has("swagger")
	if !marked && !h.partial {
		return nil, h.notThisKind(openAPIMissing)
	}
	data, err := readSpec(f)
	if err != nil {
		return nil, err
	}
	swagger := h.has("swagger") && !h.has("openapi")
	var inst any
	if !marked {
		// The markers may lie past the prefix the sniff read: look for them in the whole document.
		if inst, err = specInstance(data, h.yaml); err != nil {
			return nil, fmt.Errorf("read OpenAPI document: %w", err)
		}
		if !hasMember(inst, "openapi") && !hasMember(inst, "swagger") {
			return nil, fmt.Errorf("%s: %w", openAPIMissing, ErrNotThisKind)
		}
		swagger = !hasMember(inst, "openapi")
	}
	if swagger {
		return validateSwagger(data, inst, h.yaml)
	}
	return validateOpenAPI3(data)
}

const openAPIMissing = "no openapi or swagger field, not an OpenAPI document"

// openAPIValidationTime bounds kin-openapi's work on one document. Its schema validation walks, for
// every schema, all the schemas it reaches: that grows with the square of a long chain of references
// (800 schemas each referring to the next: 3 s; 6,000: minutes), while Stripe's 4.5 MB description
// takes seconds.
var openAPIValidationTime = time.Minute

// validateOpenAPI3 runs kin-openapi on data, within openAPIValidationTime: past it the document is
// refused, and the abandoned work ends with the process.
func validateOpenAPI3(data []byte) (map[string]string, error) {
	type result struct {
		summary map[string]string
		err     error
	}
	done := make(chan result, 1)
	go func() {
		defer func() {
			if v := recover(); v != nil { // a panic here is out of reach of the caller's recover
				done <- result{err: fmt.Errorf("kin-openapi failed on the document: %v", v)}
			}
		}()
		summary, err := checkOpenAPI3(data)
		done <- result{summary, err}
	}()
	timer := time.NewTimer(openAPIValidationTime)
	defer timer.Stop()
	select {
	case r := <-done:
		return r.summary, r.err
	case <-timer.C:
		return nil, fmt.Errorf("validating the OpenAPI document takes longer than %s (its schemas form long chains of references): refused", openAPIValidationTime)
	}
}

func checkOpenAPI3(data []byte) (map[string]string, error) {
	// kin-openapi's loader refuses external references unless IsExternalRefsAllowed is set.
	doc, err := openapi3.NewLoader().LoadFromData(data)
	if err != nil {
		return nil, fmt.Errorf("read OpenAPI document: %s", truncate(err.Error(), maxOpenAPIErrorLen))
	}
	if !openAPIVersion.MatchString(doc.OpenAPI) {
		return nil, fmt.Errorf("openapi %q is not supported (%s)", doc.OpenAPI, openAPISupported)
	}
	// Examples SHOULD match their schemas (a recommendation, not a rule of the format), and a schema's
	// pattern is ECMA-262, which Go's regexp does not always run: neither refuses a document.
	if err := doc.Validate(context.Background(), openapi3.DisableExamplesValidation(), openapi3.DisableSchemaPatternValidation()); err != nil {
		return nil, fmt.Errorf("invalid OpenAPI %s document: %s", doc.OpenAPI, truncate(err.Error(), maxOpenAPIErrorLen))
	}
	paths, operations := 0, 0
	if doc.Paths != nil {
		for _, item := range doc.Paths.Map() {
			paths++
			operations += len(item.Operations())
		}
	}
	return map[string]string{
		"format":         "OpenAPI",
		"openapiVersion": doc.OpenAPI,
		"title":          doc.Info.Title,
		"version":        doc.Info.Version,
		"pathCount":      itoa(paths),
		"operationCount": itoa(operations),
	}, nil
}

// swaggerMethods are the operations of a Swagger 2.0 path item.
var swaggerMethods = []string{"get", "put", "post", "delete", "options", "head", "patch"}

// validateSwagger validates a Swagger 2.0 document: data, or inst when it was read already.
func validateSwagger(data []byte, inst any, yaml bool) (map[string]string, error) {
	if inst == nil {
		var err error
		if inst, err = specInstance(data, yaml); err != nil {
			return nil, fmt.Errorf("read Swagger document: %w", err)
		}
	}
	if n, ok := member(inst, "swagger").(json.Number); ok {
		return nil, fmt.Errorf(`swagger is the number %s, want the string "2.0" (in YAML: swagger: "2.0")`, n)
	}
	if err := swaggerSchema.validate(inst); err != nil {
		return nil, fmt.Errorf("the Swagger 2.0 document %w", err)
	}
	if ref, ok := externalRef(inst); ok {
		return nil, fmt.Errorf("$ref %q refers outside the document: custody validates one self-contained document and reads no other", ref)
	}
	paths, _ := member(inst, "paths").(map[string]any)
	pathCount, operations := 0, 0
	for path, item := range paths {
		if strings.HasPrefix(path, "x-") {
			continue
		}
		pathCount++
		for _, m := range swaggerMethods {
			if member(item, m) != nil {
				operations++
			}
		}
	}
	return map[string]string{
		"format":         "OpenAPI",
		"openapiVersion": "2.0",
		"title":          memberString(inst, "info", "title"),
		"version":        memberString(inst, "info", "version"),
		"pathCount":      itoa(pathCount),
		"operationCount": itoa(operations),
	}, nil
}
