// Package ghactions speaks to the GitHub Actions runner from inside a step: the environment files
// (GITHUB_OUTPUT, GITHUB_ENV, GITHUB_STEP_SUMMARY) and the workflow commands on standard output
// (::add-mask::, ::error::, ::warning::, ::notice::), escaped as the Actions toolkit (@actions/core)
// escapes them. Every read of the environment goes through an injected getenv.
//
// It replaces github.com/sethvargo/go-githubactions, which the module proxy here does not serve.
package ghactions

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
	"strconv"
	"strings"
)

// Limits of the runner: a step summary over 1 MiB is not shown ("upload aborted"), and a job's
// outputs are at most 1 MiB.
const (
	MaxSummarySize = 1 << 20
	MaxValueSize   = 1 << 20
	// MaxNameSize bounds an output or variable name.
	MaxNameSize = 256
)

// ErrNotSet says the runner did not set the variable naming an environment file.
var ErrNotSet = errors.New("not set: not in a GitHub Actions step, or a runner too old for environment files")

// Actions writes to the runner of the step it runs in.
type Actions struct {
	getenv func(string) string
	out    io.Writer
	rand   io.Reader
}

// New returns an Actions that reads the runner's variables through getenv and writes workflow
// commands to stdout (the runner reads them from the step's standard output).
func New(getenv func(string) string, stdout io.Writer) *Actions {
	return &Actions{getenv: getenv, out: stdout, rand: rand.Reader}
}

// WithRandom returns a copy of a that draws heredoc delimiters from r (tests make them predictable).
func (a *Actions) WithRandom(r io.Reader) *Actions {
	c := *a
	c.rand = r
	return &c
}

// Running reports whether the process runs in a GitHub Actions step: GITHUB_ACTIONS=true.
func Running(getenv func(string) string) bool { return getenv("GITHUB_ACTIONS") == "true" }

// SetOutput sets the step output name to value (GITHUB_OUTPUT).
func (a *Actions) SetOutput(name, value string) error {
	return a.appendKeyValue("GITHUB_OUTPUT", "output", name, value)
}

// ExportVariable sets the environment variable name to value for the job's next steps (GITHUB_ENV).
func (a *Actions) ExportVariable(name, value string) error {
	return a.appendKeyValue("GITHUB_ENV", "environment variable", name, value)
}

// AddSummary appends Markdown to the step's summary (GITHUB_STEP_SUMMARY).
func (a *Actions) AddSummary(markdown string) error {
	path, err := a.file("GITHUB_STEP_SUMMARY")
	if err != nil {
		return err
	}
	if info, err := os.Stat(path); err == nil && info.Size()+int64(len(markdown)) > MaxSummarySize {
		return fmt.Errorf("step summary: %d bytes more would make it larger than the runner shows (%d bytes)", len(markdown), MaxSummarySize)
	}
	if len(markdown) > MaxSummarySize {
		return fmt.Errorf("step summary: %d bytes is larger than the runner shows (%d bytes)", len(markdown), MaxSummarySize)
	}
	return appendFile(path, markdown)
}

// AddMask tells the runner to replace secret with *** in the log from now on. Each line of a secret
// of several lines is masked too: the runner matches masks within a line.
func (a *Actions) AddMask(secret string) error {
	if strings.TrimSpace(secret) == "" {
		return nil // nothing to hide, and the runner warns about empty masks
	}
	values := []string{secret}
	if strings.ContainsAny(secret, "\r\n") {
		for _, line := range strings.FieldsFunc(secret, func(r rune) bool { return r == '\r' || r == '\n' }) {
			if strings.TrimSpace(line) != "" {
				values = append(values, line)
			}
		}
	}
	for _, v := range values {
		if err := a.command("add-mask", nil, v); err != nil {
			return err
		}
	}
	return nil
}

// Level is the severity of an annotation.
type Level string

const (
	LevelError   Level = "error"
	LevelWarning Level = "warning"
	LevelNotice  Level = "notice"
)

// Annotation is a message the runner shows on the run's summary page (and, with a file, on the
// line of the file in the diff).
type Annotation struct {
	Level   Level
	Message string
	Title   string
	File    string
	// Line, EndLine, Col and EndColumn are 1-based; 0 leaves them out.
	Line, EndLine, Col, EndColumn int
}

// Annotate writes the annotation as a workflow command.
func (a *Actions) Annotate(an Annotation) error {
	switch an.Level {
	case LevelError, LevelWarning, LevelNotice:
	default:
		return fmt.Errorf("annotation level %q: want error, warning or notice", an.Level)
	}
	props := map[string]string{}
	for k, v := range map[string]string{"title": an.Title, "file": an.File} {
		if v != "" {
			props[k] = v
		}
	}
	for k, v := range map[string]int{"line": an.Line, "endLine": an.EndLine, "col": an.Col, "endColumn": an.EndColumn} {
		if v > 0 {
			props[k] = strconv.Itoa(v)
		}
	}
	return a.command(string(an.Level), props, an.Message)
}

