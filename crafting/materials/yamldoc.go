package materials

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"

	yaml "go.yaml.in/yaml/v4"
)

// YAML documents (OPENAPI_SPEC, ASYNCAPI_SPEC) have no first byte to tell them by, as JSON and XML
// do: detection reads the top-level keys of a YAML mapping from the sniffed prefix, line by line
// (yamlTopKeys), and the kinds claim a file by them.

// maxYAMLTopKeys bounds the top-level keys yamlTopKeys keeps.
const maxYAMLTopKeys = 1000

// yamlTopKeys reads the top-level keys of the YAML mapping that head begins, and the plain or quoted
// scalar written on the same line as each ("" for anything else: a nested block, a flow collection,
// a block scalar). It is no YAML parser: the first key's line sets the mapping's indentation (often
// none), a line indented as much is a top-level key, a line indented more is within the value before
// it. It stops at the end of the first document, and returns nil for text that is no YAML mapping
// (its first line that is neither blank, a comment, a directive nor a document start is not
// "key:"). whole says head is the whole file, so its last line is whole.
func yamlTopKeys(head []byte, whole bool) map[string]string {
	head = bytes.TrimPrefix(head, []byte("\xef\xbb\xbf"))
	keys := map[string]string{}
	indent := -1 // the mapping's, once its first key is met
	started := false
	for len(head) > 0 && len(keys) < maxYAMLTopKeys {
		line, rest, found := bytes.Cut(head, []byte("\n"))
		if !found && !whole {
			break // cut by the prefix
		}
		head = rest
		text := strings.TrimRight(string(line), "\r")
		body := strings.TrimLeft(text, " ")
		depth := len(text) - len(body)
		switch {
		case strings.TrimSpace(body) == "", strings.HasPrefix(body, "#"):
			continue
		case indent < 0 && depth == 0 && !started && strings.HasPrefix(text, "%"):
			continue
		case depth == 0 && (text == "---" || strings.HasPrefix(text, "--- ")):
			if started {
				return nonEmpty(keys)
			}
			started = true
			continue
		case depth == 0 && text == "...":
			return nonEmpty(keys)
		case indent >= 0 && depth > indent:
			continue // within the value of the key before
		case indent >= 0 && depth < indent:
			return nonEmpty(keys)
		}
		key, value, ok := yamlKeyLine(body)
		if !ok {
			return nonEmpty(keys)
		}
		started, indent = true, depth
		keys[key] = value
	}
	return nonEmpty(keys)
}

func nonEmpty(keys map[string]string) map[string]string {
	if len(keys) == 0 {
		return nil
	}
	return keys
}

// yamlKeyLine splits a top-level "key: value" line. The key is plain or quoted; the value is kept
// when it is a scalar on the line (quotes removed, a trailing comment cut).
func yamlKeyLine(line string) (key, value string, ok bool) {
	var rest string
	switch line[0] {
	case '"', '\'':
		end := strings.IndexByte(line[1:], line[0])
		if end < 0 {
			return "", "", false
		}
		key, rest = line[1:1+end], line[2+end:]
		if !strings.HasPrefix(rest, ":") {
			return "", "", false
		}
		rest = rest[1:]
	case '-', '[', '{', '?', '|', '>', '&', '*', '!', '@', '`', ',', '\t':
		return "", "", false // a sequence, a flow collection, a scalar: not a mapping key
	default:
		i := strings.Index(line, ": ")
		if i < 0 {
			if !strings.HasSuffix(line, ":") {
				return "", "", false
			}
			i = len(line) - 1
		}
		key, rest = strings.TrimRight(line[:i], " \t"), line[i+1:]
	}
	if rest != "" && rest[0] != ' ' && rest[0] != '\t' {
		return "", "", false
	}
	rest = strings.TrimSpace(rest)
	if i := strings.Index(rest, " #"); i >= 0 && rest[0] != '"' && rest[0] != '\'' {
		rest = strings.TrimSpace(rest[:i]) // a comment after a plain scalar
	}
	switch {
	case rest == "" || strings.ContainsAny(rest[:1], "[{|>&*!"):
		return key, "", true
	case rest[0] == '"' || rest[0] == '\'':
		if end := strings.IndexByte(rest[1:], rest[0]); end >= 0 {
			return key, rest[1 : 1+end], true
		}
		return key, "", true
	}
	return key, rest, true
}

// maxSpecValues bounds the values of an API description once YAML aliases or local references are
// expanded: what an alias bomb or a flood of tiny values would otherwise turn into gigabytes.
const maxSpecValues = 2_000_000

// errTooManyValues is a document past maxSpecValues.
var errTooManyValues = fmt.Errorf("the document holds more than %d values (aliases and references expanded)", maxSpecValues)

