package ui

import (
	"net/url"
	"strings"
	"testing"
)

func TestLineDiff(t *testing.T) {
	for _, tc := range []struct {
		name, a, b string
		want       string // the diff's lines, op then text
	}{
		{"same", "a\nb\n", "a\nb\n", " a| b"},
		{"added", "a\nc\n", "a\nb\nc\n", " a|+b| c"},
		{"removed", "a\nb\nc\n", "a\nc\n", " a|-b| c"},
		{"changed", "a\nb\nc\n", "a\nB\nc\n", " a|-b|+B| c"},
		{"from nothing", "", "a\n", "+a"},
		{"to nothing", "a\n", "", "-a"},
		{"no final newline", "a", "a\nb", " a|+b"},
		{"moved", "a\nb\nc\n", "c\na\nb\n", "+c| a| b|-c"},
	} {
		lines, whole := lineDiff(tc.a, tc.b)
		var got []string
		for _, l := range lines {
			got = append(got, string(rune(l.Op))+l.Text)
		}
		if strings.Join(got, "|") != tc.want || whole {
			t.Errorf("%s: %q (whole %v), want %q", tc.name, strings.Join(got, "|"), whole, tc.want)
		}
	}
	// Past the bound of work, the middle is shown removed and added whole, still exactly.
	var a, b strings.Builder
	for i := range 3000 {
		a.WriteString("old " + strings.Repeat("x", i%7) + "\n")
		b.WriteString("new " + strings.Repeat("y", i%5) + "\n")
	}
	lines, whole := lineDiff("head\n"+a.String()+"tail\n", "head\n"+b.String()+"tail\n")
	if !whole || len(lines) != 6002 || lines[0].Op != opKeep || lines[1].Op != opRemove || lines[6001].Op != opKeep {
		t.Errorf("a large change: %d lines, whole %v", len(lines), whole)
	}
	checkDiff(t, "head\n"+a.String()+"tail\n", "head\n"+b.String()+"tail\n")
}

// checkDiff holds a diff to what it must be: its kept and removed lines are the old text, its kept
// and added lines the new one, each numbered in its text.
func checkDiff(t *testing.T, a, b string) {
	t.Helper()
	lines, _ := lineDiff(a, b)
	var old, new []string
	for _, l := range lines {
		if l.Op != opAdd {
			old = append(old, l.Text)
			if l.Old != len(old) {
				t.Fatalf("line %q numbered %d in the old text, is %d", l.Text, l.Old, len(old))
			}
		}
		if l.Op != opRemove {
			new = append(new, l.Text)
			if l.New != len(new) {
				t.Fatalf("line %q numbered %d in the new text, is %d", l.Text, l.New, len(new))
			}
		}
	}
	if want := splitLines(a); strings.Join(old, "\n") != strings.Join(want, "\n") || len(old) != len(want) {
		t.Fatalf("the diff's old side %q, want %q", old, want)
	}
	if want := splitLines(b); strings.Join(new, "\n") != strings.Join(want, "\n") || len(new) != len(want) {
		t.Fatalf("the diff's new side %q, want %q", new, want)
	}
}

func splitLines(s string) []string { return lines(s) }

func FuzzLineDiff(f *testing.F) {
	f.Add("a\nb\nc\n", "a\nB\nc\nd\n")
	f.Add("", "x")
	f.Add("apiVersion: custody.dev/v1\nkind: Contract\n", "apiVersion: custody.dev/v1\nkind: Contract\nspec: {}\n")
	f.Fuzz(func(t *testing.T, a, b string) {
		if len(a) > 1<<14 || len(b) > 1<<14 {
			return
		}
		checkDiff(t, a, b)
	})
}

// FuzzLocalNext: whatever a sign-in form says to go to next, it is a page of the UI on this site.
func FuzzLocalNext(f *testing.F) {
	for _, s := range []string{"/ui/runs/x", "https://evil.example/", "//evil.example/ui/", "/ui/\\evil", "/ui/x?y=z#f", "/\t/evil", "/ui/%0d%0aSet-Cookie:x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, next string) {
		got := localNext(next)
		u, err := url.Parse(got)
		if err != nil || u.Scheme != "" || u.Host != "" || !strings.HasPrefix(got, Prefix) || strings.ContainsAny(got, "\\\r\n") {
			t.Fatalf("localNext(%q) = %q: not a page of the UI", next, got)
		}
	})
}

func TestAsYAML(t *testing.T) {
	yaml := "apiVersion: custody.dev/v1\nkind: Contract\n# a comment stays\n"
	if got, converted := asYAML([]byte(yaml)); got != yaml || converted {
		t.Errorf("a YAML body: %q (converted %v), want it as uploaded", got, converted)
	}
	json := `{"apiVersion":"custody.dev/v1","kind":"Contract","metadata":{"name":"build"},"spec":{"materials":[{"name":"rootfs","type":"ARTIFACT","optional":true}],"envAllowList":["true","1"]}}`
	want := `apiVersion: custody.dev/v1
kind: Contract
metadata:
  name: build
spec:
  materials:
    - name: rootfs
      type: ARTIFACT
      optional: true
  envAllowList:
    - "true"
    - "1"
`
	if got, converted := asYAML([]byte(json)); got != want || !converted {
		t.Errorf("a JSON body as YAML (converted %v):\n%s\nwant:\n%s", converted, got, want)
	}
}

// FuzzShellLine: every argument comes back whole from the quoted line, as a POSIX shell reads it.
func FuzzShellLine(f *testing.F) {
	f.Add("https://custody.example/projects/p/workflows/w", "it's $HOME `x` \"q\"")
	f.Fuzz(func(t *testing.T, a, b string) {
		if strings.ContainsRune(a+b, 0) {
			return
		}
		got := readShellWords(shellLine(a, b))
		if len(got) != 2 || got[0] != a || got[1] != b {
			t.Fatalf("shellLine(%q, %q) = %q reads as %q", a, b, shellLine(a, b), got)
		}
	})
}

// readShellWords splits a line as a POSIX shell does for what shellLine writes: unquoted words,
// single-quoted strings and backslash escapes, separated by spaces.
func readShellWords(line string) []string {
	var words []string
	var cur strings.Builder
	inWord, quoted, escaped := false, false, false
	for i := 0; i < len(line); i++ {
		c := line[i]
		switch {
		case escaped:
			cur.WriteByte(c)
			escaped = false
		case quoted && c == '\'':
			quoted = false
		case quoted:
			cur.WriteByte(c)
		case c == '\'':
			quoted, inWord = true, true
		case c == '\\':
			escaped, inWord = true, true
		case c == ' ':
			if inWord {
				words = append(words, cur.String())
				cur.Reset()
				inWord = false
			}
		default:
			inWord = true
			cur.WriteByte(c)
		}
	}
	if inWord {
		words = append(words, cur.String())
	}
	return words
}
