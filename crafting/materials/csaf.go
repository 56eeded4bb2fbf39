package materials

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"

	"github.com/custody-dev/custody/attestation"
	"github.com/custody-dev/custody/contract"
)

func init() { register(contract.KindCSAFVEX, craftCSAF) }

// claimsCSAF: a top-level document object with a csaf_version, or too large a document object to
// look into within the sniffed prefix.
func claimsCSAF(s *sniffed) bool {
	raw, ok := s.keys["document"]
	if !ok {
		return false
	}
	var head struct {
		CSAFVersion *string `json:"csaf_version"`
	}
	return raw == nil || json.Unmarshal(raw, &head) == nil && head.CSAFVersion != nil
}

func craftCSAF(ctx context.Context, c *Crafter, value string) (*attestation.Material, error) {
	return c.craftFile(ctx, value, validateCSAF)
}

const (
	csafVersion     = "2.0"
	csafVEXCategory = "csaf_vex"
)

// csafDocument holds what CSAF 2.0 and its VEX profile (section 4.5) make mandatory.
type csafDocument struct {
	Document *struct {
		Category    string `json:"category"`
		CSAFVersion string `json:"csaf_version"`
		Title       string `json:"title"`
		Publisher   *struct {
			Category  string `json:"category"`
			Name      string `json:"name"`
			Namespace string `json:"namespace"`
		} `json:"publisher"`
		Tracking *struct {
			ID                 string            `json:"id"`
			Status             string            `json:"status"`
			Version            string            `json:"version"`
			InitialReleaseDate string            `json:"initial_release_date"`
			CurrentReleaseDate string            `json:"current_release_date"`
			RevisionHistory    []json.RawMessage `json:"revision_history"`
		} `json:"tracking"`
		Notes []json.RawMessage `json:"notes"`
	} `json:"document"`
	ProductTree     *csafProductTree    `json:"product_tree"`
	Vulnerabilities []csafVulnerability `json:"vulnerabilities"`
}

type csafProductTree struct {
	Branches         []csafBranch  `json:"branches"`
	FullProductNames []csafProduct `json:"full_product_names"`
	Relationships    []struct {
		FullProductName csafProduct `json:"full_product_name"`
	} `json:"relationships"`
	ProductGroups []struct {
		GroupID    string   `json:"group_id"`
		ProductIDs []string `json:"product_ids"`
	} `json:"product_groups"`
}

type csafBranch struct {
	Product  *csafProduct `json:"product"`
	Branches []csafBranch `json:"branches"`
}

type csafProduct struct {
	ProductID string `json:"product_id"`
}

type csafVulnerability struct {
	CVE           string            `json:"cve"`
	IDs           []json.RawMessage `json:"ids"`
	Notes         []json.RawMessage `json:"notes"`
	ProductStatus *struct {
		Fixed              []string `json:"fixed"`
		KnownAffected      []string `json:"known_affected"`
		KnownNotAffected   []string `json:"known_not_affected"`
		UnderInvestigation []string `json:"under_investigation"`
	} `json:"product_status"`
	Flags        []csafProductRef `json:"flags"`
	Threats      []csafThreat     `json:"threats"`
	Remediations []csafProductRef `json:"remediations"`
}

// csafProductRef is anything that applies to products directly or through product groups.
type csafProductRef struct {
	ProductIDs []string `json:"product_ids"`
	GroupIDs   []string `json:"group_ids"`
}

type csafThreat struct {
	Category string `json:"category"`
	csafProductRef
}

// validateCSAF accepts a CSAF 2.0 document of category csaf_vex with the fields CSAF 2.0 makes
// mandatory and the VEX profile's rules: a product tree, vulnerabilities that each name a CVE or an
// id, carry notes and a product status; product ids defined in the tree; an impact statement for
// every known_not_affected product and a remediation for every known_affected one. A JSON document
// without document.csaf_version is not CSAF at all; CSAF of another category is refused.
func validateCSAF(f *os.File) (map[string]string, error) {
	top := scanTopLevel(f, []string{"document"}, nil)
	var head struct {
		CSAFVersion *string `json:"csaf_version"`
		Category    string  `json:"category"`
	}
	if raw, ok := top.values["document"]; !ok || json.Unmarshal(raw, &head) != nil || head.CSAFVersion == nil {
		return nil, notThisKind("no document.csaf_version field, not a CSAF document", top)
	}
	if *head.CSAFVersion != csafVersion {
		return nil, fmt.Errorf("document.csaf_version %q is not supported (CSAF %s)", *head.CSAFVersion, csafVersion)
	}
	if head.Category != csafVEXCategory {
		return nil, fmt.Errorf("document.category is %q, want %q: a CSAF advisory that is not VEX can be added as EVIDENCE",
			head.Category, csafVEXCategory)
	}
	r, err := openDocument(f)
	if err != nil {
		return nil, err
	}
	var doc csafDocument
	if err := decodeJSON(r, &doc); err != nil {
		return nil, fmt.Errorf("read CSAF document: %s", syntaxReason(err))
	}
	if err := checkCSAFDocument(&doc); err != nil {
		return nil, err
	}
	if err := checkCSAFVEX(&doc); err != nil {
		return nil, err
	}
	return map[string]string{
		"format":             "CSAF",
		"csafVersion":        csafVersion,
		"category":           csafVEXCategory,
		"trackingId":         doc.Document.Tracking.ID,
		"publisher":          doc.Document.Publisher.Name,
		"vulnerabilityCount": itoa(len(doc.Vulnerabilities)),
	}, nil
}

