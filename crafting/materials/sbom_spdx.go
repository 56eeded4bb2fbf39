package materials

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"

	spdxjson "github.com/spdx/tools-golang/json"
	"github.com/spdx/tools-golang/spdx"
	"github.com/spdx/tools-golang/spdx/v2/common"

	"github.com/custody-dev/custody/attestation"
	"github.com/custody-dev/custody/contract"
)

func init() { register(contract.KindSBOMSPDXJSON, craftSPDX) }

// claimsSPDX: a top-level spdxVersion or SPDXID, or an SPDX 3 JSON-LD @context (refused by the
// validator with the reason).
func claimsSPDX(s *sniffed) bool {
	return s.has("spdxVersion") || s.has("SPDXID") || strings.Contains(string(s.keys["@context"]), "spdx.org/rdf/3")
}

func craftSPDX(ctx context.Context, c *Crafter, value string) (*attestation.Material, error) {
	return c.craftFile(ctx, value, validateSPDX)
}

// spdxJSONVersions are the SPDX versions that define a JSON serialization.
var spdxJSONVersions = []string{"SPDX-2.2", "SPDX-2.3"}

// validateSPDX accepts an SPDX 2.2 or 2.3 JSON document read by spdx tools-golang, with the
// document fields the spec makes mandatory and relationships that point at elements it defines.
// A JSON document with neither spdxVersion nor SPDXID is not SPDX at all.
func validateSPDX(f *os.File) (map[string]string, error) {
	top := scanTopLevel(f, []string{"spdxVersion"}, []string{"SPDXID"})
	if !top.has("spdxVersion") && !top.has("SPDXID") {
		ld := scanTopLevel(f, []string{"@context"}, nil)
		if ctx := string(ld.values["@context"]); strings.Contains(ctx, "spdx.org/rdf/3") {
			return nil, errors.New("SPDX 3 JSON-LD is not supported: want an SPDX 2.2 or 2.3 JSON document")
		}
		return nil, notThisKind("no spdxVersion or SPDXID field, not an SPDX JSON document", top)
	}
	version, ok := top.str("spdxVersion")
	switch {
	case !top.has("spdxVersion") && top.err != nil:
		return nil, fmt.Errorf("read SPDX document: %s", syntaxReason(top.err))
	case !top.has("spdxVersion"):
		return nil, errors.New("spdxVersion is missing")
	case !ok || !isOneOf(version, spdxJSONVersions):
		return nil, fmt.Errorf("spdxVersion %s is not supported (JSON is defined for %s)",
			top.values["spdxVersion"], strings.Join(spdxJSONVersions, " and "))
	}
	r, err := openDocument(f)
	if err != nil {
		return nil, err
	}
	doc, err := spdxjson.Read(r)
	if err != nil {
		return nil, fmt.Errorf("read SPDX document: %s", syntaxReason(err))
	}
	if err := checkSPDXDocument(doc); err != nil {
		return nil, err
	}
	return map[string]string{
		"format":       "SPDX",
		"spdxVersion":  version,
		"name":         doc.DocumentName,
		"packageCount": itoa(len(doc.Packages)),
	}, nil
}

// checkSPDXDocument checks the mandatory document creation fields (SPDX 2.3 clause 6) and that every
// package and file has an identifier, used once, that relationships refer to.
func checkSPDXDocument(doc *spdx.Document) error {
	switch {
	case doc.SPDXIdentifier == "":
		return errors.New("SPDXID is missing")
	case doc.SPDXIdentifier != "DOCUMENT":
		return fmt.Errorf("SPDXID is %q, want \"SPDXRef-DOCUMENT\"", "SPDXRef-"+doc.SPDXIdentifier)
	case doc.DataLicense != spdx.DataLicense:
		return fmt.Errorf("dataLicense is %q, want %q", doc.DataLicense, spdx.DataLicense)
	case doc.DocumentName == "":
		return errors.New("name is missing")
	case doc.DocumentNamespace == "":
		return errors.New("documentNamespace is missing")
	case doc.CreationInfo == nil:
		return errors.New("creationInfo is missing")
	case doc.CreationInfo.Created == "":
		return errors.New("creationInfo.created is missing")
	case len(doc.CreationInfo.Creators) == 0:
		return errors.New("creationInfo.creators is empty")
	}
	ids, err := spdxElementIDs(doc)
	if err != nil {
		return err
	}
	for i, rel := range doc.Relationships {
		for _, ref := range []common.DocElementID{rel.RefA, rel.RefB} {
			if ref.SpecialID != "" || ref.DocumentRefID != "" {
				continue // NONE, NOASSERTION, or an element of another document
			}
			if ref.ElementRefID == "" {
				return fmt.Errorf("relationships[%d] (%s) lacks an element on one side", i, rel.Relationship)
			}
			if !ids[ref.ElementRefID] {
				return fmt.Errorf("relationships[%d] refers to SPDXRef-%s, which the document does not define", i, ref.ElementRefID)
			}
		}
	}
	return nil
}

// spdxElementIDs collects the identifiers the document defines, refusing unnamed and repeated ones.
func spdxElementIDs(doc *spdx.Document) (map[common.ElementID]bool, error) {
	ids := map[common.ElementID]bool{doc.SPDXIdentifier: true}
	add := func(id common.ElementID, what string) error {
		if id == "" {
			return fmt.Errorf("%s has no SPDXID", what)
		}
		if ids[id] {
			return fmt.Errorf("%s: SPDXID SPDXRef-%s is used twice", what, id)
		}
		ids[id] = true
		return nil
	}
	for i, p := range doc.Packages {
		if p == nil {
			return nil, fmt.Errorf("packages[%d] is null", i)
		}
		if p.PackageName == "" {
			return nil, fmt.Errorf("packages[%d] (SPDXRef-%s) has no name", i, p.PackageSPDXIdentifier)
		}
		if err := add(p.PackageSPDXIdentifier, fmt.Sprintf("packages[%d] (%s)", i, p.PackageName)); err != nil {
			return nil, err
		}
	}
	for i, file := range doc.Files {
		if file == nil {
			return nil, fmt.Errorf("files[%d] is null", i)
		}
		if err := add(file.FileSPDXIdentifier, fmt.Sprintf("files[%d] (%s)", i, file.FileName)); err != nil {
			return nil, err
		}
	}
	for i, snippet := range doc.Snippets {
		if err := add(snippet.SnippetSPDXIdentifier, fmt.Sprintf("snippets[%d]", i)); err != nil {
			return nil, err
		}
	}
	// A package's own file list (tools-golang's model) may repeat files of doc.Files.
	for _, p := range doc.Packages {
		for _, file := range p.Files {
			if file != nil && file.FileSPDXIdentifier != "" {
				ids[file.FileSPDXIdentifier] = true
			}
		}
	}
	return ids, nil
}

func isOneOf(s string, set []string) bool {
	for _, x := range set {
		if s == x {
			return true
		}
	}
	return false
}
