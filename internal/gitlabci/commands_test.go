package gitlabci

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// scriptCommands returns the commands a POSIX shell script calls, sorted: the first word of each
// simple command, past variable assignments, keywords, for and case headers and case patterns, in
// command substitutions too, without here-document bodies. Words that are not plain names (quoted,
// expanded, globbed) are not commands it can name. It reads the components' scripts, not every
// shell program: what it cannot read it reports as an error.
func scriptCommands(script string) ([]string, error) {
	l := &lexer{src: script, found: map[string]bool{}}
	if err := l.code(false); err != nil {
		return nil, err
	}
	return slices.Sorted(func(yield func(string) bool) {
		for c := range l.found {
			if !yield(c) {
				return
			}
		}
	}), nil
}

type lexer struct {
	src   string
	i     int
	found map[string]bool
}

// plainName is a word that names a command: no quoting, expansion or glob in it.
var plainName = regexp.MustCompile(`^[A-Za-z0-9_.:\[\]-][A-Za-z0-9_.+\[\]-]*$`)

var heredoc = regexp.MustCompile(`^<<-?\s*'?"?([A-Za-z_][A-Za-z0-9_]*)'?"?`)

// The states of a word's place in a command.
const (
	atCommand    = iota // the next word is a command (or an assignment or keyword before one)
	inArgs              // the command's arguments
	inForHeader         // for NAME in WORDS: no command until its end
	inCaseHeader        // case WORD in: no command; patterns follow
	inPattern           // case patterns: no command until the ")" that ends them
	afterRedir          // the target of a redirection
)

