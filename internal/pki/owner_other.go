//go:build !unix

package pki

import "io/fs"

// owner is unknown where files have no uid: only KeyMode applies.
func owner(fs.FileInfo) (uint32, bool) { return 0, false }
