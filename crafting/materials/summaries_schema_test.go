package materials

import (
	"bytes"
	"encoding/json"
	"os"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/custody-dev/custody/contract"
)

// predicateMaterial compiles the material definition of docs/predicate.schema.json.
func predicateMaterial(t *testing.T) *jsonschema.Schema {
	t.Helper()
	raw, err := os.ReadFile("../../docs/predicate.schema.json")
	if err != nil {
		t.Fatal(err)
	}
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	c := jsonschema.NewCompiler()
	if err := c.AddResource("predicate.schema.json", doc); err != nil {
		t.Fatal(err)
	}
	sch, err := c.Compile("predicate.schema.json#/$defs/material")
	if err != nil {
		t.Fatal(err)
	}
	return sch
}

// What the kinds that existed before issue 9 record is what the predicate's schema documents for
// them, and the schema refuses a summary that lacks a key it requires.
func TestSummariesMatchPredicateSchema(t *testing.T) {
	t.Parallel()
	sch := predicateMaterial(t)
	for _, tc := range []struct {
		kind contract.Kind
		file string
		drop string // a key whose removal the schema refuses
	}{
		{contract.KindSBOMCycloneDXJSON, "cyclonedx/custody-mod.cdx.json", "licenseCount"},
		{contract.KindSBOMSPDXJSON, "spdx/custody.spdx.json", "componentCount"},
		{contract.KindJUnitXML, "junit/calc-fail.junit.xml", "skipped"},
		{contract.KindJUnitXML, "junit/empty-testsuites.junit.xml", "tests"},
		{contract.KindSARIF, "sarif/gosec.sarif", "findings.unknown"},
		{contract.KindSARIF, "sarif/null-runs.sarif", "findings"},
		{contract.KindOpenVEX, "openvex/custody.openvex.json", "status.under_investigation"},
		{contract.KindHelmChart, "helm/demo-0.1.0.tgz", "version"},
		{contract.KindAttestation, "attestation/cosign-bundle.json", "predicateType"},
		{contract.KindAttestation, "attestation/cosign-envelope.json", "subjectCount"},
	} {
		t.Run(tc.file, func(t *testing.T) {
			t.Parallel()
			m, err := newDocCrafter(t).Craft(t.Context(), tc.kind, "testdata/"+tc.file)
			if err != nil {
				t.Fatal(err)
			}
			m.Name = "m"
			validate := func() error {
				raw, err := json.Marshal(m)
				if err != nil {
					t.Fatal(err)
				}
				inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(raw))
				if err != nil {
					t.Fatal(err)
				}
				return sch.Validate(inst)
			}
			if err := validate(); err != nil {
				t.Errorf("the schema refuses %v: %v", m.Validated, err)
			}
			if _, ok := m.Validated[tc.drop]; !ok {
				t.Fatalf("%s records no %s: %v", tc.kind, tc.drop, m.Validated)
			}
			delete(m.Validated, tc.drop)
			if err := validate(); err == nil || !strings.Contains(err.Error(), "validated") {
				t.Errorf("the schema accepts %s without %s: %v", tc.kind, tc.drop, err)
			}
		})
	}
}
