package materials

import (
	"bytes"
	"encoding/json"
	"maps"
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

// summaryRows are a fixture of every kind that validates a file: what it records must be what the
// predicate's schema documents for the kind, and drop is a key the schema requires of it.
var summaryRows = []struct {
	kind contract.Kind
	file string
	drop string
}{
	{contract.KindSBOMCycloneDXJSON, "cyclonedx/custody-mod.cdx.json", "licenseCount"},
	{contract.KindSBOMSPDXJSON, "spdx/custody.spdx.json", "componentCount"},
	{contract.KindJUnitXML, "junit/calc-fail.junit.xml", "skipped"},
	{contract.KindJUnitXML, "junit/empty-testsuites.junit.xml", "tests"},
	{contract.KindJUnitXML, "junit-archive/ant-reports.zip", "reports"},
	{contract.KindSARIF, "sarif/gosec.sarif", "findings.unknown"},
	{contract.KindSARIF, "sarif/null-runs.sarif", "findings"},
	{contract.KindOpenVEX, "openvex/custody.openvex.json", "status.under_investigation"},
	{contract.KindCSAFVEX, "csaf/custody-vex-2026-0001.json", "status.fixed"},
	{contract.KindHelmChart, "helm/demo-0.1.0.tgz", "version"},
	{contract.KindAttestation, "attestation/cosign-bundle.json", "predicateType"},
	{contract.KindAttestation, "attestation/cosign-envelope.json", "subjectCount"},
	{contract.KindJaCoCoXML, "jacoco/calc.jacoco.xml", "linesValid"},
	{contract.KindCoberturaXML, "cobertura/coverage-py.cobertura.xml", "format"},
	{contract.KindCoberturaXML, "cobertura/gocover.cobertura.xml", "branchesValid"},
	{contract.KindSLSAProvenance, "slsa/bcr-module.bazel.intoto.jsonl", "builderId"},
	{contract.KindSLSAProvenance, "slsa/two-builders.intoto.jsonl", "signed"},
	{contract.KindSLSAProvenance, "slsa/gha-generic-v1.10.0.statement.json", "buildType"},
	{contract.KindZAPDASTZip, "zap/zap_scan.zip", "findings.unknown"},
	{contract.KindGitLabSecurityReport, "gitlab/chainloop-gl-container-scanning-report.json", "findings.critical"},
	{contract.KindGHASCodeScan, "ghas/github-code-scanning-alerts.json", "findings"},
	{contract.KindGHASSecretScan, "ghas/github-secret-scanning-alerts.json", "findings.high"},
	{contract.KindGHASDependencyScan, "ghas/github-dependabot-alerts.json", "findings.low"},
	{contract.KindGitleaksJSON, "gitleaks/aws-key.gitleaks.json", "findings.medium"},
	{contract.KindTrufflehogJSON, "trufflehog/chainloop-trufflehog-report.json", "tool"},
	{contract.KindOSSFScorecardJSON, "scorecard/chainloop-scorecard.json", "score"},
	{contract.KindBlackDuckSCAJSON, "blackduck/chainloop-blackduck_sca.json", "findings.info"},
	{contract.KindTwistcliScanJSON, "twistcli/chainloop-twistcli_scan.json", "findings"},
	{contract.KindCheckmarxJSON, "checkmarx/chainloop-checkmarx-clean.json", "findings.critical"},
	{contract.KindCSAFSecurityAdvisory, "csaf/oasis-2.0-bsi-2022-0001.json", "trackingId"},
	{contract.KindCSAFInformationalAdvisory, "csaf/oasis-2.1-rhsa-2019_1862.json", "csafVersion"},
	{contract.KindCSAFSecurityIncidentResponse, "csaf/custody-incident-2026-0001.json", "vulnerabilityCount"},
	{contract.KindOpenAPISpec, "openapi/oai-v3.1-webhook-example.yaml", "pathCount"},
	{contract.KindOpenAPISpec, "openapi/oai-v2.0-uber.yaml", "openapiVersion"},
	{contract.KindAsyncAPISpec, "asyncapi/spec-v2.6.0-gitter-streaming.yml", "channelCount"},
}

// TestSummariesMatchPredicateSchema: what each kind records is what docs/predicate.schema.json
// documents for it, the schema refuses a summary without a key it requires, and every kind that
// validates a file has a row.
func TestSummariesMatchPredicateSchema(t *testing.T) {
	t.Parallel()
	sch := materialSchema(t)
	covered := map[contract.Kind]bool{}
	for _, tc := range summaryRows {
		covered[tc.kind] = true
		t.Run(string(tc.kind)+"/"+tc.file, func(t *testing.T) {
			t.Parallel()
			m, err := newDocCrafter(t).Craft(t.Context(), tc.kind, "testdata/"+tc.file)
			if err != nil {
				t.Fatal(err)
			}
			m.Name = "m"
			if err := sch.Validate(materialInstance(t, m)); err != nil {
				t.Errorf("the schema refuses %v: %v", m.Validated, err)
			}
			if _, ok := m.Validated[tc.drop]; !ok {
				t.Fatalf("%s records no %s: %v", tc.kind, tc.drop, m.Validated)
			}
			m.Validated = maps.Clone(m.Validated)
			delete(m.Validated, tc.drop)
			if err := sch.Validate(materialInstance(t, m)); err == nil || !strings.Contains(err.Error(), "validated") {
				t.Errorf("the schema accepts %s without %s: %v", tc.kind, tc.drop, err)
			}
		})
	}
	for _, k := range contract.Kinds() {
		switch k {
		case contract.KindString, contract.KindArtifact, contract.KindEvidence, contract.KindContainerImage:
			continue // no validated summary
		}
		if !covered[k] {
			t.Errorf("%s has no row in summaryRows", k)
		}
	}
}