// checkCSAFDocument checks the document properties CSAF 2.0 (3.2.1) makes mandatory.
func checkCSAFDocument(doc *csafDocument) error {
	d := doc.Document
	switch {
	case d.Title == "":
		return errors.New("document.title is missing")
	case d.Publisher == nil:
		return errors.New("document.publisher is missing")
	case d.Publisher.Category == "" || d.Publisher.Name == "" || d.Publisher.Namespace == "":
		return errors.New("document.publisher needs category, name and namespace")
	case d.Tracking == nil:
		return errors.New("document.tracking is missing")
	case d.Tracking.ID == "":
		return errors.New("document.tracking.id is missing")
	case d.Tracking.Status == "" || d.Tracking.Version == "":
		return errors.New("document.tracking needs status and version")
	case d.Tracking.InitialReleaseDate == "" || d.Tracking.CurrentReleaseDate == "":
		return errors.New("document.tracking needs initial_release_date and current_release_date")
	case len(d.Tracking.RevisionHistory) == 0:
		return errors.New("document.tracking.revision_history is empty")
	}
	return nil
}

// checkCSAFVEX checks the rules of the VEX profile (CSAF 2.0 section 4.5) and that every product
// id a vulnerability refers to is defined in the product tree (mandatory test 6.1.1).
func checkCSAFVEX(doc *csafDocument) error {
	if doc.ProductTree == nil {
		return errors.New("product_tree is missing (required by the VEX profile)")
	}
	if len(doc.Vulnerabilities) == 0 {
		return errors.New("vulnerabilities is empty (required by the VEX profile)")
	}
	products, groups := csafProducts(doc.ProductTree)
	for i := range doc.Vulnerabilities {
		if err := checkCSAFVulnerability(&doc.Vulnerabilities[i], products, groups); err != nil {
			return fmt.Errorf("vulnerabilities[%d]: %w", i, err)
		}
	}
	return nil
}

func checkCSAFVulnerability(v *csafVulnerability, products map[string]bool, groups map[string][]string) error {
	if v.CVE == "" && len(v.IDs) == 0 {
		return errors.New("neither cve nor ids is set")
	}
	if len(v.Notes) == 0 {
		return errors.New("notes is empty")
	}
	ps := v.ProductStatus
	if ps == nil || len(ps.Fixed)+len(ps.KnownAffected)+len(ps.KnownNotAffected)+len(ps.UnderInvestigation) == 0 {
		return errors.New("product_status lists no fixed, known_affected, known_not_affected or under_investigation product")
	}
	for _, list := range [][]string{ps.Fixed, ps.KnownAffected, ps.KnownNotAffected, ps.UnderInvestigation} {
		for _, id := range list {
			if !products[id] {
				return fmt.Errorf("product_status refers to product %q, which the product_tree does not define", id)
			}
		}
	}
	impact := map[string]bool{}
	for _, flag := range v.Flags {
		expand(flag, groups, impact)
	}
	for _, t := range v.Threats {
		if t.Category == "impact" {
			expand(t.csafProductRef, groups, impact)
		}
	}
	for _, id := range ps.KnownNotAffected {
		if !impact[id] {
			return fmt.Errorf("known_not_affected product %q has no impact statement (a flag or an impact threat)", id)
		}
	}
	remediated := map[string]bool{}
	for _, r := range v.Remediations {
		expand(r, groups, remediated)
	}
	for _, id := range ps.KnownAffected {
		if !remediated[id] {
			return fmt.Errorf("known_affected product %q has no remediation (action statement)", id)
		}
	}
	return nil
}

// csafProducts collects the product ids the tree defines and its product groups.
func csafProducts(tree *csafProductTree) (map[string]bool, map[string][]string) {
	products := map[string]bool{}
	var walk func([]csafBranch)
	walk = func(branches []csafBranch) {
		for _, b := range branches {
			if b.Product != nil && b.Product.ProductID != "" {
				products[b.Product.ProductID] = true
			}
			walk(b.Branches)
		}
	}
	walk(tree.Branches)
	for _, p := range tree.FullProductNames {
		products[p.ProductID] = true
	}
	for _, rel := range tree.Relationships {
		products[rel.FullProductName.ProductID] = true
	}
	groups := map[string][]string{}
	for _, g := range tree.ProductGroups {
		groups[g.GroupID] = g.ProductIDs
	}
	return products, groups
}

// expand adds the products ref names, directly or through its groups, to into.
func expand(ref csafProductRef, groups map[string][]string, into map[string]bool) {
	for _, id := range ref.ProductIDs {
		into[id] = true
	}
	for _, g := range ref.GroupIDs {
		for _, id := range groups[g] {
			into[id] = true
		}
	}
}
