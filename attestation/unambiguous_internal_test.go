package attestation

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"testing"
)

// hasRepeatedName is the reference for checkUnambiguous's scan: encoding/json's tokens, whose names
// come decoded, searched for an object with a name twice.
func hasRepeatedName(data []byte) bool {
	repeated, _ := repeatedIn(json.NewDecoder(bytes.NewReader(data)))
	return repeated
}

func repeatedIn(dec *json.Decoder) (bool, error) {
	tok, err := dec.Token()
	if err != nil {
		return false, err
	}
	switch tok {
	case json.Delim('{'):
		seen := map[string]bool{}
		for dec.More() {
			name, err := dec.Token()
			if err != nil {
				return false, err
			}
			if seen[name.(string)] {
				return true, nil
			}
			seen[name.(string)] = true
			if repeated, err := repeatedIn(dec); repeated || err != nil {
				return repeated, err
			}
		}
		_, err = dec.Token()
	case json.Delim('['):
		for dec.More() {
			if repeated, err := repeatedIn(dec); repeated || err != nil {
				return repeated, err
			}
		}
		_, err = dec.Token()
	}
	return false, err
}

// FuzzCheckUnambiguous: on valid JSON the scan never calls it malformed, and it finds a repeated
// name exactly when encoding/json's tokens show one (outside the struct rules, which only add
// refusals).
func FuzzCheckUnambiguous(f *testing.F) {
	for _, s := range []string{`{}`, `{"a":1,"a":2}`, `{"a":{"b":[1,{"c":1,"c":2}]}}`, `{"\u0061":1,"a":2}`, `{"subject":[],"Subject":[]}`,
		`[1,"x",{"k":true}]`, `{"_type":"x","predicate":{"env":{"A":"1","a":"2"}}}`, "{\"\xff\":1,\"\xfe\":2}"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		err := checkUnambiguous(data)
		if !json.Valid(data) {
			return // callers pass only what encoding/json read already
		}
		if err != nil && strings.Contains(err.Error(), "malformed") {
			t.Fatalf("valid JSON %q called malformed: %v", data, err)
		}
		if err != nil && !errors.Is(err, ErrAmbiguous) {
			t.Fatalf("error %v does not wrap ErrAmbiguous", err)
		}
		repeated := strings.Contains(errString(err), "twice")
		if repeated && !hasRepeatedName(data) {
			t.Fatalf("%q: the scan found a repeated name encoding/json does not: %v", data, err)
		}
		if err == nil && hasRepeatedName(data) {
			t.Fatalf("%q: encoding/json shows a repeated name the scan accepted", data)
		}
	})
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}
