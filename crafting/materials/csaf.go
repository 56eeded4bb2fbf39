package materials

import (
	"bytes"
	"context"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"os"
	"slices"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/custody-dev/custody/attestation"
	"github.com/custody-dev/custody/contract"
)

// The CSAF core the four CSAF kinds share: one kind per profile of CSAF 2.0 section 4 (the
// document's category decides which), each checked against the official CSAF JSON schema of the
// document's csaf_version and the profile's rules. CSAF_VEX's profile is here too; the others are
// in csaf_*.go.

// csafProfile is one CSAF profile as a material kind.
type csafProfile struct {
	kind     contract.Kind
	category string // document.category
	// check applies the profile's rules (section 4, mandatory tests 6.1.27) beyond CSAF Base.
	check func(*csafDocument) error
}

var csafVEX = csafProfile{kind: contract.KindCSAFVEX, category: "csaf_vex", check: checkCSAFVEX}

func init() { registerCSAF(csafVEX) }

// registerCSAF registers a profile's kind.
func registerCSAF(p csafProfile) {
	register(p.kind, func(ctx context.Context, c *Crafter, value string) (*attestation.Material, error) {
		return c.craftFile(ctx, value, p.validate)
	})
}

// csafProfiles are the profiles custody has a kind for, by category.
func csafProfiles() []csafProfile {
	return []csafProfile{csafVEX, csafSecurityAdvisory, csafInformationalAdvisory, csafSecurityIncidentResponse}
}

// csafSchemaFS holds the official CSAF JSON schemas and the schemas they refer to
// (schemas/csaf/README.md says where each comes from).
//
//go:embed schemas/csaf
var csafSchemaFS embed.FS

// csafSchemas are the CSAF versions custody reads, each with its official schema.
var csafSchemas = map[string]*embeddedSchema{
	"2.0": {fsys: csafSchemaFS, main: "https://docs.oasis-open.org/csaf/csaf/v2.0/csaf_json_schema.json", files: map[string]string{
		"https://docs.oasis-open.org/csaf/csaf/v2.0/csaf_json_schema.json": "schemas/csaf/2.0/csaf_json_schema.json",
		"https://www.first.org/cvss/cvss-v2.0.json":                        "schemas/csaf/first/cvss-v2.0.json",
		"https://www.first.org/cvss/cvss-v3.0.json":                        "schemas/csaf/first/cvss-v3.0.json",
		"https://www.first.org/cvss/cvss-v3.1.json":                        "schemas/csaf/first/cvss-v3.1.json",
	}},
	"2.1": {fsys: csafSchemaFS, main: "https://docs.oasis-open.org/csaf/csaf/v2.1/schema/csaf.json", files: map[string]string{
		"https://docs.oasis-open.org/csaf/csaf/v2.1/schema/csaf.json":                  "schemas/csaf/2.1/csaf.json",
		"https://docs.oasis-open.org/csaf/csaf/v2.1/schema/meta.json":                  "schemas/csaf/2.1/meta.json",
		"https://docs.oasis-open.org/csaf/csaf/v2.1/schema/extension-content.json":     "schemas/csaf/2.1/extension-content.json",
		"https://docs.oasis-open.org/csaf/csaf/v2.1/schema/extension-metaschema.json":  "schemas/csaf/2.1/extension-metaschema.json",
		"https://www.first.org/cvss/cvss-v2.0.json":                                    "schemas/csaf/first/cvss-v2.0.json",
		"https://www.first.org/cvss/cvss-v3.0.json":                                    "schemas/csaf/first/cvss-v3.0.json",
		"https://www.first.org/cvss/cvss-v3.1.json":                                    "schemas/csaf/first/cvss-v3.1.json",
		"https://www.first.org/cvss/cvss-v4.0.json":                                    "schemas/csaf/first/cvss-v4.0.json",
		"https://www.first.org/cvss/meta.json":                                         "schemas/csaf/first/meta.json",
		"https://certcc.github.io/SSVC/data/schema/v2/SelectionList_2_0_0.schema.json": "schemas/csaf/certcc/SelectionList_2_0_0.schema.json",
	}},
}

// csafDocument holds what the CSAF kinds check beyond the schema and what they record.
type csafDocument struct {
	Document struct {
		Category    string `json:"category"`
		CSAFVersion string `json:"csaf_version"`
		Publisher   struct {
			Name string `json:"name"`
		} `json:"publisher"`
		Tracking struct {
			ID string `json:"id"`
		} `json:"tracking"`
		Notes      []csafCategorized `json:"notes"`
		References []csafCategorized `json:"references"`
	} `json:"document"`
	ProductTree     *csafProductTree    `json:"product_tree"`
	Vulnerabilities []csafVulnerability `json:"vulnerabilities"`
}

