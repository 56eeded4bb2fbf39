package materials

import (
	"context"
	"embed"
	"fmt"
	"os"
	"strings"

	"github.com/custody-dev/custody/attestation"
	"github.com/custody-dev/custody/contract"
)

// ASYNCAPI_SPEC: an AsyncAPI 2.x or 3.x document, JSON or YAML, validated against the official
// JSON schema of its version.

func init() { register(contract.KindAsyncAPISpec, craftAsyncAPI) }

func craftAsyncAPI(ctx context.Context, c *Crafter, value string) (*attestation.Material, error) {
	return c.craftFile(ctx, value, validateAsyncAPI)
}

// claimsAsyncAPI: a top-level asyncapi key, whatever its value (a version custody does not read is
// this kind's error).
func claimsAsyncAPI(s *sniffed) bool { return specHeadOf(s).has("asyncapi") }

// asyncAPISchemaFS holds the official AsyncAPI schemas, gzip-compressed (schemas/asyncapi/README.md).
//
//go:embed schemas/asyncapi
var asyncAPISchemaFS embed.FS

// asyncAPIVersions are the versions custody validates, each against its own schema.
var asyncAPIVersions = []string{"2.0.0", "2.1.0", "2.2.0", "2.3.0", "2.4.0", "2.5.0", "2.6.0", "3.0.0", "3.1.0"}

var asyncAPISchemas = func() map[string]*embeddedSchema {
	schemas := map[string]*embeddedSchema{}
	for _, v := range asyncAPIVersions {
		url := "http://asyncapi.com/definitions/" + v + "/asyncapi.json"
		schemas[v] = &embeddedSchema{fsys: asyncAPISchemaFS, main: url,
			files: map[string]string{url: "schemas/asyncapi/" + v + ".json.gz"}}
	}
	return schemas
}()

// validateAsyncAPI accepts an AsyncAPI document of a version custody has the schema of, that the
// schema accepts and that refers to no other file.
func validateAsyncAPI(f *os.File) (map[string]string, error) {
	s, err := sniffFile(f)
	if err != nil {
		return nil, err
	}
	h := specHeadOf(s)
	if !h.has("asyncapi") && !h.partial {
		return nil, h.notThisKind(asyncAPIMissing)
	}
	data, err := readSpec(f)
	if err != nil {
		return nil, err
	}
	inst, err := specInstance(data, h.yaml)
	if err != nil {
		return nil, fmt.Errorf("read AsyncAPI document: %w", err)
	}
	if !hasMember(inst, "asyncapi") { // it was not in the prefix, nor is it later
		return nil, fmt.Errorf("%s: %w", asyncAPIMissing, ErrNotThisKind)
	}
	version, ok := member(inst, "asyncapi").(string)
	if !ok {
		return nil, fmt.Errorf("asyncapi is %s, want a version string such as \"3.0.0\"", jsonKind(member(inst, "asyncapi")))
	}
	schema, ok := asyncAPISchemas[version]
	if !ok {
		return nil, fmt.Errorf("asyncapi %q is not supported (AsyncAPI %s)", version, strings.Join(asyncAPIVersions, ", "))
	}
	if ref, ok := externalRef(inst); ok {
		return nil, fmt.Errorf("$ref %q refers outside the document: custody validates one self-contained document and reads no other (bundle it first, e.g. asyncapi bundle)", ref)
	}
	if strings.HasPrefix(version, "2.") {
		// AsyncAPI's parser for 2.x resolves a document's references before it validates it, and the
		// 2.0.0 to 2.4.0 schemas need that: a parameter {"$ref": ...} matches both branches of their
		// oneOf (the parameter object had a $ref property until 2.5.0). The 3.x schemas judge the
		// document as written: an operation's channel and messages must be references.
		if inst, err = resolveLocalRefs(inst); err != nil {
			return nil, fmt.Errorf("read AsyncAPI document: %w", err)
		}
	}
	if err := schema.validate(inst); err != nil {
		return nil, fmt.Errorf("the AsyncAPI %s document %w", version, err)
	}
	channels, _ := member(inst, "channels").(map[string]any)
	operations := 0
	if strings.HasPrefix(version, "2.") {
		// AsyncAPI 2: a channel's operations are its publish and subscribe.
		for name, ch := range channels {
			if strings.HasPrefix(name, "x-") {
				continue
			}
			for _, op := range []string{"publish", "subscribe"} {
				if member(ch, op) != nil {
					operations++
				}
			}
		}
	} else {
		ops, _ := member(inst, "operations").(map[string]any)
		operations = countKeys(ops)
	}
	return map[string]string{
		"format":          "AsyncAPI",
		"asyncapiVersion": version,
		"title":           memberString(inst, "info", "title"),
		"version":         memberString(inst, "info", "version"),
		"channelCount":    itoa(countKeys(channels)),
		"operationCount":  itoa(operations),
	}, nil
}

const asyncAPIMissing = "no asyncapi field, not an AsyncAPI document"

// countKeys counts the keys of m that are not specification extensions (x-...).
func countKeys(m map[string]any) int {
	n := 0
	for k := range m {
		if !strings.HasPrefix(k, "x-") {
			n++
		}
	}
	return n
}

// jsonKind names the JSON type of a value as jsonschema decodes it.
func jsonKind(v any) string {
	switch v.(type) {
	case nil:
		return "missing"
	case map[string]any:
		return "an object"
	case []any:
		return "an array"
	case bool:
		return "a boolean"
	case string:
		return "a string"
	}
	return "a number"
}
