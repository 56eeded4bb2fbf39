package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// blobFile is where the filesystem CAS keeps a complete blob.
func blobFile(dataDir, digest string) string {
	hex := strings.TrimPrefix(digest, "sha256:")
	return filepath.Join(dataDir, "cas", "blobs", "sha256", hex[:2], hex)
}

// TestSIGKILLDuringUpload kills custodyd while `custody attestation add` streams a 64 MiB artifact
// to it: after a restart on the same data directory no partial blob is visible and no temp file is
// left, and the CLI's own retry then completes the add with the exact bytes.
func TestSIGKILLDuringUpload(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	data := t.TempDir()
	d := startDaemon(t, data)
	p := bootstrap(t, d.url(), d.bootstrapToken(), contractArtifactAndString)
	px := newTCPProxy(t, d.addr)
	ws := p.pipeline(t, px.url(), "CUSTODY_RETRY_DEADLINE=100s")
	const size = 64 << 20
	digest := ws.writeRandom("rootfs.bin", size, 1)
	ws.ok("attestation", "init", "--workflow", p.workflow, "--project", p.name)

	// Hold the upload once 8 MiB went through, and kill the server once it has written some to disk.
	g := px.holdAfter(8 << 20)
	add := ws.start("attestation", "add", "--name", "artifact", "--value", "rootfs.bin")
	select {
	case <-g.reached:
	case <-add.done:
		t.Fatalf("add ended before 8 MiB were sent: %+v", add.wait(t))
	case <-time.After(waitLimit):
		t.Fatal("the upload did not reach 8 MiB")
	}
	eventually(t, "custodyd writing the upload to a temp file", func() bool { return receiving(t, data) })
	px.setTarget("") // the CLI's retries find no server until the restart
	d.kill()
	px.dropAll()
	g.open()

	if left := tempFiles(t, data); len(left) == 0 {
		t.Fatal("the killed server left no temp file: the upload was not interrupted mid-stream")
	}
	if _, err := os.Stat(blobFile(data, digest)); !os.IsNotExist(err) {
		t.Fatalf("blob file after the kill: %v, want none", err)
	}

	d2 := startDaemon(t, data)
	if left := tempFiles(t, data); len(left) != 0 {
		t.Errorf("temp files after the restart: %v, want none (swept at start)", left)
	}
	c := p.apiClient(t, d2.url())
	if _, err := download(ctx, c, digest); !isNotFound(err) {
		t.Fatalf("download of the interrupted blob after restart: %v, want 404", err)
	}
	select {
	case <-add.done:
		t.Fatalf("the add ended while no server was reachable, want it retrying: %+v", add.wait(t))
	default:
	}

	px.setTarget(d2.addr)
	if r := add.wait(t); r.code != 0 {
		t.Fatalf("add after the restart: exit %d\nstdout: %s\nstderr: %s", r.code, r.stdout, r.stderr)
	}
	got, err := download(ctx, c, digest)
	if err != nil || got != digest {
		t.Fatalf("download after the retried add: %s, %v; want %s", got, err, digest)
	}
	if left := tempFiles(t, data); len(left) != 0 {
		t.Errorf("temp files after the retried add: %v, want none", left)
	}
	var st statusJSON
	ws.json(&st, "attestation", "status")
	if m := st.material("artifact"); m == nil || m.Digest != digest {
		t.Errorf("status: material artifact = %+v, want digest %s", m, digest)
	}
}
