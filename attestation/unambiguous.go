package attestation

import (
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"sync"
	"unicode/utf8"
)

// ErrAmbiguous is wrapped by the error of a statement whose JSON readers may read differently.
var ErrAmbiguous = errors.New("ambiguous JSON")

// statementFields is what custody and sigstore-go decode of a statement with encoding/json: its
// type, subjects and predicate type (sigstore-go), and the custody predicate (predicateOf).
type statementFields struct {
	Type    string `json:"_type"`
	Subject []struct {
		Name   string            `json:"name"`
		Digest map[string]string `json:"digest"`
	} `json:"subject"`
	PredicateType string    `json:"predicateType"`
	Predicate     Predicate `json:"predicate"`
}

// checkUnambiguous refuses a statement that JSON readers may read differently, so the subjects and
// materials custody checked are the ones every verifier and policy engine sees: an object with a
// name twice (readers keep the first, the last, or refuse), or, where custody decodes an object into
// a struct, a name that matches a field only when case is ignored ("Subject", "ſubject"):
// encoding/json, and so custody and sigstore-go, take it for the field; readers that match names
// exactly (jq, OPA, most languages) do not. custody never writes either.
//
// It scans the bytes (a statement is up to 1 MiB, and a push checks it once): values are skipped,
// only names are decoded, and only when they hold an escape or a byte that is not UTF-8.
func checkUnambiguous(payload []byte) error {
	sc := &jsonScan{data: payload}
	if err := sc.value(reflect.TypeFor[statementFields](), &jsonPath{name: "statement", index: -1}, 0); err != nil {
		return err
	}
	if sc.space(); sc.pos != len(sc.data) {
		return fmt.Errorf("%w: data after the statement", ErrAmbiguous)
	}
	return nil
}

// maxDepth bounds the nesting checkUnambiguous follows, as encoding/json does.
const maxDepth = 10000

// jsonScan walks JSON bytes.
type jsonScan struct {
	data []byte
	pos  int
}

func (s *jsonScan) space() {
	for s.pos < len(s.data) {
		switch s.data[s.pos] {
		case ' ', '\t', '\r', '\n':
			s.pos++
		default:
			return
		}
	}
}

// jsonPath is where a value is, spelled out only for an error: statement.subject[0].name.
type jsonPath struct {
	up    *jsonPath
	name  string // a member's name (index -1), or
	index int    // an element's index
}

func (p *jsonPath) String() string {
	if p.up == nil {
		return p.name
	}
	if p.index >= 0 {
		return fmt.Sprintf("%s[%d]", p.up, p.index)
	}
	return p.up.String() + "." + p.name
}

func (s *jsonScan) malformed(path *jsonPath) error {
	return fmt.Errorf("%w: %s: malformed JSON at byte %d", ErrAmbiguous, path, s.pos)
}

// value walks one JSON value; t is the Go type custody decodes it into (nil where custody ignores
// it), path where it is, for the error.
func (s *jsonScan) value(t reflect.Type, path *jsonPath, depth int) error {
	if depth > maxDepth {
		return fmt.Errorf("%w: %s: nested deeper than %d", ErrAmbiguous, path, maxDepth)
	}
	for t != nil && t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if s.space(); s.pos >= len(s.data) {
		return s.malformed(path)
	}
	switch s.data[s.pos] {
	case '{':
		return s.object(t, path, depth)
	case '[':
		var elem reflect.Type
		if t != nil && t.Kind() == reflect.Slice {
			elem = t.Elem()
		}
		s.pos++
		for i := 0; ; i++ {
			if s.space(); i == 0 && s.pos < len(s.data) && s.data[s.pos] == ']' {
				s.pos++
				return nil
			}
			if err := s.value(elem, &jsonPath{up: path, index: i}, depth+1); err != nil {
				return err
			}
			if err := s.next(']', path); err != nil || s.data[s.pos-1] == ']' {
				return err
			}
		}
	case '"':
		_, err := s.str(path, false)
		return err
	}
	start := s.pos
	for s.pos < len(s.data) && !strings.ContainsRune(",]} \t\r\n", rune(s.data[s.pos])) {
		s.pos++ // a number, true, false or null
	}
	if s.pos == start {
		return s.malformed(path)
	}
	return nil
}

