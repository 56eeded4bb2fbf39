// Package termsafe makes text fit for a terminal: what a signed bundle, a contract or a file name
// holds must not move the cursor, rewrite the screen or reorder the text a user reads.
package termsafe

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Escape returns s fit for a terminal: control characters (C0 including newline and tab, DEL,
// C1), the characters that reorder text (Unicode bidi controls) and bytes that are not UTF-8 are
// written as Go escapes (\x1b, \u202e).
func Escape(s string) string { return escape(s, false) }

// EscapeText is Escape keeping newlines and tabs, for messages of several lines.
func EscapeText(s string) string { return escape(s, true) }

func escape(s string, keepLines bool) string {
	var b strings.Builder
	escaped := false
	for i, r := range s {
		bad := unsafeRune(r, s[i:], keepLines)
		if !escaped {
			if !bad {
				continue // copied at once if nothing needs escaping
			}
			escaped = true
			b.WriteString(s[:i])
		}
		switch {
		case !bad:
			b.WriteRune(r)
		case r == utf8.RuneError: // a byte that is not UTF-8
			fmt.Fprintf(&b, `\x%02x`, s[i])
		case r < 0x80:
			fmt.Fprintf(&b, `\x%02x`, r)
		default:
			fmt.Fprintf(&b, `\u%04x`, r)
		}
	}
	if !escaped {
		return s
	}
	return b.String()
}

// unsafeRune reports a rune a terminal could act on; rest is the text from it on (to tell a bad
// byte from a real U+FFFD).
func unsafeRune(r rune, rest string, keepLines bool) bool {
	switch {
	case r == utf8.RuneError:
		return !strings.HasPrefix(rest, string(utf8.RuneError))
	case keepLines && (r == '\n' || r == '\t'):
		return false
	case r < 0x20, r == 0x7f, r >= 0x80 && r < 0xa0:
		return true
	}
	return unicode.Is(unicode.Bidi_Control, r)
}
