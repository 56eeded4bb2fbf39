package materials

import (
	"encoding/json"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/custody-dev/custody/contract"
)

func TestCraftCSAF(t *testing.T) {
	t.Parallel()
	runDocCases(t, contract.KindCSAFVEX, []docCase{
		{file: "csaf/custody-vex-2026-0001.json", want: map[string]string{
			"format": "CSAF", "csafVersion": "2.0", "category": "csaf_vex",
			"trackingId": "CUSTODY-VEX-2026-0001", "publisher": "Custody Security Team", "vulnerabilityCount": "3",
			"status.affected": "1", "status.not_affected": "2", "status.fixed": "1", "status.under_investigation": "1",
		}},
		{file: "csaf/avendor-advisory-0004.json", want: map[string]string{
			"format": "CSAF", "csafVersion": "2.0", "category": "csaf_vex",
			"trackingId": "Avendor-advisory-0004", "publisher": "ACME Inc.", "vulnerabilityCount": "2",
			"status.affected": "0", "status.not_affected": "0", "status.fixed": "0", "status.under_investigation": "2",
		}},
		// CSAF 2.1, against its own schema: OASIS's 2.1 rendering of use case 3.
		{file: "csaf/oasis-2.1-2022-evd-uc-03-ms-001.json", want: map[string]string{
			"format": "CSAF", "csafVersion": "2.1", "category": "csaf_vex",
			"trackingId": "2022-EVD-UC-03-MS-001", "publisher": "Example Company ProductCERT", "vulnerabilityCount": "19",
			"status.affected": "5", "status.not_affected": "6", "status.fixed": "3", "status.under_investigation": "5",
		}},
		{file: "csaf/broken-category.json", wantErr: []string{`document.category is "csaf_security_advisory", want "csaf_vex": add it as CSAF_SECURITY_ADVISORY`}},
		{file: "csaf/oasis-2.0-rhsa-2019_1862.json", wantErr: []string{`document.category is "csaf_informational_advisory", want "csaf_vex": add it as CSAF_INFORMATIONAL_ADVISORY`}},
		{file: "csaf/broken-csaf-version.json", wantErr: []string{`document.csaf_version "2.2" is not supported (CSAF 2.0 or 2.1)`}},
		{file: "csaf/broken-no-tracking-id.json", wantErr: []string{"CSAF 2.0 does not match the schema: at /document/tracking: missing property 'id'"}},
		{file: "csaf/broken-publisher-category.json", wantErr: []string{"CSAF 2.0 does not match the schema: at /document/publisher/category: value must be one of 'coordinator', "}},
		{file: "csaf/broken-no-product-tree.json", wantErr: []string{"product_tree is missing (required by the VEX profile)"}},
		{file: "csaf/broken-undefined-product.json", wantErr: []string{`vulnerabilities[2]: product_status refers to product "CUSTODY-9.9.9"`}},
		{file: "csaf/broken-not-affected-no-impact.json", wantErr: []string{`known_not_affected product "CUSTODY-0.1.0" has no impact statement`}},
		{file: "csaf/broken-affected-no-remediation.json", wantErr: []string{`known_affected product "CUSTODY-0.1.0" has no remediation`}},
		{file: "csaf/broken-truncated.json", wantErr: []string{"read CSAF document", "truncated"}},
		{file: "openvex/custody.openvex.json", wantErr: []string{"no document.csaf_version field"}, notThisKind: true},
		{file: "spdx/custody.spdx.json", wantErr: []string{"no document.csaf_version field"}, notThisKind: true},
	})
}