// seenNames are the names of an object read so far: a slice while they are few, a map past that,
// so an object of many names costs linear time.
type seenNames struct {
	few  []string
	many map[string]bool
}

// add records name and reports whether it is new.
func (n *seenNames) add(name string) bool {
	if n.many == nil {
		if slices.Contains(n.few, name) {
			return false
		}
		if n.few = append(n.few, name); len(n.few) > 16 {
			n.many = make(map[string]bool, 2*len(n.few))
			for _, f := range n.few {
				n.many[f] = true
			}
		}
		return true
	}
	if n.many[name] {
		return false
	}
	n.many[name] = true
	return true
}

// next reads the ',' between members or elements, or the closing byte.
func (s *jsonScan) next(closing byte, path *jsonPath) error {
	if s.space(); s.pos < len(s.data) && (s.data[s.pos] == ',' || s.data[s.pos] == closing) {
		s.pos++
		return nil
	}
	return s.malformed(path)
}

func (s *jsonScan) object(t reflect.Type, path *jsonPath, depth int) error {
	var fields map[string]reflect.Type
	var elem reflect.Type
	switch {
	case t == nil:
	case t.Kind() == reflect.Struct:
		fields = jsonFields(t)
	case t.Kind() == reflect.Map:
		elem = t.Elem()
	}
	s.pos++
	if s.space(); s.pos < len(s.data) && s.data[s.pos] == '}' {
		s.pos++
		return nil
	}
	var names seenNames
	for {
		if s.space(); s.pos >= len(s.data) || s.data[s.pos] != '"' {
			return s.malformed(path)
		}
		name, err := s.str(path, true)
		if err != nil {
			return err
		}
		if !names.add(name) {
			return fmt.Errorf("%w: %s has the name %q twice", ErrAmbiguous, path, name)
		}
		next := elem
		if fields != nil {
			var exact bool
			if next, exact = fields[name]; !exact {
				for field := range fields {
					if strings.EqualFold(field, name) {
						return fmt.Errorf("%w: %s has %q, which only a case-insensitive reader takes for %q", ErrAmbiguous, path, name, field)
					}
				}
			}
		}
		if s.space(); s.pos >= len(s.data) || s.data[s.pos] != ':' {
			return s.malformed(path)
		}
		s.pos++
		if err := s.value(next, &jsonPath{up: path, name: name, index: -1}, depth+1); err != nil {
			return err
		}
		if err := s.next('}', path); err != nil || s.data[s.pos-1] == '}' {
			return err
		}
	}
}

// str reads a string at s.pos; decode returns its text as encoding/json reads it (escapes
// resolved, bytes that are not UTF-8 replaced), else "".
func (s *jsonScan) str(path *jsonPath, decode bool) (string, error) {
	start, escaped := s.pos, false
	for s.pos++; s.pos < len(s.data); s.pos++ {
		switch s.data[s.pos] {
		case '\\':
			escaped = true
			s.pos++
		case '"':
			s.pos++
			raw := s.data[start:s.pos]
			if !decode {
				return "", nil
			}
			if !escaped && utf8.Valid(raw) {
				return string(raw[1 : len(raw)-1]), nil
			}
			var text string
			if err := json.Unmarshal(raw, &text); err != nil {
				return "", s.malformed(path)
			}
			return text, nil
		}
	}
	return "", s.malformed(path)
}

var fieldCache sync.Map // reflect.Type -> map[string]reflect.Type

// jsonFields maps the JSON names of a struct's fields, as encoding/json decodes them, to their types.
// A type that decodes itself (time.Time) has none: its JSON is not an object of fields.
func jsonFields(t reflect.Type) map[string]reflect.Type {
	if f, ok := fieldCache.Load(t); ok {
		return f.(map[string]reflect.Type)
	}
	fields := map[string]reflect.Type{}
	if !reflect.PointerTo(t).Implements(reflect.TypeFor[json.Unmarshaler]()) {
		for i := range t.NumField() {
			f := t.Field(i)
			name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
			if !f.IsExported() || name == "-" {
				continue
			}
			if name == "" {
				name = f.Name
			}
			fields[name] = f.Type
		}
	}
	fieldCache.Store(t, fields)
	return fields
}
