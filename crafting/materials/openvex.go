package materials

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"maps"
	"os"
	"slices"
	"strings"

	"github.com/openvex/go-vex/pkg/vex"

	"github.com/custody-dev/custody/attestation"
	"github.com/custody-dev/custody/contract"
)

func init() { register(contract.KindOpenVEX, craftOpenVEX) }

// claimsOpenVEX: a top-level @context naming OpenVEX (of any version: an old one is this kind's error).
func claimsOpenVEX(s *sniffed) bool {
	context, _ := s.str("@context")
	return strings.HasPrefix(context, vex.Context)
}

func craftOpenVEX(ctx context.Context, c *Crafter, value string) (*attestation.Material, error) {
	return c.craftFile(ctx, value, validateOpenVEX)
}

// validateOpenVEX accepts an OpenVEX document of the version go-vex reads (its @context is
// vex.ContextLocator(), https://openvex.dev/ns/v0.2.0), parsed by go-vex, with @id, author and at
// least one statement, each naming its vulnerability and passing go-vex's statement validation
// (status, justification, impact and action statements). A JSON document whose @context is not
// OpenVEX's is not OpenVEX at all.
func validateOpenVEX(f *os.File) (map[string]string, error) {
	top := scanTopLevel(f, []string{"@context"}, nil)
	context, _ := top.str("@context")
	if !strings.HasPrefix(context, vex.Context) {
		return nil, notThisKind("no OpenVEX @context, not an OpenVEX document", top)
	}
	if context != vex.ContextLocator() {
		return nil, fmt.Errorf("@context %q is not supported (OpenVEX %s)", context, vex.ContextLocator())
	}
	data, err := readDocument(f)
	if err != nil {
		return nil, err
	}
	doc, err := vex.Parse(data)
	if err != nil {
		return nil, fmt.Errorf("parse OpenVEX document: %s", syntaxReason(err))
	}
	switch {
	case doc.ID == "":
		return nil, errors.New("@id is missing")
	case doc.Author == "":
		return nil, errors.New("author is missing")
	case len(doc.Statements) == 0:
		return nil, errors.New("the document has no statements")
	}
	for i := range doc.Statements {
		stmt := &doc.Statements[i]
		if stmt.Vulnerability.Name == "" && stmt.Vulnerability.ID == "" {
			return nil, fmt.Errorf("statements[%d] names no vulnerability", i)
		}
		if err := stmt.Validate(); err != nil {
			return nil, fmt.Errorf("statements[%d] (%s): %w", i, stmt.Vulnerability.Name, err)
		}
	}
	validated := map[string]string{
		"format":         "OpenVEX",
		"context":        context,
		"id":             doc.ID,
		"author":         doc.Author,
		"statementCount": itoa(len(doc.Statements)),
	}
	maps.Copy(validated, openVEXStatusCounts(doc.Statements))
	return validated, nil
}

// openVEXStatusCounts counts, for each status, the (vulnerability, product) pairs the statements
// give it: a pair counts once per status, a statement naming no product once. Statements are
// counted as written, not resolved over time (a pair moved from under_investigation to fixed
// counts under both).
func openVEXStatusCounts(statements []vex.Statement) map[string]string {
	pairs := map[vex.Status]map[string]bool{}
	for _, status := range vex.Statuses() {
		pairs[vex.Status(status)] = map[string]bool{}
	}
	for i := range statements {
		stmt := &statements[i]
		vuln := cmp.Or(string(stmt.Vulnerability.Name), stmt.Vulnerability.ID)
		products := []string{""}
		if len(stmt.Products) > 0 {
			products = products[:0]
			for _, p := range stmt.Products {
				products = append(products, openVEXProductKey(&p.Component))
			}
		}
		for _, product := range products {
			pairs[stmt.Status][vuln+"\x00"+product] = true
		}
	}
	counts := map[string]string{}
	for status, set := range pairs {
		counts["status."+string(status)] = itoa(len(set))
	}
	return counts
}

// openVEXProductKey identifies a product: its @id, else its identifiers, else its hashes.
func openVEXProductKey(c *vex.Component) string {
	if c.ID != "" {
		return c.ID
	}
	var parts []string
	for t, id := range c.Identifiers {
		parts = append(parts, string(t)+"="+id)
	}
	for alg, h := range c.Hashes {
		parts = append(parts, string(alg)+":"+string(h))
	}
	slices.Sort(parts)
	return strings.Join(parts, " ")
}
