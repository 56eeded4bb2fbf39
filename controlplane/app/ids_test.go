package app

import (
	"regexp"
	"testing"
)

var uuidForm = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`)

// FuzzIsID: isID accepts exactly the lowercase UUID form, and every id newID makes.
func FuzzIsID(f *testing.F) {
	for _, s := range []string{newID(), "", "a\x00b", "00000000-0000-4000-8000-000000000000", "0000000000000-4000-8000-000000000000",
		"00000000-0000-4000-8000-00000000000G", "00000000-0000-4000-8000-00000000000A", "../../v1/tokens"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if got, want := isID(s), uuidForm.MatchString(s); got != want {
			t.Fatalf("isID(%q) = %v, want %v", s, got, want)
		}
		if id := newID(); !isID(id) {
			t.Fatalf("isID(newID() = %q) = false", id)
		}
	})
}
