package materials

import (
	"bytes"
	"encoding/json"
	"os"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/custody-dev/custody/attestation"
	"github.com/custody-dev/custody/contract"
)

// materialSchema compiles the material definition of docs/predicate.schema.json.
func materialSchema(t *testing.T) *jsonschema.Schema {
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

func materialInstance(t *testing.T, m *attestation.Material) any {
	t.Helper()
	raw, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	return inst
}

// What the coverage, SLSA, ZAP and JUnit archive kinds record is what the predicate's schema
// documents for them, and the schema refuses a summary that lacks what it requires.
func TestNewKindsSummariesMatchPredicateSchema(t *testing.T) {
	t.Parallel()
	sch := materialSchema(t)
	for _, tc := range []struct {
		kind contract.Kind
		file string
		drop string // a key whose removal the schema refuses
	}{
		{contract.KindJaCoCoXML, "jacoco/calc.jacoco.xml", "linesValid"},
		{contract.KindCoberturaXML, "cobertura/coverage-py.cobertura.xml", ""},
		{contract.KindCoberturaXML, "cobertura/gocover.cobertura.xml", "branchesValid"},
		{contract.KindSLSAProvenance, "slsa/bcr-module.bazel.intoto.jsonl", "builderId"},
		{contract.KindSLSAProvenance, "slsa/two-builders.intoto.jsonl", "signed"},
		{contract.KindSLSAProvenance, "slsa/gha-generic-v1.10.0.statement.json", "buildType"},
		{contract.KindZAPDASTZip, "zap/zap_scan.zip", "findings.unknown"},
		{contract.KindJUnitXML, "junit-archive/ant-reports.zip", "reports"},
	} {
		t.Run(tc.file, func(t *testing.T) {
			m, err := newDocCrafter(t).Craft(t.Context(), tc.kind, "testdata/"+tc.file)
			if err != nil {
				t.Fatal(err)
			}
			m.Name = "m"
			if err := sch.Validate(materialInstance(t, m)); err != nil {
				t.Errorf("the schema refuses %v: %v", m.Validated, err)
			}
			if tc.drop == "" {
				return
			}
			delete(m.Validated, tc.drop)
			err = sch.Validate(materialInstance(t, m))
			if err == nil || !strings.Contains(err.Error(), "validated") {
				t.Errorf("the schema accepts %s without %s: %v", tc.kind, tc.drop, err)
			}
		})
	}
}
