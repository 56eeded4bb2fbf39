package app

import (
	"encoding/base64"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/custody-dev/custody/cas"
	"github.com/custody-dev/custody/controlplane/store"
)

// A cursor is where a page of a list ends, handed to the client to ask for the next page: the
// creation time (microseconds) and key of the page's last row, after the list's kind, in unpadded
// base64url. It is opaque to clients and validated, not trusted: any position a client makes up is
// a place in a list it may read anyway (the scope is the token's, applied to every page), so a
// tampered cursor shows nothing more than paging would.
type cursorKind string

const (
	runCursor         cursorKind = "r1"
	attestationCursor cursorKind = "a1"
)

// maxCursor bounds a cursor's length: a digest key and a time fit in well under it.
const maxCursor = 256

// encodeCursor returns the cursor after position p of a list of kind k.
func encodeCursor(k cursorKind, p store.Position) string {
	raw := string(k) + ":" + strconv.FormatInt(p.CreatedAt.UnixMicro(), 10) + ":" + p.Key
	return base64.RawURLEncoding.EncodeToString([]byte(raw))
}

// parseCursor reads a cursor of a list of kind k: nil for "" (the first page), a 400 naming the
// cursor and the reason for one that is not this list's.
func parseCursor(k cursorKind, c string) (*store.Position, error) {
	if c == "" {
		return nil, nil
	}
	p, err := decodeCursor(k, c)
	if err != nil {
		return nil, badRequest("cursor %s: %v: pass the cursor a page of this list gave, or none for the first page", quoted(c), err)
	}
	return p, nil
}

func decodeCursor(k cursorKind, c string) (*store.Position, error) {
	if len(c) > maxCursor {
		return nil, fmt.Errorf("%d characters, at most %d", len(c), maxCursor)
	}
	raw, err := base64.RawURLEncoding.Strict().DecodeString(c)
	if err != nil {
		return nil, fmt.Errorf("not unpadded base64url")
	}
	kind, rest, ok := strings.Cut(string(raw), ":")
	if !ok || cursorKind(kind) != k {
		return nil, fmt.Errorf("not a cursor of this list")
	}
	at, key, ok := strings.Cut(rest, ":")
	if !ok {
		return nil, fmt.Errorf("no position")
	}
	micros, err := strconv.ParseInt(at, 10, 64)
	if err != nil || micros < 0 || at != strconv.FormatInt(micros, 10) {
		return nil, fmt.Errorf("time %q is not a number of microseconds", at)
	}
	switch k {
	case runCursor:
		if !isID(key) {
			return nil, fmt.Errorf("run id %q is not a UUID", key)
		}
	case attestationCursor:
		if _, err := cas.ParseDigest(key); err != nil {
			return nil, fmt.Errorf("attestation digest: %v", err)
		}
	}
	return &store.Position{CreatedAt: time.UnixMicro(micros).UTC(), Key: key}, nil
}
