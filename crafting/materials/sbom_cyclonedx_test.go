package materials

import (
	"io"
	"os"
	"strings"
	"testing"

	cdx "github.com/CycloneDX/cyclonedx-go"

	"github.com/custody-dev/custody/contract"
)

func TestCraftCycloneDX(t *testing.T) {
	t.Parallel()
	runDocCases(t, contract.KindSBOMCycloneDXJSON, []docCase{
		{file: "cyclonedx/custody-mod.cdx.json", want: map[string]string{
			"format": "CycloneDX", "specVersion": "1.6", "componentCount": "6", "licenseCount": "0",
			"mainComponent": "github.com/custody-dev/custody@v0.1.0",
		}},
		{file: "cyclonedx/custody-mod-1.4.cdx.json", want: map[string]string{
			"format": "CycloneDX", "specVersion": "1.4", "componentCount": "6", "licenseCount": "0",
			"mainComponent": "github.com/custody-dev/custody@v0.1.0",
		}},
		{file: "cyclonedx/broken-spec-version.cdx.json", wantErr: []string{`specVersion "1.9" is not supported`, "1.2 to 1.7"}},
		{file: "cyclonedx/broken-no-spec-version.cdx.json", wantErr: []string{"specVersion is missing"}},
		{file: "cyclonedx/broken-bom-format.cdx.json", wantErr: []string{`bomFormat is "cyclonedx", want "CycloneDX"`}},
		{file: "cyclonedx/broken-component-no-name.cdx.json", wantErr: []string{"CycloneDX 1.6 JSON schema: /components/2: missing property 'name'"}},
		{file: "cyclonedx/broken-components-type.cdx.json", wantErr: []string{"CycloneDX 1.6 JSON schema: /components: got object, want array"}},
		{file: "cyclonedx/broken-truncated.cdx.json", wantErr: []string{"decode CycloneDX BOM", "unexpected end of document (truncated?)"}},
		// Other formats are not CycloneDX at all.
		{file: "spdx/custody.spdx.json", wantErr: []string{"no bomFormat field"}, notThisKind: true},
		{file: "other/package.json", wantErr: []string{"no bomFormat field"}, notThisKind: true},
		{file: "other/custody-mod.cdx.xml", wantErr: []string{"no bomFormat field", "not JSON: the file reads as XML"}, notThisKind: true},
		{file: "helm/demo-0.1.0.tgz", wantErr: []string{"no bomFormat field"}, notThisKind: true},
	})
}

// minimalCDX is a CycloneDX 1.6 BOM of one component, with extra members in that component.
func minimalCDX(component string) string {
	return `{"bomFormat": "CycloneDX", "specVersion": "1.6", "version": 1,
		"components": [{"type": "library", "name": "left-pad", "version": "1.3.0"` + component + `}]}`
}

