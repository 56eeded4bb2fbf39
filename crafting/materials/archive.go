package materials

import (
	"archive/tar"
	"archive/zip"
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path"
	"strings"
)

// Archives of reports (a zip or a gzip-compressed tar of JUnit reports, ZAP's zip) are read entry by
// entry, never unpacked to disk, within limits checked before any entry's bytes are read.

// archiveLimits bound reading an archive.
type archiveLimits struct {
	entries int   // entries of any type
	entry   int64 // decompressed bytes of one entry
	total   int64 // decompressed bytes of all entries together
}

// maxZipDirectory bounds a zip's central directory (its list of entries), which is read whole into
// memory: 4 MiB lists some 30,000 entries of 100-byte names.
const maxZipDirectory = 4 << 20

// archiveEntry is one regular file of an archive.
type archiveEntry struct {
	name string    // its path in the archive, '/'-separated
	size int64     // its declared decompressed size
	body io.Reader // its bytes, at most size; read it or not
}

// walkArchive calls visit for every regular file of the zip or gzip-compressed tar f (as sniffed:
// formatZip or formatGzip), in archive order. Before any entry's bytes are read it refuses an archive
// of more than lim.entries entries (directories and links included), an entry whose path is absolute
// or leaves the archive (a ".." component, also with '\' separators), and an entry whose declared
// size is over lim.entry or over what lim.total leaves (the declared sizes of every entry, read or
// not, add up); the bytes read are held to the declared sizes too. Directories, links and special
// files are not visited (nothing is unpacked, so no link is followed).
func walkArchive(f *os.File, kind format, lim archiveLimits, visit func(archiveEntry) error) error {
	w := &archiveWalk{lim: lim, left: lim.total}
	switch kind {
	case formatZip:
		return w.zip(f, visit)
	case formatGzip:
		return w.tarGzip(f, visit)
	}
	return fmt.Errorf("%s is not an archive: %w", kind, ErrNotThisKind)
}

type archiveWalk struct {
	lim     archiveLimits
	entries int
	left    int64 // of lim.total
}

// admit checks one entry's count, name and declared size against the limits.
func (w *archiveWalk) admit(name string, size int64) error {
	w.entries++
	if w.entries > w.lim.entries {
		return fmt.Errorf("the archive has more than %d entries", w.lim.entries)
	}
	if err := checkEntryName(name); err != nil {
		return err
	}
	switch {
	case size < 0:
		return fmt.Errorf("%s: negative size", name)
	case size > w.lim.entry:
		return fmt.Errorf("%s unpacks to %s, more than the %s allowed for one entry", name, humanBytes(size), humanBytes(w.lim.entry))
	case size > w.left:
		return fmt.Errorf("the archive unpacks to more than %s (at %s)", humanBytes(w.lim.total), name)
	}
	w.left -= size
	return nil
}

