package ghactions

import (
	"errors"
	"fmt"
	"strings"
)

// What the runner reads: tests hold what a step wrote to the runner's own reading of it.

// ParseEnvFile reads an environment file (GITHUB_OUTPUT, GITHUB_ENV) as the runner does
// (actions/runner FileCommandManager): lines end at LF or CR LF; an entry is name=value on one line,
// or name<<DELIMITER followed by the value's lines up to a line that is the delimiter; empty lines
// between entries are skipped. A later entry of a name replaces an earlier one.
func ParseEnvFile(text string) (map[string]string, error) {
	out := map[string]string{}
	i := 0
	readLine := func() (string, bool) {
		if i >= len(text) {
			return "", false
		}
		start := i
		lf := strings.IndexByte(text[i:], '\n')
		if lf < 0 {
			i = len(text)
			return text[start:], true
		}
		if crlf := strings.Index(text[i:], "\r\n"); crlf >= 0 && crlf < lf {
			i += crlf + 2
			return text[start : start+crlf], true
		}
		i += lf + 1
		return text[start : start+lf], true
	}
	for {
		line, ok := readLine()
		if !ok {
			return out, nil
		}
		if line == "" {
			continue
		}
		eq, heredoc := strings.Index(line, "="), strings.Index(line, "<<")
		switch {
		case eq >= 0 && (heredoc < 0 || eq < heredoc):
			if eq == 0 {
				return nil, fmt.Errorf("line %q: empty name", line)
			}
			out[line[:eq]] = line[eq+1:]
		case heredoc > 0:
			name, delim := line[:heredoc], line[heredoc+2:]
			if delim == "" {
				return nil, fmt.Errorf("line %q: empty delimiter", line)
			}
			var value []string
			for {
				l, ok := readLine()
				if !ok {
					return nil, errors.New("no closing delimiter " + delim)
				}
				if l == delim {
					break
				}
				value = append(value, l)
			}
			out[name] = strings.Join(value, "\n")
		default:
			return nil, fmt.Errorf("line %q: neither name=value nor name<<DELIMITER", line)
		}
	}
}

// Command is a workflow command as the runner reads it from a line of a step's output.
type Command struct {
	Name       string
	Properties map[string]string
	Message    string
}

// ParseCommand reads a line of a step's output (without its newline) as the runner does:
// ::name prop=value,...::message, with properties and message unescaped.
func ParseCommand(line string) (Command, bool) {
	rest, ok := strings.CutPrefix(line, "::")
	if !ok {
		return Command{}, false
	}
	head, message, ok := strings.Cut(rest, "::")
	if !ok {
		return Command{}, false
	}
	name, props, _ := strings.Cut(head, " ")
	if name == "" {
		return Command{}, false
	}
	c := Command{Name: name, Properties: map[string]string{}, Message: unescapeData(message)}
	if props != "" {
		for _, p := range strings.Split(props, ",") {
			k, v, ok := strings.Cut(p, "=")
			if !ok || k == "" {
				return Command{}, false
			}
			c.Properties[k] = unescapeProperty(v)
		}
	}
	return c, true
}

var (
	dataUnescaper     = strings.NewReplacer("%0D", "\r", "%0A", "\n", "%25", "%")
	propertyUnescaper = strings.NewReplacer("%0D", "\r", "%0A", "\n", "%3A", ":", "%2C", ",", "%25", "%")
)

func unescapeData(s string) string     { return dataUnescaper.Replace(s) }
func unescapeProperty(s string) string { return propertyUnescaper.Replace(s) }
