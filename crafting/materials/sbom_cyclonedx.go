package materials

import (
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
// decoded by cyclonedx-go, every component named and typed. A JSON document without bomFormat is
// not a CycloneDX BOM at all.
func validateCycloneDX(f *os.File) (map[string]string, error) {
	top := scanTopLevel(f, []string{"bomFormat", "specVersion"}, nil)
	if !top.has("bomFormat") {
		return nil, notThisKind("no bomFormat field, not a CycloneDX JSON BOM", top)
	}
	if format, _ := top.str("bomFormat"); format != "CycloneDX" {
		return nil, fmt.Errorf("bomFormat is %s, want \"CycloneDX\"", top.values["bomFormat"])
	}
	if err := checkCDXSpecVersion(top); err != nil {
		return nil, err
	}
	r, err := openDocument(f)
	if err != nil {
		return nil, err
	}
	var bom cdx.BOM
	if err := cdx.NewBOMDecoder(r, cdx.BOMFileFormatJSON).Decode(&bom); err != nil {
		return nil, fmt.Errorf("decode CycloneDX BOM: %s", syntaxReason(err))
	}
	count, err := countCDXComponents(bom.Components, "components")
	if err != nil {
		return nil, err
	}
	if bom.Metadata != nil && bom.Metadata.Component != nil {
		if _, err := countCDXComponents(&[]cdx.Component{*bom.Metadata.Component}, "metadata.component"); err != nil {
			return nil, err
		}
	}
	validated := map[string]string{
		"format":         "CycloneDX",
		"specVersion":    bom.SpecVersion.String(),
		"componentCount": itoa(count),
	}
	if main := cdxMainComponent(&bom); main != "" {
		validated["mainComponent"] = main
	}
	return validated, nil
}

// checkCDXSpecVersion words the reason a specVersion is refused before the full decode would say
// only "invalid specification version".
func checkCDXSpecVersion(top topLevel) error {
	raw, ok := top.values["specVersion"]
	if !ok {
		if top.err != nil {
			return fmt.Errorf("decode CycloneDX BOM: %s", syntaxReason(top.err))
		}
		return errors.New("specVersion is missing")
	}
	var v cdx.SpecVersion
	if err := v.UnmarshalJSON(raw); err != nil || v < cdxOldest || v > cdxNewest {
		return fmt.Errorf("specVersion %s is not supported (CycloneDX JSON %s to %s)", raw, cdxOldest, cdxNewest)
	}
	return nil
}

// countCDXComponents counts components, nested ones included, and checks each has the name and
// type the schema requires.
func countCDXComponents(components *[]cdx.Component, path string) (int, error) {
	if components == nil {
		return 0, nil
	}
	n := 0
	for i := range *components {
		comp := &(*components)[i]
		where := fmt.Sprintf("%s[%d]", path, i)
		if comp.Name == "" {
			return 0, fmt.Errorf("%s has no name", where)
		}
		if comp.Type == "" {
			return 0, fmt.Errorf("%s (%s) has no type", where, comp.Name)
		}
		nested, err := countCDXComponents(comp.Components, where+".components")
		if err != nil {
			return 0, err
		}
		n += 1 + nested
	}
	return n, nil
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
