package materials

import (
	"bufio"
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"unicode/utf8"

	"github.com/custody-dev/custody/attestation"
	"github.com/custody-dev/custody/contract"
)

func init() { register(contract.KindJUnitXML, craftJUnit) }

// claimsJUnit: an XML document whose root is <testsuites> or <testsuite>.
func claimsJUnit(s *sniffed) bool {
	return s.root != nil && (s.root.Name.Local == "testsuites" || s.root.Name.Local == "testsuite")
}

func craftJUnit(ctx context.Context, c *Crafter, value string) (*attestation.Material, error) {
	return c.craftFile(ctx, value, validateJUnit)
}

// maxXMLDepth bounds element nesting: JUnit reports nest a few levels deep.
const maxXMLDepth = 256

// junitCounts are the totals of a JUnit report, counted from its <testcase> elements (the
// tests/failures/... attributes are summaries that tools fill in differently).
type junitCounts struct {
	suites, tests, failures, errors, skipped int
}

// validateJUnit accepts a JUnit XML report: a <testsuites> or <testsuite> root, well-formed, with at
// least one <testsuite>. There is no canonical Go JUnit library: like the tools that consume these
// reports, it reads the de facto schema (Ant/Jenkins/Surefire) with encoding/xml, streaming, so a
// large report never sits in memory whole. An XML document with another root is not a JUnit report.
func validateJUnit(f *os.File) (map[string]string, error) {
	if s, err := sniffFile(f); err == nil && (s.format == formatZip || s.format == formatGzip) {
		return validateJUnitArchive(f, s.format) // a zip or .tar.gz of reports
	}
	r, err := rewound(f)
	if err != nil {
		return nil, err
	}
	dec := xml.NewDecoder(bufio.NewReader(r))
	dec.CharsetReader = charsetReader
	root, err := rootElement(dec)
	if err != nil {
		return nil, fmt.Errorf("no XML root element (%s), not a JUnit report: %w", xmlReason(err), ErrNotThisKind)
	}
	if root.Name.Local != "testsuites" && root.Name.Local != "testsuite" {
		return nil, fmt.Errorf("root element is <%s>, not <testsuites> or <testsuite>: not a JUnit report: %w",
			root.Name.Local, ErrNotThisKind)
	}
	if err := checkDocumentSize(f); err != nil {
		return nil, err
	}
	counts, err := countJUnit(dec, root)
	if err != nil {
		return nil, err
	}
	if counts.suites == 0 {
		return nil, errors.New("the report has no <testsuite>")
	}
	return map[string]string{
		"format":   "JUnit XML",
		"suites":   itoa(counts.suites),
		"tests":    itoa(counts.tests),
		"failures": itoa(counts.failures),
		"errors":   itoa(counts.errors),
		"skipped":  itoa(counts.skipped),
	}, nil
}

// rootElement skips the prolog (declaration, comments, doctype) up to the first element.
func rootElement(dec *xml.Decoder) (xml.StartElement, error) {
	for {
		tok, err := dec.Token()
		if err != nil {
			return xml.StartElement{}, err
		}
		switch t := tok.(type) {
		case xml.StartElement:
			return t, nil
		case xml.CharData:
			if strings.TrimSpace(string(t)) != "" {
				return xml.StartElement{}, errors.New("text before the root element")
			}
		}
	}
}

// countJUnit walks the rest of the document after root, counting suites and test cases and
// checking the XML is well-formed to its end.
func countJUnit(dec *xml.Decoder, root xml.StartElement) (junitCounts, error) {
	var counts junitCounts
	stack := []string{}
	var outcome map[string]bool // outcomes of the open <testcase>, nil outside one
	open := func(name string) {
		stack = append(stack, name)
		switch name {
		case "testsuite":
			counts.suites++
		case "testcase":
			counts.tests++
			outcome = map[string]bool{}
		case "failure", "error", "skipped":
			if len(stack) >= 2 && stack[len(stack)-2] == "testcase" && outcome != nil {
				outcome[name] = true
			}
		}
	}
	open(root.Name.Local)
	for len(stack) > 0 {
		tok, err := dec.Token()
		if err != nil {
			return counts, fmt.Errorf("read JUnit report: %s", xmlReason(err))
		}
		switch t := tok.(type) {
		case xml.StartElement:
			if len(stack) >= maxXMLDepth {
				return counts, fmt.Errorf("read JUnit report: elements nest deeper than %d levels", maxXMLDepth)
			}
			open(t.Name.Local)
		case xml.EndElement:
			if stack[len(stack)-1] == "testcase" && outcome != nil {
				counts.failures += b2i(outcome["failure"])
				counts.errors += b2i(outcome["error"])
				counts.skipped += b2i(outcome["skipped"])
				outcome = nil
			}
			stack = stack[:len(stack)-1]
		}
	}
	if err := trailingMisc(dec, "JUnit report"); err != nil {
		return counts, err
	}
	return counts, nil
}

// trailingMisc checks only whitespace, comments and processing instructions follow the root of the
// document what names.
func trailingMisc(dec *xml.Decoder, what string) error {
	for {
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("read %s: %s", what, xmlReason(err))
		}
		switch t := tok.(type) {
		case xml.StartElement:
			return fmt.Errorf("read %s: a second root element <%s> follows the first", what, t.Name.Local)
		case xml.CharData:
			if strings.TrimSpace(string(t)) != "" {
				return fmt.Errorf("read %s: text after the root element", what)
			}
		}
	}
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// xmlReason words an XML decoding error for a user: where the document is broken.
func xmlReason(err error) string {
	var se *xml.SyntaxError
	if errors.As(err, &se) {
		return fmt.Sprintf("invalid XML at line %d: %s", se.Line, se.Msg)
	}
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return "unexpected end of document (truncated?)"
	}
	return err.Error()
}

// charsetReader lets encoding/xml read the encodings test tools declare besides UTF-8.
func charsetReader(charset string, input io.Reader) (io.Reader, error) {
	switch strings.ToLower(charset) {
	case "utf-8", "utf8", "us-ascii", "ascii":
		return input, nil
	case "iso-8859-1", "iso8859-1", "latin1", "latin-1":
		return &latin1Reader{r: bufio.NewReader(input)}, nil
	}
	return nil, fmt.Errorf("XML encoding %q is not supported (UTF-8 or ISO-8859-1)", charset)
}

// latin1Reader decodes ISO-8859-1 to UTF-8: each byte is the code point of the same value.
type latin1Reader struct {
	r       io.ByteReader
	pending []byte
}

func (l *latin1Reader) Read(p []byte) (int, error) {
	n := 0
	for n < len(p) {
		if len(l.pending) > 0 {
			c := copy(p[n:], l.pending)
			l.pending = l.pending[c:]
			n += c
			continue
		}
		b, err := l.r.ReadByte()
		if err != nil {
			if n > 0 {
				return n, nil
			}
			return 0, err
		}
		if b < utf8.RuneSelf {
			p[n] = b
			n++
			continue
		}
		l.pending = utf8.AppendRune(nil, rune(b))
	}
	return n, nil
}
