package sqlstore

import (
	"strconv"
	"strings"
	"testing"
)

func TestRebind(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"none", `SELECT 1`, `SELECT 1`},
		{"in order", `INSERT INTO t (a, b, c) VALUES (?, ?, ?)`, `INSERT INTO t (a, b, c) VALUES ($1, $2, $3)`},
		{"ten and more", strings.Repeat("?,", 11) + "?", "$1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12"},
		{"string literal", `SELECT '?' , ? WHERE x = 'it''s ?'`, `SELECT '?' , $1 WHERE x = 'it''s ?'`},
		{"quoted identifier", `SELECT "a?b", ?`, `SELECT "a?b", $1`},
		{"line comment", "SELECT ? -- why?\n, ?", "SELECT $1 -- why?\n, $2"},
		{"block comment", `SELECT /* ? */ ?`, `SELECT /* ? */ $1`},
		{"unterminated string", `SELECT ?, 'abc ?`, `SELECT $1, 'abc ?`},
		{"unterminated comment", `SELECT ? /* ?`, `SELECT $1 /* ?`},
		{"minus is not a comment", `SELECT ? - ?`, `SELECT $1 - $2`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := (Dialect{Placeholders: Dollar}).Rebind(tc.in); got != tc.want {
				t.Errorf("Rebind(%q) = %q, want %q", tc.in, got, tc.want)
			}
			if got := (Dialect{Placeholders: Question}).Rebind(tc.in); got != tc.in {
				t.Errorf("Question Rebind(%q) = %q, want it unchanged", tc.in, got)
			}
		})
	}
}

// FuzzRebind: rebinding never panics, leaves a query without "?" alone, and in a query without quotes
// or comments replaces every "?" by the next $n and changes nothing else.
func FuzzRebind(f *testing.F) {
	for _, s := range []string{"SELECT ?", "'?' ?", `"?" ?`, "-- ?\n?", "/* ? */ ?", "'", "/*", "--", "?''?", "$1 ?"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, q string) {
		got := rebindDollar(q)
		if !strings.Contains(q, "?") && got != q {
			t.Fatalf("rebind(%q) = %q, changed a query without placeholders", q, got)
		}
		if strings.Count(got, "?") > strings.Count(q, "?") {
			t.Fatalf("rebind(%q) = %q added a ?", q, got)
		}
		if strings.ContainsAny(q, `'"-/`) {
			return
		}
		var want strings.Builder
		n := 0
		for _, part := range strings.Split(q, "?") {
			if n > 0 {
				want.WriteString("$" + strconv.Itoa(n))
			}
			want.WriteString(part)
			n++
		}
		if got != want.String() {
			t.Fatalf("rebind(%q) = %q, want %q", q, got, want.String())
		}
	})
}
