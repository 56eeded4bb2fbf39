package main

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	protobundle "github.com/sigstore/protobuf-specs/gen/pb-go/bundle/v1"
	"google.golang.org/protobuf/encoding/protojson"

	"github.com/custody-dev/custody/controlplane/ca"
)

// TestRotation: after custodyd ca rotate and a restart, the trusted root lists the new chain and
// the old one; a bundle the old chain signed before its retirement still verifies, one the old chain
// signs after its window (a replica not restarted) does not, and the new chain's do.
func TestRotation(t *testing.T) {
	t.Parallel()
	clk := authorityClock()
	cfg := testConfig(t)
	before, err := loadAuthorities(cfg, clk.Now)
	if err != nil {
		t.Fatal(err)
	}
	artifact := []byte("rootfs.tar.gz")
	early := keyless(t, before, artifact)

	clk.Advance(time.Hour)
	var out, errOut bytes.Buffer
	if err := runCA([]string{"rotate", "--data-dir", cfg.DataDir}, map[string]string{}, &out, &errOut, clk.Now); err != nil {
		t.Fatalf("ca rotate: %v\n%s", err, errOut.String())
	}
	if !strings.Contains(out.String(), "Restart custodyd") || strings.Count(out.String(), "\nca ") != 2 {
		t.Errorf("ca rotate printed:\n%s", out.String())
	}
	after, err := loadAuthorities(cfg, clk.Now)
	if err != nil {
		t.Fatal(err)
	}
	if after.CA.Chain[0].Equal(before.CA.Chain[0]) {
		t.Fatal("the restart issues with the old chain")
	}
	fresh := keyless(t, after, artifact)
	clk.Advance(ca.LeafValidity + time.Minute)
	late := keyless(t, before, artifact) // the old chain, still in a replica's memory

	for _, tc := range []struct {
		name   string
		bundle *protobundle.Bundle
		ok     bool
	}{
		{"signed by the old chain before its retirement", early, true},
		{"signed by the new chain", fresh, true},
		{"signed by the old chain after its window", late, false},
	} {
		err := verifyKeyless(after.TrustedRoot, tc.bundle, artifact)
		if (err == nil) != tc.ok {
			t.Errorf("%s: %v, want verified %v", tc.name, err, tc.ok)
		}
	}
	if err := verifyKeyless(before.TrustedRoot, late, artifact); err != nil {
		t.Errorf("the late bundle does not verify with the old trusted root either, so the window was not the reason: %v", err)
	}
}

// TestCASubcommands: custodyd ca init writes an authority to share and refuses to replace one;
// show lists what custodyd serves; the refusals name the reason.
func TestCASubcommands(t *testing.T) {
	t.Parallel()
	clk := authorityClock()
	shared := filepath.Join(t.TempDir(), "shared")
	run := func(args ...string) (string, error) {
		var out, errOut bytes.Buffer
		err := runCA(args, map[string]string{}, &out, &errOut, clk.Now)
		return out.String() + errOut.String(), err
	}
	out, err := run("init", "--out", shared)
	if err != nil || !strings.Contains(out, "--ca-cert "+filepath.Join(shared, "ca", ca.ChainFile)) {
		t.Fatalf("ca init: %v\n%s", err, out)
	}
	out, err = run("show", "--data-dir", shared)
	if err != nil || strings.Count(out, "\nca ") != 1 || strings.Count(out, "\ntsa ") != 1 || !strings.Contains(out, "(open)") {
		t.Errorf("ca show: %v\n%s", err, out)
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"init", "--out", shared}, "already holds an authority"},
		{[]string{"init"}, "--out DIR is required"},
		{[]string{}, "a command is required"},
		{[]string{"renew"}, `ca "renew": want init, rotate or show`},
		{[]string{"rotate", "--data-dir", shared, "--retire-at", "tomorrow"}, "want an RFC 3339 time"},
		{[]string{"rotate", "--data-dir", shared, "--retire-at", clk.Now().Add(-time.Hour).Format(time.RFC3339)}, "is in the past"},
		{[]string{"rotate", "--data-dir", t.TempDir()}, "no authority in"},
		{[]string{"show", "--data-dir", t.TempDir()}, "no authority in"},
		{[]string{"show", "extra"}, "unexpected arguments"},
	} {
		if _, err := run(tc.args...); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("ca %s: %v, want %q", strings.Join(tc.args, " "), err, tc.want)
		}
	}
	if _, err := os.Stat(filepath.Join(shared, "ca", ca.RetiredFile)); err == nil {
		t.Error("a refused rotation wrote retired chains")
	}
}

