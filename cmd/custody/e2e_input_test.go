package main

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// custodyLimited runs the binary with its address space limited to 2 GB (ulimit -v), as the probes
// of endless inputs are run: a read that is not bounded dies instead of eating the machine.
func (w *workspace) custodyLimited(args ...string) result {
	w.t.Helper()
	return w.run(exec.Command("sh", append([]string{"-c", `ulimit -v 2000000 && exec "$0" "$@"`, custodyBin}, args...)...))
}

// Every file the CLI reads whole is read through a bound: an endless input is refused with a
// message naming the file and the limit, in the memory of the limit.
func TestEndlessInputsAreRefusedAtTheirLimit(t *testing.T) {
	t.Parallel()
	w := newWorkspace(t)
	w.write("contract.yaml", seedContract)
	w.ok("generate-key-pair")
	w.ok("attestation", "init", "--workflow", "build-and-test", "--project", "skynet", "--contract", "contract.yaml")
	before := w.stateBytes()

	tests := []struct {
		name   string
		args   []string
		code   int
		output string // stdout for verify's verdicts, stderr otherwise
		want   string
	}{
		{"verify a bundle", []string{"attestation", "verify", "--key", "cosign.pub", "/dev/zero"}, 7, "stdout",
			"FAIL /dev/zero: /dev/zero is larger than the limit of 32 MiB"},
		{"verify with a key", []string{"attestation", "verify", "--key", "/dev/zero", "bundle.json"}, 3, "stderr",
			"--key: /dev/zero is larger than the limit of 64 KiB"},
		{"verify with a trusted root", []string{"attestation", "verify", "--trusted-root", "/dev/zero", "--insecure-ignore-identity", "bundle.json"}, 3, "stderr",
			"--trusted-root: /dev/zero is larger than the limit of 1 MiB"},
		{"verify with a contract", []string{"attestation", "verify", "--key", "cosign.pub", "--contract", "/dev/zero", "bundle.json"}, 3, "stderr",
			"--contract: /dev/zero is larger than the limit of 1 MiB"},
		{"init with a contract", []string{"attestation", "init", "--workflow", "w", "--project", "p", "--contract", "/dev/zero", "--replace"}, 3, "stderr",
			"--contract: /dev/zero is larger than the limit of 1 MiB"},
	}
	for _, tt := range tests {
		r := w.custodyLimited(tt.args...)
		out := r.stderr
		if tt.output == "stdout" {
			out = r.stdout
		}
		if r.code != tt.code || !strings.Contains(out, tt.want) {
			t.Errorf("%s: exit %d\nstdout: %s\nstderr: %s\nwant exit %d with %q", tt.name, r.code, r.stdout, r.stderr, tt.code, tt.want)
		}
		if !bytes.Equal(w.stateBytes(), before) {
			t.Fatalf("%s changed the state file", tt.name)
		}
	}
}

// SIGTERM stops a command blocked reading a FIFO that never ends, whichever file flag names it: it
// exits with 130 (interrupted) and leaves the state file as it was.
func TestSIGTERMStopsABlockedRead(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		flag string
		args []string
	}{
		{"init --contract", []string{"attestation", "init", "--workflow", "w", "--project", "p", "--contract", "endless", "--replace"}},
		{"push --key", []string{"attestation", "push", "--key", "endless"}},
	} {
		t.Run(tc.flag, func(t *testing.T) {
			t.Parallel()
			w := newWorkspace(t)
			w.write("contract.yaml", seedContract)
			w.ok("attestation", "init", "--workflow", "build-and-test", "--project", "skynet", "--contract", "contract.yaml")
			before := w.stateBytes()
			if err := syscall.Mkfifo(filepath.Join(w.dir, "endless"), 0o600); err != nil {
				t.Skipf("mkfifo: %v", err)
			}
			stderr := interruptReading(t, w, filepath.Join(w.dir, "endless"), tc.args...)
			if !bytes.Equal(w.stateBytes(), before) {
				t.Errorf("the interrupted command changed the state file\nstderr: %s", stderr)
			}
		})
	}
}

// interruptReading runs custody with args, sends it SIGTERM once it has opened fifo and read a
// line from it, and checks it exits 130 naming the signal; it returns custody's stderr.
func interruptReading(t *testing.T, w *workspace, fifo string, args ...string) string {
	t.Helper()
	cmd := exec.Command(custodyBin, args...)
	cmd.Dir, cmd.Env = w.dir, w.env
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// Opening the writer's end returns once custody has opened the reader's: custody is then past
	// its signal set-up and blocked reading a FIFO that sends nothing.
	writer, err := os.OpenFile(fifo, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer writer.Close()
	if _, err := writer.Write([]byte("apiVersion: custody.dev/v1\n")); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute) // a safety net, not a measurement
	defer cancel()
	select {
	case <-done:
	case <-ctx.Done():
		_ = cmd.Process.Kill()
		<-done
		t.Fatalf("custody ignored SIGTERM while reading a FIFO\nstderr: %s", stderr.String())
	}
	if code := cmd.ProcessState.ExitCode(); code != 130 || !strings.Contains(stderr.String(), "terminated signal received") {
		t.Errorf("after SIGTERM: exit %d, stderr %q; want exit 130 naming the signal", code, stderr.String())
	}
	return stderr.String()
}
