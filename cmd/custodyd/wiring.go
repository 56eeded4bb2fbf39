package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/custody-dev/custody/cas"
	casfs "github.com/custody-dev/custody/cas/fs"
	"github.com/custody-dev/custody/cas/oci"
	"github.com/custody-dev/custody/controlplane/store"
	"github.com/custody-dev/custody/controlplane/store/postgres"
	"github.com/custody-dev/custody/controlplane/store/sqlite"
)

// openStore opens PostgreSQL when a database URL is given, else SQLite in the data directory.
func openStore(ctx context.Context, cfg config) (store.Store, error) {
	if cfg.DatabaseURL != "" {
		st, err := postgres.Open(ctx, cfg.DatabaseURL)
		if err != nil {
			return nil, fmt.Errorf("open PostgreSQL: %w", err)
		}
		return st, nil
	}
	if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
		return nil, fmt.Errorf("create data directory: %w", err)
	}
	path := filepath.Join(cfg.DataDir, "custody.db")
	st, err := sqlite.Open(ctx, path)
	if err != nil {
		return nil, fmt.Errorf("open SQLite %s: %w", path, err)
	}
	return st, nil
}

func storeName(cfg config) string {
	if cfg.DatabaseURL != "" {
		return "postgres"
	}
	return "sqlite"
}

// openCAS opens the content-addressed store named by --cas: file://DIR or oci://REGISTRY/REPO.
func openCAS(ctx context.Context, cfg config) (cas.Backend, error) {
	switch {
	case strings.HasPrefix(cfg.CAS, "file://"):
		b, err := casfs.New(strings.TrimPrefix(cfg.CAS, "file://"))
		if err != nil {
			return nil, fmt.Errorf("open CAS %s: %w", cfg.CAS, err)
		}
		return b, nil
	case strings.HasPrefix(cfg.CAS, "oci://"):
		opts := []oci.Option{oci.WithSpoolDir(filepath.Join(cfg.DataDir, "spool"))}
		if cfg.CASPlainHTTP {
			opts = append(opts, oci.WithPlainHTTP())
		}
		if cfg.CASUsername != "" {
			opts = append(opts, oci.WithBasicAuth(cfg.CASUsername, cfg.CASPassword))
		}
		if err := os.MkdirAll(filepath.Join(cfg.DataDir, "spool"), 0o700); err != nil {
			return nil, fmt.Errorf("create spool directory: %w", err)
		}
		b, err := oci.New(ctx, cfg.CAS, opts...)
		if err != nil {
			return nil, fmt.Errorf("open CAS %s: %w", cfg.CAS, err)
		}
		return b, nil
	}
	return nil, fmt.Errorf("--cas %q: want file://DIR or oci://REGISTRY/REPO", cfg.CAS)
}
