//go:build unix

package pki

import (
	"io/fs"
	"syscall"
)

// owner is the uid that owns the file info describes.
func owner(info fs.FileInfo) (uint32, bool) {
	st, ok := info.Sys().(*syscall.Stat_t)
	if !ok {
		return 0, false
	}
	return st.Uid, true
}
