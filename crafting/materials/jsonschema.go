package materials

import (
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"regexp"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/dlclark/regexp2"
	"github.com/santhosh-tekuri/jsonschema/v6"
	"golang.org/x/text/language"
	"golang.org/x/text/message"
)

// embeddedSchema is an official JSON schema embedded in the binary with the schemas it refers to,
// compiled once, on first use, with santhosh-tekuri/jsonschema. Nothing is fetched: a $ref to a URL
// outside the set fails the compilation, and formats (date-time, uri, email...) are asserted, as the
// formats' own validators do.
type embeddedSchema struct {
	fsys fs.FS
	// main is the URL of the schema documents are validated against.
	main string
	// files maps each schema's URL (as the schemas' $ref name it) to its file in fsys; a name ending
	// in .gz is gzip-compressed.
	files map[string]string

	once   sync.Once
	schema *jsonschema.Schema
	err    error
}

func (e *embeddedSchema) compiled() (*jsonschema.Schema, error) {
	e.once.Do(func() { e.schema, e.err = e.compile() })
	return e.schema, e.err
}

func (e *embeddedSchema) compile() (*jsonschema.Schema, error) {
	c := jsonschema.NewCompiler()
	c.AssertFormat()
	c.UseLoader(offlineLoader{})
	c.UseRegexpEngine(compilePattern)
	for url, name := range e.files {
		doc, err := readSchemaFile(e.fsys, name)
		if err != nil {
			return nil, err
		}
		if err := c.AddResource(url, doc); err != nil {
			return nil, fmt.Errorf("schema %s: %w", name, err)
		}
	}
	schema, err := c.Compile(e.main)
	if err != nil {
		return nil, fmt.Errorf("compile the embedded schema %s: %w", e.main, err)
	}
	return schema, nil
}

func readSchemaFile(fsys fs.FS, name string) (any, error) {
	data, err := fs.ReadFile(fsys, name)
	if err != nil {
		return nil, fmt.Errorf("read embedded schema: %w", err)
	}
	var r io.Reader = bytes.NewReader(data)
	if strings.HasSuffix(name, ".gz") {
		if r, err = gzip.NewReader(r); err != nil {
			return nil, fmt.Errorf("embedded schema %s: %w", name, err)
		}
	}
	doc, err := jsonschema.UnmarshalJSON(r)
	if err != nil {
		return nil, fmt.Errorf("embedded schema %s: %w", name, err)
	}
	return doc, nil
}

// offlineLoader refuses every URL: the embedded schemas are all there is.
type offlineLoader struct{}

func (offlineLoader) Load(url string) (any, error) {
	return nil, fmt.Errorf("%s is not embedded (schemas are never fetched)", url)
}

// patternMatchTimeout bounds one match of a pattern Go's regexp cannot run (regexp2 backtracks).
const patternMatchTimeout = time.Second

// compilePattern compiles a schema's pattern with Go's regexp (linear time) when it can, and
// otherwise, for the ECMA-262 syntax schemas are written in and Go lacks (the lookaheads of CSAF
// 2.1's), with dlclark/regexp2 in ECMAScript mode, each match bounded by patternMatchTimeout.
func compilePattern(pattern string) (jsonschema.Regexp, error) {
	if re, err := regexp.Compile(pattern); err == nil {
		return re, nil
	}
	re, err := regexp2.Compile(pattern, regexp2.ECMAScript)
	if err != nil {
		return nil, err
	}
	re.MatchTimeout = patternMatchTimeout
	return (*ecmaRegexp)(re), nil
}

// ecmaRegexp is a regexp2 pattern as jsonschema runs it: a match that errs (times out) fails.
type ecmaRegexp regexp2.Regexp

func (re *ecmaRegexp) MatchString(s string) bool {
	ok, err := (*regexp2.Regexp)(re).MatchString(s)
	return err == nil && ok
}

func (re *ecmaRegexp) String() string { return (*regexp2.Regexp)(re).String() }

// validate checks doc (as jsonschema.UnmarshalJSON decodes JSON: json.Number for numbers) against
// the schema. A document that breaks it gets an error naming where and why: the first few
// violations, each bounded in length.
func (e *embeddedSchema) validate(doc any) error {
	schema, err := e.compiled()
	if err != nil {
		return err
	}
	err = schema.Validate(doc)
	var ve *jsonschema.ValidationError
	if errors.As(err, &ve) {
		return errors.New(schemaViolations(ve))
	}
	return err
}

const (
	// maxViolations bounds the violations an error lists; the rest are counted.
	maxViolations = 3
	// maxViolationLen bounds one violation's text (a pattern or an enum can be long).
	maxViolationLen = 240
)

var schemaPrinter = message.NewPrinter(language.English)

// schemaViolations words a validation error for a user: the leaves of its tree (the keywords that
// failed, not the subschemas that contain them), deepest location first, each as
// "at /json/pointer: message".
func schemaViolations(ve *jsonschema.ValidationError) string {
	type violation struct {
		at, msg string
		depth   int
	}
	var leaves []violation
	seen := map[string]bool{}
	var walk func(*jsonschema.ValidationError)
	walk = func(e *jsonschema.ValidationError) {
		if len(e.Causes) > 0 {
			for _, c := range e.Causes {
				walk(c)
			}
			return
		}
		at := "/" + strings.Join(escapePointer(e.InstanceLocation), "/")
		msg := e.ErrorKind.LocalizedString(schemaPrinter)
		if key := at + "\x00" + msg; !seen[key] {
			seen[key] = true
			leaves = append(leaves, violation{at: at, msg: msg, depth: len(e.InstanceLocation)})
		}
	}
	walk(ve)
	// The deepest failure is the most precise (an anyOf's branches fail higher up too); the order of
	// the walk breaks ties, so the message is stable.
	sort.SliceStable(leaves, func(i, j int) bool { return leaves[i].depth > leaves[j].depth })
	var b strings.Builder
	b.WriteString("does not match the schema: ")
	for i, v := range leaves {
		if i == maxViolations {
			fmt.Fprintf(&b, " (and %d more)", len(leaves)-maxViolations)
			break
		}
		if i > 0 {
			b.WriteString("; ")
		}
		b.WriteString(truncate("at "+v.at+": "+v.msg, maxViolationLen))
	}
	return b.String()
}

// escapePointer escapes JSON pointer tokens (RFC 6901).
func escapePointer(tokens []string) []string {
	out := make([]string, len(tokens))
	for i, t := range tokens {
		out[i] = strings.ReplaceAll(strings.ReplaceAll(t, "~", "~0"), "/", "~1")
	}
	return out
}

// truncate cuts s to at most n bytes, on a rune boundary, marking the cut.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	cut := n - len("…")
	for cut > 0 && !isRuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}

func isRuneStart(b byte) bool { return b&0xc0 != 0x80 }
