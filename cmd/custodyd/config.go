package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"strings"
	"time"

	"github.com/caarlos0/env/v11"

	"github.com/custody-dev/custody/controlplane/oidc"
)

// config is custodyd's configuration: environment variables (CUSTODY_*), overridden by flags.
type config struct {
	Listen          string        `env:"CUSTODY_LISTEN" envDefault:"127.0.0.1:8080"`
	DataDir         string        `env:"CUSTODY_DATA_DIR" envDefault:"custody-data"`
	DatabaseURL     string        `env:"CUSTODY_DATABASE_URL"`
	CAS             string        `env:"CUSTODY_CAS"`
	CASUsername     string        `env:"CUSTODY_CAS_USERNAME"`
	CASPassword     string        `env:"CUSTODY_CAS_PASSWORD"`
	CASPlainHTTP    bool          `env:"CUSTODY_CAS_PLAIN_HTTP"`
	MaxBlobSize     int64         `env:"CUSTODY_MAX_BLOB_SIZE" envDefault:"4294967296"`
	RunTTL          time.Duration `env:"CUSTODY_RUN_TTL" envDefault:"24h"`
	ExternalURL     string        `env:"CUSTODY_EXTERNAL_URL"`
	LogLevel        string        `env:"CUSTODY_LOG_LEVEL" envDefault:"info"`
	ShutdownTimeout time.Duration `env:"CUSTODY_SHUTDOWN_TIMEOUT" envDefault:"30s"`
	ExpireEvery     time.Duration `env:"CUSTODY_EXPIRE_EVERY" envDefault:"1m"`
	PushBudget      int64         `env:"CUSTODY_PUSH_BUDGET"`

	ReadHeaderTimeout time.Duration `env:"CUSTODY_READ_HEADER_TIMEOUT" envDefault:"10s"`
	BodyTimeout       time.Duration `env:"CUSTODY_BODY_TIMEOUT" envDefault:"30s"`
	BodyMinRate       int64         `env:"CUSTODY_BODY_MIN_RATE" envDefault:"1024"`
	WriteTimeout      time.Duration `env:"CUSTODY_WRITE_TIMEOUT" envDefault:"30s"`
	IdleTimeout       time.Duration `env:"CUSTODY_IDLE_TIMEOUT" envDefault:"30s"`
	MaxConnections    int           `env:"CUSTODY_MAX_CONNECTIONS" envDefault:"1024"`
	MaxUploads        int           `env:"CUSTODY_MAX_UPLOADS" envDefault:"64"`
	BodyBudget        int64         `env:"CUSTODY_BODY_BUDGET" envDefault:"67108864"`

	// The CA and the timestamp authority: files shared by replicas, or generated in DATA_DIR.
	CACert    string `env:"CUSTODY_CA_CERT"`
	CAKey     string `env:"CUSTODY_CA_KEY"`
	CARetired string `env:"CUSTODY_CA_RETIRED"`
	TSACert   string `env:"CUSTODY_TSA_CERT"`
	TSAKey    string `env:"CUSTODY_TSA_KEY"`

	// The OIDC issuers (comma-separated) whose CI ID tokens are exchanged for workflow credentials,
	// and the audience the tokens must hold. oidcIssuers lists them.
	OIDCIssuers  string `env:"CUSTODYD_OIDC_ISSUERS" envDefault:"https://token.actions.githubusercontent.com,https://gitlab.com"`
	OIDCAudience string `env:"CUSTODYD_OIDC_AUDIENCE" envDefault:"custody"`
}

// oidcIssuers lists the OIDC issuers of the configuration.
func (c config) oidcIssuers() []string {
	var out []string
	for _, iss := range strings.Split(c.OIDCIssuers, ",") {
		if iss = strings.TrimSpace(iss); iss != "" {
			out = append(out, iss)
		}
	}
	return out
}

// replacingList is a repeatable flag of a comma-separated list: its first use replaces the list from
// the environment (or its default), later uses add to it.
type replacingList struct {
	list *string
	set  bool
}

func (r *replacingList) String() string {
	if r.list == nil {
		return ""
	}
	return *r.list
}

func (r *replacingList) Set(v string) error {
	if !r.set {
		*r.list, r.set = v, true
		return nil
	}
	*r.list += "," + v
	return nil
}

