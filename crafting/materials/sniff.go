package materials

import (
	"archive/tar"
	"archive/zip"
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
)

// Detection reads a bounded prefix of a file once, and every kind decides from it alone whether it
// claims the file; only the kind that claims it reads the whole file (docs/materials.md).
const (
	// sniffLimit bounds the bytes of a file detection reads: the top-level keys of a JSON document,
	// an XML root element.
	sniffLimit = 1 << 20
	// sniffValueLimit bounds a top-level JSON value kept whole for a kind to look at.
	sniffValueLimit = 256 << 10
	// sniffArchiveLimit bounds the decompressed bytes of a gzip stream read for its tar entries' names,
	// and the size of a zip's central directory read for its entries' names.
	sniffArchiveLimit = 4 << 20
	// sniffEntryLimit bounds the entry names listed.
	sniffEntryLimit = 1000
	// sniffXMLTokens bounds the tokens read before an XML root element (prolog, comments, DOCTYPE).
	sniffXMLTokens = 1000
)

// format is what the first bytes of a file say it is.
type format int

const (
	formatOther format = iota
	formatJSON
	formatJSONLines
	formatXML
	formatGzip
	formatZip
)

func (f format) String() string {
	return [...]string{"neither JSON, XML, gzip nor zip", "JSON", "JSON Lines", "XML", "gzip", "zip"}[f]
}

// sniffed is what detection learnt from a file's bounded prefix.
type sniffed struct {
	format format
	name   string // the file's base name

	// JSON and JSON Lines. top is the first byte of the top-level value, '{' or '['.
	top byte
	// keys are the keys of the top-level object met within the prefix (for JSON Lines, the first
	// line's): the raw value when it lay whole in the prefix and is at most sniffValueLimit bytes,
	// nil otherwise.
	keys map[string]json.RawMessage
	// elem are, the same way, the keys of a top-level array's first element when it is an object (for
	// JSON Lines, the first line's, as keys).
	elem map[string]json.RawMessage
	// jsonErr is the syntax error that stopped the scan of the prefix, if any.
	jsonErr error
	// complete says the top-level object ended within the prefix: keys holds all its keys.
	complete bool

	// root is an XML document's root element.
	root *xml.StartElement

	// entries are the names of a gzip-compressed tar's or a zip's entries, in archive order, as far
	// as the bounds let the sniff see.
	entries []string
}

func (s *sniffed) has(key string) bool { _, ok := s.keys[key]; return ok }

func (s *sniffed) str(key string) (string, bool) { return rawString(s.keys[key]) }

func (s *sniffed) elemHas(key string) bool { _, ok := s.elem[key]; return ok }

func (s *sniffed) elemStr(key string) (string, bool) { return rawString(s.elem[key]) }

func rawString(raw json.RawMessage) (string, bool) {
	var v string
	if len(raw) == 0 || raw[0] != '"' || json.Unmarshal(raw, &v) != nil {
		return "", false
	}
	return v, true
}

// sniffFile reads at most sniffLimit bytes of f from its start (more for an archive's entries, within
// sniffArchiveLimit) and says what they are. It moves f's offset: callers rewind.
func sniffFile(f *os.File) (*sniffed, error) {
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return nil, fmt.Errorf("rewind file: %w", err)
	}
	head := make([]byte, sniffLimit)
	n, err := io.ReadFull(f, head)
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("read %s: %w", f.Name(), err)
	}
	s := sniffBytes(head[:n])
	s.name = filepath.Base(f.Name())
	switch s.format {
	case formatGzip:
		s.entries = gzipTarEntries(f)
	case formatZip:
		s.entries = zipEntries(f)
	}
	return s, nil
}

