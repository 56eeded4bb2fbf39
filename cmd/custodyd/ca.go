package main

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"path/filepath"
	"text/tabwriter"
	"time"

	"github.com/caarlos0/env/v11"

	"github.com/custody-dev/custody/controlplane/ca"
	"github.com/custody-dev/custody/controlplane/trustroot"
	"github.com/custody-dev/custody/controlplane/tsa"
	"github.com/custody-dev/custody/internal/pki"
)

const caUsage = `usage: custodyd ca COMMAND [flags]

  init --out DIR      generate a CA (DIR/ca) and a timestamp authority (DIR/tsa) for replicas to
                      share through --ca-cert/--ca-key and --tsa-cert/--tsa-key; --if-absent keeps
                      both when DIR already holds them (a deployment's one-shot step, run again)
  rotate              retire the CA's chain and make a new one (DATA_DIR/ca, or a DIR made by init);
                      custodyd issues with the new chain once restarted
  show                list the chains custodyd trusts and serves in its trusted root, with their windows
`

// runCA runs "custodyd ca COMMAND": init, rotate or show.
func runCA(args []string, environ map[string]string, stdout, stderr io.Writer, now func() time.Time) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, caUsage)
		return errors.New("ca: a command is required: init, rotate or show")
	}
	switch args[0] {
	case "init":
		return caInit(args[1:], stdout, stderr, now)
	case "rotate":
		return caRotate(args[1:], environ, stdout, stderr, now)
	case "show":
		return caShow(args[1:], environ, stdout, stderr, now)
	case "help", "-h", "-help", "--help":
		fmt.Fprint(stdout, caUsage)
		return flag.ErrHelp
	}
	fmt.Fprint(stderr, caUsage)
	return fmt.Errorf("ca %q: want init, rotate or show", args[0])
}

func caInit(args []string, stdout, stderr io.Writer, now func() time.Time) error {
	fs := flag.NewFlagSet("custodyd ca init", flag.ContinueOnError)
	fs.SetOutput(stderr)
	out := fs.String("out", "", "directory to write the CA (DIR/ca) and the timestamp authority (DIR/tsa) into")
	ifAbsent := fs.Bool("if-absent", false, "succeed without writing when DIR already holds both authorities")
	if err := parseCommand(fs, args); err != nil {
		return err
	}
	if *out == "" {
		return errors.New("ca init: --out DIR is required")
	}
	if *ifAbsent {
		cfg := config{DataDir: *out}
		both := true
		for _, chain := range []string{cfg.caFiles().Chain, cfg.tsaFiles().Chain} {
			ok, err := pki.Exists(chain)
			if err != nil {
				return fmt.Errorf("ca init: %w", err)
			}
			both = both && ok
		}
		if both {
			fmt.Fprintf(stdout, "CA and timestamp authority already in %s: kept\n", *out)
			return nil
		}
	}
	caF, tsaF, err := writeAuthorities(*out, now)
	if err != nil {
		return fmt.Errorf("ca init: %w", err)
	}
	fmt.Fprintf(stdout, "CA and timestamp authority written to %s (keys 0600). Start every replica with:\n"+
		"  --ca-cert %s --ca-key %s --tsa-cert %s --tsa-key %s\n"+
		"Keep the root keys (%s, %s) off the replicas: custodyd ca rotate --data-dir %s needs the CA's.\n",
		*out, caF.Chain, caF.Key, tsaF.Chain, tsaF.Key,
		filepath.Join(filepath.Dir(caF.Chain), ca.RootKeyFile), filepath.Join(filepath.Dir(tsaF.Chain), tsa.RootKeyFile), *out)
	return nil
}

