package materials

import (
	"context"
	"encoding/xml"
	"fmt"
	"os"
	"slices"
	"strings"

	"github.com/custody-dev/custody/attestation"
	"github.com/custody-dev/custody/contract"
)

func init() { register(contract.KindJaCoCoXML, craftJaCoCo) }

func craftJaCoCo(ctx context.Context, c *Crafter, value string) (*attestation.Material, error) {
	return c.craftFile(ctx, value, validateJaCoCo)
}

// claimsJaCoCo: an XML document whose root is <report name="..."> without a namespace, as JaCoCo's
// report.dtd has it.
func claimsJaCoCo(s *sniffed) bool {
	if s.root == nil || s.root.Name.Local != "report" || s.root.Name.Space != "" {
		return false
	}
	_, named := attr(*s.root, "name")
	return named
}

// jacocoGrammar is JaCoCo's report.dtd (DTD Report 1.1, JaCoCo 0.8): which element may contain which,
// and the attributes it requires.
var jacocoGrammar = xmlGrammar{
	"report":      {children: []string{"sessioninfo", "group", "package", "counter"}, required: []string{"name"}},
	"sessioninfo": {required: []string{"id", "start", "dump"}},
	"group":       {children: []string{"group", "package", "counter"}, required: []string{"name"}},
	"package":     {children: []string{"class", "sourcefile", "counter"}, required: []string{"name"}},
	"class":       {children: []string{"method", "counter"}, required: []string{"name"}},
	"method":      {children: []string{"counter"}, required: []string{"name", "desc"}},
	"sourcefile":  {children: []string{"line", "counter"}, required: []string{"name"}},
	"line":        {required: []string{"nr", "mi", "ci", "mb", "cb"}},
	"counter":     {required: []string{"type", "missed", "covered"}},
}

// jacocoCounterTypes are the values report.dtd allows for a counter's type.
var jacocoCounterTypes = []string{"INSTRUCTION", "BRANCH", "LINE", "COMPLEXITY", "METHOD", "CLASS"}

// validateJaCoCo accepts a JaCoCo XML coverage report (jacoco:report, the Maven plugin's jacoco.xml):
// a <report name> root, every element where report.dtd allows it with the attributes it requires,
// counters of a known type with whole missed and covered counts. The DOCTYPE names report.dtd as an
// external DTD: it is never fetched (encoding/xml reads no external entity and refuses undeclared
// ones). The coverage recorded is the report's own totals: its top-level LINE and BRANCH counters
// (JaCoCo writes no counter whose total is 0).
func validateJaCoCo(f *os.File) (map[string]string, error) {
	dec, root, err := openXMLReport(f, claimsJaCoCo, "<report name=...>", "a JaCoCo XML report")
	if err != nil {
		return nil, err
	}
	totals := map[string][2]int64{} // the report's own counters: type -> missed, covered
	err = walkXML(dec, root, jacocoGrammar, "JaCoCo report", func(parent string, el xml.StartElement) error {
		switch el.Name.Local {
		case "counter":
			typ, _ := attr(el, "type")
			if !slices.Contains(jacocoCounterTypes, typ) {
				return fmt.Errorf("<counter> type %q is not one of %s", typ, strings.Join(jacocoCounterTypes, ", "))
			}
			missed, err := countAttr(el, "missed")
			if err != nil {
				return err
			}
			covered, err := countAttr(el, "covered")
			if err != nil {
				return err
			}
			if parent == "report" {
				if _, twice := totals[typ]; twice {
					return fmt.Errorf("the report has two %s counters of its own", typ)
				}
				totals[typ] = [2]int64{missed, covered}
			}
		case "line":
			for _, a := range jacocoGrammar["line"].required {
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
	name, _ := attr(root, "name")
	validated := map[string]string{"format": "JaCoCo XML", "name": name}
	line, branch := totals["LINE"], totals["BRANCH"]
	coverageSummary(validated, line[1], line[0]+line[1], branch[1], branch[0]+branch[1])
	return validated, nil
}