// sniffBytes tells a prefix's format by its first bytes (after a UTF-8 byte order mark and white
// space for text) and reads what the format's markers need.
func sniffBytes(head []byte) *sniffed {
	s := &sniffed{}
	switch {
	case bytes.HasPrefix(head, []byte{0x1f, 0x8b}):
		s.format = formatGzip
		return s
	case bytes.HasPrefix(head, []byte("PK\x03\x04")), bytes.HasPrefix(head, []byte("PK\x05\x06")):
		s.format = formatZip
		return s
	}
	text := bytes.TrimLeft(bytes.TrimPrefix(head, []byte("\xef\xbb\xbf")), " \t\r\n")
	switch {
	case bytes.HasPrefix(text, []byte("{")), bytes.HasPrefix(text, []byte("[")):
		s.format = formatJSON
		s.sniffJSON(text)
	case bytes.HasPrefix(text, []byte("<")):
		s.format = formatXML
		s.root = xmlRoot(text)
	}
	return s
}

// sniffJSON reads the top-level keys of a JSON object (or of an array's first element) within b,
// with memory bounded by b whatever the nesting: values are skipped by counting brackets.
func (s *sniffed) sniffJSON(b []byte) {
	s.top = b[0]
	if s.top == '[' {
		i := skipSpace(b, 1)
		if i < len(b) && b[i] == '{' {
			s.elem, _, s.jsonErr = scanObject(b, i)
		}
		return
	}
	var end int
	s.keys, end, s.jsonErr = scanObject(b, 0)
	if s.jsonErr != nil || end < 0 {
		return
	}
	s.complete = true
	// Another object after the first, on a later line: JSON Lines (.jsonl, in-toto's .intoto.jsonl).
	if rest := b[end:]; bytes.ContainsAny(rest[:skipSpace(rest, 0)], "\n") {
		if i := skipSpace(rest, 0); i < len(rest) && rest[i] == '{' {
			s.format = formatJSONLines
			s.elem = s.keys
		}
	}
}

// errTruncated is a scan that reached the end of the prefix.
var errTruncated = errors.New("truncated")

// scanObject reads the object starting at b[i] == '{': its keys and the raw values short enough to
// keep. end is the offset after its closing brace, -1 when the prefix ends first (not an error).
func scanObject(b []byte, i int) (keys map[string]json.RawMessage, end int, err error) {
	keys = map[string]json.RawMessage{}
	i = skipSpace(b, i+1)
	if i < len(b) && b[i] == '}' {
		return keys, i + 1, nil
	}
	for i < len(b) {
		if b[i] != '"' {
			return keys, -1, fmt.Errorf("invalid JSON at byte %d: want a key", i)
		}
		kend, err := skipString(b, i)
		if err != nil {
			return keys, -1, truncatedOK(err)
		}
		var key string
		if err := json.Unmarshal(b[i:kend], &key); err != nil {
			return keys, -1, fmt.Errorf("invalid JSON at byte %d: %w", i, err)
		}
		i = skipSpace(b, kend)
		if i >= len(b) {
			return keys, -1, nil
		}
		if b[i] != ':' {
			return keys, -1, fmt.Errorf("invalid JSON at byte %d: want ':' after key %q", i, key)
		}
		start := skipSpace(b, i+1)
		vend, err := skipJSONValue(b, start)
		if err != nil {
			keys[key] = nil // met, but its value runs past the prefix (or is broken)
			return keys, -1, truncatedOK(err)
		}
		keys[key] = nil
		if vend-start <= sniffValueLimit {
			keys[key] = json.RawMessage(bytes.Clone(b[start:vend]))
		}
		i = skipSpace(b, vend)
		if i >= len(b) {
			return keys, -1, nil
		}
		switch b[i] {
		case ',':
			i = skipSpace(b, i+1)
		case '}':
			return keys, i + 1, nil
		default:
			return keys, -1, fmt.Errorf("invalid JSON at byte %d: want ',' or '}'", i)
		}
	}
	return keys, -1, nil
}

func truncatedOK(err error) error {
	if errors.Is(err, errTruncated) {
		return nil
	}
	return err
}

