package materials

import (
	"strings"
	"testing"

	"github.com/custody-dev/custody/contract"
)

func TestCraftSPDX(t *testing.T) {
	t.Parallel()
	runDocCases(t, contract.KindSBOMSPDXJSON, []docCase{
		{file: "spdx/custody.spdx.json", want: map[string]string{
			"format": "SPDX", "spdxVersion": "SPDX-2.3", "name": "custody", "packageCount": "128",
			"componentCount": "128", "licenseCount": "8",
		}},
		{file: "spdx/go-sarif-2.2.spdx.json", want: map[string]string{
			"format": "SPDX", "spdxVersion": "SPDX-2.2", "name": "go-sarif", "packageCount": "10",
			"componentCount": "10", "licenseCount": "6",
		}},
		{file: "spdx/broken-no-spdxid.spdx.json", wantErr: []string{"SPDXID is missing"}},
		{file: "spdx/broken-no-spdx-version.spdx.json", wantErr: []string{"spdxVersion is missing"}},
		{file: "spdx/broken-spdx-version.spdx.json", wantErr: []string{`spdxVersion "SPDX-2.1" is not supported`, "SPDX-2.2 and SPDX-2.3"}},
		{file: "spdx/broken-no-creation-info.spdx.json", wantErr: []string{"creationInfo is missing"}},
		{file: "spdx/broken-no-namespace.spdx.json", wantErr: []string{"documentNamespace is missing"}},
		{file: "spdx/broken-dangling-relationship.spdx.json", wantErr: []string{"refers to SPDXRef-Package-missing, which the document does not define"}},
		{file: "spdx/broken-package-spdxid-prefix.spdx.json", wantErr: []string{"failed to parse ElementID: Package-no-prefix"}},
		{file: "spdx/broken-truncated.spdx.json", wantErr: []string{"read SPDX document", "unexpected end of document (truncated?)"}},
		{file: "cyclonedx/custody-mod.cdx.json", wantErr: []string{"no spdxVersion or SPDXID field"}, notThisKind: true},
		{file: "other/package.json", wantErr: []string{"no spdxVersion or SPDXID field"}, notThisKind: true},
	})
}

func TestCraftSPDX3Refused(t *testing.T) {
	t.Parallel()
	// The opening of an SPDX 3.0 JSON-LD document, as the SPDX 3 serialization specifies it.
	path := writeTemp(t, "sbom.spdx3.json", `{"@context": "https://spdx.org/rdf/3.0.1/spdx-context.jsonld", "@graph": []}`)
	_, err := newDocCrafter(t).Craft(t.Context(), contract.KindSBOMSPDXJSON, path)
	checkDocError(t, err, contract.KindSBOMSPDXJSON, path, []string{"SPDX 3 JSON-LD is not supported"}, false)
}

// A null where the SPDX JSON schema wants an element object is refused, naming the index, before
// tools-golang reads the document: tools-golang v0.5.7 panics on "packages": [null] (spdx/tools-golang
// json/test_fixtures/spdx2_3_null_package.json, and its SPDX 2.2 twin) and drops null relationships.
func TestCraftSPDXNullElements(t *testing.T) {
	t.Parallel()
	const pkg = `{"SPDXID": "SPDXRef-p", "name": "p", "downloadLocation": "NONE"}`
	for _, version := range spdxJSONVersions {
		for _, tc := range []struct{ elements, want string }{
			{`"packages": [null]`, "packages[0] is null"},
			{`"packages": [` + pkg + `, null]`, "packages[1] is null"},
			{`"files": [null]`, "files[0] is null"},
			{`"snippets": [null]`, "snippets[0] is null"},
			{`"relationships": [null]`, "relationships[0] is null"},
			{`"hasExtractedLicensingInfos": [null]`, "hasExtractedLicensingInfos[0] is null"},
			{`"annotations": [null]`, "annotations[0] is null"},
			{`"externalDocumentRefs": [null]`, "externalDocumentRefs[0] is null"},
		} {
			t.Run(version+" "+tc.want, func(t *testing.T) {
				t.Parallel()
				path := writeTemp(t, "sbom.spdx.json", `{"SPDXID": "SPDXRef-DOCUMENT", "spdxVersion": "`+version+`",
					"creationInfo": {"created": "2023-07-18T12:27:48Z", "creators": ["Tool: spdx-tools"]},
					"name": "null-package-doc", "dataLicense": "CC0-1.0", "documentNamespace": "test", `+tc.elements+`}`)
				_, err := newDocCrafter(t).Craft(t.Context(), contract.KindSBOMSPDXJSON, path)
				checkDocError(t, err, contract.KindSBOMSPDXJSON, path, []string{tc.want}, false)
			})
		}
	}
}

// The corpus's SPDX documents: componentCount and licenseCount (counted with python's json module) of
// the valid ones; tools-golang's null package refused, naming it.
func TestCraftSPDXCorpus(t *testing.T) {
	t.Parallel()
	for file, want := range map[string]string{
		"tools-golang-SPDXJSONExample-v2.3.spdx.json": "5 3",
		"chainloop-sbom-spdx-container.json":          "2 1",
		"tools-golang-spdx2_3_null_package.json":      "packages[0] is null",
	} {
		t.Run(file, func(t *testing.T) {
			t.Parallel()
			path := sharedCorpus(t, "spdx/"+file)
			m, err := newDocCrafter(t).Craft(t.Context(), contract.KindSBOMSPDXJSON, path)
			if strings.Contains(want, "null") {
				checkDocError(t, err, contract.KindSBOMSPDXJSON, path, []string{want}, false)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := m.Validated["componentCount"] + " " + m.Validated["licenseCount"]; got != want {
				t.Errorf("componentCount licenseCount = %s, want %s", got, want)
			}
		})
	}
}