// yamlInstance reads data, one YAML document (JSON is YAML), into the values jsonschema validates
// (what jsonschema.UnmarshalJSON makes of JSON: maps with string keys, slices, json.Number, string,
// bool, nil), so that a YAML document is validated against a JSON schema as its JSON twin would be.
// Scalars keep their text where YAML would read another type JSON has no name for (a date stays a
// string); a mapping key that is no string is its text (200 is "200", as in every YAML-to-JSON
// tool). A document that is not one YAML document, or has no JSON twin (.inf, .nan), is an error.
func yamlInstance(data []byte) (any, error) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var root yaml.Node
	if err := dec.Decode(&root); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, errors.New("the YAML document is empty")
		}
		return nil, err
	}
	var next yaml.Node
	if err := dec.Decode(&next); !errors.Is(err, io.EOF) {
		if err != nil {
			return nil, err
		}
		return nil, errors.New("more than one YAML document (---): want one")
	}
	c := yamlConverter{left: maxSpecValues}
	return c.value(&root)
}

type yamlConverter struct {
	left int // values still allowed
}

func (c *yamlConverter) value(n *yaml.Node) (any, error) {
	if c.left--; c.left < 0 {
		return nil, errTooManyValues
	}
	switch n.Kind {
	case yaml.DocumentNode:
		if len(n.Content) == 0 {
			return nil, nil
		}
		return c.value(n.Content[0])
	case yaml.AliasNode:
		return c.value(n.Alias)
	case yaml.SequenceNode:
		out := make([]any, 0, len(n.Content))
		for _, item := range n.Content {
			v, err := c.value(item)
			if err != nil {
				return nil, err
			}
			out = append(out, v)
		}
		return out, nil
	case yaml.MappingNode:
		out := make(map[string]any, len(n.Content)/2)
		if err := c.mapping(n, out); err != nil {
			return nil, err
		}
		return out, nil
	case yaml.ScalarNode:
		return yamlScalar(n)
	}
	return nil, fmt.Errorf("line %d: unexpected YAML node", n.Line)
}

// mapping adds n's pairs to out; merge keys (<<) add the merged mappings' pairs out lacks.
func (c *yamlConverter) mapping(n *yaml.Node, out map[string]any) error {
	var merges []*yaml.Node
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if k.Tag == "!!merge" {
			merges = append(merges, v)
			continue
		}
		key := k.Value
		if k.Kind == yaml.AliasNode && k.Alias != nil {
			key = k.Alias.Value
		}
		if k.Kind != yaml.ScalarNode && k.Kind != yaml.AliasNode {
			return fmt.Errorf("line %d: a mapping key that is not a scalar has no JSON twin", k.Line)
		}
		if _, dup := out[key]; dup {
			return fmt.Errorf("line %d: mapping key %q is defined twice", k.Line, key)
		}
		value, err := c.value(v)
		if err != nil {
			return err
		}
		out[key] = value
	}
	for _, m := range merges {
		if m.Kind == yaml.AliasNode {
			m = m.Alias
		}
		sources := []*yaml.Node{m}
		if m.Kind == yaml.SequenceNode {
			sources = m.Content
		}
		for _, src := range sources {
			if src.Kind == yaml.AliasNode {
				src = src.Alias
			}
			if src.Kind != yaml.MappingNode {
				return fmt.Errorf("line %d: a merge key (<<) must merge mappings", m.Line)
			}
			merged := map[string]any{}
			if err := c.mapping(src, merged); err != nil {
				return err
			}
			for k, v := range merged {
				if _, set := out[k]; !set {
					out[k] = v
				}
			}
		}
	}
	return nil
}

func yamlScalar(n *yaml.Node) (any, error) {
	switch n.Tag {
	case "!!null":
		return nil, nil
	case "!!bool":
		var b bool
		if err := n.Decode(&b); err != nil {
			return nil, err
		}
		return b, nil
	case "!!int", "!!float":
		var f any
		if err := n.Decode(&f); err != nil {
			return nil, err
		}
		switch x := f.(type) {
		case int:
			return json.Number(strconv.Itoa(x)), nil
		case int64:
			return json.Number(strconv.FormatInt(x, 10)), nil
		case uint64:
			return json.Number(strconv.FormatUint(x, 10)), nil
		case float64:
			if math.IsInf(x, 0) || math.IsNaN(x) {
				return nil, fmt.Errorf("line %d: %s has no JSON twin", n.Line, n.Value)
			}
			return json.Number(strconv.FormatFloat(x, 'g', -1, 64)), nil
		}
		return n.Value, nil
	}
	return n.Value, nil
}
