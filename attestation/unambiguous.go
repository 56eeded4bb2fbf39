package attestation

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"reflect"
	"strings"
	"sync"
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
func checkUnambiguous(payload []byte) error {
	dec := json.NewDecoder(bytes.NewReader(payload))
	if err := walkUnambiguous(dec, reflect.TypeFor[statementFields](), "statement"); err != nil {
		return err
	}
	if _, err := dec.Token(); err != io.EOF {
		return fmt.Errorf("%w: data after the statement", ErrAmbiguous)
	}
	return nil
}

// walkUnambiguous reads one JSON value from dec; t is the Go type custody decodes it into (nil
// where custody ignores it), path where it is, for the error.
func walkUnambiguous(dec *json.Decoder, t reflect.Type, path string) error {
	tok, err := dec.Token()
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	for t != nil && t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch tok {
	case json.Delim('{'):
		return walkObject(dec, t, path)
	case json.Delim('['):
		var elem reflect.Type
		if t != nil && t.Kind() == reflect.Slice {
			elem = t.Elem()
		}
		for i := 0; dec.More(); i++ {
			if err := walkUnambiguous(dec, elem, fmt.Sprintf("%s[%d]", path, i)); err != nil {
				return err
			}
		}
		_, err := dec.Token() // ]
		return err
	}
	return nil
}

func walkObject(dec *json.Decoder, t reflect.Type, path string) error {
	var fields map[string]reflect.Type
	var elem reflect.Type
	switch {
	case t == nil:
	case t.Kind() == reflect.Struct:
		fields = jsonFields(t)
	case t.Kind() == reflect.Map:
		elem = t.Elem()
	}
	seen := map[string]bool{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
		name := tok.(string) // an object's names are strings, or Token fails
		if seen[name] {
			return fmt.Errorf("%w: %s has the name %q twice", ErrAmbiguous, path, name)
		}
		seen[name] = true
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
		if err := walkUnambiguous(dec, next, path+"."+name); err != nil {
			return err
		}
	}
	_, err := dec.Token() // }
	return err
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