// checkEntryName refuses a path that is absolute or leaves the archive, with either separator.
func checkEntryName(name string) error {
	slashed := strings.ReplaceAll(name, `\`, "/")
	clean := path.Clean(slashed)
	switch {
	case name == "":
		return errors.New("an entry has no name")
	case strings.HasPrefix(slashed, "/") || (len(slashed) > 1 && slashed[1] == ':'):
		return fmt.Errorf("entry %q has an absolute path", name)
	case clean == ".." || strings.HasPrefix(clean, "../"):
		return fmt.Errorf("entry %q lies outside the archive", name)
	}
	return nil
}

func (w *archiveWalk) zip(f *os.File, visit func(archiveEntry) error) error {
	info, err := f.Stat()
	if err != nil {
		return fmt.Errorf("stat file: %w", err)
	}
	if err := checkZipDirectory(f, info.Size()); err != nil {
		return err
	}
	zr, err := zip.NewReader(f, info.Size())
	if err != nil {
		return fmt.Errorf("read zip: %w", err)
	}
	if len(zr.File) > w.lim.entries {
		return fmt.Errorf("the archive has more than %d entries", w.lim.entries)
	}
	for _, zf := range zr.File {
		size := int64(min(zf.UncompressedSize64, math.MaxInt64)) // past the limits either way
		if err := w.admit(zf.Name, size); err != nil {
			return err
		}
		if !zf.Mode().IsRegular() {
			continue
		}
		rc, err := zf.Open()
		if err != nil {
			return fmt.Errorf("%s: %w", zf.Name, err)
		}
		err = visit(archiveEntry{name: zf.Name, size: size, body: entryReader(rc, zf.Name, size)})
		rc.Close()
		if err != nil {
			return err
		}
	}
	return nil
}

func (w *archiveWalk) tarGzip(f *os.File, visit func(archiveEntry) error) error {
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return fmt.Errorf("rewind file: %w", err)
	}
	gz, err := gzip.NewReader(bufio.NewReader(f))
	if err != nil {
		return fmt.Errorf("not gzip-compressed: %w", err)
	}
	// The tar stream holds headers besides the entries' bytes: allow them 2 KiB an entry.
	stream := w.lim.total + int64(w.lim.entries)*2048
	unpacked := newCappedReader(gz, stream, fmt.Errorf("the archive unpacks to more than %s", humanBytes(stream)))
	tr := tar.NewReader(unpacked)
	for {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return fmt.Errorf("read tar: %w", err)
		}
		if err := w.admit(hdr.Name, hdr.Size); err != nil {
			return err
		}
		if hdr.Typeflag != tar.TypeReg && hdr.Typeflag != tar.TypeGNUSparse {
			continue
		}
		if err := visit(archiveEntry{name: hdr.Name, size: hdr.Size, body: entryReader(tr, hdr.Name, hdr.Size)}); err != nil {
			return err
		}
	}
	// Read the gzip stream to its end, so its checksum catches a corrupt archive.
	if _, err := io.Copy(io.Discard, unpacked); err != nil {
		return fmt.Errorf("read gzip: %w", err)
	}
	return nil
}

// entryReader reads an entry's body and refuses a byte past its declared size.
func entryReader(r io.Reader, name string, size int64) io.Reader {
	return newCappedReader(r, size, fmt.Errorf("%s holds more than its declared %d bytes", name, size))
}

// checkZipDirectory refuses a zip whose central directory, as its end records declare it, is larger
// than maxZipDirectory, before archive/zip reads it into memory. The directory is where the end
// record (or, for a zip64 archive, the zip64 end record) says; archive/zip reads no further.
func checkZipDirectory(f *os.File, size int64) error {
	const eocdLen, locatorLen, zip64Len, maxComment = 22, 20, 56, 0xffff
	tailLen := min(size, eocdLen+maxComment)
	tail := make([]byte, tailLen)
	if _, err := f.ReadAt(tail, size-tailLen); err != nil {
		return fmt.Errorf("read zip: %w", err)
	}
	at := bytes.LastIndex(tail, []byte("PK\x05\x06"))
	if at < 0 || len(tail)-at < eocdLen {
		return errors.New("read zip: no end of central directory record (not a zip, or truncated)")
	}
	eocd := tail[at:]
	dirSize := uint64(binary.LittleEndian.Uint32(eocd[12:]))
	if binary.LittleEndian.Uint16(eocd[10:]) == 0xffff || dirSize == 0xffffffff || binary.LittleEndian.Uint32(eocd[16:]) == 0xffffffff {
		// zip64: the locator just before the end record gives the zip64 end record's offset.
		eocdAt := size - tailLen + int64(at)
		loc := make([]byte, locatorLen)
		if eocdAt < locatorLen {
			return errors.New("read zip: zip64 end of central directory locator missing")
		}
		if _, err := f.ReadAt(loc, eocdAt-locatorLen); err != nil || !bytes.HasPrefix(loc, []byte("PK\x06\x07")) {
			return errors.New("read zip: zip64 end of central directory locator missing")
		}
		rec := make([]byte, zip64Len)
		off := binary.LittleEndian.Uint64(loc[8:])
		if off > uint64(size) {
			return errors.New("read zip: zip64 end of central directory record out of range")
		}
		if _, err := f.ReadAt(rec, int64(off)); err != nil || !bytes.HasPrefix(rec, []byte("PK\x06\x06")) {
			return errors.New("read zip: zip64 end of central directory record missing")
		}
		dirSize = binary.LittleEndian.Uint64(rec[40:])
	}
	if dirSize > maxZipDirectory {
		return fmt.Errorf("the zip's list of entries takes %s, more than %s", humanBytes(int64(min(dirSize, math.MaxInt64))), humanBytes(maxZipDirectory))
	}
	return nil
}