// Error writes an error annotation with a title.
func (a *Actions) Error(title, message string) error {
	return a.Annotate(Annotation{Level: LevelError, Title: title, Message: message})
}

// command writes ::name k=v,...::message on a line of its own, escaped as the toolkit does.
func (a *Actions) command(name string, props map[string]string, message string) error {
	var b strings.Builder
	b.WriteString("::")
	b.WriteString(name)
	keys := make([]string, 0, len(props))
	for k := range props {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for i, k := range keys {
		if i == 0 {
			b.WriteByte(' ')
		} else {
			b.WriteByte(',')
		}
		b.WriteString(k)
		b.WriteByte('=')
		b.WriteString(EscapeProperty(props[k]))
	}
	b.WriteString("::")
	b.WriteString(EscapeData(message))
	b.WriteByte('\n')
	if _, err := io.WriteString(a.out, b.String()); err != nil {
		return fmt.Errorf("write ::%s:: command: %w", name, err)
	}
	return nil
}

// EscapeData escapes a workflow command's message: %, CR and LF (so it stays on one line, and the
// runner unescapes it back).
func EscapeData(s string) string {
	return dataEscaper.Replace(s)
}

// EscapeProperty escapes a workflow command's property value: as EscapeData, and also : and , which
// end a property.
func EscapeProperty(s string) string {
	return propertyEscaper.Replace(s)
}

var (
	dataEscaper     = strings.NewReplacer("%", "%25", "\r", "%0D", "\n", "%0A")
	propertyEscaper = strings.NewReplacer("%", "%25", "\r", "%0D", "\n", "%0A", ":", "%3A", ",", "%2C")
)

// appendKeyValue appends name<<DELIMITER\nvalue\nDELIMITER to the file the variable env names, with
// a random delimiter the value does not hold (the runner reads the value up to the delimiter's line).
func (a *Actions) appendKeyValue(env, what, name, value string) error {
	if err := checkName(name); err != nil {
		return fmt.Errorf("%s %q: %w", what, name, err)
	}
	if len(value) > MaxValueSize {
		return fmt.Errorf("%s %s: %d bytes, more than the runner takes (%d)", what, name, len(value), MaxValueSize)
	}
	if strings.ContainsRune(value, '\r') {
		// The runner reads CR LF as a line break and hands back LF: the value would not survive.
		return fmt.Errorf("%s %s: the value holds a carriage return, which the runner reads as a line break", what, name)
	}
	path, err := a.file(env)
	if err != nil {
		return err
	}
	delim, err := a.delimiter()
	if err != nil {
		return err
	}
	if strings.Contains(value, delim) {
		return fmt.Errorf("%s %s: the value holds the delimiter %s", what, name, delim)
	}
	return appendFile(path, name+"<<"+delim+"\n"+value+"\n"+delim+"\n")
}

// checkName accepts letters, digits, - and _ (not first a digit or -): the runner splits a line at
// its first = and before <<, and reads a line at a time.
func checkName(name string) error {
	if name == "" {
		return errors.New("empty name")
	}
	if len(name) > MaxNameSize {
		return fmt.Errorf("name longer than %d bytes", MaxNameSize)
	}
	for i, r := range name {
		switch {
		case r >= 'A' && r <= 'Z', r >= 'a' && r <= 'z', r == '_':
		case (r >= '0' && r <= '9' || r == '-') && i > 0:
		default:
			return fmt.Errorf("character %q at %d: a name holds letters, digits, - and _", r, i)
		}
	}
	return nil
}

// delimiter is ghadelimiter_ and 128 random bits, as the toolkit's.
func (a *Actions) delimiter() (string, error) {
	b := make([]byte, 16)
	if _, err := io.ReadFull(a.rand, b); err != nil {
		return "", fmt.Errorf("random delimiter: %w", err)
	}
	return "ghadelimiter_" + hex.EncodeToString(b), nil
}

// file returns the path in the environment variable env, which the runner sets for every step.
func (a *Actions) file(env string) (string, error) {
	path := a.getenv(env)
	if path == "" {
		return "", fmt.Errorf("%s: %w", env, ErrNotSet)
	}
	return path, nil
}

func appendFile(path, s string) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		return fmt.Errorf("open %s: %w", path, err)
	}
	if _, err := f.WriteString(s); err != nil {
		f.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}
