package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/custody-dev/custody/client"
	"github.com/custody-dev/custody/internal/atomicfile"
	"github.com/custody-dev/custody/internal/input"
	"github.com/custody-dev/custody/runner"
)

// settings is the CLI's config file, written by `custody login` and `custody config set`.
type settings struct {
	ControlPlane string `json:"controlPlane,omitempty"`
	Token        string `json:"token,omitempty"`
}

// configPath is $XDG_CONFIG_HOME/custody/config.json, else ~/.config/custody/config.json.
func (g *globals) configPath() string {
	dir := g.env.Getenv("XDG_CONFIG_HOME")
	if dir == "" {
		dir = filepath.Join(g.env.Getenv("HOME"), ".config")
	}
	return filepath.Join(dir, "custody", "config.json")
}

func (g *globals) loadSettings() (settings, error) {
	var s settings
	// Read before any command has a context: the file is small and local, the bound is what matters.
	b, err := input.ReadFile(context.Background(), g.configPath(), maxConfigSize)
	if errors.Is(err, fs.ErrNotExist) {
		return s, nil
	}
	if err != nil {
		return s, fmt.Errorf("read config: %w", err)
	}
	if err := json.Unmarshal(b, &s); err != nil {
		return s, fmt.Errorf("config file %s: %w", g.configPath(), err)
	}
	return s, nil
}

func (g *globals) saveSettings(s settings) error {
	b, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return fmt.Errorf("encode config: %w", err)
	}
	path := g.configPath()
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return fmt.Errorf("create config directory: %w", err)
	}
	// 0600: the file can hold a token.
	return atomicfile.Write(path, append(b, '\n'), 0o600)
}

// connection resolves the control plane URL and token: flag, then environment, then config file.
func (g *globals) connection() (url, token string, err error) {
	url, token, config, err := g.connectionParts()
	if token == "" {
		token = config
	}
	return url, token, err
}

// connectionParts resolves the control plane URL (flag, environment, config file), the token given
// (flag, then environment) and the config file's token; the file is read only when one is missing.
func (g *globals) connectionParts() (url, given, config string, err error) {
	url, given = g.controlPlaneURL, g.token
	if url == "" {
		url = g.env.Getenv("CUSTODY_CONTROL_PLANE")
	}
	if given == "" {
		given = g.env.Getenv("CUSTODY_TOKEN")
	}
	if url == "" || given == "" {
		s, err := g.loadSettings()
		if err != nil {
			return "", "", "", err
		}
		if url == "" {
			url = s.ControlPlane
		}
		config = s.Token
	}
	return url, given, config, nil
}

// controlPlane returns a client of the configured control plane, or nil when none is configured
// (offline mode).
func (g *globals) controlPlane() (*client.Client, error) {
	url, token, err := g.connection()
	if err != nil || url == "" {
		return nil, err
	}
	if token == "" {
		return nil, noTokenError(url)
	}
	return g.newClient(url, token)
}

func noTokenError(url string) error {
	return usageErrorf("no token for the control plane at %s: pass --token, set CUSTODY_TOKEN, run custody login, or in CI "+
		"give an OIDC token to exchange (--oidc-token, docs/runners.md)", url)
}

// craftingControlPlane returns a client of the configured control plane for a crafting command, or
// nil offline. Its credential comes, in this order, from --token, CUSTODY_TOKEN, the runner's OIDC
// token exchanged for the run's workflow (asked for at the first call that needs it, kept beside
// the state file for the job's next steps), and the config file.
func (g *globals) craftingControlPlane(rc runner.Context, stateFile string, sc func(context.Context) runScope) (*client.Client, error) {
	url, given, config, err := g.connectionParts()
	if err != nil || url == "" {
		return nil, err
	}
	if given != "" {
		return g.newClient(url, given)
	}
	src, err := rc.TokenSource(runner.TokenOptions{Token: g.oidcToken})
	if err != nil {
		return nil, usageErrorf("%v", err)
	}
	if src == nil {
		if config == "" {
			return nil, noTokenError(url)
		}
		return g.newClient(url, config)
	}
	g.credentialPath = stateFile + credentialSuffix
	g.oidc = &oidcCredential{g: g, url: strings.TrimRight(url, "/"), source: src, path: g.credentialPath, scope: sc,
		fallback: config, job: jobDigest(rc)}
	return g.newClient(url, "", client.WithTokenFunc(g.oidc.token))
}

// newClient returns a client of the control plane at url with the retry policy in effect, which
// says on stderr what failed and until when it retries.
func (g *globals) newClient(url, token string, opts ...client.Option) (*client.Client, error) {
	if err := g.mask(token); err != nil {
		return nil, err
	}
	retry, err := g.retryPolicy()
	if err != nil {
		return nil, err
	}
	c, err := client.New(url, token, append([]client.Option{client.WithRetry(retry), client.WithRetryNotify(func(r client.Retrying) {
		g.warn("%s %s: %v (attempt %d); retrying in %s, until %s (CUSTODY_RETRY_DEADLINE=%s)",
			r.Method, r.Path, r.Err, r.Attempt, r.Wait, r.Deadline.Format(time.TimeOnly), retry.Deadline)
	})}, opts...)...)
	if err != nil {
		return nil, usageErrorf("%v", err)
	}
	return c, nil
}

// retryPolicy is the client's default retry policy, with the deadline from CUSTODY_RETRY_DEADLINE (a Go
// duration; 0 disables retries) when set.
func (g *globals) retryPolicy() (client.Retry, error) {
	r := client.DefaultRetry
	v := g.env.Getenv("CUSTODY_RETRY_DEADLINE")
	if v == "" {
		return r, nil
	}
	d, err := time.ParseDuration(v)
	if err != nil || d < 0 {
		return r, usageErrorf("CUSTODY_RETRY_DEADLINE=%q: want a duration such as 30s or 2m", v)
	}
	r.Deadline = d
	return r, nil
}

// requireControlPlane is controlPlane for commands that make no sense offline.
func (g *globals) requireControlPlane() (*client.Client, error) {
	c, err := g.controlPlane()
	if err != nil {
		return nil, err
	}
	if c == nil {
		return nil, usageErrorf("no control plane: pass --control-plane URL, set CUSTODY_CONTROL_PLANE, or run custody login")
	}
	return c, nil
}