// skipJSONValue returns the offset after the value starting at b[i], counting brackets (one integer,
// whatever the depth) and skipping strings; it checks no more of the grammar than it needs.
func skipJSONValue(b []byte, i int) (int, error) {
	if i >= len(b) {
		return 0, errTruncated
	}
	switch b[i] {
	case '"':
		return skipString(b, i)
	case '{', '[':
		depth := 0
		for i < len(b) {
			switch b[i] {
			case '"':
				end, err := skipString(b, i)
				if err != nil {
					return 0, err
				}
				i = end
				continue
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					return i + 1, nil
				}
			}
			i++
		}
		return 0, errTruncated
	}
	start := i
	for i < len(b) && !bytes.ContainsRune([]byte(",}] \t\r\n"), rune(b[i])) {
		i++
	}
	if i == len(b) {
		return 0, errTruncated
	}
	if i == start {
		return 0, fmt.Errorf("invalid JSON at byte %d: want a value", i)
	}
	return i, nil
}

// skipString returns the offset after the JSON string starting at b[i] == '"'.
func skipString(b []byte, i int) (int, error) {
	for i++; i < len(b); i++ {
		switch b[i] {
		case '\\':
			i++
		case '"':
			return i + 1, nil
		}
	}
	return 0, errTruncated
}

func skipSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\r' || b[i] == '\n') {
		i++
	}
	return i
}

// xmlRoot returns the root element of the XML document b begins, or nil when b holds none within
// its bounds (broken XML, XML 1.1, which encoding/xml does not read, too long a prolog).
func xmlRoot(b []byte) *xml.StartElement {
	dec := xml.NewDecoder(bytes.NewReader(b))
	dec.CharsetReader = charsetReader
	for range sniffXMLTokens {
		tok, err := dec.RawToken()
		if err != nil {
			return nil
		}
		if start, ok := tok.(xml.StartElement); ok {
			start = start.Copy()
			return &start
		}
	}
	return nil
}

// gzipTarEntries lists the entries of the tar in f's gzip stream, reading at most sniffArchiveLimit
// decompressed bytes: a chart's Chart.yaml comes first in what `helm package` writes. Entries' bodies
// are skipped, not kept; a stream that is not a tar lists nothing.
func gzipTarEntries(f *os.File) []string {
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return nil
	}
	gz, err := gzip.NewReader(bufio.NewReader(f))
	if err != nil {
		return nil
	}
	tr := tar.NewReader(io.LimitReader(gz, sniffArchiveLimit))
	var names []string
	for len(names) < sniffEntryLimit {
		hdr, err := tr.Next()
		if err != nil {
			break
		}
		names = append(names, hdr.Name)
	}
	return names
}

// zipEntries lists a zip's entries when its central directory, as its end record declares it, is at
// most sniffArchiveLimit bytes (a zip's entry list is at its end, so this is what bounds the read).
func zipEntries(f *os.File) []string {
	info, err := f.Stat()
	if err != nil {
		return nil
	}
	size := info.Size()
	const eocdLen, maxComment = 22, 0xffff
	tailLen := min(size, eocdLen+maxComment)
	tail := make([]byte, tailLen)
	if _, err := f.ReadAt(tail, size-tailLen); err != nil {
		return nil
	}
	at := bytes.LastIndex(tail, []byte("PK\x05\x06"))
	if at < 0 || len(tail)-at < eocdLen {
		return nil
	}
	// End of central directory: the directory's size at offset 12 (0xffffffff: see the zip64 record,
	// not read here: such a zip lists nothing).
	if dirSize := binary.LittleEndian.Uint32(tail[at+12:]); dirSize == 0xffffffff || dirSize > sniffArchiveLimit {
		return nil
	}
	zr, err := zip.NewReader(f, size)
	if err != nil {
		return nil
	}
	var names []string
	for _, zf := range zr.File {
		if len(names) == sniffEntryLimit {
			break
		}
		names = append(names, zf.Name)
	}
	return names
}
