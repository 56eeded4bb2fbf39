package contract

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"sort"

	"gopkg.in/yaml.v3"
)

// parseJSON checks data is one JSON value and turns it into a YAML node tree with the JSON
// text's lines and columns, so that one strict decoder serves both formats. base is the number
// of bytes stripped before data (a byte order mark), added to reported offsets.
func parseJSON(data []byte, base int64) (*yaml.Node, *problems) {
	probs := &problems{}
	lines := lineStarts(data)
	if err := json.Unmarshal(data, new(json.RawMessage)); err != nil {
		var syntax *json.SyntaxError
		if !errors.As(err, &syntax) {
			probs.add("", position{}, "invalid JSON: %v", err)
			return nil, probs
		}
		// Offset counts the bytes read before the error: the culprit is the last of them.
		off := max(syntax.Offset-1, 0)
		e := &FieldError{Offset: base + off, Reason: "invalid JSON: " + syntax.Error()}
		e.Line, e.Column = lines.at(off)
		probs.list = append(probs.list, e)
		return nil, probs
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	b := &jsonBuilder{data: data, dec: dec, lines: lines}
	root, err := b.value()
	if err != nil { // cannot happen for valid JSON; reported rather than trusted
		probs.add("", position{}, "invalid JSON: %v", err)
		return nil, probs
	}
	return root, probs
}

// jsonBuilder reads JSON tokens into yaml.Nodes.
type jsonBuilder struct {
	data  []byte
	dec   *json.Decoder
	lines lineIndex
}

// start is the offset of the next token: the decoder's offset past separators and spaces.
func (b *jsonBuilder) start() int64 {
	off := b.dec.InputOffset()
	for off < int64(len(b.data)) {
		switch b.data[off] {
		case ' ', '\t', '\r', '\n', ',', ':':
			off++
			continue
		}
		break
	}
	return off
}

func (b *jsonBuilder) node(kind yaml.Kind, tag, value string, off int64) *yaml.Node {
	line, col := b.lines.at(off)
	return &yaml.Node{Kind: kind, Tag: tag, Value: value, Line: line, Column: col}
}

func (b *jsonBuilder) value() (*yaml.Node, error) {
	off := b.start()
	tok, err := b.dec.Token()
	if err != nil {
		return nil, err
	}
	switch t := tok.(type) {
	case json.Delim:
		switch t {
		case '{':
			n := b.node(yaml.MappingNode, "!!map", "", off)
			for b.dec.More() {
				koff := b.start()
				ktok, err := b.dec.Token()
				if err != nil {
					return nil, err
				}
				key, ok := ktok.(string)
				if !ok {
					return nil, fmt.Errorf("object key at byte %d is not a string", koff)
				}
				v, err := b.value()
				if err != nil {
					return nil, err
				}
				n.Content = append(n.Content, b.node(yaml.ScalarNode, "!!str", key, koff), v)
			}
			_, err := b.dec.Token() // '}'
			return n, err
		case '[':
			n := b.node(yaml.SequenceNode, "!!seq", "", off)
			for b.dec.More() {
				v, err := b.value()
				if err != nil {
					return nil, err
				}
				n.Content = append(n.Content, v)
			}
			_, err := b.dec.Token() // ']'
			return n, err
		}
		return nil, fmt.Errorf("unexpected %q at byte %d", t, off)
	case string:
		return b.node(yaml.ScalarNode, "!!str", t, off), nil
	case json.Number:
		tag := "!!int"
		if bytes.ContainsAny([]byte(t), ".eE") {
			tag = "!!float"
		}
		return b.node(yaml.ScalarNode, tag, string(t), off), nil
	case bool:
		return b.node(yaml.ScalarNode, "!!bool", fmt.Sprint(t), off), nil
	case nil:
		return b.node(yaml.ScalarNode, "!!null", "null", off), nil
	}
	return nil, fmt.Errorf("unexpected token %v at byte %d", tok, off)
}

// lineIndex holds the offset at which each line starts.
type lineIndex []int64

func lineStarts(data []byte) lineIndex {
	idx := lineIndex{0}
	for i, c := range data {
		if c == '\n' {
			idx = append(idx, int64(i+1))
		}
	}
	return idx
}

// at turns a byte offset into a 1-based line and column (columns count bytes).
func (idx lineIndex) at(off int64) (line, column int) {
	i := sort.Search(len(idx), func(i int) bool { return idx[i] > off }) - 1
	return i + 1, int(off-idx[i]) + 1
}
