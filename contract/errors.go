package contract

import (
	"errors"
	"fmt"
	"sort"
	"strings"
)

// ErrInvalid is matched (errors.Is) by every error Parse, ParseFile and Validate return for a
// document that is not a valid contract, as opposed to a file that could not be read.
var ErrInvalid = errors.New("invalid contract")

// FieldError is one problem in a contract document: where it is and why it is wrong.
type FieldError struct {
	// File is the contract's path when it came from ParseFile.
	File string
	// Path names the field, e.g. spec.materials[2].type; empty for the document as a whole.
	Path string
	// Line and Column are 1-based; 0 when unknown (a contract built in Go has no lines).
	Line, Column int
	// Offset is the byte offset of a JSON syntax error; 0 otherwise.
	Offset int64
	// Reason says what is wrong and, where it helps, what would be right.
	Reason string
}

func (e *FieldError) Error() string {
	var b strings.Builder
	if e.File != "" {
		b.WriteString(e.File)
		b.WriteString(": ")
	}
	if e.Line > 0 {
		fmt.Fprintf(&b, "line %d", e.Line)
		if e.Column > 0 {
			fmt.Fprintf(&b, ", column %d", e.Column)
		}
		if e.Offset > 0 {
			fmt.Fprintf(&b, " (byte %d)", e.Offset)
		}
		b.WriteString(": ")
	}
	if e.Path != "" {
		b.WriteString(e.Path)
		b.WriteString(": ")
	}
	b.WriteString(e.Reason)
	return b.String()
}

// Is makes every FieldError match ErrInvalid.
func (e *FieldError) Is(target error) bool { return target == ErrInvalid }

// maxShown bounds how many problems Errors.Error prints; the rest are counted.
const maxShown = 50

// Errors is every problem found in one document, in document order. Parse and Validate return it
// so that a user can fix a contract in one go; errors.As(err, &errs) gets the list.
type Errors []*FieldError

func (es Errors) Error() string {
	lines := make([]string, 0, min(len(es), maxShown)+1)
	for i, e := range es {
		if i == maxShown {
			lines = append(lines, fmt.Sprintf("... and %d more problems", len(es)-maxShown))
			break
		}
		lines = append(lines, e.Error())
	}
	return strings.Join(lines, "\n")
}

// Unwrap returns the problems, so errors.Is and errors.As see each one.
func (es Errors) Unwrap() []error {
	out := make([]error, len(es))
	for i, e := range es {
		out[i] = e
	}
	return out
}

// problems collects FieldErrors while a document is decoded and validated.
type problems struct {
	list Errors
}

func (p *problems) add(path string, at position, format string, args ...any) {
	p.list = append(p.list, &FieldError{
		Path: path, Line: at.line, Column: at.column,
		Reason: fmt.Sprintf(format, args...),
	})
}

// err returns the problems sorted by position (stable, so equal positions keep their order), or nil.
func (p *problems) err() error {
	if len(p.list) == 0 {
		return nil
	}
	sort.SliceStable(p.list, func(i, j int) bool {
		a, b := p.list[i], p.list[j]
		if a.Line != b.Line {
			return a.Line < b.Line
		}
		return a.Column < b.Column
	})
	return p.list
}

// position is where a node starts in the document.
type position struct {
	line, column int
}
