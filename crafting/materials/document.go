package materials

import (
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
)

// maxDocumentSize bounds what a document validator reads into memory. Documents larger than this
// (a 256 MiB SBOM is already extreme) are refused with a clear error rather than exhausting memory.
const maxDocumentSize = 256 << 20

// errTooLarge is returned once a capped read passes maxDocumentSize.
var errTooLarge = fmt.Errorf("document is larger than the %d MiB validation limit", maxDocumentSize>>20)

// cappedReader reads r and fails with over past limit bytes, instead of silently truncating the way
// io.LimitReader would.
type cappedReader struct {
	r    io.Reader
	left int64
	over error
}

func newCappedReader(r io.Reader, limit int64, over error) *cappedReader {
	return &cappedReader{r: r, left: limit, over: over}
}

func (c *cappedReader) Read(p []byte) (int, error) {
	if c.left <= 0 {
		// One more byte tells a file of exactly limit bytes from a longer one.
		var one [1]byte
		n, err := c.r.Read(one[:])
		if n > 0 {
			return 0, c.over
		}
		return 0, err
	}
	if int64(len(p)) > c.left {
		p = p[:c.left]
	}
	n, err := c.r.Read(p)
	c.left -= int64(n)
	return n, err
}

// maxJSONDepth bounds the nesting of a JSON document a validator reads: encoding/json's own bound.
const maxJSONDepth = 10000

// openDocument is rewound for a JSON file known to be of a validator's kind: it refuses at once a
// file larger than maxDocumentSize, before reading any of it, and stops at the first byte that nests
// deeper than maxJSONDepth, so a deep document is refused at its start and never held whole.
func openDocument(f *os.File) (io.Reader, error) {
	if err := checkDocumentSize(f); err != nil {
		return nil, err
	}
	r, err := rewound(f)
	if err != nil {
		return nil, err
	}
	return &depthGuard{r: r, max: maxJSONDepth}, nil
}

// depthGuard passes a JSON stream through and fails at the first bracket past max levels deep. It
// counts brackets outside strings, one integer whatever the depth. Its error sticks: json.Decoder's
// Token drops an error returned with bytes, and must meet it again on its next read.
type depthGuard struct {
	r                 io.Reader
	max, depth        int
	offset            int64
	inString, escaped bool
	err               error
}

func (g *depthGuard) Read(p []byte) (int, error) {
	if g.err != nil {
		return 0, g.err
	}
	n, err := g.r.Read(p)
	for i, c := range p[:n] {
		switch {
		case g.escaped:
			g.escaped = false
		case g.inString:
			g.escaped = c == '\\'
			g.inString = c != '"'
		case c == '"':
			g.inString = true
		case c == '{' || c == '[':
			if g.depth++; g.depth > g.max {
				g.err = fmt.Errorf("JSON nests deeper than %d levels (at byte %d)", g.max, g.offset+int64(i))
				return i, g.err
			}
		case c == '}' || c == ']':
			g.depth--
		}
	}
	g.offset += int64(n)
	return n, err
}

// checkDocumentSize refuses a file larger than maxDocumentSize.
func checkDocumentSize(f *os.File) error {
	info, err := f.Stat()
	if err != nil {
		return fmt.Errorf("stat file: %w", err)
	}
	if info.Size() > maxDocumentSize {
		return errTooLarge
	}
	return nil
}

// rewound seeks f back to its start and returns it behind a reader capped at maxDocumentSize.
func rewound(f *os.File) (io.Reader, error) {
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return nil, fmt.Errorf("rewind file: %w", err)
	}
	return newCappedReader(f, maxDocumentSize, errTooLarge), nil
}

// readDocument reads the whole of f from its start, refusing more than maxDocumentSize bytes.
func readDocument(f *os.File) ([]byte, error) {
	r, err := openDocument(f)
	if err != nil {
		return nil, err
	}
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("read document: %w", err)
	}
	return data, nil
}

// topLevel is what a streaming scan of a JSON document's top-level object found: the raw values
// of the keys asked for that it met, and the syntax error that stopped it, if any.
type topLevel struct {
	values map[string]json.RawMessage
	err    error
}

// has reports whether the key was met.
func (t topLevel) has(key string) bool {
	_, ok := t.values[key]
	return ok
}

// str returns the key's value when it is a JSON string.
func (t topLevel) str(key string) (string, bool) {
	raw, ok := t.values[key]
	if !ok {
		return "", false
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return "", false
	}
	return s, true
}

// errPastPrefix is the reason a marker was not found in a top-level object longer than the prefix
// detection reads.
var errPastPrefix = fmt.Errorf("its top-level object goes on past the first %d MiB, the part read to tell its kind", sniffLimit>>20)