// The BOM is validated against the official CycloneDX JSON schema of its specVersion: what the
// schema refuses is refused with the JSON pointer of the value at fault and the schema's reason.
func TestCraftCycloneDXSchema(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, json string
		wantErr    []string
	}{
		{name: "valid", json: minimalCDX(`, "hashes": [{"alg": "MD5", "content": "6a2d0f4cb4b8b8d4e6d1c9a39a3b4a0f"}]`)},
		{name: "a component type outside the enum", json: minimalCDX(`, "type": "foo"`),
			wantErr: []string{"not valid against the CycloneDX 1.6 JSON schema: /components/0/type: value must be one of 'application'"}},
		{name: "a malformed hash", json: minimalCDX(`, "hashes": [{"alg": "MD5", "content": "foo"}]`),
			wantErr: []string{"/components/0/hashes/0/content: 'foo' does not match pattern"}},
		// Each fault is named in at most 320 bytes, cut on a character.
		{name: "a fault quoting a long value", json: minimalCDX(`, "hashes": [{"alg": "MD5", "content": "` + strings.Repeat("é", 5000) + `"}]`),
			wantErr: []string{"/components/0/hashes/0/content: 'éééé", "é..."}},
		{name: "an unknown member", json: minimalCDX(`, "colour": "red"`),
			wantErr: []string{"/components/0: additional properties 'colour' not allowed"}},
		{name: "several faults, the first three named", json: `{"bomFormat": "CycloneDX", "specVersion": "1.6",
			"components": [{"type": "x", "name": "a"}, {"type": "y", "name": "b"}, {"type": "z", "name": "c"}, {"type": "w", "name": "d"}]}`,
			wantErr: []string{"/components/0/type", "/components/1/type", "/components/2/type", "; and 1 more"}},
		// CycloneDX 1.2 and 1.3 require the BOM's version, 1.4 on a component's too.
		{name: "1.2 without the BOM version", json: `{"bomFormat": "CycloneDX", "specVersion": "1.2", "components": []}`,
			wantErr: []string{"CycloneDX 1.2 JSON schema: /: missing property 'version'"}},
		// A null member is read as absent (JFrog Xray writes "cwes": null): valid where the member is optional.
		{name: "null members", json: `{"bomFormat": "CycloneDX", "specVersion": "1.5", "metadata": null,
			"vulnerabilities": [{"id": "CVE-2025-4949", "cwes": null}]}`},
		{name: "a null required member", json: minimalCDX(`, "name": null`),
			wantErr: []string{"/components/0: missing property 'name'"}},
		// The specification's valid-attestation-1.6.json declares evidence data of classification "PII",
		// which cyclonedx-go v0.12.0 models as an object: it cannot read the BOM the schema accepts.
		{name: "valid, but not for cyclonedx-go", json: `{"bomFormat": "CycloneDX", "specVersion": "1.6",
			"declarations": {"evidence": [{"propertyName": "p", "data": [{"name": "n", "classification": "PII"}]}]}}`,
			wantErr: []string{"the BOM is valid against the CycloneDX 1.6 JSON schema, but cyclonedx-go cannot read it: field declarations.evidence.data.classification"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			path := writeTemp(t, "bom.cdx.json", tc.json)
			m, err := newDocCrafter(t).Craft(t.Context(), contract.KindSBOMCycloneDXJSON, path)
			if tc.wantErr == nil {
				if err != nil {
					t.Fatal(err)
				}
				if m.Validated["format"] != "CycloneDX" {
					t.Errorf("Validated = %v", m.Validated)
				}
				return
			}
			checkDocError(t, err, contract.KindSBOMCycloneDXJSON, path, tc.wantErr, false)
			if len(err.Error()) > len(path)+100+cdxSchemaErrors*(cdxSchemaReason+5) {
				t.Errorf("error of %d bytes: %.200s...", len(err.Error()), err)
			}
		})
	}
}

// licenseCount counts the distinct licences of the components, nested ones included: an SPDX id,
// else a name, or an expression.
func TestCraftCycloneDXLicenses(t *testing.T) {
	t.Parallel()
	path := writeTemp(t, "bom.cdx.json", `{"bomFormat": "CycloneDX", "specVersion": "1.6",
		"metadata": {"component": {"type": "application", "name": "app", "licenses": [{"license": {"id": "BSD-3-Clause"}}]}},
		"components": [
			{"type": "library", "name": "a", "licenses": [{"license": {"id": "MIT"}}, {"license": {"id": "Apache-2.0"}}]},
			{"type": "library", "name": "b", "licenses": [{"license": {"id": "MIT"}}],
				"components": [{"type": "library", "name": "b1", "licenses": [{"license": {"name": "Acme Proprietary"}}]}]},
			{"type": "library", "name": "c", "licenses": [{"expression": "MIT OR GPL-2.0-only"}]},
			{"type": "library", "name": "d"}]}`)
	m, err := newDocCrafter(t).Craft(t.Context(), contract.KindSBOMCycloneDXJSON, path)
	if err != nil {
		t.Fatal(err)
	}
	// MIT, Apache-2.0, Acme Proprietary, MIT OR GPL-2.0-only; not metadata.component's.
	if m.Validated["componentCount"] != "5" || m.Validated["licenseCount"] != "4" {
		t.Errorf("Validated = %v, want componentCount 5, licenseCount 4", m.Validated)
	}
}