// csafCategorized is a note or a reference: what the profiles look at is its category.
type csafCategorized struct {
	Category string `json:"category"`
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
	CVE           string             `json:"cve"`
	IDs           []json.RawMessage  `json:"ids"`
	Notes         []json.RawMessage  `json:"notes"`
	ProductStatus *csafProductStatus `json:"product_status"`
	Flags         []csafProductRef   `json:"flags"`
	Threats       []csafThreat       `json:"threats"`
	Remediations  []csafProductRef   `json:"remediations"`
}

type csafProductStatus struct {
	FirstAffected      []string `json:"first_affected"`
	FirstFixed         []string `json:"first_fixed"`
	Fixed              []string `json:"fixed"`
	KnownAffected      []string `json:"known_affected"`
	KnownNotAffected   []string `json:"known_not_affected"`
	LastAffected       []string `json:"last_affected"`
	Recommended        []string `json:"recommended"`
	UnderInvestigation []string `json:"under_investigation"`
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

// csafSupported names the versions of csafSchemas, for errors.
const csafSupported = "CSAF 2.0 or 2.1"

// claims: a top-level document object with a csaf_version and the profile's category. Too large
// a document object to look into within the sniffed prefix is claimed by CSAF_VEX (claimsCSAFVEX).
func (p csafProfile) claims(s *sniffed) bool {
	version, category, ok := csafHead(s.keys)
	return ok && version != nil && category == p.category
}

// claimsCSAFVEX: a CSAF document of category csaf_vex, or of a category no other CSAF kind takes
// (this kind's error then names the category), or whose document object the prefix cannot show.
func claimsCSAFVEX(s *sniffed) bool {
	version, category, ok := csafHead(s.keys)
	if !ok {
		return false
	}
	if version == nil {
		return s.keys["document"] == nil // present, but too large to look into
	}
	return !slices.ContainsFunc(csafProfiles(), func(p csafProfile) bool { return p.kind != csafVEX.kind && p.category == category })
}

// csafHead reads document.csaf_version and document.category from a top-level document object.
func csafHead(keys map[string]json.RawMessage) (version *string, category string, ok bool) {
	raw, ok := keys["document"]
	if !ok {
		return nil, "", false
	}
	var head struct {
		CSAFVersion *string `json:"csaf_version"`
		Category    string  `json:"category"`
	}
	if raw != nil && json.Unmarshal(raw, &head) != nil {
		return nil, "", false
	}
	return head.CSAFVersion, head.Category, true
}

// validate accepts a CSAF document of the profile's category that the official JSON schema of its
// csaf_version accepts (so every property CSAF makes mandatory is there) and that follows the
// profile's rules. A JSON document without document.csaf_version is not CSAF at all; CSAF of another
// category is refused, naming the kind that takes it.
func (p csafProfile) validate(f *os.File) (map[string]string, error) {
	top := scanTopLevel(f, []string{"document"}, nil)
	head, _, ok := csafHead(top.values) // scanTopLevel reads on past the prefix for a late document object
	if !ok || head == nil && top.values["document"] != nil {
		return nil, notThisKind("no document.csaf_version field, not a CSAF document", top)
	}
	data, err := readDocument(f)
	if err != nil {
		return nil, err
	}
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("read CSAF document: %s", syntaxReason(err))
	}
	root, _ := inst.(map[string]any)
	document, _ := root["document"].(map[string]any)
	version, ok := document["csaf_version"].(string)
	if !ok {
		return nil, fmt.Errorf("no document.csaf_version field, not a CSAF document: %w", ErrNotThisKind)
	}
	schema, ok := csafSchemas[version]
	if !ok {
		return nil, fmt.Errorf("document.csaf_version %q is not supported (%s)", version, csafSupported)
	}
	category, _ := document["category"].(string)
	if err := p.checkCategory(category); err != nil {
		return nil, err
	}
	if err := schema.validate(inst); err != nil {
		return nil, fmt.Errorf("CSAF %s %w", version, err)
	}
	inst = nil // the typed decoding below need not share memory with it
	var doc csafDocument
	if err := json.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("read CSAF document: %s", syntaxReason(err))
	}
	if err := p.check(&doc); err != nil {
		return nil, err
	}
	return csafSummary(&doc), nil
}