// scanTopLevel sniffs f (at most sniffLimit bytes: sniffFile) and records the raw values of the
// capture keys of its top-level object and the presence of the present keys (whose values may be
// large). err is the syntax error that stopped the scan, errPastPrefix when the object goes on past
// the prefix, or "not a JSON object". It tells a document's kind from its marker fields cheaply,
// whatever the size or the nesting of the file.
//
// When the object goes on past the prefix without every key met there, the file is read on, once, as a
// stream of tokens through the depth guard: a validator runs only when its kind was named or claimed
// the file, and a document whose writer put its markers late is still read as its kind.
func scanTopLevel(f *os.File, capture, present []string) topLevel {
	s, err := sniffFile(f)
	if err != nil {
		return topLevel{values: map[string]json.RawMessage{}, err: err}
	}
	keys := append(append([]string(nil), capture...), present...)
	found := s.topLevel(keys)
	if !errors.Is(found.err, errPastPrefix) || len(found.values) == len(keys) {
		return found
	}
	return streamTopLevel(f, capture, present)
}

// streamTopLevel reads f's top-level object from its start as a stream of tokens, through
// openDocument's size cap and depth guard, keeping the raw values of the capture keys and the presence
// of the present keys; it stops once every key was met.
func streamTopLevel(f *os.File, capture, present []string) topLevel {
	found := topLevel{values: map[string]json.RawMessage{}}
	r, err := openDocument(f)
	if err != nil {
		found.err = err
		return found
	}
	dec := json.NewDecoder(r)
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		found.err = cmp.Or(err, errors.New("not a JSON object"))
		return found
	}
	want := map[string]bool{} // key -> keep its value
	for _, k := range present {
		want[k] = false
	}
	for _, k := range capture {
		want[k] = true
	}
	for dec.More() && len(found.values) < len(want) {
		tok, err := dec.Token()
		if err != nil {
			found.err = err
			return found
		}
		key, _ := tok.(string)
		keep, wanted := want[key]
		var raw json.RawMessage
		if keep {
			err = dec.Decode(&raw)
		} else {
			err = skipValue(dec)
		}
		if err != nil {
			found.err = err
			return found
		}
		if wanted {
			found.values[key] = raw
		}
	}
	return found
}

// skipValue consumes one JSON value token by token, so a large value never sits in memory whole (the
// depth guard under the decoder bounds its nesting).
func skipValue(dec *json.Decoder) error {
	depth := 0
	for {
		tok, err := dec.Token()
		if err != nil {
			return err
		}
		switch tok {
		case json.Delim('{'), json.Delim('['):
			depth++
		case json.Delim('}'), json.Delim(']'):
			depth--
		}
		if depth == 0 {
			return nil
		}
	}
}

// topLevel is what the sniff found of the keys of a JSON document's top-level object.
func (s *sniffed) topLevel(keys []string) topLevel {
	found := topLevel{values: map[string]json.RawMessage{}}
	switch {
	case s.top == '[':
		found.err = errors.New("a JSON array, not an object")
		return found
	case s.top != '{':
		found.err = fmt.Errorf("not JSON: the file reads as %s", s.format)
		return found
	}
	for _, k := range keys {
		if v, ok := s.keys[k]; ok {
			found.values[k] = v
		}
	}
	found.err = s.jsonErr
	if found.err == nil && !s.complete {
		found.err = errPastPrefix
	}
	return found
}

// syntaxReason words a JSON decoding error for a user: where the document is broken.
func syntaxReason(err error) string {
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return fmt.Sprintf("invalid JSON at byte %d: %v", se.Offset, se)
	}
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		field := te.Field
		if field == "" {
			field = "(document)"
		}
		return fmt.Sprintf("field %s: JSON %s where %s is expected", field, te.Value, te.Type)
	}
	if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
		return "invalid JSON: unexpected end of document (truncated?)"
	}
	return err.Error()
}

// notThisKind is the error of a document whose marker fields are missing: it is another format.
// When the scan for them stopped at broken JSON, the reason says so, for the user who named the kind.
func notThisKind(what string, top topLevel) error {
	if top.err != nil {
		return fmt.Errorf("%s (%s): %w", what, syntaxReason(top.err), ErrNotThisKind)
	}
	return fmt.Errorf("%s: %w", what, ErrNotThisKind)
}

// itoa renders a count for Material.Validated.
func itoa(n int) string { return strconv.Itoa(n) }

// decodeJSON decodes one JSON value from r into v and refuses anything but whitespace after it.
func decodeJSON(r io.Reader, v any) error {
	dec := json.NewDecoder(r)
	if err := dec.Decode(v); err != nil {
		return err
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		if err == nil {
			return errors.New("data after the end of the document")
		}
		return err
	}
	return nil
}