// loadConfig reads the environment through environ, then the flags in args.
func loadConfig(args []string, environ map[string]string, stderr io.Writer) (config, error) {
	var c config
	if err := env.ParseWithOptions(&c, env.Options{Environment: environ}); err != nil {
		return c, fmt.Errorf("configuration from the environment: %w", err)
	}
	fs := flag.NewFlagSet("custodyd", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&c.Listen, "listen", c.Listen, "address to serve on (CUSTODY_LISTEN)")
	fs.StringVar(&c.DataDir, "data-dir", c.DataDir, "data directory: SQLite database, filesystem CAS, generated keys (CUSTODY_DATA_DIR)")
	// No default shown for the URL: it can hold a password, and --help must not print it.
	var databaseURL string
	fs.StringVar(&databaseURL, "database-url", "", "PostgreSQL URL; empty: SQLite in the data directory (CUSTODY_DATABASE_URL)")
	fs.StringVar(&c.CAS, "cas", c.CAS, "content-addressed store: file://DIR or oci://REGISTRY/REPO; empty: DATA_DIR/cas (CUSTODY_CAS)")
	fs.StringVar(&c.CASUsername, "cas-username", c.CASUsername, "user for an oci:// CAS with basic auth; empty: the docker keychain (CUSTODY_CAS_USERNAME; password in CUSTODY_CAS_PASSWORD)")
	fs.BoolVar(&c.CASPlainHTTP, "cas-plain-http", c.CASPlainHTTP, "speak plain http to the oci:// CAS's registry, for one on a private network without TLS; credentials travel in the clear (CUSTODY_CAS_PLAIN_HTTP)")
	fs.Int64Var(&c.MaxBlobSize, "max-blob-size", c.MaxBlobSize, "largest blob accepted, in bytes (CUSTODY_MAX_BLOB_SIZE)")
	fs.DurationVar(&c.RunTTL, "run-ttl", c.RunTTL, "how long a run may stay initialized before it expires (CUSTODY_RUN_TTL)")
	fs.StringVar(&c.ExternalURL, "external-url", c.ExternalURL, "URL clients reach this control plane at, for links (CUSTODY_EXTERNAL_URL)")
	fs.StringVar(&c.LogLevel, "log-level", c.LogLevel, "debug, info, warn or error (CUSTODY_LOG_LEVEL)")
	fs.DurationVar(&c.ShutdownTimeout, "shutdown-timeout", c.ShutdownTimeout, "how long in-flight requests may finish on shutdown (CUSTODY_SHUTDOWN_TIMEOUT)")
	fs.DurationVar(&c.ExpireEvery, "expire-every", c.ExpireEvery, "how often overdue runs are marked expired (CUSTODY_EXPIRE_EVERY)")
	fs.Int64Var(&c.PushBudget, "push-budget", c.PushBudget, "bundle bytes verified at once, others wait their turn; 0: the largest bundle (1.6 MiB) times the CPUs but one (CUSTODY_PUSH_BUDGET)")
	fs.DurationVar(&c.ReadHeaderTimeout, "read-header-timeout", c.ReadHeaderTimeout, "how long a connection may take to send a request's headers (CUSTODY_READ_HEADER_TIMEOUT)")
	fs.DurationVar(&c.BodyTimeout, "body-timeout", c.BodyTimeout, "a request body must bring --body-min-rate bytes/s over every window this long, or it is cut with 408 (CUSTODY_BODY_TIMEOUT)")
	fs.Int64Var(&c.BodyMinRate, "body-min-rate", c.BodyMinRate, "slowest request body accepted, in bytes per second averaged over --body-timeout; 0: only a silent one is cut (CUSTODY_BODY_MIN_RATE)")
	fs.DurationVar(&c.WriteTimeout, "write-timeout", c.WriteTimeout, "how long each 64 KiB of an answer may take to leave (CUSTODY_WRITE_TIMEOUT)")
	fs.DurationVar(&c.IdleTimeout, "idle-timeout", c.IdleTimeout, "how long a keep-alive connection may wait for its next request (CUSTODY_IDLE_TIMEOUT)")
	fs.IntVar(&c.MaxConnections, "max-connections", c.MaxConnections, "connections served at once; more are answered 503 (CUSTODY_MAX_CONNECTIONS)")
	fs.IntVar(&c.MaxUploads, "max-uploads", c.MaxUploads, "blob uploads received at once; more are answered 503 (CUSTODY_MAX_UPLOADS)")
	fs.Int64Var(&c.BodyBudget, "body-budget", c.BodyBudget, "bytes of request bodies (JSON, bundles) held at once while they arrive; more are answered 503 (CUSTODY_BODY_BUDGET)")
	fs.StringVar(&c.CACert, "ca-cert", c.CACert, "PEM chain of the CA that issues signing certificates: the issuing certificate first, the root last; empty: generated in DATA_DIR/ca (CUSTODY_CA_CERT)")
	// No default shown for the key files either: a key pasted into the variable must not be printed.
	var caKey, tsaKey string
	fs.StringVar(&caKey, "ca-key", "", "file holding the --ca-cert issuing certificate's PEM private key, mode 0600 or narrower (CUSTODY_CA_KEY)")
	fs.StringVar(&c.CARetired, "ca-retired", c.CARetired, "trusted_root.json of retired CA chains and their windows, as custodyd ca rotate writes it; empty: DATA_DIR/ca/retired.json if it exists (CUSTODY_CA_RETIRED)")
	fs.StringVar(&c.TSACert, "tsa-cert", c.TSACert, "PEM chain of the timestamp authority: the timestamping certificate first, the root last; empty: generated in DATA_DIR/tsa (CUSTODY_TSA_CERT)")
	fs.StringVar(&tsaKey, "tsa-key", "", "file holding the --tsa-cert timestamping certificate's PEM private key, mode 0600 or narrower (CUSTODY_TSA_KEY)")
	fs.Var(&replacingList{list: &c.OIDCIssuers}, "oidc-issuer", "an OIDC issuer whose CI ID tokens are exchanged for workflow credentials, exactly as its tokens name it; repeatable, replaces the default list (CUSTODYD_OIDC_ISSUERS, comma-separated)")
	fs.StringVar(&c.OIDCAudience, "oidc-audience", c.OIDCAudience, "the audience (aud) every exchanged ID token must hold (CUSTODYD_OIDC_AUDIENCE)")
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	if databaseURL != "" {
		c.DatabaseURL = databaseURL
	}
	for _, k := range []struct {
		flag string
		into *string
		v    string
	}{{"ca-key", &c.CAKey, caKey}, {"tsa-key", &c.TSAKey, tsaKey}} {
		if k.v != "" {
			*k.into = k.v
		}
		if strings.Contains(*k.into, "PRIVATE KEY") || strings.ContainsAny(*k.into, "\r\n") {
			return c, fmt.Errorf("--%s holds a key, not a file name: put the key in a file of mode 0600 and name that", k.flag)
		}
	}
	if fs.NArg() > 0 {
		return c, fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	if c.CAS == "" {
		c.CAS = "file://" + filepath.Join(c.DataDir, "cas")
	}
	if c.CASPlainHTTP && !strings.HasPrefix(c.CAS, "oci://") {
		return c, fmt.Errorf("--cas-plain-http is for an oci:// CAS, not %s", c.CAS)
	}
	if c.MaxBlobSize <= 0 {
		return c, fmt.Errorf("--max-blob-size %d: want a positive number of bytes", c.MaxBlobSize)
	}
	if c.PushBudget < 0 {
		return c, fmt.Errorf("--push-budget %d: want 0 (the default) or a number of bytes", c.PushBudget)
	}
	if c.RunTTL <= 0 || c.ExpireEvery <= 0 || c.ShutdownTimeout <= 0 {
		return c, fmt.Errorf("--run-ttl, --expire-every and --shutdown-timeout must be positive")
	}
	for _, d := range []struct {
		flag string
		v    time.Duration
	}{{"read-header-timeout", c.ReadHeaderTimeout}, {"body-timeout", c.BodyTimeout}, {"write-timeout", c.WriteTimeout}, {"idle-timeout", c.IdleTimeout}} {
		if d.v <= 0 {
			return c, fmt.Errorf("--%s %s: want a positive duration", d.flag, d.v)
		}
	}
	if c.BodyMinRate < 0 {
		return c, fmt.Errorf("--body-min-rate %d: want a number of bytes per second, 0 or more", c.BodyMinRate)
	}
	if c.MaxConnections <= 0 {
		return c, fmt.Errorf("--max-connections %d: want a positive number", c.MaxConnections)
	}
	if c.BodyBudget <= 0 {
		return c, fmt.Errorf("--body-budget %d: want a positive number of bytes", c.BodyBudget)
	}
	if c.MaxUploads <= 0 {
		return c, fmt.Errorf("--max-uploads %d: want a positive number", c.MaxUploads)
	}
	if (c.CACert == "") != (c.CAKey == "") {
		return c, errors.New("--ca-cert and --ca-key go together: the chain and its issuing key")
	}
	if (c.TSACert == "") != (c.TSAKey == "") {
		return c, errors.New("--tsa-cert and --tsa-key go together: the chain and its timestamping key")
	}
	for _, iss := range c.oidcIssuers() {
		if err := oidc.CheckIssuer(iss); err != nil {
			return c, fmt.Errorf("--oidc-issuer: %w", err)
		}
	}
	if c.OIDCAudience == "" {
		return c, errors.New("--oidc-audience: want the audience CI tokens are requested for, such as custody")
	}
	return c, nil
}

func (c config) level() (slog.Level, error) {
	var l slog.Level
	if err := l.UnmarshalText([]byte(strings.ToUpper(c.LogLevel))); err != nil {
		return l, fmt.Errorf("--log-level %q: want debug, info, warn or error", c.LogLevel)
	}
	return l, nil
}