// checkCategory refuses a document of another category, naming the kind that takes it.
func (p csafProfile) checkCategory(category string) error {
	if category == p.category {
		return nil
	}
	for _, other := range csafProfiles() {
		if other.category == category {
			return fmt.Errorf("document.category is %q, want %q: add it as %s", category, p.category, other.kind)
		}
	}
	return fmt.Errorf("document.category is %q, want %q: a CSAF document of another profile can be added as EVIDENCE",
		category, p.category)
}

// csafSummary is what every CSAF kind records: the document's identity, its vulnerabilities, and
// the products by status when a vulnerability has a product_status.
func csafSummary(doc *csafDocument) map[string]string {
	d := doc.Document
	summary := map[string]string{
		"format":             "CSAF",
		"csafVersion":        d.CSAFVersion,
		"category":           d.Category,
		"trackingId":         d.Tracking.ID,
		"publisher":          d.Publisher.Name,
		"vulnerabilityCount": itoa(len(doc.Vulnerabilities)),
	}
	maps.Copy(summary, csafStatusCounts(doc.Vulnerabilities))
	return summary
}

// csafStatusCounts counts the products of each vulnerability's product_status by the VEX status
// every kind records (docs/materials.md has the table): a product counts once per vulnerability
// and status. Nothing when no vulnerability has a product_status.
func csafStatusCounts(vulns []csafVulnerability) map[string]string {
	counts := map[string]int{}
	seen := false
	for _, v := range vulns {
		ps := v.ProductStatus
		if ps == nil {
			continue
		}
		seen = true
		for status, lists := range map[string][][]string{
			"status.affected":            {ps.KnownAffected, ps.FirstAffected, ps.LastAffected},
			"status.not_affected":        {ps.KnownNotAffected},
			"status.fixed":               {ps.Fixed, ps.FirstFixed},
			"status.under_investigation": {ps.UnderInvestigation},
		} {
			counts[status] += len(distinct(lists...))
		}
	}
	if !seen {
		return nil
	}
	out := map[string]string{}
	for _, status := range []string{"status.affected", "status.not_affected", "status.fixed", "status.under_investigation"} {
		out[status] = itoa(counts[status])
	}
	return out
}

// distinct is the set of the strings of lists.
func distinct(lists ...[]string) map[string]bool {
	set := map[string]bool{}
	for _, l := range lists {
		for _, s := range l {
			set[s] = true
		}
	}
	return set
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
	if err := checkCSAFProductStatus(ps, products); err != nil {
		return err
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

// checkCSAFProductStatus checks that every product a product_status lists is defined in the
// product tree (mandatory test 6.1.1).
func checkCSAFProductStatus(ps *csafProductStatus, products map[string]bool) error {
	for _, list := range [][]string{ps.FirstAffected, ps.FirstFixed, ps.Fixed, ps.KnownAffected,
		ps.KnownNotAffected, ps.LastAffected, ps.Recommended, ps.UnderInvestigation} {
		for _, id := range list {
			if !products[id] {
				return fmt.Errorf("product_status refers to product %q, which the product_tree does not define", id)
			}
		}
	}
	return nil
}

// checkCSAFProductStatuses checks the product_status of every vulnerability that has one
// (mandatory test 6.1.1), for the profiles whose other rules do not.
func checkCSAFProductStatuses(doc *csafDocument) error {
	products := map[string]bool{}
	if doc.ProductTree != nil {
		products, _ = csafProducts(doc.ProductTree)
	}
	for i, v := range doc.Vulnerabilities {
		if v.ProductStatus == nil {
			continue
		}
		if err := checkCSAFProductStatus(v.ProductStatus, products); err != nil {
			return fmt.Errorf("vulnerabilities[%d]: %w", i, err)
		}
	}
	return nil
}

// checkCSAFDocumentNotesAndReferences applies mandatory tests 6.1.27.1 and 6.1.27.2 of the
// profiles that describe something other than vulnerabilities: a note that says what the document
// is about, and a reference to an external source. A reference without a category is external
// (the category's default).
func checkCSAFDocumentNotesAndReferences(doc *csafDocument, profile string) error {
	if !slices.ContainsFunc(doc.Document.Notes, func(n csafCategorized) bool {
		return slices.Contains([]string{"description", "details", "general", "summary"}, n.Category)
	}) {
		return fmt.Errorf("document.notes has no note of category description, details, general or summary (required by the %s profile)", profile)
	}
	if !slices.ContainsFunc(doc.Document.References, func(r csafCategorized) bool {
		return r.Category == "" || r.Category == "external"
	}) {
		return fmt.Errorf("document.references has no reference of category external (required by the %s profile)", profile)
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
