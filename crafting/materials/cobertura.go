package materials

import (
	"context"
	"encoding/xml"
	"fmt"
	"os"

	"github.com/custody-dev/custody/attestation"
	"github.com/custody-dev/custody/contract"
)

func init() { register(contract.KindCoberturaXML, craftCobertura) }

func craftCobertura(ctx context.Context, c *Crafter, value string) (*attestation.Material, error) {
	return c.craftFile(ctx, value, validateCobertura)
}

// claimsCobertura: an XML document whose root is <coverage> with a line-rate attribute, without a
// namespace (Clover's <coverage> has no line-rate).
func claimsCobertura(s *sniffed) bool {
	if s.root == nil || s.root.Name.Local != "coverage" || s.root.Name.Space != "" {
		return false
	}
	_, rated := attr(*s.root, "line-rate")
	return rated
}

// coberturaGrammar is Cobertura's coverage-04.dtd, the one coverage.py, gocover-cobertura, Istanbul
// and coverlet write after. It requires only the attributes every producer writes: the root's rates
// (older reports have no counts), names, a class's file, a line's number and hits; coverage.py's
// extra attributes (missing-branches) are tolerated, as producers add such.
var coberturaGrammar = xmlGrammar{
	"coverage":   {children: []string{"sources", "packages"}, required: []string{"line-rate", "branch-rate"}},
	"sources":    {children: []string{"source"}},
	"source":     {text: true},
	"packages":   {children: []string{"package"}},
	"package":    {children: []string{"classes"}, required: []string{"name"}},
	"classes":    {children: []string{"class"}},
	"class":      {children: []string{"methods", "lines"}, required: []string{"name", "filename"}},
	"methods":    {children: []string{"method"}},
	"method":     {children: []string{"lines"}, required: []string{"name", "signature"}},
	"lines":      {children: []string{"line"}},
	"line":       {children: []string{"conditions"}, required: []string{"number", "hits"}},
	"conditions": {children: []string{"condition"}},
	"condition":  {required: []string{"number", "type", "coverage"}},
}

// coberturaCounts are the root's counts, in the order of coverageSummary.
var coberturaCounts = []string{"lines-covered", "lines-valid", "branches-covered", "branches-valid"}

// validateCobertura accepts a Cobertura XML coverage report: a <coverage> root with line-rate and
// branch-rate, every element where coverage-04.dtd allows it with the attributes it requires, rates
// from 0 to 1 and whole counts. The DOCTYPE (an external DTD) is never fetched. The coverage recorded
// is the root's: from its lines-covered/lines-valid and branches-covered/branches-valid when it has
// them (DTD 04), else its line-rate and branch-rate, without counts.
func validateCobertura(f *os.File) (map[string]string, error) {
	dec, root, err := openXMLReport(f, claimsCobertura, "<coverage line-rate=...>", "a Cobertura XML report")
	if err != nil {
		return nil, err
	}
	err = walkXML(dec, root, coberturaGrammar, "Cobertura report", func(_ string, el xml.StartElement) error {
		for _, a := range []string{"line-rate", "branch-rate"} {
			if _, present := attr(el, a); present {
				if _, err := rateAttr(el, a); err != nil {
					return err
				}
			}
		}
		if el.Name.Local == "line" {
			for _, a := range []string{"number", "hits"} {
				if _, err := countAttr(el, a); err != nil {
					return err
				}
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return coberturaSummary(root)
}

// coberturaSummary reads the root's coverage.
func coberturaSummary(root xml.StartElement) (map[string]string, error) {
	validated := map[string]string{"format": "Cobertura XML"}
	var counts [4]int64
	present := 0
	for i, a := range coberturaCounts {
		if _, ok := attr(root, a); !ok {
			continue
		}
		n, err := countAttr(root, a)
		if err != nil {
			return nil, fmt.Errorf("read Cobertura report: %w", err)
		}
		counts[i] = n
		present++
	}
	switch present {
	case 0:
		lineRate, _ := rateAttr(root, "line-rate")
		branchRate, _ := rateAttr(root, "branch-rate")
		validated["lineCoverage"], validated["branchCoverage"] = percent(lineRate), percent(branchRate)
		return validated, nil
	case len(coberturaCounts):
	default:
		return nil, fmt.Errorf("read Cobertura report: <coverage> has some of %v but not all", coberturaCounts)
	}
	for i := 0; i < len(counts); i += 2 {
		if counts[i] > counts[i+1] {
			return nil, fmt.Errorf("read Cobertura report: <coverage> %s=%d is more than %s=%d",
				coberturaCounts[i], counts[i], coberturaCounts[i+1], counts[i+1])
		}
	}
	coverageSummary(validated, counts[0], counts[1], counts[2], counts[3])
	return validated, nil
}
