package contract

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/custody-dev/custody/internal/input"
)

// MaxSize is the largest contract document Parse accepts, in bytes.
const MaxSize = 1 << 20

// MaxMaterials is the most materials a contract may list: an attestation records at most as many
// (attestation.MaxMaterials is this bound), so a contract with more could never be satisfied.
const MaxMaterials = 1024

var utf8BOM = []byte("\xef\xbb\xbf")

// ParseFile reads and parses the contract at path (at most MaxSize bytes). Every problem names the
// file.
func ParseFile(path string) (*Contract, error) {
	data, err := input.ReadFile(context.Background(), path, MaxSize)
	var tooLarge *input.TooLargeError
	switch {
	case errors.As(err, &tooLarge):
		return nil, Errors{{File: path, Reason: fmt.Sprintf("the document is larger than %d bytes", MaxSize)}}
	case err != nil:
		return nil, fmt.Errorf("read contract: %w", err)
	}
	return ParseNamed(path, data)
}

// ParseNamed parses data like Parse, naming the file it came from in every problem: for callers
// that read the file themselves (the CLI reads it once, to parse it and to send it).
func ParseNamed(file string, data []byte) (*Contract, error) {
	c, err := Parse(data)
	if err != nil {
		var errs Errors
		if errors.As(err, &errs) {
			for _, e := range errs {
				e.File = file
			}
			return nil, errs
		}
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	return c, nil
}

// Parse parses and validates a contract written in YAML or JSON. A document whose first
// non-space character is '{' is read as JSON (positions are then lines, columns and byte offsets
// of the JSON text); anything else as YAML. Unknown fields, duplicate keys, wrong types, more than
// one document and every rule of Validate are errors; all of them are reported at once, as
// Errors, each naming the field path, its line and the reason.
func Parse(data []byte) (*Contract, error) {
	if len(data) > MaxSize {
		return nil, Errors{{Reason: fmt.Sprintf("the document is larger than %d bytes", MaxSize)}}
	}
	base := int64(0)
	if bytes.HasPrefix(data, utf8BOM) {
		data, base = data[len(utf8BOM):], int64(len(utf8BOM))
	}
	trimmed := bytes.TrimLeft(data, " \t\r\n")
	if len(trimmed) == 0 {
		return nil, Errors{{Reason: "the document is empty: a contract needs apiVersion, kind, metadata and spec"}}
	}
	var (
		root  *yaml.Node
		probs *problems
	)
	if trimmed[0] == '{' {
		root, probs = parseJSON(data, base)
	} else {
		root, probs = parseYAML(data)
	}
	if root == nil {
		return nil, probs.err()
	}
	d := newDecoder(probs)
	c := d.contract(root)
	// A document that is not even a mapping has nothing to validate.
	if !d.aborted && !d.bad[""] {
		c.validate(probs, d.where)
	}
	if err := probs.err(); err != nil {
		return nil, err
	}
	return c, nil
}

var yamlLineErr = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

// yamlParserProblems are the problems yaml.v3's parser (as opposed to its scanner) reports. For
// these, yaml.v3 prints a 0-based line (of the construct that is left open, or of the problem),
// and none at all for line 0; scanner problems carry the right 1-based line.
var yamlParserProblems = map[string]bool{
	"did not find expected ',' or ']'":       true,
	"did not find expected ',' or '}'":       true,
	"did not find expected '-' indicator":    true,
	"did not find expected <document start>": true,
	"did not find expected <stream-start>":   true,
	"did not find expected key":              true,
	"did not find expected node content":     true,
	"found duplicate %TAG directive":         true,
	"found duplicate %YAML directive":        true,
	"found incompatible YAML document":       true,
	"found undefined tag handle":             true,
}

// yamlProblem turns a yaml.v3 syntax error ("yaml: line 3: ...") into a FieldError.
func yamlProblem(probs *problems, err error) {
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	line := 0
	if m := yamlLineErr.FindStringSubmatch(err.Error()); m != nil {
		line, _ = strconv.Atoi(m[1])
		msg = m[2]
	}
	if yamlParserProblems[msg] {
		line++
	}
	probs.add("", position{line: line}, "invalid YAML: %s", msg)
}

// parseYAML returns the top node of the only document in data, or nil and the problems.
func parseYAML(data []byte) (root *yaml.Node, probs *problems) {
	probs = &problems{}
	defer func() {
		// yaml.v3 has panicked on hostile input in the past; a contract parser must not.
		if r := recover(); r != nil {
			root = nil
			probs.add("", position{}, "invalid YAML: the parser failed: %v", r)
		}
	}()
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			probs.add("", position{}, "the document is empty: a contract needs apiVersion, kind, metadata and spec")
		} else {
			yamlProblem(probs, err)
		}
		return nil, probs
	}
	for {
		var next yaml.Node
		err := dec.Decode(&next)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			yamlProblem(probs, err)
			return nil, probs
		}
		if !emptyDocument(&next) {
			probs.add("", position{line: next.Line, column: next.Column},
				"a second YAML document starts here: a contract file holds exactly one document (remove the '---' separator and what follows, or split the file)")
			break
		}
	}
	if len(doc.Content) != 1 || emptyDocument(&doc) {
		probs.add("", position{line: doc.Line, column: doc.Column}, "the document is empty: a contract needs apiVersion, kind, metadata and spec")
		return nil, probs
	}
	return doc.Content[0], probs
}

// emptyDocument reports whether doc holds nothing but an implicit null (a bare '---').
func emptyDocument(doc *yaml.Node) bool {
	if len(doc.Content) == 0 {
		return true
	}
	n := doc.Content[0]
	return n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null" && n.Value == "" && n.Style == 0
}
