// Package testtool finds the external programs end-to-end tests drive (crane, cosign, ...). Without
// one a test is skipped on a developer's machine, but fails in CI (CI=true), where .ci/run installs it.
package testtool

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// Path returns the path of the program name: $<ENVVAR> when set, else on PATH, else in $GOBIN or
// $HOME/go/bin (where `go install` puts it). install is the command that installs it, for messages.
func Path(t testing.TB, name, envVar, install string) string {
	t.Helper()
	if p := os.Getenv(envVar); p != "" {
		if !executable(p) {
			t.Fatalf("%s=%s is not an executable file", envVar, p)
		}
		return p
	}
	if p, err := exec.LookPath(name); err == nil {
		return p
	}
	var dirs []string
	if gobin := os.Getenv("GOBIN"); gobin != "" {
		dirs = append(dirs, gobin)
	}
	if home, err := os.UserHomeDir(); err == nil {
		dirs = append(dirs, filepath.Join(home, "go", "bin"))
	}
	for _, d := range dirs {
		if p := filepath.Join(d, name); executable(p) {
			return p
		}
	}
	if os.Getenv("CI") == "true" {
		t.Fatalf("%s not found (CI=true, so this fails rather than skips): install it with `%s` or set %s", name, install, envVar)
	}
	t.Skipf("%s not found: install it with `%s` or set %s to run this test", name, install, envVar)
	return ""
}

func executable(p string) bool {
	info, err := os.Stat(p)
	return err == nil && !info.IsDir() && info.Mode()&0o111 != 0
}
