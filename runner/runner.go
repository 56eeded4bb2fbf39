// Package runner detects the CI runner a command runs on and describes its context: the runner's
// variables, the URL of the run, the workspace, and where its OIDC ID token comes from. Every read
// of the environment goes through an injected Env, so tests run in parallel with fake environments;
// detection reads variables (and, for Tekton, whether one directory exists) and makes no network call.
package runner

import (
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"

	"github.com/custody-dev/custody/contract"
)

// Env is what detection reads: the environment, and whether a path exists.
type Env struct {
	Getenv func(string) string
	// Exists reports whether a path exists; nil reports that none does.
	Exists func(path string) bool
}

// OSEnv reads the process's environment and file system.
func OSEnv() Env {
	return Env{Getenv: os.Getenv, Exists: func(p string) bool { _, err := os.Stat(p); return err == nil }}
}

func (e Env) getenv(name string) string {
	if e.Getenv == nil {
		return ""
	}
	return e.Getenv(name)
}

func (e Env) exists(path string) bool { return e.Exists != nil && e.Exists(path) }

// MaxValue bounds a variable custody records and the run URL it builds: a longer value is not
// recorded (the control plane refuses a run URL above 4,096 bytes).
const MaxValue = 4096

// Context is what custody knows about the runner of a run.
type Context struct {
	// Type is the runner type, or "" when no CI runner was recognised (a developer's machine, or a CI
	// custody does not know: the generic fallback).
	Type contract.RunnerType
	// Name is the CI system's name, for messages ("GitHub Actions"; "no CI runner" for none).
	Name string
	// URL links to the job or pipeline run; "" when the runner's variables do not tell it.
	URL string
	// Environment holds the runner's own description of the run (repository, ref, job, ...): the
	// variables it declares that are set. A URL's credentials (user:password@) are never recorded.
	Environment map[string]string
	// Missing names the variables the runner declares as required that are unset, and any declared
	// variable longer than MaxValue (not recorded): reported, never silently dropped.
	Missing []string
	// Workspace is the runner's checkout directory, where the state between steps lives; "" when
	// the runner names none (the current directory then).
	Workspace string

	env    Env
	tokens func(Env, *http.Client) (TokenSource, error)
}

// Detected reports whether a CI runner was recognised.
func (c Context) Detected() bool { return c.Type != "" }

// Runner describes one CI system custody recognises, as docs/runners.md lists it.
type Runner struct {
	// Type is the contract's runner type; "" for the generic fallback.
	Type contract.RunnerType
	Name string
	// Detection says how the runner is recognised.
	Detection string
	// Required variables are always set by the CI system: one missing is reported. Optional ones
	// are recorded when set.
	Required, Optional []string
	// Workspace is the variable naming the checkout directory; "" for none.
	Workspace string
	// URL says how the run URL is built.
	URL string
	// OIDC says where the runner's ID token comes from; "" when it gives none.
	OIDC string

	detect    func(Env) bool
	url       func(getenv func(string) string) string
	workspace func(getenv func(string) string) string
	tokens    func(Env, *http.Client) (TokenSource, error)
}

// Runners lists the runners in the order detection tries them: the more specific first (Tekton and
// Dagger run inside other CI systems, whose variables they may pass on), the generic fallback last.
func Runners() []Runner { return append([]Runner(nil), runners...) }

// Name is the CI system's name of a runner type, or the type itself when unknown.
func Name(t contract.RunnerType) string {
	if t == "" {
		return "no CI runner"
	}
	for _, r := range runners {
		if r.Type == t {
			return r.Name
		}
	}
	return string(t)
}

// Detect recognises the runner from env. It runs once per command: the caller passes the Context
// on.
func Detect(env Env) Context {
	for _, r := range runners {
		if r.detect(env) {
			return r.context(env)
		}
	}
	panic("runner: the generic fallback always matches")
}

func (r Runner) context(env Env) Context {
	c := Context{Type: r.Type, Name: r.Name, env: env, tokens: r.tokens}
	if c.Type == "" {
		c.Name = Name("")
	}
	vars := append(append([]string(nil), r.Required...), r.Optional...)
	for i, name := range vars {
		v := env.getenv(name)
		switch {
		case v == "" && i < len(r.Required):
			c.Missing = append(c.Missing, name)
		case len(v) > MaxValue:
			c.Missing = append(c.Missing, name+" (longer than 4096 bytes)")
		case v != "":
			if c.Environment == nil {
				c.Environment = map[string]string{}
			}
			c.Environment[name] = withoutCredentials(v)
		}
	}
	if r.url != nil {
		c.URL = httpURL(r.url(env.getenv))
	}
	if r.workspace != nil {
		c.Workspace = r.workspace(env.getenv)
	}
	return c
}

// withoutCredentials drops the user information of a URL (https://user:token@host/...): a
// repository URL may carry a job's token.
func withoutCredentials(v string) string {
	u, err := url.Parse(v)
	if err != nil || u.Scheme == "" || u.User == nil {
		return v
	}
	u.User = nil
	return u.String()
}

// httpURL returns s when it is an http(s) URL with a host of at most MaxValue bytes, else "": a run
// URL is a link users follow.
func httpURL(s string) string {
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || len(s) > MaxValue {
		return ""
	}
	if u.User != nil {
		return withoutCredentials(s)
	}
	return s
}

// join builds a URL from parts when every one is set, else "".
func join(parts ...string) string {
	for _, p := range parts {
		if p == "" {
			return ""
		}
	}
	return strings.Join(parts, "")
}

// variable returns a workspace function reading one variable, made absolute or dropped.
func variable(name string) func(func(string) string) string {
	return func(getenv func(string) string) string {
		dir := getenv(name)
		if dir == "" || !filepath.IsAbs(dir) {
			return ""
		}
		return filepath.Clean(dir)
	}
}
