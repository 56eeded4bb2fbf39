// Package artifact writes the large files the benchmarks hash: non-repeating bytes (xorshift), so no
// layer of the stack can compress or dedup them.
package artifact

import (
	"crypto/sha256"
	"fmt"
	"io"
	"os"
)

// Write writes sizeMiB of non-repeating bytes to path and returns their sha256 in hex.
func Write(path string, sizeMiB int64) (string, error) {
	f, err := os.Create(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	w := io.MultiWriter(f, h)
	block := make([]byte, 1<<20)
	x := uint64(0x9e3779b97f4a7c15)
	for range sizeMiB {
		for i := 0; i < len(block); i += 8 {
			x ^= x << 13
			x ^= x >> 7
			x ^= x << 17
			for j := range 8 {
				block[i+j] = byte(x >> (8 * j))
			}
		}
		if _, err := w.Write(block); err != nil {
			return "", fmt.Errorf("write %s: %w", path, err)
		}
	}
	if err := f.Close(); err != nil {
		return "", fmt.Errorf("close %s: %w", path, err)
	}
	return fmt.Sprintf("%x", h.Sum(nil)), nil
}