func caRotate(args []string, environ map[string]string, stdout, stderr io.Writer, now func() time.Time) error {
	var cfg config
	if err := env.ParseWithOptions(&cfg, env.Options{Environment: environ}); err != nil {
		return fmt.Errorf("configuration from the environment: %w", err)
	}
	fs := flag.NewFlagSet("custodyd ca rotate", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&cfg.DataDir, "data-dir", cfg.DataDir, "the directory whose ca/ is rotated: custodyd's data directory, or one made by custodyd ca init (CUSTODY_DATA_DIR)")
	newRoot := fs.Bool("new-root", false, "make a new root too, for when the root key may have leaked; default: a new intermediate under the kept root")
	retireAt := fs.String("retire-at", "", "RFC 3339 time from which the old chain no longer issues (when every replica runs the new one); default: now")
	if err := parseCommand(fs, args); err != nil {
		return err
	}
	var at time.Time
	if *retireAt != "" {
		var err error
		if at, err = time.Parse(time.RFC3339, *retireAt); err != nil {
			return fmt.Errorf("ca rotate: --retire-at %q: want an RFC 3339 time such as 2026-11-27T18:00:00Z", *retireAt)
		}
	}
	dir := filepath.Join(cfg.DataDir, "ca")
	if err := requireAuthority(filepath.Join(dir, ca.ChainFile)); err != nil {
		return fmt.Errorf("ca rotate: %w", err)
	}
	a, err := ca.Rotate(dir, *newRoot, at, now)
	if err != nil {
		return fmt.Errorf("ca rotate: %w", err)
	}
	retired, err := ca.Retired(filepath.Join(dir, ca.RetiredFile))
	if err != nil {
		return fmt.Errorf("ca rotate: %w", err)
	}
	fmt.Fprintf(stdout, "Rotated the CA in %s. Restart custodyd to issue with the new chain; replicas given --ca-cert/--ca-key need %s and %s, and --ca-retired %s.\n\n",
		dir, filepath.Join(dir, ca.ChainFile), filepath.Join(dir, ca.KeyFile), filepath.Join(dir, ca.RetiredFile))
	return printEntries(stdout, a.Entries(retired), nil)
}

func caShow(args []string, environ map[string]string, stdout, stderr io.Writer, now func() time.Time) error {
	cfg, err := loadConfig(args, environ, stderr)
	if err != nil {
		return err
	}
	for _, f := range []authorityFiles{cfg.caFiles(), cfg.tsaFiles()} {
		if f.generated {
			if err := requireAuthority(f.Chain); err != nil {
				return fmt.Errorf("ca show: %w", err)
			}
		}
	}
	a, err := loadAuthorities(cfg, now)
	if err != nil {
		return fmt.Errorf("ca show: %w", err)
	}
	cas, tsas, err := trustroot.Parse(a.TrustedRoot)
	if err != nil {
		return fmt.Errorf("ca show: %w", err)
	}
	return printEntries(stdout, cas, tsas)
}

// requireAuthority refuses to go on where custodyd has not generated an authority yet.
func requireAuthority(chain string) error {
	switch ok, err := pki.Exists(chain); {
	case err != nil:
		return err
	case !ok:
		return fmt.Errorf("no authority in %s yet: custodyd makes one on its first start, custodyd ca init --out DIR one to share", filepath.Dir(chain))
	}
	return nil
}

// printEntries lists each chain with its issuing certificate, root, fingerprint and window.
func printEntries(w io.Writer, cas, tsas []trustroot.Entry) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "ROLE\tCERTIFICATE\tROOT\tSHA-256\tTRUSTED FROM\tUNTIL")
	for _, list := range []struct {
		role    string
		entries []trustroot.Entry
	}{{"ca", cas}, {"tsa", tsas}} {
		for _, e := range list.entries {
			sum := sha256.Sum256(e.Chain[0].Raw)
			until := "(open)"
			if !e.End.IsZero() {
				until = e.End.UTC().Format(time.RFC3339)
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", list.role, e.Chain[0].Subject.CommonName, e.Chain[len(e.Chain)-1].Subject.CommonName,
				hex.EncodeToString(sum[:8]), e.Start.UTC().Format(time.RFC3339), until)
		}
	}
	return tw.Flush()
}

// parseCommand parses a subcommand's flags and refuses arguments left over.
func parseCommand(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("%s: unexpected arguments %q", fs.Name(), fs.Args())
	}
	return nil
}
