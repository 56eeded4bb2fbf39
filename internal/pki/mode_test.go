package pki

import (
	"io/fs"
	"strings"
	"testing"
)

// TestCheckKeyMode: the modes a key file may have by its owner, whoever runs the test.
func TestCheckKeyMode(t *testing.T) {
	t.Parallel()
	tests := []struct {
		perm  fs.FileMode
		owner uint32
		known bool
		want  string // "" accepts
	}{
		{0o600, 1000, true, ""},
		{0o400, 1000, true, ""},
		{0o440, 1000, true, "k has mode 0440: a key file must be 0600 or narrower (chmod 600 k), or 0640 if root owns it"},
		{0o640, 1000, true, "has mode 0640"},
		{0o644, 1000, true, "has mode 0644"},
		{0o440, 0, true, ""},
		{0o640, 0, true, ""},
		{0o600, 0, true, ""},
		{0o644, 0, true, "k has mode 0644: a key file root owns must be 0640 or narrower (chmod 640 k)"},
		{0o660, 0, true, "has mode 0660"},
		{0o641, 0, true, "has mode 0641"},
		{0o640, 0, false, "has mode 0640: a key file must be 0600 or narrower"}, // no owner known: the owner's rule
		{0o600, 0, false, ""},
	}
	for _, tc := range tests {
		err := checkKeyMode("k", tc.perm, tc.owner, tc.known)
		if (tc.want == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), tc.want)) {
			t.Errorf("mode %04o owned by %d (known %v): %v, want %q", tc.perm, tc.owner, tc.known, err, tc.want)
		}
	}
}
