package oci_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"io"
	"testing"

	"github.com/custody-dev/custody/cas/oci"
	"github.com/custody-dev/custody/internal/registryproc"
)

const benchSize = 16 << 20

// BenchmarkOCIPut stores a new 16 MiB blob per iteration in a distribution registry process on
// loopback (spool + hash, upload, empty config, manifest), with basic auth.
func BenchmarkOCIPut(b *testing.B) {
	host := registryproc.Distribution(b, "bench", "bench")
	be := newBackend(b, "oci://"+host+"/bench", oci.WithBasicAuth("bench", "bench"))
	data := make([]byte, benchSize)
	for i := range data {
		data[i] = byte(i * 13)
	}
	ctx := context.Background()
	b.SetBytes(benchSize)
	for i := 0; b.Loop(); i++ {
		binary.BigEndian.PutUint64(data, uint64(i)) // a new blob each time: no dedup shortcut
		if _, err := be.Put(ctx, bytes.NewReader(data), nil); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkOCIOpen reads a 16 MiB blob back (manifest by tag, then the verified blob stream).
func BenchmarkOCIOpen(b *testing.B) {
	host := registryproc.Distribution(b, "bench", "bench")
	be := newBackend(b, "oci://"+host+"/bench", oci.WithBasicAuth("bench", "bench"))
	ctx := context.Background()
	h, err := be.Put(ctx, bytes.NewReader(make([]byte, benchSize)), nil)
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(benchSize)
	for b.Loop() {
		rc, _, err := be.Open(ctx, h.Digest)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := io.Copy(io.Discard, rc); err != nil {
			b.Fatal(err)
		}
		rc.Close()
	}
}
