package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/custody-dev/custody/bench/internal/pgserver"
)

// session is one signing mode at one N: a fresh custodyd and store, its workflow, its pipelines, and
// what they measured so far.
type session struct {
	srv *server
	fx  *fixture
	gen *generator
	res result
}

// measureN measures every signing mode of o at N concurrent pipelines, each mode against a fresh
// custodyd and a fresh store. With more than one mode, the measured time is cut into o.slices slices
// that alternate between them (key, keyless, keyless, key, ...), so a moment when the shared machine is
// busy, or a drift in its speed, hits every mode alike; the servers not measured are idle meanwhile.
func measureN(ctx context.Context, o options, bin, dir string, pg *pgserver.Server, n int) ([]result, error) {
	var sessions []*session
	defer func() {
		for _, s := range sessions {
			s.srv.stop()
		}
	}()
	for _, mode := range o.modes {
		s, err := openSession(ctx, o, bin, filepath.Join(dir, fmt.Sprintf("n%d-%s", n, mode)), pg, n, mode)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", mode, err)
		}
		sessions = append(sessions, s)
	}
	// Warm up: connections, caches, the store's first pages; not measured.
	for _, s := range sessions {
		if o.warmup > 0 {
			if _, err := s.gen.run(ctx, n, o.warmup); err != nil {
				return nil, fmt.Errorf("%s: %w", s.fx.mode, err)
			}
		}
	}
	slices := o.slices
	if len(sessions) == 1 || slices < 1 {
		slices = 1
	}
	var stopPerf []func() error
	if o.profile != "" {
		for _, s := range sessions {
			stop, err := startPerf(s.srv.pid(), filepath.Join(o.profile, fmt.Sprintf("%s-n%d-%s.perf.data", o.store, n, s.fx.mode)))
			if err != nil {
				return nil, err
			}
			stopPerf = append(stopPerf, stop)
		}
	}
	err := alternate(slices, len(sessions), func(slice, i int) error {
		s := sessions[i]
		if err := s.measure(ctx, o, n, o.duration/time.Duration(slices), slice); err != nil {
			return fmt.Errorf("%s: %w", s.fx.mode, err)
		}
		return nil
	})
	for _, stop := range stopPerf {
		_ = stop()
	}
	if err != nil {
		return nil, err
	}
	var results []result
	for _, s := range sessions {
		if err := s.finish(ctx); err != nil {
			return nil, fmt.Errorf("%s: %w", s.fx.mode, err)
		}
		results = append(results, s.res)
	}
	return results, nil
}

// alternate calls fn(round, i) for each of n modes i in every round: in order in even rounds, in
// reverse order in odd ones (a, b, b, a, ...), so what drifts over time hits every mode alike.
func alternate(rounds, n int, fn func(round, i int) error) error {
	for round := range rounds {
		for k := range n {
			i := k
			if round%2 == 1 {
				i = n - 1 - k
			}
			if err := fn(round, i); err != nil {
				return err
			}
		}
	}
	return nil
}

// openSession starts a fresh custodyd on a fresh store (SQLite in dir, or a new PostgreSQL database)
// and bootstraps its workflow for mode.
func openSession(ctx context.Context, o options, bin, dir string, pg *pgserver.Server, n int, mode signMode) (*session, error) {
	var args []string
	if pg != nil {
		url, err := pg.NewDatabase(ctx, fmt.Sprintf("bench_n%d_%s_%d", n, mode, time.Now().UnixNano()))
		if err != nil {
			return nil, err
		}
		if url, err = withParams(url, o.pgParams); err != nil {
			return nil, err
		}
		args = append(args, "--database-url", url)
	}
	srv, err := startServer(bin, filepath.Join(dir, "data"), args...)
	if err != nil {
		return nil, err
	}
	fx, err := bootstrap(ctx, srv.url, srv.token, mode)
	if err != nil {
		srv.stop()
		return nil, err
	}
	idle, err := srv.usage()
	if err != nil {
		srv.stop()
		return nil, err
	}
	return &session{srv: srv, fx: fx, gen: &generator{fx: fx, artifactSize: o.artifactSize},
		res: result{n: n, mode: mode, idle: idle, lat: map[string][]time.Duration{}}}, nil
}

// measure runs the session's n pipelines for d and adds what they did, and the CPU time custodyd,
// this process and the whole machine spent meanwhile, to the session's result.
func (s *session) measure(ctx context.Context, o options, n int, d time.Duration, slice int) error {
	before, err := s.srv.usage()
	if err != nil {
		return err
	}
	selfBefore, err := procUsage(os.Getpid())
	if err != nil {
		return err
	}
	machineBefore, err := machineBusy()
	if err != nil {
		return err
	}
	var stopProfile func() error
	if o.profile != "" {
		name := filepath.Join(o.profile, fmt.Sprintf("%s-n%d-%s-slice%d.gen.pprof", o.store, n, s.fx.mode, slice))
		if stopProfile, err = startGenProfile(name); err != nil {
			return err
		}
	}
	r, err := s.gen.run(ctx, n, d)
	if err != nil {
		return err
	}
	if stopProfile != nil {
		if err := stopProfile(); err != nil {
			return err
		}
	}
	after, err := s.srv.usage()
	if err != nil {
		return err
	}
	selfAfter, err := procUsage(os.Getpid())
	if err != nil {
		return err
	}
	machineAfter, err := machineBusy()
	if err != nil {
		return err
	}
	res := &s.res
	res.completed += r.completed
	res.errors += r.errors
	if res.firstErr == nil {
		res.firstErr = r.firstErr
	}
	res.elapsed += r.elapsed
	for k, v := range r.lat {
		res.lat[k] = append(res.lat[k], v...)
	}
	res.serverCPU += after.cpu - before.cpu
	res.genCPU += selfAfter.cpu - selfBefore.cpu
	res.machineCPU += machineAfter - machineBefore
	res.after = after
	return nil
}

// finish checks zero lost: every attestation a pipeline was told is stored is in the store, the
// warm-up's too.
func (s *session) finish(ctx context.Context) error {
	acked := s.gen.acked()
	stored, err := s.fx.stored(ctx, acked)
	if err != nil {
		return fmt.Errorf("count stored attestations: %w", err)
	}
	s.res.acked, s.res.stored = len(acked), len(stored)
	for d := range acked {
		if !stored[d] {
			s.res.lost++
		}
	}
	return nil
}