// TestCosignAcceptsTrustedRoot: cosign reads custodyd's trusted root after a rotation and verifies
// a keyless bundle of the old chain with it, and refuses it for another artifact.
func TestCosignAcceptsTrustedRoot(t *testing.T) {
	t.Parallel()
	cosign, err := exec.LookPath("cosign")
	if err != nil {
		t.Skip("cosign is not on PATH (go install github.com/sigstore/cosign/v2/cmd/cosign@v2.6.5)")
	}
	clk := authorityClock()
	cfg := testConfig(t)
	before, err := loadAuthorities(cfg, clk.Now)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	artifact, other := filepath.Join(dir, "rootfs.tar.gz"), filepath.Join(dir, "other")
	os.WriteFile(artifact, []byte("rootfs"), 0o600)
	os.WriteFile(other, []byte("another file"), 0o600)
	os.WriteFile(filepath.Join(dir, "bundle.json"), mustJSON(t, keyless(t, before, []byte("rootfs"))), 0o600)
	clk.Advance(time.Hour)
	if _, err := ca.Rotate(filepath.Join(cfg.DataDir, "ca"), false, time.Time{}, clk.Now); err != nil {
		t.Fatal(err)
	}
	after, err := loadAuthorities(cfg, clk.Now)
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(dir, "trusted_root.json"), after.TrustedRoot, 0o600)
	for _, tc := range []struct {
		file string
		ok   bool
	}{{artifact, true}, {other, false}} {
		ctx, cancel := context.WithTimeout(context.Background(), waitLimit)
		out, err := exec.CommandContext(ctx, cosign, "verify-blob-attestation", "--new-bundle-format",
			"--trusted-root", filepath.Join(dir, "trusted_root.json"), "--bundle", filepath.Join(dir, "bundle.json"),
			"--insecure-ignore-tlog", "--insecure-ignore-sct", "--use-signed-timestamps",
			"--certificate-identity", testIdentity, "--certificate-oidc-issuer", testExternalURL,
			"--type", testPredicate, tc.file).CombinedOutput()
		cancel()
		if verified := err == nil && strings.Contains(string(out), "Verified OK"); verified != tc.ok {
			t.Errorf("cosign on %s: %v, want verified %v\n%s", filepath.Base(tc.file), err, tc.ok, out)
		}
	}
}

func mustJSON(t *testing.T, b *protobundle.Bundle) []byte {
	t.Helper()
	data, err := protojson.Marshal(b)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// TestCAInitIfAbsent: ca init --if-absent writes an authority once, then keeps it, byte for byte,
// however often it runs again (a compose project's one-shot step); half an authority is refused.
func TestCAInitIfAbsent(t *testing.T) {
	t.Parallel()
	clk := authorityClock()
	run := func(args ...string) (string, error) {
		var out, errOut bytes.Buffer
		err := runCA(args, map[string]string{}, &out, &errOut, clk.Now)
		return out.String() + errOut.String(), err
	}
	shared := filepath.Join(t.TempDir(), "shared")
	if out, err := run("init", "--out", shared, "--if-absent"); err != nil || !strings.Contains(out, "Start every replica with") {
		t.Fatalf("first ca init --if-absent: %v\n%s", err, out)
	}
	files := []string{filepath.Join(shared, "ca", ca.ChainFile), filepath.Join(shared, "ca", ca.KeyFile), filepath.Join(shared, "tsa", "tsa.key")}
	var before [][]byte
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		before = append(before, b)
	}
	for range 2 {
		if out, err := run("init", "--out", shared, "--if-absent"); err != nil || out != "CA and timestamp authority already in "+shared+": kept\n" {
			t.Errorf("ca init --if-absent again: %v %q", err, out)
		}
	}
	for i, f := range files {
		if b, _ := os.ReadFile(f); !bytes.Equal(b, before[i]) {
			t.Errorf("%s changed", f)
		}
	}
	if _, err := run("init", "--out", shared); err == nil || !strings.Contains(err.Error(), "already holds an authority") {
		t.Errorf("ca init without --if-absent: %v", err)
	}
	half := filepath.Join(t.TempDir(), "half")
	if err := os.MkdirAll(filepath.Join(half, "ca"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(half, "ca", ca.ChainFile), before[0], 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := run("init", "--out", half, "--if-absent"); err == nil || !strings.Contains(err.Error(), "already holds an authority") {
		t.Errorf("ca init --if-absent on half an authority: %v", err)
	}
}
