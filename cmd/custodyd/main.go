// Command custodyd is custody's control plane: workflows, versioned contracts, tokens, runs,
// attestations and a content-addressed store, over HTTP/JSON. On its embedded defaults it keeps
// everything in --data-dir (SQLite and a filesystem CAS); at scale, PostgreSQL and an OCI registry.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/custody-dev/custody/controlplane/api"
	"github.com/custody-dev/custody/controlplane/app"
	"github.com/custody-dev/custody/controlplane/oidc"
	"github.com/custody-dev/custody/controlplane/ui"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	err := run(ctx, os.Args[1:], environ(), os.Stdout, os.Stderr, nil)
	if errors.Is(err, flag.ErrHelp) {
		return
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "custodyd: %v\n", err)
		os.Exit(1)
	}
}

func environ() map[string]string {
	m := map[string]string{}
	for _, kv := range os.Environ() {
		if k, v, ok := strings.Cut(kv, "="); ok {
			m[k] = v
		}
	}
	return m
}

// run serves until ctx ends, then shuts down gracefully. ready, when not nil, receives the address
// served on once the listener is open.
func run(ctx context.Context, args []string, environ map[string]string, stdout, stderr io.Writer, ready chan<- string) error {
	if len(args) > 0 && args[0] == "ca" {
		return runCA(args[1:], environ, stdout, stderr, time.Now)
	}
	cfg, err := loadConfig(args, environ, stderr)
	if err != nil {
		return err
	}
	level, err := cfg.level()
	if err != nil {
		return err
	}
	log := slog.New(slog.NewJSONHandler(stderr, &slog.HandlerOptions{Level: level}))

	st, err := openStore(ctx, cfg)
	if err != nil {
		return err
	}
	defer st.Close()
	blobs, err := openCAS(ctx, cfg)
	if err != nil {
		return err
	}

	authority, err := loadAuthorities(cfg, time.Now)
	if err != nil {
		return err
	}

	ln, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", cfg.Listen, err)
	}
	external := cfg.ExternalURL
	if external == "" {
		external = "http://" + ln.Addr().String()
	}
	verifier, err := oidc.New(oidc.Config{Issuers: cfg.oidcIssuers(), Audience: cfg.OIDCAudience})
	if err != nil {
		ln.Close()
		return err
	}
	a, err := app.New(app.Config{Store: st, CAS: blobs, RunTTL: cfg.RunTTL, BaseURL: external, Logger: log, PushBudget: cfg.PushBudget,
		Keyless: &app.Keyless{CA: authority.CA, TSA: authority.TSA, TrustedRoot: authority.TrustedRoot}, OIDC: verifier})
	if err != nil {
		ln.Close()
		return err
	}
	token, err := a.Bootstrap(ctx)
	if err != nil {
		ln.Close()
		return err
	}
	if token != "" {
		// Shown once, on stdout, never in the log: it is stored only as a hash.
		fmt.Fprintf(stdout, "bootstrap admin token (shown once, keep it safe): %s\n", token)
	}

	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	apiHandler := api.New(api.Config{App: a, Log: log, MaxBlobSize: cfg.MaxBlobSize, MaxUploads: cfg.MaxUploads, BodyBudget: cfg.BodyBudget, Registerer: reg})
	pages, err := ui.New(ui.Config{App: a, BaseURL: external, SessionTTL: cfg.UISessionTTL, Log: log})
	if err != nil {
		ln.Close()
		return err
	}
	srv := newServer(cfg, newHandler(apiHandler, pages, promhttp.HandlerFor(reg, promhttp.HandlerOpts{}), cfg), log)

	go expireLoop(ctx, a, cfg.ExpireEvery, log)
	log.Info("custodyd serving", "addr", ln.Addr().String(), "store", storeName(cfg), "cas", blobs.Location(), "external_url", external,
		"oidc_issuers", cfg.oidcIssuers(), "oidc_audience", cfg.OIDCAudience)
	if ready != nil {
		ready <- ln.Addr().String()
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(newLimitListener(ln, cfg.MaxConnections)) }()
	select {
	case err := <-errc:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	log.Info("shutting down: finishing in-flight requests", "timeout", cfg.ShutdownTimeout.String())
	sctx, cancel := context.WithTimeout(context.Background(), cfg.ShutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("serve: %w", err)
	}
	log.Info("stopped")
	return nil
}

// expireLoop marks overdue runs expired and forgets expired ID token uses and web UI sessions, every
// interval, until ctx ends.
func expireLoop(ctx context.Context, a *app.App, every time.Duration, log *slog.Logger) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if n, err := a.ExpireRuns(ctx); err != nil {
				log.Warn("expire runs", "err", err)
			} else if n > 0 {
				log.Info("runs expired", "count", n)
			}
			if _, err := a.PruneIDTokenUses(ctx); err != nil {
				log.Warn("forget the uses of expired ID tokens", "err", err)
			}
			if _, err := a.PruneSessions(ctx); err != nil {
				log.Warn("forget the expired web UI sessions", "err", err)
			}
		}
	}
}
