package contract

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

// FuzzParse checks that Parse never panics, that a rejection is always a non-empty Errors, and
// that whatever it accepts survives a JSON round trip unchanged and valid.
func FuzzParse(f *testing.F) {
	files, _ := filepath.Glob("../examples/contracts/*")
	fixtures, _ := filepath.Glob("testdata/*/*.*")
	for _, p := range append(files, fixtures...) {
		data, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	for _, tc := range rejectCases {
		f.Add([]byte(tc.doc))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := Parse(data)
		if err != nil {
			var errs Errors
			if c != nil || !errors.As(err, &errs) || len(errs) == 0 || !errors.Is(err, ErrInvalid) {
				t.Fatalf("rejection is not a non-empty Errors without a contract: %T %v (contract %v)", err, err, c)
			}
			return
		}
		if err := c.Validate(); err != nil {
			t.Fatalf("accepted contract does not validate: %v\n%+v", err, c)
		}
		js, err := json.Marshal(c)
		if err != nil {
			t.Fatal(err)
		}
		again, err := Parse(js)
		if err != nil {
			t.Fatalf("the JSON of an accepted contract is rejected: %v\n%s", err, js)
		}
		if !reflect.DeepEqual(c, again) {
			t.Fatalf("JSON round trip changed the contract:\n%+v\n%+v", c, again)
		}
		if err := again.Validate(); err != nil {
			t.Fatalf("round-tripped contract does not validate: %v", err)
		}
	})
}
