package materials

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strconv"
	"strings"
	"sync"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/santhosh-tekuri/jsonschema/v6/kind"
	"golang.org/x/text/language"
	"golang.org/x/text/message"
)

// schemaDoc is an embedded JSON schema document, compiled on first use (most commands never
// validate a scanner report, so nothing is compiled at start-up), then reused. Schemas are compiled
// with no loader for remote references: validation never touches the network.
type schemaDoc struct {
	fsys fs.FS
	path string
	// patch, when set, adjusts the decoded document before it is compiled (documented where used).
	patch func(doc map[string]any)

	mu       sync.Mutex
	compiler *jsonschema.Compiler
	err      error
	compiled map[string]*jsonschema.Schema
}

// schema returns the compiled schema at pointer ("" for the document, "/$defs/x" for a part).
func (d *schemaDoc) schema(pointer string) (*jsonschema.Schema, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.compiler == nil && d.err == nil {
		d.compiler, d.err = d.load()
		d.compiled = map[string]*jsonschema.Schema{}
	}
	if d.err != nil {
		return nil, d.err
	}
	if s, ok := d.compiled[pointer]; ok {
		return s, nil
	}
	s, err := d.compiler.Compile(d.url() + "#" + pointer)
	if err != nil {
		return nil, fmt.Errorf("embedded schema %s: %w", d.path, err)
	}
	d.compiled[pointer] = s
	return s, nil
}

func (d *schemaDoc) url() string { return "custody:///schemas/" + d.path }

func (d *schemaDoc) load() (*jsonschema.Compiler, error) {
	data, err := fs.ReadFile(d.fsys, d.path)
	if err != nil {
		return nil, fmt.Errorf("embedded schema: %w", err)
	}
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("embedded schema %s: %w", d.path, err)
	}
	if d.patch != nil {
		obj, ok := doc.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("embedded schema %s is not a JSON object", d.path)
		}
		d.patch(obj)
	}
	c := jsonschema.NewCompiler()
	c.UseLoader(noRemoteSchemas{})
	if err := c.AddResource(d.url(), doc); err != nil {
		return nil, fmt.Errorf("embedded schema %s: %w", d.path, err)
	}
	return c, nil
}

// noRemoteSchemas refuses every reference the embedded documents do not hold.
type noRemoteSchemas struct{}

func (noRemoteSchemas) Load(url string) (any, error) {
	return nil, fmt.Errorf("schema %s is not embedded (custody loads no schema from the network)", url)
}

// validateRaw checks one JSON value against s. where names the value in the document for the
// error ("vulnerabilities[3]"); the error names the first place the value breaks the schema.
func validateRaw(s *jsonschema.Schema, where string, raw []byte) error {
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(raw))
	if err != nil {
		return fmt.Errorf("%s: %s", where, syntaxReason(err))
	}
	return validateValue(s, where, inst)
}

// validateValue checks a value decoded by jsonschema.UnmarshalJSON against s.
func validateValue(s *jsonschema.Schema, where string, inst any) error {
	err := s.Validate(inst)
	var ve *jsonschema.ValidationError
	if !errors.As(err, &ve) {
		return err
	}
	ve = bestLeaf(ve)
	at := instancePath(where, ve.InstanceLocation)
	if at == "" {
		at = "the document"
	}
	return fmt.Errorf("%s: %s", at, ve.ErrorKind.LocalizedString(message.NewPrinter(language.English)))
}

// bestLeaf picks the violation to tell the user: the first, except where the value failed every
// alternative of a oneOf or anyOf, where it descends into the alternative the value came closest to
// (the fewest violations, then the deepest into the document).
func bestLeaf(ve *jsonschema.ValidationError) *jsonschema.ValidationError {
	for len(ve.Causes) > 0 {
		best := ve.Causes[0]
		switch ve.ErrorKind.(type) {
		case *kind.OneOf, *kind.AnyOf:
			bestDepth, bestLeaves := leafStats(best)
			for _, c := range ve.Causes[1:] {
				if depth, leaves := leafStats(c); leaves < bestLeaves || leaves == bestLeaves && depth > bestDepth {
					best, bestDepth, bestLeaves = c, depth, leaves
				}
			}
		}
		ve = best
	}
	return ve
}

// leafStats returns the deepest instance location of ve's violations and how many there are.
func leafStats(ve *jsonschema.ValidationError) (depth, leaves int) {
	if len(ve.Causes) == 0 {
		return len(ve.InstanceLocation), 1
	}
	for _, c := range ve.Causes {
		d, n := leafStats(c)
		depth, leaves = max(depth, d), leaves+n
	}
	return depth, leaves
}

// instancePath writes a location in a document the way a user reads it: scan.type, vulnerabilities[3].
func instancePath(base string, tokens []string) string {
	var b strings.Builder
	b.WriteString(base)
	for _, t := range tokens {
		if _, err := strconv.Atoi(t); err == nil {
			b.WriteString("[" + t + "]")
			continue
		}
		if b.Len() > 0 {
			b.WriteByte('.')
		}
		b.WriteString(t)
	}
	return b.String()
}

// readSmallDocument reads the whole of f, a document of a kind read whole (to be checked against a
// schema), refusing one larger than limit before reading it.
func readSmallDocument(f *os.File, limit int64, what string) ([]byte, error) {
	info, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("stat file: %w", err)
	}
	tooLarge := fmt.Errorf("%s is at most %d MiB here, this file has %d bytes", what, limit>>20, info.Size())
	if info.Size() > limit {
		return nil, tooLarge
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return nil, fmt.Errorf("rewind file: %w", err)
	}
	data, err := io.ReadAll(&depthGuard{r: newCappedReader(f, limit, tooLarge), max: maxJSONDepth})
	if err != nil {
		return nil, fmt.Errorf("read document: %w", err)
	}
	return data, nil
}
