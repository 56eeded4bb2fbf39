package fs_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"io"
	"testing"

	"github.com/custody-dev/custody/cas"
)

const benchSize = 64 << 20

func benchData(b *testing.B) []byte {
	b.Helper()
	data := make([]byte, benchSize)
	for i := range data {
		data[i] = byte(i * 7)
	}
	return data
}

// BenchmarkFSPut stores a new 64 MiB blob per iteration (temp file, fsync, rename); compare its
// MB/s with BenchmarkHashFloor, the bare streaming sha256 of the same bytes.
func BenchmarkFSPut(b *testing.B) {
	data := benchData(b)
	be := newBackend(b, b.TempDir())
	ctx := context.Background()
	b.SetBytes(benchSize)
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		binary.BigEndian.PutUint64(data, uint64(i)) // a new blob each time: no dedup shortcut
		if _, err := be.Put(ctx, bytes.NewReader(data), nil); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkFSPutDuplicate stores the same 64 MiB again: hashed and synced, then dropped.
func BenchmarkFSPutDuplicate(b *testing.B) {
	data := benchData(b)
	be := newBackend(b, b.TempDir())
	ctx := context.Background()
	b.SetBytes(benchSize)
	for b.Loop() {
		if _, err := be.Put(ctx, bytes.NewReader(data), nil); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkHashFloor is the floor Put is measured against: sha256 of 64 MiB, no disk.
func BenchmarkHashFloor(b *testing.B) {
	data := benchData(b)
	b.SetBytes(benchSize)
	for b.Loop() {
		if _, err := cas.Hash(bytes.NewReader(data), io.Discard); err != nil {
			b.Fatal(err)
		}
	}
}