// code reads shell code up to the end of the input, or, in a command substitution (sub), to the ")"
// that closes it.
func (l *lexer) code(sub bool) error {
	state, beforeRedir := atCommand, atCommand
	var word strings.Builder
	plain := true
	var pendingHeredoc []string
	endWord := func() {
		if word.Len() == 0 {
			return
		}
		w := word.String()
		word.Reset()
		isPlain := plain
		plain = true
		switch state {
		case afterRedir:
			state = beforeRedir
		case inCaseHeader:
			if w == "in" {
				state = inPattern
			}
		case inPattern:
			if w == "esac" {
				state = inArgs
			}
		case atCommand:
			switch {
			case regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*=`).MatchString(w):
			case slices.Contains([]string{"if", "then", "else", "elif", "do", "while", "until", "!", "{", "}"}, w):
			case w == "fi" || w == "done":
				state = inArgs
			case w == "for":
				state = inForHeader
			case w == "case":
				state = inCaseHeader
			case w == "esac":
				state = inArgs
			case w == ";;":
			default:
				if isPlain && plainName.MatchString(w) {
					l.found[w] = true
				}
				state = inArgs
			}
		}
	}
	separator := func() {
		endWord()
		if state != inPattern {
			state = atCommand
		}
	}
	for l.i < len(l.src) {
		c := l.src[l.i]
		switch {
		case c == '\n':
			separator()
			l.i++
			for _, end := range pendingHeredoc {
				if err := l.skipHeredoc(end); err != nil {
					return err
				}
			}
			pendingHeredoc = nil
		case c == '#' && word.Len() == 0:
			for l.i < len(l.src) && l.src[l.i] != '\n' {
				l.i++
			}
		case c == ' ' || c == '\t':
			endWord()
			l.i++
		case c == '\\':
			plain = false
			word.WriteString(l.src[l.i:min(l.i+2, len(l.src))])
			l.i += 2
		case c == '\'':
			end := strings.IndexByte(l.src[l.i+1:], '\'')
			if end < 0 {
				return fmt.Errorf("an unterminated '...' at byte %d", l.i)
			}
			plain = false
			word.WriteString(l.src[l.i : l.i+end+2])
			l.i += end + 2
		case c == '"':
			plain = false
			word.WriteByte(c)
			l.i++
			if err := l.doubleQuoted(); err != nil {
				return err
			}
			word.WriteByte('"')
		case c == '$':
			plain = false
			word.WriteByte(c)
			if err := l.dollar(); err != nil {
				return err
			}
		case c == '<' && heredoc.MatchString(l.src[l.i:]):
			m := heredoc.FindStringSubmatch(l.src[l.i:])
			endWord()
			pendingHeredoc = append(pendingHeredoc, m[1])
			l.i += len(m[0])
		case c == '<' || c == '>':
			if w := word.String(); w != "" && plain && strings.Trim(w, "0123456789") == "" {
				word.Reset() // the file descriptor of 2>&1
			}
			endWord()
			for l.i < len(l.src) && strings.IndexByte("<>&|", l.src[l.i]) >= 0 {
				l.i++
			}
			if state == atCommand || state == inArgs {
				// The word after the target of a redirection before the command is the command.
				state, beforeRedir = afterRedir, state
			}
		case c == ';' && strings.HasPrefix(l.src[l.i:], ";;"):
			endWord()
			l.i += 2
			state = inPattern
		case c == ';' || c == '&' || c == '|':
			separator()
			l.i++
		case c == '(':
			endWord()
			l.i++
			state = atCommand
		case c == ')':
			if sub {
				endWord()
				l.i++
				return nil
			}
			endWord()
			l.i++
			state = atCommand
		default:
			word.WriteByte(c)
			l.i++
		}
	}
	endWord()
	if sub {
		return fmt.Errorf("an unterminated $( at the end")
	}
	return nil
}

// doubleQuoted reads a "..." after its opening quote, through its closing one; a command substitution
// in it is code.
func (l *lexer) doubleQuoted() error {
	start := l.i
	for l.i < len(l.src) {
		switch l.src[l.i] {
		case '\\':
			l.i += 2
		case '"':
			l.i++
			return nil
		case '$':
			if err := l.dollar(); err != nil {
				return err
			}
		default:
			l.i++
		}
	}
	return fmt.Errorf(`an unterminated "..." from byte %d`, start)
}

// dollar reads an expansion at a "$": $((...)), $(...) (code), ${...} or a plain $NAME.
func (l *lexer) dollar() error {
	rest := l.src[l.i:]
	switch {
	case strings.HasPrefix(rest, "$(("):
		end := strings.Index(rest, "))")
		if end < 0 {
			return fmt.Errorf("an unterminated $(( at byte %d", l.i)
		}
		l.i += end + 2
	case strings.HasPrefix(rest, "$("):
		l.i += 2
		return l.code(true)
	case strings.HasPrefix(rest, "${"):
		end := strings.IndexByte(rest, '}')
		if end < 0 {
			return fmt.Errorf("an unterminated ${ at byte %d", l.i)
		}
		l.i += end + 1
	default:
		l.i++
	}
	return nil
}

// skipHeredoc skips a here-document's body through its end line.
func (l *lexer) skipHeredoc(end string) error {
	for l.i < len(l.src) {
		nl := strings.IndexByte(l.src[l.i:], '\n')
		line := l.src[l.i:]
		if nl >= 0 {
			line = line[:nl]
		}
		l.i += len(line) + 1
		if strings.TrimLeft(line, "\t") == end {
			return nil
		}
	}
	return fmt.Errorf("the here-document ending with %s does not end", end)
}

// The reader of scripts finds what a script calls, and only that.
func TestScriptCommands(t *testing.T) {
	t.Parallel()
	tests := []struct {
		script string
		want   []string
	}{
		{"custody version", []string{"custody"}},
		{"set -eu\nA=1 B=\"x y\" custody add --name a=b </dev/null >&2", []string{"custody", "set"}},
		{`if [ -n "$X" ]; then export Y="$X"; fi`, []string{"[", "export"}},
		{`mkdir -p "$(dirname "$state")" && cp "$from" "$state"`, []string{"cp", "dirname", "mkdir"}},
		{"for f in a b c; do\n  [ -f \"$f\" ] || continue\n  n=${f##*/} && n=${n%%.*}\ndone", []string{"[", "continue"}},
		{"case \"$line\" in\n  '' | '#'*) ;;\n  *=*) custody add ;;\n  plain) rm x ;;\nesac\nfind .", []string{"custody", "find", "rm"}},
		{"while read -r line; do echo \"$line\"; done <<EOF\ncurl evil\n$X\nEOF\ncat y", []string{"cat", "echo", "read"}},
		{`out=$(custody init -o json)` + "\n" + `id=${out#*\"runID\": \"}` + "\n" + `: > f; echo "$((n + 1)) (not a command)"`, []string{":", "custody", "echo"}},
		{">log 2>&1 date; case x in a) for y in b; do z; done ;; esac", []string{"date", "z"}},
		{"# a comment: curl\nprintf '%s\\n' \"$x\" | grep -q y", []string{"grep", "printf"}},
	}
	for _, tt := range tests {
		got, err := scriptCommands(tt.script)
		if err != nil || !slices.Equal(got, tt.want) {
			t.Errorf("scriptCommands(%q) = %q, %v; want %q", tt.script, got, err, tt.want)
		}
	}
	for _, bad := range []string{`echo "unterminated`, "echo 'x", "echo $(date", "cat <<EOF\nno end"} {
		if _, err := scriptCommands(bad); err == nil {
			t.Errorf("scriptCommands(%q): no error", bad)
		}
	}
}

func FuzzScriptCommands(f *testing.F) {
	for _, c := range loadComponents(f) {
		f.Add(c.Body)
	}
	f.Add("a $(b \"$(c)\") | d")
	f.Fuzz(func(t *testing.T, script string) {
		cmds, err := scriptCommands(script)
		if err != nil {
			return
		}
		for _, c := range cmds {
			if !plainName.MatchString(c) {
				t.Errorf("%q is not a plain command name", c)
			}
		}
	})
}
