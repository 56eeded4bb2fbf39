package contract

import (
	"fmt"
	"strings"

	"gopkg.in/yaml.v3"
)

// maxVisits bounds the nodes the decoder visits, so that aliases cannot blow a small document up
// into an enormous one.
const maxVisits = 100_000

// decoder walks a YAML node tree (JSON documents are turned into one first) into a Contract,
// strictly: every field is known, every value has the right shape, no key appears twice. It
// records the position of every path it meets so that validation can point at lines.
type decoder struct {
	probs   *problems
	pos     map[string]position
	bad     map[string]bool
	visits  int
	aborted bool
}

func newDecoder(probs *problems) *decoder {
	return &decoder{probs: probs, pos: map[string]position{}, bad: map[string]bool{}}
}

// where is the position validation uses for path: the path's own node, or the closest ancestor
// that exists (a missing field is reported on the object that lacks it). ok is false when a
// decode problem was already reported at path, so validation does not repeat it.
func (d *decoder) where(path string) (at position, ok bool) {
	found := false
	for p := path; ; p = parentPath(p) {
		if d.bad[p] {
			return position{}, false
		}
		if !found {
			at, found = d.pos[p]
		}
		if p == "" {
			return at, true
		}
	}
}

func at(n *yaml.Node) position { return position{line: n.Line, column: n.Column} }

// fail reports a problem at path and marks the path as already reported.
func (d *decoder) fail(path string, n *yaml.Node, format string, args ...any) {
	d.bad[path] = true
	d.probs.add(path, at(n), format, args...)
}

// enter resolves aliases, counts the visit and records n's position. It returns nil when the
// walk must stop, or when n is an explicit null, which every field takes as "not set".
func (d *decoder) enter(path string, n *yaml.Node) *yaml.Node {
	if d.aborted {
		return nil
	}
	d.visits++
	if d.visits > maxVisits {
		d.aborted = true
		d.fail(path, n, "the document is too large or its aliases expand too far (more than %d nodes)", maxVisits)
		return nil
	}
	for i := 0; n.Kind == yaml.AliasNode && n.Alias != nil && i < 100; i++ {
		n = n.Alias
	}
	if _, seen := d.pos[path]; !seen {
		d.pos[path] = at(n)
	}
	if n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null" {
		return nil
	}
	if tag := n.ShortTag(); (n.Kind == yaml.MappingNode && tag != "!!map") || (n.Kind == yaml.SequenceNode && tag != "!!seq") {
		d.fail(path, n, "unsupported YAML tag %s: contracts use plain mappings, lists and strings", tag)
		return nil
	}
	return n
}

// field decodes the value of one known key of an object.
type field struct {
	name   string
	decode func(path string, n *yaml.Node)
}

// object walks a mapping, calling each known field's decoder and reporting unknown, duplicate and
// malformed keys.
func (d *decoder) object(path string, n *yaml.Node, fields []field) {
	if n.Kind != yaml.MappingNode {
		d.fail(path, n, "must be a mapping of fields, got %s", describe(n))
		return
	}
	seen := map[string]position{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		name, ok := d.key(path, k, seen)
		if !ok {
			continue
		}
		child := joinPath(path, name)
		f, known := lookupField(fields, name)
		if !known {
			d.fail(child, k, "unknown field %q%s (known fields: %s)", name, suggest(name, fields), fieldNames(fields))
			continue
		}
		if v = d.enter(child, v); v != nil {
			f.decode(child, v)
		}
	}
}

// key checks one mapping key: a plain string, not a merge key, not seen before in this mapping.
func (d *decoder) key(path string, k *yaml.Node, seen map[string]position) (string, bool) {
	for i := 0; k.Kind == yaml.AliasNode && k.Alias != nil && i < 100; i++ {
		k = k.Alias
	}
	if k.Kind != yaml.ScalarNode || (k.ShortTag() != "!!str" && k.ShortTag() != "!!merge") {
		d.fail(path, k, "keys must be strings, got %s", describe(k))
		return "", false
	}
	if k.ShortTag() == "!!merge" {
		d.fail(joinPath(path, k.Value), k, "YAML merge keys (<<) are not supported in contracts: write the fields out")
		return "", false
	}
	if first, dup := seen[k.Value]; dup {
		where := fmt.Sprintf("line %d", first.line)
		if first.line == k.Line {
			where += fmt.Sprintf(", column %d", first.column)
		}
		d.fail(joinPath(path, k.Value), k, "duplicate key %q (first set at %s)", k.Value, where)
		return "", false
	}
	seen[k.Value] = at(k)
	return k.Value, true
}

func lookupField(fields []field, name string) (field, bool) {
	for _, f := range fields {
		if f.name == name {
			return f, true
		}
	}
	return field{}, false
}

func fieldNames(fields []field) string {
	names := make([]string, len(fields))
	for i, f := range fields {
		names[i] = f.name
	}
	return strings.Join(names, ", ")
}

// str decodes a string. Numbers and booleans are not strings: a user who wants "8080" quotes it.
func (d *decoder) str(path string, n *yaml.Node, dst *string) {
	if n.Kind != yaml.ScalarNode || n.ShortTag() != "!!str" {
		hint := ""
		if n.Kind == yaml.ScalarNode && strings.HasPrefix(n.ShortTag(), "!!") {
			hint = fmt.Sprintf(" (quote it: \"%s\")", clip(n.Value))
		}
		d.fail(path, n, "must be a string, got %s%s", describe(n), hint)
		return
	}
	*dst = n.Value
}

