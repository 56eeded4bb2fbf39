package termsafe

import (
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"
)

func TestEscape(t *testing.T) {
	tests := []struct{ in, want, wantText string }{
		{"plain build-and-test", "plain build-and-test", "plain build-and-test"},
		{"Grüße, 世界 ✓", "Grüße, 世界 ✓", "Grüße, 世界 ✓"},
		{"\x1b]0;pwned\x07", `\x1b]0;pwned\x07`, `\x1b]0;pwned\x07`},
		{"red \x1b[31mtext\x1b[0m", `red \x1b[31mtext\x1b[0m`, `red \x1b[31mtext\x1b[0m`},
		{"line\nfeed\ttab\rreturn", `line\x0afeed\x09tab\x0dreturn`, "line\nfeed\ttab\\x0dreturn"},
		{"del\x7f c1\u009b", `del\x7f c1\u009b`, `del\x7f c1\u009b`},
		{"bidi \u202eevil\u2066", `bidi \u202eevil\u2066`, `bidi \u202eevil\u2066`},
		{"bad \xff\xfe utf8", `bad \xff\xfe utf8`, `bad \xff\xfe utf8`},
		{"real \ufffd replacement", "real \ufffd replacement", "real \ufffd replacement"},
		{"", "", ""},
	}
	for _, tt := range tests {
		if got := Escape(tt.in); got != tt.want {
			t.Errorf("Escape(%q) = %q, want %q", tt.in, got, tt.want)
		}
		if got := EscapeText(tt.in); got != tt.wantText {
			t.Errorf("EscapeText(%q) = %q, want %q", tt.in, got, tt.wantText)
		}
	}
}

// Whatever the input, the escaped text is UTF-8 with nothing a terminal acts on, and text that
// needs no escaping comes back unchanged.
func FuzzEscape(f *testing.F) {
	for _, s := range []string{"plain", "\x1b[2J", "\u202e", "\xff", "a\nb", "\u009b"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got := Escape(s)
		if !utf8.ValidString(got) {
			t.Fatalf("Escape(%q) = %q is not UTF-8", s, got)
		}
		clean := true
		for _, r := range s {
			if r == utf8.RuneError || unicode.IsControl(r) || unicode.Is(unicode.Bidi_Control, r) {
				clean = false
			}
		}
		for _, r := range got {
			if unicode.IsControl(r) || unicode.Is(unicode.Bidi_Control, r) {
				t.Fatalf("Escape(%q) = %q still holds %U", s, got, r)
			}
		}
		if clean && got != s {
			t.Fatalf("Escape(%q) = %q changed text that needed no escaping", s, got)
		}
		if text := EscapeText(s); strings.Count(text, "\n") != strings.Count(s, "\n") {
			t.Fatalf("EscapeText(%q) = %q lost or added lines", s, text)
		}
	})
}
