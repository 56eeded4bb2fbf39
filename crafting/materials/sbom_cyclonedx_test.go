package materials

import (
	"testing"

	"github.com/custody-dev/custody/contract"
)

func TestCraftCycloneDX(t *testing.T) {
	t.Parallel()
	runDocCases(t, contract.KindSBOMCycloneDXJSON, []docCase{
		{file: "cyclonedx/custody-mod.cdx.json", want: map[string]string{
			"format": "CycloneDX", "specVersion": "1.6", "componentCount": "6",
			"mainComponent": "github.com/custody-dev/custody@v0.1.0",
		}},
		{file: "cyclonedx/custody-mod-1.4.cdx.json", want: map[string]string{
			"format": "CycloneDX", "specVersion": "1.4", "componentCount": "6",
			"mainComponent": "github.com/custody-dev/custody@v0.1.0",
		}},
		{file: "cyclonedx/broken-spec-version.cdx.json", wantErr: []string{`specVersion "1.9" is not supported`, "1.2 to 1.7"}},
		{file: "cyclonedx/broken-no-spec-version.cdx.json", wantErr: []string{"specVersion is missing"}},
		{file: "cyclonedx/broken-bom-format.cdx.json", wantErr: []string{`bomFormat is "cyclonedx", want "CycloneDX"`}},
		{file: "cyclonedx/broken-component-no-name.cdx.json", wantErr: []string{"components[2] has no name"}},
		{file: "cyclonedx/broken-components-type.cdx.json", wantErr: []string{"field components", "JSON object"}},
		{file: "cyclonedx/broken-truncated.cdx.json", wantErr: []string{"decode CycloneDX BOM", "unexpected end of JSON input"}},
		// Other formats are not CycloneDX at all.
		{file: "spdx/custody.spdx.json", wantErr: []string{"no bomFormat field"}, notThisKind: true},
		{file: "other/package.json", wantErr: []string{"no bomFormat field"}, notThisKind: true},
		{file: "other/custody-mod.cdx.xml", wantErr: []string{"no bomFormat field", "not JSON: the file reads as XML"}, notThisKind: true},
		{file: "helm/demo-0.1.0.tgz", wantErr: []string{"no bomFormat field"}, notThisKind: true},
	})
}