// TestCSAFOfAnotherProfile checks a CSAF document whose category is none of custody's kinds is
// refused, naming the category, and is auto-detected as CSAF_VEX's error rather than an ARTIFACT.
func TestCSAFOfAnotherProfile(t *testing.T) {
	t.Parallel()
	doc, err := os.ReadFile("testdata/csaf/custody-incident-2026-0001.json")
	if err != nil {
		t.Fatal(err)
	}
	path := writeTemp(t, "base.json", strings.Replace(string(doc), `"csaf_security_incident_response"`, `"csaf_base"`, 1))
	want := `document.category is "csaf_base", want "csaf_vex": a CSAF document of another profile can be added as EVIDENCE`
	_, err = newDocCrafter(t).Detect(t.Context(), path)
	checkDocError(t, err, contract.KindCSAFVEX, path, []string{want}, false)
	for _, p := range csafProfiles() {
		_, err := newDocCrafter(t).Craft(t.Context(), p.kind, path)
		checkDocError(t, err, p.kind, path, []string{`document.category is "csaf_base", want "` + p.category + `"`}, false)
	}
}

// TestCSAFDocumentPastPrefix checks a CSAF document whose document object comes after the sniffed
// prefix is no kind to detection, but is read whole and validated when its kind is named.
func TestCSAFDocumentPastPrefix(t *testing.T) {
	t.Parallel()
	data, err := os.ReadFile("testdata/csaf/custody-vex-2026-0001.json")
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]json.RawMessage
	if err := json.Unmarshal(data, &doc); err != nil {
		t.Fatal(err)
	}
	var tree map[string]any
	if err := json.Unmarshal(doc["product_tree"], &tree); err != nil {
		t.Fatal(err)
	}
	names, _ := tree["full_product_names"].([]any)
	for i := range 20000 { // about 1.5 MB of products before the document object
		names = append(names, map[string]any{"name": "padding product " + strconv.Itoa(i), "product_id": "PAD-" + strconv.Itoa(i)})
	}
	tree["full_product_names"] = names
	padded, err := json.Marshal(tree)
	if err != nil {
		t.Fatal(err)
	}
	path := writeTemp(t, "late.json", `{"product_tree": `+string(padded)+`, "vulnerabilities": `+string(doc["vulnerabilities"])+
		`, "document": `+string(doc["document"])+`}`)
	m, err := newDocCrafter(t).Detect(t.Context(), path)
	if err != nil || m.Kind != contract.KindArtifact {
		t.Fatalf("Detect = %v, %v; want an ARTIFACT (the document object lies past the prefix)", m, err)
	}
	m, err = newDocCrafter(t).Craft(t.Context(), contract.KindCSAFVEX, path)
	if err != nil || m.Validated["trackingId"] != "CUSTODY-VEX-2026-0001" {
		t.Fatalf("Craft(CSAF_VEX) = %v, %v; want it validated", m, err)
	}
}

// TestCSAFSchemasOffline checks every embedded CSAF schema compiles from the embedded files alone.
func TestCSAFSchemasOffline(t *testing.T) {
	t.Parallel()
	for version, s := range csafSchemas {
		if _, err := s.compiled(); err != nil {
			t.Errorf("CSAF %s schema: %v", version, err)
		}
	}
}

// The CSAF kinds' fuzz targets: none panics, and what one accepts is recorded as of its category,
// with counts.
func FuzzValidateCSAF(f *testing.F)                      { fuzzCSAF(f, csafVEX) }
func FuzzValidateCSAFSecurityAdvisory(f *testing.F)      { fuzzCSAF(f, csafSecurityAdvisory) }
func FuzzValidateCSAFInformationalAdvisory(f *testing.F) { fuzzCSAF(f, csafInformationalAdvisory) }
func FuzzValidateCSAFIncidentResponse(f *testing.F)      { fuzzCSAF(f, csafSecurityIncidentResponse) }

func fuzzCSAF(f *testing.F, p csafProfile) {
	fuzzSummary(f, p.validate, func(t *testing.T, validated map[string]string) {
		if validated["category"] != p.category || validated["trackingId"] == "" {
			t.Errorf("%s accepted a document as %v", p.kind, validated)
		}
		for _, key := range []string{"vulnerabilityCount", "status.affected", "status.not_affected", "status.fixed", "status.under_investigation"} {
			if v, ok := validated[key]; ok {
				if _, err := strconv.Atoi(v); err != nil {
					t.Errorf("%s recorded %s %q", p.kind, key, v)
				}
			}
		}
	}, "csaf", "other")
}
