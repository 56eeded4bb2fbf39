package materials

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

// What the API description kinds (OPENAPI_SPEC, ASYNCAPI_SPEC) share: a document in JSON or YAML,
// told by its top-level version key.

// maxSpecSize bounds an API description. The largest public ones (GitHub's REST API, Stripe's) are
// around 10 MB; parsing YAML takes tens of times the file's size in memory.
const maxSpecSize = 32 << 20

// specHead is an API description's top-level keys as the sniff found them: a key's value when it is
// a JSON string or a scalar on a YAML key's line, "" otherwise.
type specHead struct {
	yaml bool
	keys map[string]string
	scan topLevel // a JSON document's scan: why a marker is missing
	// partial says the top-level mapping may go on past the prefix: keys may lack some (sorted keys
	// put openapi after a large components, swagger after definitions).
	partial bool
}

func specHeadOf(s *sniffed) specHead {
	if s.format != formatJSON {
		return specHead{yaml: true, keys: s.yaml, partial: s.yaml != nil && s.cut}
	}
	h := specHead{keys: map[string]string{}, scan: s.topLevel(nil)}
	h.partial = errors.Is(h.scan.err, errPastPrefix)
	for k, raw := range s.keys {
		h.keys[k], _ = rawString(raw)
	}
	return h
}

func (h specHead) has(key string) bool { _, ok := h.keys[key]; return ok }

// notThisKind words a missing marker.
func (h specHead) notThisKind(what string) error {
	if h.yaml && h.keys == nil {
		return fmt.Errorf("%s (neither a JSON object nor a YAML mapping): %w", what, ErrNotThisKind)
	}
	return notThisKind(what, h.scan)
}

// maxSpecDelimiters bounds the delimiters of an API description (line breaks, commas, colons,
// dashes, opening brackets and braces, wherever they are): a parsed YAML value needs at least one,
// and takes some 400 bytes while it is parsed and validated, so this bounds the memory the densest
// document takes (a YAML flow sequence of 1,200,000 zeros: 510 MB of RSS) before parsing starts. Stripe's
// 4.5 MB description has 250,000; a description of 20 MB would have about a million.
const maxSpecDelimiters = 1_200_000

// readSpec reads the whole of an API description, refusing one larger than maxSpecSize before
// reading it (and, for JSON, one nesting too deep), and one with more than maxSpecDelimiters.
func readSpec(f *os.File) ([]byte, error) {
	info, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("stat file: %w", err)
	}
	if info.Size() > maxSpecSize {
		return nil, fmt.Errorf("the document is larger than the %d MiB limit of an API description", maxSpecSize>>20)
	}
	data, err := readDocument(f)
	if err != nil {
		return nil, err
	}
	n := 0
	for _, c := range data {
		switch c {
		case '\n', ',', ':', '-', '[', '{':
			n++
		}
	}
	if n > maxSpecDelimiters {
		return nil, fmt.Errorf("the document has %d line breaks, commas, colons, dashes, brackets and braces, more than the %d an API description may have (a bound on the memory parsing it takes)", n, maxSpecDelimiters)
	}
	return data, nil
}

// specInstance is the document as a JSON schema validates it.
func specInstance(data []byte, yaml bool) (any, error) {
	if yaml {
		inst, err := yamlInstance(data)
		if err != nil {
			return nil, fmt.Errorf("read YAML: %w", err)
		}
		return inst, nil
	}
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("read JSON: %s", syntaxReason(err))
	}
	return inst, nil
}

// externalRef finds the first $ref of inst that leaves the document (a file, a URL), if any: custody
// validates one self-contained document and never reads another.
func externalRef(inst any) (string, bool) {
	switch v := inst.(type) {
	case map[string]any:
		if ref, ok := v["$ref"].(string); ok && !strings.HasPrefix(ref, "#") {
			return ref, true
		}
		for _, e := range v {
			if ref, ok := externalRef(e); ok {
				return ref, true
			}
		}
	case []any:
		for _, e := range v {
			if ref, ok := externalRef(e); ok {
				return ref, true
			}
		}
	}
	return "", false
}

// resolveLocalRefs returns inst with every object {"$ref": "#/json/pointer"} replaced by what the
// pointer names in inst, as AsyncAPI's parser resolves a document before it validates it against
// the schema. A reference met again while it is being resolved (a recursive schema) is left as it
// is; one that names nothing is an error. Values are counted against maxSpecValues, so references to
// references cannot multiply a small document into a huge one.
func resolveLocalRefs(inst any) (any, error) {
	r := refResolver{root: inst, left: maxSpecValues, active: map[string]bool{}}
	return r.resolve(inst)
}

type refResolver struct {
	root   any
	left   int
	active map[string]bool // the references being resolved
}

func (r *refResolver) resolve(v any) (any, error) {
	if r.left--; r.left < 0 {
		return nil, errTooManyValues
	}
	switch x := v.(type) {
	case map[string]any:
		if ref, ok := x["$ref"].(string); ok && strings.HasPrefix(ref, "#") {
			if r.active[ref] {
				return x, nil
			}
			target, ok := jsonPointer(r.root, ref[1:])
			if !ok {
				return nil, fmt.Errorf("$ref %q names nothing in the document", ref)
			}
			r.active[ref] = true
			defer delete(r.active, ref)
			return r.resolve(target)
		}
		out := make(map[string]any, len(x))
		for k, e := range x {
			resolved, err := r.resolve(e)
			if err != nil {
				return nil, err
			}
			out[k] = resolved
		}
		return out, nil
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			resolved, err := r.resolve(e)
			if err != nil {
				return nil, err
			}
			out[i] = resolved
		}
		return out, nil
	}
	return v, nil
}

// jsonPointer is the value pointer (RFC 6901, "" or "/a/b") names in inst.
func jsonPointer(inst any, pointer string) (any, bool) {
	if pointer == "" {
		return inst, true
	}
	if !strings.HasPrefix(pointer, "/") {
		return nil, false
	}
	for _, t := range strings.Split(pointer[1:], "/") {
		t = strings.ReplaceAll(strings.ReplaceAll(t, "~1", "/"), "~0", "~")
		switch x := inst.(type) {
		case map[string]any:
			v, ok := x[t]
			if !ok {
				return nil, false
			}
			inst = v
		case []any:
			i, err := strconv.Atoi(t)
			if err != nil || i < 0 || i >= len(x) {
				return nil, false
			}
			inst = x[i]
		default:
			return nil, false
		}
	}
	return inst, true
}

// member is inst[keys[0]][keys[1]]... when each is an object.
func member(inst any, keys ...string) any {
	for _, k := range keys {
		m, ok := inst.(map[string]any)
		if !ok {
			return nil
		}
		inst = m[k]
	}
	return inst
}

// hasMember says inst is an object with the key.
func hasMember(inst any, key string) bool {
	m, ok := inst.(map[string]any)
	if !ok {
		return false
	}
	_, ok = m[key]
	return ok
}

// memberString is member as a string, "" when it is none.
func memberString(inst any, keys ...string) string {
	s, _ := member(inst, keys...).(string)
	return s
}
