package main

import (
	"bytes"
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/custody-dev/custody/cli"
	"github.com/custody-dev/custody/internal/keylesstest"
)

// TestVerifyBatchInProcess runs the batch in this process, so the race detector (CI runs ./cmd/...
// with -race) watches its workers: 64 bundles, every fourth from another CA, one line each in
// argument order and the count of failures.
func TestVerifyBatchInProcess(t *testing.T) {
	t.Parallel()
	w := newKeylessWorkspace(t)
	other, err := keylesstest.New("another CA", w.at)
	if err != nil {
		t.Fatal(err)
	}
	args := []string{"attestation", "verify", "--trusted-root", filepath.Join(w.dir, "trusted_root.json"),
		"--workflow", "build-and-test", "--project", "skynet", "--artifact", filepath.Join(w.dir, "rootfs.tar.gz")}
	var want []string
	for i := range 64 {
		name, ca, verdict := fmt.Sprintf("b%02d.json", i), w.ca, "OK   "
		if i%4 == 3 {
			ca, verdict = other, "FAIL "
		}
		w.sign(name, ca, nil, keylesstest.Signing{})
		path := filepath.Join(w.dir, name)
		args = append(args, path)
		want = append(want, verdict+path+": ")
	}
	var stdout, stderr bytes.Buffer
	env := cli.Env{Getenv: func(string) string { return "" }, Stdout: &stdout, Stderr: &stderr, Workdir: w.dir, Version: "dev"}
	err = cli.Execute(context.Background(), env, args)
	if code := codeOf(err); code != 7 || !strings.Contains(err.Error(), "verification failed for 16 of 64 bundles") {
		t.Fatalf("exit %d: %v\n%s", code, err, stderr.String())
	}
	lines := strings.Split(strings.TrimSuffix(stdout.String(), "\n"), "\n")
	if len(lines) != len(want) {
		t.Fatalf("%d lines for %d bundles:\n%s", len(lines), len(want), stdout.String())
	}
	for i := range want {
		if !strings.HasPrefix(lines[i], want[i]) {
			t.Errorf("line %d = %s\nwant it to start with %s", i+1, lines[i], want[i])
		}
	}
}
