package materials

import (
	"embed"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"unicode/utf8"

	cdx "github.com/CycloneDX/cyclonedx-go"
	"github.com/santhosh-tekuri/jsonschema/v6"
)

// The official CycloneDX JSON schemas (CycloneDX/specification 1.7.1, schema/; Apache-2.0: see
// schemas/cyclonedx/README.md), one per specVersion, and the schemas they refer to.
//
//go:embed schemas/cyclonedx/*.schema.json
var cdxSchemaFiles embed.FS

// cdxSchemaBase is where the schemas' $id and $ref place them.
const cdxSchemaBase = "http://cyclonedx.org/schema/"

// cdxSchemaErrors bounds the schema violations named in an error, and cdxSchemaReason each one's length.
const (
	cdxSchemaErrors = 3
	cdxSchemaReason = 320 // CycloneDX 1.7's list of component types fits
)

// cdxSchemas compiles each version's schema once, on first use.
var cdxSchemas = func() map[cdx.SpecVersion]func() (*jsonschema.Schema, error) {
	m := map[cdx.SpecVersion]func() (*jsonschema.Schema, error){}
	for v := cdxOldest; v <= cdxNewest; v++ {
		m[v] = sync.OnceValues(func() (*jsonschema.Schema, error) { return compileCDXSchema(v) })
	}
	return m
}()

func compileCDXSchema(v cdx.SpecVersion) (*jsonschema.Schema, error) {
	c := jsonschema.NewCompiler()
	c.UseLoader(embeddedCDXSchemas{})
	sch, err := c.Compile(cdxSchemaBase + "bom-" + v.String() + ".schema.json")
	if err != nil {
		return nil, fmt.Errorf("compile the CycloneDX %s schema: %w", v, err)
	}
	return sch, nil
}

// embeddedCDXSchemas serves the embedded schemas and refuses any other URL: validation never
// reaches the network.
type embeddedCDXSchemas struct{}

func (embeddedCDXSchemas) Load(url string) (any, error) {
	name, ok := strings.CutPrefix(url, cdxSchemaBase)
	if !ok || strings.ContainsAny(name, "/?#") {
		return nil, fmt.Errorf("%s is not an embedded CycloneDX schema: schemas are never fetched", url)
	}
	f, err := cdxSchemaFiles.Open("schemas/cyclonedx/" + name)
	if err != nil {
		return nil, fmt.Errorf("%s is not an embedded CycloneDX schema: %w", url, err)
	}
	defer f.Close()
	return jsonschema.UnmarshalJSON(f)
}

// checkCDXSchema validates the BOM read from r against the official schema of its specVersion v.
func checkCDXSchema(r io.Reader, v cdx.SpecVersion) error {
	sch, err := cdxSchemas[v]()
	if err != nil {
		return err
	}
	doc, err := jsonschema.UnmarshalJSON(r)
	if err != nil {
		return fmt.Errorf("decode CycloneDX BOM: %s", syntaxReason(err))
	}
	dropNullMembers(doc)
	var ve *jsonschema.ValidationError
	if err := sch.Validate(doc); errors.As(err, &ve) {
		return fmt.Errorf("not valid against the CycloneDX %s JSON schema: %s", v, schemaReasons(ve))
	} else if err != nil {
		return fmt.Errorf("validate against the CycloneDX %s JSON schema: %w", v, err)
	}
	return nil
}

// schemaReasons words the first few violations of a schema, each as the JSON pointer of the value
// at fault and the schema's reason, bounded in length.
func schemaReasons(ve *jsonschema.ValidationError) string {
	var leaves []*jsonschema.ValidationError
	var walk func(*jsonschema.ValidationError)
	walk = func(e *jsonschema.ValidationError) {
		if len(e.Causes) == 0 {
			leaves = append(leaves, e)
		}
		for _, c := range e.Causes {
			walk(c)
		}
	}
	walk(ve)
	var reasons []string
	for _, leaf := range leaves[:min(len(leaves), cdxSchemaErrors)] {
		out := leaf.BasicOutput()
		reason := out.InstanceLocation
		if reason == "" {
			reason = "/"
		}
		if out.Error != nil {
			reason += ": " + out.Error.String()
		}
		if len(reason) > cdxSchemaReason {
			cut := reason[:cdxSchemaReason]
			for !utf8.ValidString(cut) {
				cut = cut[:len(cut)-1]
			}
			reason = cut + "..."
		}
		reasons = append(reasons, reason)
	}
	if more := len(leaves) - len(reasons); more > 0 {
		reasons = append(reasons, fmt.Sprintf("and %d more", more))
	}
	return strings.Join(reasons, "; ")
}

// dropNullMembers removes the members of every object whose value is null, reading them as absent,
// as cyclonedx-go and the CycloneDX libraries do: scanners write null for an empty optional list
// (JFrog Xray's "cwes": null), which the schema's type would refuse. A required member that is null
// is still missing; a null element of an array is still refused.
func dropNullMembers(v any) {
	switch v := v.(type) {
	case map[string]any:
		for k, member := range v {
			if member == nil {
				delete(v, k)
				continue
			}
			dropNullMembers(member)
		}
	case []any:
		for _, elem := range v {
			dropNullMembers(elem)
		}
	}
}
