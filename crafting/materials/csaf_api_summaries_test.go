package materials

import (
	"maps"
	"path/filepath"
	"testing"

	"github.com/custody-dev/custody/contract"
)

// TestCSAFAndAPISummariesMatchPredicateSchema checks what each kind records for real documents is what
// docs/predicate.schema.json says it records, and that the schema holds a kind to its keys.
func TestCSAFAndAPISummariesMatchPredicateSchema(t *testing.T) {
	t.Parallel()
	schema := materialSchema(t)
	for _, tc := range []struct {
		kind    contract.Kind
		file    string
		without string // a required key: the summary without it must fail the schema
	}{
		{contract.KindCSAFSecurityAdvisory, "csaf/oasis-2.0-bsi-2022-0001.json", "trackingId"},
		{contract.KindCSAFInformationalAdvisory, "csaf/oasis-2.1-rhsa-2019_1862.json", "csafVersion"},
		{contract.KindCSAFSecurityIncidentResponse, "csaf/custody-incident-2026-0001.json", "vulnerabilityCount"},
		{contract.KindOpenAPISpec, "openapi/oai-v3.1-webhook-example.yaml", "pathCount"},
		{contract.KindOpenAPISpec, "openapi/oai-v2.0-uber.yaml", "openapiVersion"},
		{contract.KindAsyncAPISpec, "asyncapi/spec-v2.6.0-gitter-streaming.yml", "channelCount"},
	} {
		t.Run(string(tc.kind)+"/"+filepath.Base(tc.file), func(t *testing.T) {
			t.Parallel()
			m, err := newDocCrafter(t).Craft(t.Context(), tc.kind, filepath.Join("testdata", tc.file))
			if err != nil {
				t.Fatal(err)
			}
			m.Name = "m"
			if err := schema.Validate(materialInstance(t, m)); err != nil {
				t.Errorf("%s's material does not match the predicate schema: %v", tc.kind, err)
			}
			m.Validated = maps.Clone(m.Validated)
			delete(m.Validated, tc.without)
			if err := schema.Validate(materialInstance(t, m)); err == nil {
				t.Errorf("the predicate schema accepts %s without %s", tc.kind, tc.without)
			}
		})
	}
}
