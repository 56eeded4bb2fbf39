package materials

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
)

// Streaming JSON: a report of many findings is read one finding at a time, so that memory holds
// the largest finding, not the whole report.

// streamObject reads the object that comes next in dec and calls field for each key, with dec
// before the key's value: field must consume the value (decode it, stream it, or skipTokens).
func streamObject(dec *json.Decoder, what string, field func(key string) error) error {
	if err := expectDelim(dec, '{', what); err != nil {
		return err
	}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return err
		}
		if err := field(tok.(string)); err != nil {
			return err
		}
	}
	_, err := dec.Token() // '}'
	return err
}

// streamArray reads the array that comes next in dec and calls elem for each element, with dec
// before it: elem must consume it.
func streamArray(dec *json.Decoder, what string, elem func(i int) error) error {
	if err := expectDelim(dec, '[', what); err != nil {
		return err
	}
	for i := 0; dec.More(); i++ {
		if err := elem(i); err != nil {
			return err
		}
	}
	_, err := dec.Token() // ']'
	return err
}

func expectDelim(dec *json.Decoder, want json.Delim, what string) error {
	tok, err := dec.Token()
	if err != nil {
		return err
	}
	if d, ok := tok.(json.Delim); !ok || d != want {
		kind := "an object"
		if want == '[' {
			kind = "an array"
		}
		return fmt.Errorf("%s is not %s", what, kind)
	}
	return nil
}

// skipTokens consumes the value that comes next in dec token by token, nesting at most maxJSONDepth.
func skipTokens(dec *json.Decoder) error {
	depth := 0
	for {
		tok, err := dec.Token()
		if err != nil {
			return err
		}
		switch tok {
		case json.Delim('{'), json.Delim('['):
			if depth++; depth > maxJSONDepth {
				return fmt.Errorf("values nest deeper than %d levels", maxJSONDepth)
			}
		case json.Delim('}'), json.Delim(']'):
			depth--
		}
		if depth == 0 {
			return nil
		}
	}
}

// expectEOF checks nothing but white space follows the document in dec.
func expectEOF(dec *json.Decoder) error {
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		if err == nil {
			return errors.New("data after the end of the document")
		}
		return err
	}
	return nil
}
