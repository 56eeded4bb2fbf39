package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/custody-dev/custody/attestation"
	"github.com/custody-dev/custody/bench/internal/proc"
	"github.com/custody-dev/custody/client"
	"github.com/custody-dev/custody/contract"
	"github.com/custody-dev/custody/wire"
)

// The largest statement the control plane accepts.
const (
	defaultLargeMaterials = attestation.MaxMaterials
	defaultLargeStatement = attestation.MaxStatementSize
)

// largePush is the -push-large measurement: rounds of c concurrent pushes of the largest bundle the
// control plane accepts (as many materials as allowed, filling the statement up to its limit), while
// another project's pipeline calls init in a loop. It reports custodyd's peak RSS and the init
// latency, against the same init loop on the same server with no push under way (the baseline).
type largePush struct {
	concurrency, rounds int
	materials           int // materials per statement
	statementSize       int // bytes the statement is filled to
}

// largePushResult is what one measurement saw.
type largePushResult struct {
	pushes, pushErrors int
	firstErr           error
	push               []time.Duration
	initIdle, initLoad []time.Duration // init of the other project: no push under way, pushes under way
	bundleSize         int
	idle, after        usage
}

func runLargePush(ctx context.Context, o options, lp largePush, dir string) error {
	srv, fx, err := startBootstrapped(ctx, o, dir)
	if err != nil {
		return err
	}
	defer srv.stop()
	other, err := otherProject(ctx, fx)
	if err != nil {
		return err
	}
	res, err := lp.measure(ctx, srv, fx, other)
	if err != nil {
		return err
	}
	lp.print(o.out, o, res)
	if res.pushErrors > 0 {
		return fmt.Errorf("%d of %d pushes failed (first: %v)", res.pushErrors, res.pushes+res.pushErrors, res.firstErr)
	}
	return nil
}

// startBootstrapped builds custodyd into dir, starts it on its embedded defaults (SQLite, filesystem
// CAS) in dir/data and bootstraps it with a key-signed workflow. The caller stops it.
func startBootstrapped(ctx context.Context, o options, dir string) (*server, *fixture, error) {
	bin := filepath.Join(dir, "custodyd")
	if err := goBuild(o.root, bin, "./cmd/custodyd"); err != nil {
		return nil, nil, err
	}
	srv, err := startServer(bin, filepath.Join(dir, "data"))
	if err != nil {
		return nil, nil, err
	}
	fx, err := bootstrap(ctx, srv.url, srv.token, signKey)
	if err != nil {
		srv.stop()
		return nil, nil, err
	}
	return srv, fx, nil
}

// otherProject creates a second project and workflow, and returns a client with its workflow token.
func otherProject(ctx context.Context, fx *fixture) (*client.Client, error) {
	if _, err := fx.admin.CreateProject(ctx, "other"); err != nil {
		return nil, fmt.Errorf("create project: %w", err)
	}
	if _, err := fx.admin.CreateWorkflow(ctx, "other", wire.CreateWorkflow{Name: "deploy", Contract: benchContract}); err != nil {
		return nil, fmt.Errorf("create workflow: %w", err)
	}
	tok, err := fx.admin.CreateToken(ctx, wire.CreateToken{Project: "other", Workflow: "deploy", ExpiresIn: "24h"})
	if err != nil {
		return nil, fmt.Errorf("create token: %w", err)
	}
	return client.New(fx.url, tok.Secret, client.WithRetry(client.Retry{}))
}

func (lp largePush) measure(ctx context.Context, srv *server, fx *fixture, other *client.Client) (largePushResult, error) {
	var res largePushResult
	cp, err := client.New(fx.url, fx.token, client.WithRetry(client.Retry{}))
	if err != nil {
		return res, err
	}
	// Baseline: init of the other project with nothing else under way, as many as under load.
	if res.initIdle, err = initLoop(ctx, other, nil, 200); err != nil {
		return res, err
	}
	if res.idle, err = srv.usage(); err != nil {
		return res, err
	}
	for round := 0; round < lp.rounds; round++ {
		runs := make([]string, lp.concurrency)
		bundles := make([][]byte, lp.concurrency)
		for i := range bundles { // signed before the clock starts: the client's work is not measured
			run, err := cp.InitRun(ctx, wire.InitRun{Project: fx.project, Workflow: fx.workflow})
			if err != nil {
				return res, fmt.Errorf("init: %w", err)
			}
			runs[i] = run.Run.ID
			if bundles[i], err = lp.bundle(ctx, fx, run); err != nil {
				return res, err
			}
			res.bundleSize = len(bundles[i])
		}
		done := make(chan struct{})
		type inits struct {
			lat []time.Duration
			err error
		}
		measured := make(chan inits, 1)
		go func() {
			lat, err := initLoop(ctx, other, done, 0)
			measured <- inits{lat, err}
		}()
		var mu sync.Mutex
		var wg sync.WaitGroup
		for i := range bundles {
			wg.Go(func() {
				t := time.Now()
				_, err := cp.Push(ctx, runs[i], bundles[i])
				mu.Lock()
				defer mu.Unlock()
				if err != nil {
					res.pushErrors++
					if res.firstErr == nil {
						res.firstErr = err
					}
					return
				}
				res.pushes++
				res.push = append(res.push, time.Since(t))
			})
		}
		wg.Wait()
		close(done)
		m := <-measured
		if m.err != nil {
			return res, m.err
		}
		res.initLoad = append(res.initLoad, m.lat...)
	}
	var err2 error
	res.after, err2 = srv.usage()
	return res, err2
}