// The CycloneDX files of the corpus get the verdicts of the specification's conformance suite and
// of chainloop's tests.
func TestCraftCycloneDXCorpus(t *testing.T) {
	t.Parallel()
	// componentCount and licenseCount of some of the valid ones, counted with python's json module.
	counts := map[string][2]string{
		"bom-examples-laravel-bom.1.2.json": {"62", "3"},
		"chainloop-sbom.cyclonedx-1.5.json": {"250", "1"},
		"spec-valid-bom-1.7.json":           {"3", "3"},
	}
	for file, wantErr := range map[string]string{
		"bom-examples-cisa-vex-affected.json":                  "",
		"bom-examples-laravel-bom.1.2.json":                    "",
		"chainloop-sbom.cyclonedx-1.4-empty-tool-version.json": "",
		"chainloop-sbom.cyclonedx-1.5-null-cwes.json":          "",
		"chainloop-sbom.cyclonedx-1.5.json":                    "",
		"chainloop-sbom.cyclonedx-1.6-cbom.json":               "",
		"spec-valid-bom-1.7.json":                              "",
		"chainloop-sbom.cyclonedx-invalid-schema.json":         "/components: got string, want array",
		"spec-invalid-bomformat-1.6.json":                      `bomFormat is "AnotherFormat", want "CycloneDX"`,
		"spec-invalid-component-type-1.6.json":                 "/components/0/type: value must be one of 'application', 'framework'",
		"spec-invalid-hash-md5-1.6.json":                       "/components/0/hashes/0/content: 'foo' does not match pattern",
		"spec-invalid-missing-component-type-1.6.json":         "/components/0: missing property 'type'",
	} {
		t.Run(file, func(t *testing.T) {
			t.Parallel()
			path := sharedCorpus(t, "cyclonedx/"+file)
			m, err := newDocCrafter(t).Craft(t.Context(), contract.KindSBOMCycloneDXJSON, path)
			if wantErr == "" {
				if err != nil {
					t.Fatal(err)
				}
				if want, ok := counts[file]; ok && (m.Validated["componentCount"] != want[0] || m.Validated["licenseCount"] != want[1]) {
					t.Errorf("componentCount, licenseCount = %s, %s; want %s, %s",
						m.Validated["componentCount"], m.Validated["licenseCount"], want[0], want[1])
				}
				return
			}
			checkDocError(t, err, contract.KindSBOMCycloneDXJSON, path, []string{wantErr}, false)
		})
	}
}

// BenchmarkCycloneDXSchema measures what the schema costs on the corpus's largest BOM (chainloop's
// syft SBOM of 1.5, 374 KB): compiling the 1.5 schema (once per process, on first use), decoding and
// validating against it, cyclonedx-go's decode, and the whole validator with both.
func BenchmarkCycloneDXSchema(b *testing.B) {
	path := sharedCorpus(b, "cyclonedx/chainloop-sbom.cyclonedx-1.5.json")
	open := func(b *testing.B) *os.File {
		f, err := os.Open(path)
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { f.Close() })
		return f
	}
	b.Run("compile", func(b *testing.B) {
		for b.Loop() {
			if _, err := compileCDXSchema(cdx.SpecVersion1_5); err != nil {
				b.Fatal(err)
			}
		}
	})
	read := func(name string, fn func(io.Reader) error) {
		b.Run(name, func(b *testing.B) {
			f := open(b)
			for b.Loop() {
				r, err := openDocument(f)
				if err != nil {
					b.Fatal(err)
				}
				if err := fn(r); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
	read("schema", func(r io.Reader) error { return checkCDXSchema(r, cdx.SpecVersion1_5) })
	read("cyclonedx-go", func(r io.Reader) error {
		var bom cdx.BOM
		return cdx.NewBOMDecoder(r, cdx.BOMFileFormatJSON).Decode(&bom)
	})
	b.Run("validator", func(b *testing.B) {
		f := open(b)
		for b.Loop() {
			if _, err := validateCycloneDX(f); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// The schema loader serves the embedded schemas only: any other URL is refused, never fetched.
func TestEmbeddedCDXSchemasLoader(t *testing.T) {
	t.Parallel()
	for url, wantErr := range map[string]string{
		cdxSchemaBase + "bom-1.6.schema.json":              "",
		cdxSchemaBase + "spdx.schema.json":                 "",
		cdxSchemaBase + "bom-1.1.schema.json":              "is not an embedded CycloneDX schema",
		"https://cyclonedx.org/schema/bom-1.6.schema.json": "is not an embedded CycloneDX schema",
		"https://example.com/evil.schema.json":             "schemas are never fetched",
		cdxSchemaBase + "../etc/passwd":                    "schemas are never fetched",
		"file:///etc/passwd":                               "schemas are never fetched",
	} {
		doc, err := embeddedCDXSchemas{}.Load(url)
		switch {
		case wantErr == "" && (err != nil || doc == nil):
			t.Errorf("Load(%s) = %v, %v; want the schema", url, doc, err)
		case wantErr != "" && (err == nil || !strings.Contains(err.Error(), wantErr)):
			t.Errorf("Load(%s) = %v; want an error saying %q", url, err, wantErr)
		}
	}
}
