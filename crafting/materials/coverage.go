package materials

import (
	"bufio"
	"encoding/xml"
	"fmt"
	"math"
	"os"
	"slices"
	"strconv"
	"strings"
)

// Coverage reports (JaCoCo, Cobertura) are XML documents whose DTD fixes which element may sit in
// which and which attributes each must carry. Go has no DTD validator, so each kind states its DTD as
// an xmlGrammar and walkXML checks a report against it while streaming it once.

// xmlRule is one element of a DTD: the elements it may contain, the attributes it must carry, and
// whether it holds text (#PCDATA) rather than only elements.
type xmlRule struct {
	children []string
	required []string
	text     bool
}

// xmlGrammar maps an element name to its rule; an element it does not name is refused.
type xmlGrammar map[string]xmlRule

// openXMLReport sniffs f, then reads it from its start up to the root element, which claims must
// accept, and returns the decoder positioned after it, with the root. A file that is not XML, has no
// root element, or another root, gives an error wrapping ErrNotThisKind that says so.
func openXMLReport(f *os.File, claims func(*sniffed) bool, want, what string) (*xml.Decoder, xml.StartElement, error) {
	notIt := func(reason string) error {
		return fmt.Errorf("%s, not %s: not %s: %w", reason, want, what, ErrNotThisKind)
	}
	s, err := sniffFile(f)
	if err != nil {
		return nil, xml.StartElement{}, err
	}
	if s.format != formatXML {
		return nil, xml.StartElement{}, notIt(rootReason(s))
	}
	if err := checkDocumentSize(f); err != nil {
		return nil, xml.StartElement{}, err
	}
	r, err := rewound(f)
	if err != nil {
		return nil, xml.StartElement{}, err
	}
	dec := xml.NewDecoder(bufio.NewReader(r))
	dec.CharsetReader = charsetReader
	root, err := rootElement(dec)
	if err != nil {
		return nil, xml.StartElement{}, notIt("no XML root element (" + xmlReason(err) + ")")
	}
	if s.root = &root; !claims(s) {
		return nil, xml.StartElement{}, notIt(rootReason(s))
	}
	return dec, root, nil
}

// walkXML reads the rest of the document after root, checks every element against g (allowed in
// its parent, required attributes present, no text where the DTD has none), nesting at most
// maxXMLDepth deep, and that nothing but comments and white space follows the root. visit, when not
// nil, sees every element (root included) with its parent's name ("" for the root) before its
// content. The DTD's order and repetition constraints are not checked: producers differ there.
func walkXML(dec *xml.Decoder, root xml.StartElement, g xmlGrammar, what string, visit func(parent string, el xml.StartElement) error) error {
	stack := make([]string, 0, 16)
	enter := func(parent string, el xml.StartElement) error {
		name := el.Name.Local
		rule, ok := g[name]
		if !ok || el.Name.Space != "" {
			return fmt.Errorf("read %s: unexpected element <%s>", what, qualified(el.Name))
		}
		if parent != "" && !slices.Contains(g[parent].children, name) {
			return fmt.Errorf("read %s: <%s> may not appear inside <%s>", what, name, parent)
		}
		for _, a := range rule.required {
			if _, ok := attr(el, a); !ok {
				return fmt.Errorf("read %s: <%s> has no %s attribute", what, name, a)
			}
		}
		if visit != nil {
			if err := visit(parent, el); err != nil {
				return fmt.Errorf("read %s: %w", what, err)
			}
		}
		stack = append(stack, name)
		return nil
	}
	if err := enter("", root); err != nil {
		return err
	}
	for len(stack) > 0 {
		tok, err := dec.Token()
		if err != nil {
			return fmt.Errorf("read %s: %s", what, xmlReason(err))
		}
		switch t := tok.(type) {
		case xml.StartElement:
			if len(stack) >= maxXMLDepth {
				return fmt.Errorf("read %s: elements nest deeper than %d levels", what, maxXMLDepth)
			}
			if err := enter(stack[len(stack)-1], t); err != nil {
				return err
			}
		case xml.EndElement:
			stack = stack[:len(stack)-1]
		case xml.CharData:
			if !g[stack[len(stack)-1]].text && strings.TrimSpace(string(t)) != "" {
				return fmt.Errorf("read %s: text inside <%s>, which holds only elements", what, stack[len(stack)-1])
			}
		}
	}
	return trailingMisc(dec, what)
}

func qualified(n xml.Name) string {
	if n.Space == "" {
		return n.Local
	}
	return n.Space + ":" + n.Local
}

// attr returns the value of el's attribute name (without a namespace).
func attr(el xml.StartElement, name string) (string, bool) {
	for _, a := range el.Attr {
		if a.Name.Space == "" && a.Name.Local == name {
			return a.Value, true
		}
	}
	return "", false
}

// maxCount bounds a coverage count: 2^53, so that a sum of two stays exact and a percentage is right.
const maxCount = 1 << 53

// countAttr reads el's attribute name as a count: a decimal integer from 0 to maxCount.
func countAttr(el xml.StartElement, name string) (int64, error) {
	v, _ := attr(el, name)
	n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
	if err != nil || n < 0 || n > maxCount {
		return 0, fmt.Errorf("<%s> %s=%q is not a count (a whole number from 0)", el.Name.Local, name, v)
	}
	return n, nil
}

// rateAttr reads el's attribute name as a rate, a decimal number from 0 to 1.
func rateAttr(el xml.StartElement, name string) (float64, error) {
	v, _ := attr(el, name)
	r, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
	if err != nil || math.IsNaN(r) || r < 0 || r > 1 {
		return 0, fmt.Errorf("<%s> %s=%q is not a rate (a number from 0 to 1)", el.Name.Local, name, v)
	}
	return r, nil
}

// coverageSummary records covered of valid lines and branches, as the summary convention has it:
// the counts always, and each percentage (2 decimals) only when there is something to cover.
func coverageSummary(validated map[string]string, linesCovered, linesValid, branchesCovered, branchesValid int64) {
	validated["linesCovered"] = strconv.FormatInt(linesCovered, 10)
	validated["linesValid"] = strconv.FormatInt(linesValid, 10)
	validated["branchesCovered"] = strconv.FormatInt(branchesCovered, 10)
	validated["branchesValid"] = strconv.FormatInt(branchesValid, 10)
	if linesValid > 0 {
		validated["lineCoverage"] = percent(float64(linesCovered) / float64(linesValid))
	}
	if branchesValid > 0 {
		validated["branchCoverage"] = percent(float64(branchesCovered) / float64(branchesValid))
	}
}

// percent renders a rate from 0 to 1 as a percentage with 2 decimals ("83.33").
func percent(rate float64) string { return strconv.FormatFloat(rate*100, 'f', 2, 64) }

// rootReason says why a sniffed file is not the XML document a kind wants, for its ErrNotThisKind.
func rootReason(s *sniffed) string {
	switch {
	case s.root != nil:
		return fmt.Sprintf("the root element is <%s>", qualified(s.root.Name))
	case s.format == formatXML:
		return "no XML root element"
	default:
		return "not XML: the file reads as " + s.format.String()
	}
}
