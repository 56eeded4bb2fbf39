package materials

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"os"

	cdx "github.com/CycloneDX/cyclonedx-go"

	"github.com/custody-dev/custody/attestation"
	"github.com/custody-dev/custody/contract"
)

func init() { register(contract.KindSBOMCycloneDXJSON, craftCycloneDX) }

// claimsCycloneDX: a top-level bomFormat, whatever its value (a wrong one is this kind's error).
func claimsCycloneDX(s *sniffed) bool { return s.has("bomFormat") }

func craftCycloneDX(ctx context.Context, c *Crafter, value string) (*attestation.Material, error) {
	return c.craftFile(ctx, value, validateCycloneDX)
}

// CycloneDX JSON exists from spec 1.2 on; the newest version is the newest cyclonedx-go knows.
const (
	cdxOldest = cdx.SpecVersion1_2
	cdxNewest = cdx.SpecVersion1_7
)

// validateCycloneDX accepts a CycloneDX JSON BOM: bomFormat "CycloneDX", a specVersion from 1.2 on,
// valid against the official CycloneDX JSON schema of that version, then decoded by cyclonedx-go for
// what is recorded. A JSON document without bomFormat is not a CycloneDX BOM at all.
func validateCycloneDX(f *os.File) (map[string]string, error) {
	top := scanTopLevel(f, []string{"bomFormat", "specVersion"}, nil)
	if !top.has("bomFormat") {
		return nil, notThisKind("no bomFormat field, not a CycloneDX JSON BOM", top)
	}
	if format, _ := top.str("bomFormat"); format != "CycloneDX" {
		return nil, fmt.Errorf("bomFormat is %s, want \"CycloneDX\"", top.values["bomFormat"])
	}
	version, err := cdxSpecVersion(top)
	if err != nil {
		return nil, err
	}
	r, err := openDocument(f)
	if err != nil {
		return nil, err
	}
	if err := checkCDXSchema(r, version); err != nil {
		return nil, err
	}
	if r, err = openDocument(f); err != nil {
		return nil, err
	}
	var bom cdx.BOM
	if err := cdx.NewBOMDecoder(r, cdx.BOMFileFormatJSON).Decode(&bom); err != nil {
		return nil, fmt.Errorf("the BOM is valid against the CycloneDX %s JSON schema, but cyclonedx-go cannot read it: %s", version, syntaxReason(err))
	}
	licenses := map[string]bool{}
	validated := map[string]string{
		"format":         "CycloneDX",
		"specVersion":    bom.SpecVersion.String(),
		"componentCount": itoa(walkCDXComponents(bom.Components, licenses)),
	}
	validated["licenseCount"] = itoa(len(licenses))
	if main := cdxMainComponent(&bom); main != "" {
		validated["mainComponent"] = main
	}
	return validated, nil
}

// cdxSpecVersion reads the specVersion, worded when it is refused before the full decode would say
// only "invalid specification version".
func cdxSpecVersion(top topLevel) (cdx.SpecVersion, error) {
	raw, ok := top.values["specVersion"]
	if !ok {
		if top.err != nil {
			return 0, fmt.Errorf("decode CycloneDX BOM: %s", syntaxReason(top.err))
		}
		return 0, errors.New("specVersion is missing")
	}
	var v cdx.SpecVersion
	if err := v.UnmarshalJSON(raw); err != nil || v < cdxOldest || v > cdxNewest {
		return 0, fmt.Errorf("specVersion %s is not supported (CycloneDX JSON %s to %s)", raw, cdxOldest, cdxNewest)
	}
	return v, nil
}

// walkCDXComponents counts components, nested ones included, and adds the licences they name to
// licenses: a licence's SPDX id, else its name, or an SPDX expression, each once.
func walkCDXComponents(components *[]cdx.Component, licenses map[string]bool) int {
	if components == nil {
		return 0
	}
	n := 0
	for i := range *components {
		c := &(*components)[i]
		if c.Licenses != nil {
			for _, choice := range *c.Licenses {
				if l := choice.License; l != nil && cmp.Or(l.ID, l.Name) != "" {
					licenses[cmp.Or(l.ID, l.Name)] = true
				} else if choice.Expression != "" {
					licenses[choice.Expression] = true
				}
			}
		}
		n += 1 + walkCDXComponents(c.Components, licenses)
	}
	return n
}

// cdxMainComponent is metadata.component as name@version (name alone without a version).
func cdxMainComponent(bom *cdx.BOM) string {
	if bom.Metadata == nil || bom.Metadata.Component == nil {
		return ""
	}
	c := bom.Metadata.Component
	name := c.Name
	if c.Group != "" {
		name = c.Group + "/" + c.Name
	}
	if c.Version == "" {
		return name
	}
	return name + "@" + c.Version
}
