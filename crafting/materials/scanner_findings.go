package materials

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
)

// severity is one of the six levels every scanner kind counts its findings by (docs/materials.md,
// "Scanner findings"). Each kind maps its format's own words to them with a table.
type severity int

const (
	sevCritical severity = iota
	sevHigh
	sevMedium
	sevLow
	sevInfo
	sevUnknown
)

// severityKeys are the levels as recorded: findings.critical ... findings.unknown.
var severityKeys = [...]string{"critical", "high", "medium", "low", "info", "unknown"}

// severityOf maps a format's severity word (any case, surrounding blanks ignored) through table; a
// word the table does not name, and an absent one, is unknown.
func severityOf(word string, table map[string]severity) severity {
	if s, ok := table[strings.ToLower(strings.TrimSpace(word))]; ok {
		return s
	}
	return sevUnknown
}

// findings counts a scanner report's findings by severity.
type findings struct {
	total int
	by    [len(severityKeys)]int
}

func (f *findings) add(s severity) {
	f.total++
	f.by[s]++
}

// summary returns the findings keys every scanner kind records, each present ("0" when none),
// and tool (and toolVersion) when they are known.
func (f *findings) summary(format, tool, toolVersion string) map[string]string {
	v := map[string]string{"format": format, "findings": itoa(f.total)}
	for i, k := range severityKeys {
		v["findings."+k] = itoa(f.by[i])
	}
	if tool != "" {
		v["tool"] = tool
	}
	if toolVersion != "" {
		v["toolVersion"] = toolVersion
	}
	return v
}

// notClaimed is the error of a file without a kind's markers: it is another format. It says what
// the sniffed prefix was when that explains why (not JSON, broken JSON, the wrong top-level value:
// want is '{' or '[' for a kind whose document is an object or an array, 0 for either).
func notClaimed(what string, s *sniffed, want byte) error {
	var why string
	switch {
	case s.format != formatJSON && s.format != formatJSONLines:
		why = "the file reads as " + s.format.String()
	case s.jsonErr != nil:
		why = syntaxReason(s.jsonErr)
	case want == '{' && s.top == '[':
		why = "a JSON array, not an object"
	case want == '[' && s.top == '{':
		why = "a JSON object, not an array"
	}
	if why != "" {
		return fmt.Errorf("%s (%s): %w", what, why, ErrNotThisKind)
	}
	return fmt.Errorf("%s: %w", what, ErrNotThisKind)
}

// eachElement reads the JSON array r holds one element at a time, so memory holds one element, not
// the document, and calls visit with each element's index and raw value. Anything but white space
// after the array is an error.
func eachElement(r io.Reader, visit func(i int, raw json.RawMessage) error) error {
	dec := json.NewDecoder(r)
	if err := elementsOf(dec, "", "the document", false, visit); err != nil {
		return err
	}
	if err := expectEOF(dec); err != nil {
		return errors.New(syntaxReason(err))
	}
	return nil
}

// elementsOf reads the array that comes next in dec element by element (prefix names its elements
// in errors, what the array itself). null is read as an empty array when nullOK.
func elementsOf(dec *json.Decoder, prefix, what string, nullOK bool, visit func(i int, raw json.RawMessage) error) error {
	tok, err := dec.Token()
	if err != nil {
		return errors.New(syntaxReason(err))
	}
	if tok == nil && nullOK {
		return nil
	}
	if tok != json.Delim('[') {
		return fmt.Errorf("%s is %s, not a JSON array", what, jsonKindOf(tok))
	}
	for i := 0; dec.More(); i++ {
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return fmt.Errorf("%s[%d]: %s", prefix, i, syntaxReason(err))
		}
		if err := visit(i, raw); err != nil {
			return err
		}
	}
	if _, err := dec.Token(); err != nil {
		return errors.New(syntaxReason(err))
	}
	return nil
}

// eachMember reads the JSON object r holds member by member (streamObject): visit reads each
// member's value from dec (dec.Decode, elementsOf, or skipTokens), so no member need sit in memory
// whole. Anything but white space after the object is an error.
func eachMember(r io.Reader, visit func(key string, dec *json.Decoder) error) error {
	dec := json.NewDecoder(r)
	err := streamObject(dec, "the document", func(key string) error { return visit(key, dec) })
	if err == nil {
		err = expectEOF(dec)
	}
	var syntax *json.SyntaxError
	if errors.As(err, &syntax) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
		return errors.New(syntaxReason(err))
	}
	return err
}

// jsonKindOf names the JSON value a first token starts.
func jsonKindOf(tok json.Token) string {
	switch tok {
	case json.Delim('{'):
		return "a JSON object"
	case nil:
		return "null"
	}
	switch tok.(type) {
	case string:
		return "a JSON string"
	case bool:
		return "a JSON boolean"
	}
	return "a JSON number"
}

// decodeElement decodes one array element (or JSON Lines line) into v, naming its position in the
// error. An element that is not an object is refused.
func decodeElement(where string, raw json.RawMessage, v any) error {
	if t := bytes.TrimLeft(raw, " \t\r\n"); len(t) == 0 || t[0] != '{' {
		return fmt.Errorf("%s is not a JSON object", where)
	}
	if err := json.Unmarshal(raw, v); err != nil {
		return fmt.Errorf("%s: %s", where, syntaxReason(err))
	}
	return nil
}

// arrayClaims reports whether s is a JSON array whose first element is an object holding every key:
// how the kinds whose report is an array of findings claim a file.
func arrayClaims(s *sniffed, keys ...string) bool {
	if s.format != formatJSON || s.top != '[' || s.elem == nil {
		return false
	}
	for _, k := range keys {
		if !s.elemHas(k) {
			return false
		}
	}
	return true
}

// checkArrayOf is the marker check of a kind whose report is an array of findings, given the kind by
// name: a JSON array whose first element holds every key, or one whose first element the prefix
// did not show as an object (an empty array, a clean scan) and that the validator reads to know.
func checkArrayOf(s *sniffed, what string, keys ...string) error {
	if s.format == formatJSON && s.top == '[' && (s.elem == nil || arrayClaims(s, keys...)) {
		return nil
	}
	return notClaimed(what, s, '[')
}
