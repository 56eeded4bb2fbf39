package storetest

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"sync/atomic"
	"testing"

	custody "github.com/custody-dev/custody/attestation"
	"github.com/custody-dev/custody/controlplane/store"
)

// BenchPutAttestation measures PutAttestation of an 8 KiB bundle with 5 materials, one goroutine
// ("serial") and GOMAXPROCS×8 goroutines ("parallel"). The runs are created before the timer starts.
func BenchPutAttestation(b *testing.B, be Backend) {
	bundle := bytes.Repeat([]byte("x"), 8<<10)
	for _, mode := range []string{"serial", "parallel"} {
		b.Run(mode, func(b *testing.B) {
			ctx := context.Background()
			s := be.open(b)
			f := newFixture(b, s, "acme")
			for i := range b.N {
				f.run(b, s, fmt.Sprintf("r%d", i), 10)
			}
			var next atomic.Int64
			put := func() error {
				i := next.Add(1) - 1
				a := &store.Attestation{Digest: fmt.Sprintf("sha256:%064d", i), RunID: fmt.Sprintf("r%d", i), Bundle: bundle, CreatedAt: at(20)}
				for m := range 5 {
					a.Materials = append(a.Materials, store.MaterialRef{Digest: fmt.Sprintf("sha256:m%d-%d", i, m), Name: fmt.Sprintf("m%d", m), Kind: "ARTIFACT"})
				}
				_, err := s.PutAttestation(ctx, a)
				return err
			}
			b.SetBytes(int64(len(bundle)))
			b.ResetTimer()
			runBench(b, mode, put)
		})
	}
}

// BenchPutLargestAttestation measures PutAttestation of the largest attestation the control plane
// stores: a bundle of attestation.MaxBundleSize bytes indexing attestation.MaxMaterials digests. It is
// the longest a push holds the store's writer (SQLite has one: every other write waits for it).
func BenchPutLargestAttestation(b *testing.B, be Backend) {
	ctx := context.Background()
	s := be.open(b)
	f := newFixture(b, s, "acme")
	bundle := bytes.Repeat([]byte("x"), custody.MaxBundleSize)
	for i := range b.N {
		f.run(b, s, fmt.Sprintf("r%d", i), 10)
	}
	b.SetBytes(int64(len(bundle)))
	b.ResetTimer()
	for i := range b.N {
		a := &store.Attestation{Digest: fmt.Sprintf("sha256:%064d", i), RunID: fmt.Sprintf("r%d", i), Bundle: bundle, CreatedAt: at(20)}
		for m := range custody.MaxMaterials {
			sum := sha256.Sum256(fmt.Appendf(nil, "%d-%d", i, m))
			a.Materials = append(a.Materials, store.MaterialRef{Digest: "sha256:" + hex.EncodeToString(sum[:]), Name: fmt.Sprintf("material-%d", m), Kind: "ARTIFACT"})
		}
		if _, err := s.PutAttestation(ctx, a); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchCreateRun measures CreateRun, serial and parallel.
func BenchCreateRun(b *testing.B, be Backend) {
	for _, mode := range []string{"serial", "parallel"} {
		b.Run(mode, func(b *testing.B) {
			ctx := context.Background()
			s := be.open(b)
			f := newFixture(b, s, "acme")
			var next atomic.Int64
			create := func() error {
				r := &store.Run{ID: fmt.Sprintf("r%d", next.Add(1)), WorkflowID: f.workflow.ID, ContractRevision: 1,
					RunnerType: "GITHUB_ACTION", CreatedAt: at(10), ExpiresAt: at(3610)}
				return s.CreateRun(ctx, r)
			}
			b.ResetTimer()
			runBench(b, mode, create)
		})
	}
}

func runBench(b *testing.B, mode string, op func() error) {
	if mode == "serial" {
		for range b.N {
			if err := op(); err != nil {
				b.Fatal(err)
			}
		}
		return
	}
	b.SetParallelism(8)
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if err := op(); err != nil {
				b.Error(err)
				return
			}
		}
	})
}