// initLoop calls init until done is closed (then finishes the call under way), or n times.
func initLoop(ctx context.Context, cp *client.Client, done <-chan struct{}, n int) ([]time.Duration, error) {
	lat := []time.Duration{}
	for i := 0; n == 0 || i < n; i++ {
		select {
		case <-done:
			return lat, nil
		default:
		}
		t := time.Now()
		if _, err := cp.InitRun(ctx, wire.InitRun{Project: "other", Workflow: "deploy"}); err != nil {
			return nil, fmt.Errorf("init of the other project: %w", err)
		}
		lat = append(lat, time.Since(t))
	}
	return lat, nil
}

// bundle signs a statement for run with lp.materials materials whose values fill the statement up to
// about lp.statementSize bytes. Each is a file kept out of the CAS (an ARTIFACT with a digest, not
// uploaded): the control plane indexes every one, the most work a push can give its store.
func (lp largePush) bundle(ctx context.Context, fx *fixture, run *wire.InitializedRun) ([]byte, error) {
	ct, err := contract.Parse([]byte(run.Contract))
	if err != nil {
		return nil, err
	}
	now := time.Now().UTC()
	pred := &attestation.Predicate{
		Workflow: attestation.Workflow{Name: fx.workflow, Project: fx.project, RunID: run.Run.ID,
			ContractName: ct.Metadata.Name, ContractRevision: run.Run.ContractRevision},
		InitializedAt: now, FinishedAt: now,
		Builder: attestation.Builder{ID: "https://custody.dev/bench/load", Version: "bench"},
	}
	pred.Materials = append(pred.Materials,
		attestation.Material{Name: "artifact", Kind: contract.KindArtifact, Value: "artifact.bin", Output: true,
			Digest: "sha256:" + strings.Repeat("ab", 32), File: &attestation.File{Name: "artifact.bin", Size: 1}, AddedAt: now},
		attestation.Material{Name: "build-ref", Kind: contract.KindString, Value: "80e461e9b385c6986cdb8096c9dc99928943d667", AddedAt: now})
	render := func(valueSize int) ([]byte, error) {
		ms := pred.Materials[:2]
		for i := len(ms); i < lp.materials; i++ {
			v := fmt.Sprintf("%d-", i) + strings.Repeat("x", valueSize)
			sum := sha256.Sum256([]byte(run.Run.ID + v))
			ms = append(ms, attestation.Material{Name: fmt.Sprintf("m-%d", i), Kind: contract.KindArtifact, Value: v,
				Digest: "sha256:" + hex.EncodeToString(sum[:]), File: &attestation.File{Name: "f", Size: 1}, AddedAt: now})
		}
		p := *pred
		p.Materials = ms
		st, err := attestation.NewStatement(attestation.SubjectsFrom(ms), &p)
		if err != nil {
			return nil, err
		}
		return attestation.MarshalStatement(st)
	}
	// Size the values: one render with empty values tells the overhead per material.
	payload, err := render(0)
	if err != nil {
		return nil, err
	}
	if extra := lp.statementSize - len(payload); extra > 0 && lp.materials > 2 {
		if payload, err = render(extra / (lp.materials - 2) * 95 / 100); err != nil {
			return nil, err
		}
	}
	return fx.key.Sign(ctx, payload)
}

func (lp largePush) print(w io.Writer, o options, r largePushResult) {
	host, _ := os.Hostname()
	fmt.Fprintf(w, "custodyd (SQLite, embedded default); %d rounds of %d concurrent pushes of a %.1f MiB bundle (%d materials); "+
		"%d CPUs (%s); load average at the start %s, at the end %s\n\n",
		lp.rounds, lp.concurrency, float64(r.bundleSize)/(1<<20), lp.materials, runtime.NumCPU(), host, o.startLoad, proc.LoadAverage())
	fmt.Fprintln(w, "| measure | value |")
	fmt.Fprintln(w, "|---|---|")
	fmt.Fprintf(w, "| pushes stored / failed | %d / %d |\n", r.pushes, r.pushErrors)
	fmt.Fprintf(w, "| push p50 / p99 / max ms | %s / %s / %s |\n", ms(percentile(r.push, 50)), ms(percentile(r.push, 99)), ms(percentile(r.push, 100)))
	fmt.Fprintf(w, "| init of another project, no push under way: p50 / p99 / max ms (%d calls) | %s / %s / %s |\n", len(r.initIdle),
		ms(percentile(r.initIdle, 50)), ms(percentile(r.initIdle, 99)), ms(percentile(r.initIdle, 100)))
	fmt.Fprintf(w, "| init of another project, during the pushes: p50 / p99 / max ms (%d calls) | %s / %s / %s |\n", len(r.initLoad),
		ms(percentile(r.initLoad, 50)), ms(percentile(r.initLoad, 99)), ms(percentile(r.initLoad, 100)))
	fmt.Fprintf(w, "| custodyd RSS idle → after | %.1f → %.1f MiB |\n", mib(r.idle.rssKiB), mib(r.after.rssKiB))
	fmt.Fprintf(w, "| custodyd peak RSS (VmHWM) | %.1f MiB |\n", mib(r.after.hwmKiB))
}