// boolean decodes true or false.
func (d *decoder) boolean(path string, n *yaml.Node, dst *bool) {
	if n.Kind == yaml.ScalarNode && n.ShortTag() == "!!bool" {
		switch strings.ToLower(n.Value) {
		case "true":
			*dst = true
			return
		case "false":
			*dst = false
			return
		}
	}
	d.fail(path, n, "must be true or false, got %s", describe(n))
}

// list walks a sequence, calling item for every element that is not null.
func (d *decoder) list(path string, n *yaml.Node, item func(path string, n *yaml.Node)) {
	if n.Kind != yaml.SequenceNode {
		d.fail(path, n, "must be a list, got %s", describe(n))
		return
	}
	for i, e := range n.Content {
		p := indexPath(path, i)
		if e = d.enter(p, e); e != nil {
			item(p, e)
		} else if !d.aborted {
			d.fail(p, n.Content[i], "must not be empty (null)")
		}
	}
}

func (d *decoder) contract(n *yaml.Node) *Contract {
	c := &Contract{}
	if n = d.enter("", n); n == nil {
		d.fail("", &yaml.Node{Line: 1, Column: 1}, "the document is null: a contract needs apiVersion, kind, metadata and spec")
		return c
	}
	d.object("", n, []field{
		{"apiVersion", func(p string, n *yaml.Node) { d.str(p, n, &c.APIVersion) }},
		{"kind", func(p string, n *yaml.Node) { d.str(p, n, &c.Kind) }},
		{"metadata", func(p string, n *yaml.Node) { d.metadata(p, n, &c.Metadata) }},
		{"spec", func(p string, n *yaml.Node) { d.spec(p, n, &c.Spec) }},
		// Editors read "$schema" to find the JSON Schema of a JSON document; it is not kept.
		{"$schema", func(p string, n *yaml.Node) { var s string; d.str(p, n, &s) }},
	})
	return c
}

func (d *decoder) metadata(path string, n *yaml.Node, m *Metadata) {
	d.object(path, n, []field{
		{"name", func(p string, n *yaml.Node) { d.str(p, n, &m.Name) }},
		{"description", func(p string, n *yaml.Node) { d.str(p, n, &m.Description) }},
		{"annotations", func(p string, n *yaml.Node) { m.Annotations = d.stringMap(p, n) }},
	})
}

// stringMap decodes a mapping of strings to strings (metadata.annotations).
func (d *decoder) stringMap(path string, n *yaml.Node) map[string]string {
	if n.Kind != yaml.MappingNode {
		d.fail(path, n, "must be a mapping of names to values, got %s", describe(n))
		return nil
	}
	out := map[string]string{}
	seen := map[string]position{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		name, ok := d.key(path, k, seen)
		if !ok {
			continue
		}
		child := joinPath(path, name)
		value := ""
		if v = d.enter(child, v); v != nil {
			d.str(child, v, &value)
		}
		out[name] = value
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

func (d *decoder) spec(path string, n *yaml.Node, s *Spec) {
	d.object(path, n, []field{
		{"materials", func(p string, n *yaml.Node) {
			d.list(p, n, func(p string, n *yaml.Node) {
				var m Material
				d.material(p, n, &m)
				s.Materials = append(s.Materials, m)
			})
		}},
		{"envAllowList", func(p string, n *yaml.Node) {
			d.list(p, n, func(p string, n *yaml.Node) {
				var v string
				d.str(p, n, &v)
				s.EnvAllowList = append(s.EnvAllowList, v)
			})
		}},
		{"runner", func(p string, n *yaml.Node) {
			s.Runner = &Runner{}
			d.object(p, n, []field{
				{"type", func(p string, n *yaml.Node) { d.str(p, n, (*string)(&s.Runner.Type)) }},
			})
		}},
		{"annotations", func(p string, n *yaml.Node) { s.Annotations = d.annotations(p, n) }},
	})
}

func (d *decoder) material(path string, n *yaml.Node, m *Material) {
	d.object(path, n, []field{
		{"name", func(p string, n *yaml.Node) { d.str(p, n, &m.Name) }},
		{"type", func(p string, n *yaml.Node) { d.str(p, n, (*string)(&m.Type)) }},
		{"optional", func(p string, n *yaml.Node) { d.boolean(p, n, &m.Optional) }},
		{"output", func(p string, n *yaml.Node) { d.boolean(p, n, &m.Output) }},
		{"annotations", func(p string, n *yaml.Node) { m.Annotations = d.annotations(p, n) }},
		{"skipUpload", func(p string, n *yaml.Node) { d.boolean(p, n, &m.SkipUpload) }},
	})
}

// annotations decodes a list of {name, value}.
func (d *decoder) annotations(path string, n *yaml.Node) []Annotation {
	var out []Annotation
	d.list(path, n, func(p string, n *yaml.Node) {
		var a Annotation
		d.object(p, n, []field{
			{"name", func(p string, n *yaml.Node) { d.str(p, n, &a.Name) }},
			{"value", func(p string, n *yaml.Node) { d.str(p, n, &a.Value) }},
		})
		out = append(out, a)
	})
	return out
}
