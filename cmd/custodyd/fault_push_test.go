package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"sync"
	"syscall"
	"testing"
	"time"
)

var pushPath = regexp.MustCompile(`^/v1/runs/[^/]+/attestation$`)

// killMode is when, relative to the push request, the server is killed.
type killMode string

const (
	// killBeforeServer: the front has the whole request but the server never sees it.
	killBeforeServer killMode = "before-server"
	// killAfterCommit: the server answered (the attestation is stored), the answer never reaches the CLI.
	killAfterCommit killMode = "after-commit"
	// killOnceSent: killed as soon as the request is handed to the server; it may or may not commit.
	killOnceSent killMode = "once-sent"
)

// killNow SIGKILLs the process and reaps it; safe from any goroutine.
func (d *daemon) killNow() {
	_ = d.cmd.Process.Signal(syscall.SIGKILL)
	<-d.exited
}

// pushKiller is a front intercept that kills d at the given moment of the first push, then hangs up
// on the CLI without an answer and leaves the front with no server (502) behind it.
func pushKiller(t *testing.T, f *front, d *daemon, mode killMode, fired chan<- struct{}) func(http.ResponseWriter, *http.Request) bool {
	var once sync.Once
	return func(w http.ResponseWriter, r *http.Request) bool {
		if r.Method != http.MethodPost || !pushPath.MatchString(r.URL.Path) {
			return false
		}
		first := false
		once.Do(func() { first = true })
		if !first {
			return false
		}
		defer close(fired)
		defer hangUp(t, w)
		defer f.set("", nil) // the retries meet no server until the restart
		body, err := io.ReadAll(r.Body)
		if err != nil {
			t.Errorf("read the push: %v", err)
			return true
		}
		if mode == killBeforeServer {
			d.killNow()
			return true
		}
		sent := make(chan struct{})
		req, err := http.NewRequest(r.Method, d.url()+r.URL.RequestURI(), &signalAtEOF{r: bytes.NewReader(body), eof: sent})
		if err != nil {
			t.Errorf("forward the push: %v", err)
			return true
		}
		req.Header = r.Header.Clone()
		req.ContentLength = int64(len(body))
		answered := make(chan struct{})
		if mode == killOnceSent {
			go func() {
				select {
				case <-sent:
					d.killNow()
				case <-answered:
				}
			}()
		}
		resp, err := (&http.Client{Transport: &http.Transport{}}).Do(req)
		if err == nil {
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		}
		close(answered)
		if mode == killAfterCommit {
			if err != nil || resp.StatusCode != http.StatusCreated && resp.StatusCode != http.StatusOK {
				t.Errorf("the forwarded push: %v %v, want it stored", err, resp)
			}
			d.killNow()
			return true
		}
		d.killNow() // once sent, the server was killed already, or now if it answered first
		return true
	}
}

// signalAtEOF closes eof once its reader is exhausted.
type signalAtEOF struct {
	r    io.Reader
	eof  chan struct{}
	once sync.Once
}

func (s *signalAtEOF) Read(p []byte) (int, error) {
	n, err := s.r.Read(p)
	if err == io.EOF {
		s.once.Do(func() { close(s.eof) })
	}
	return n, err
}

// TestSIGKILLDuringPush kills custodyd around `custody attestation push`: before the server sees the
// request, after it committed but before the CLI heard back, and the instant the request is handed
// over. After a restart the store holds either nothing for the run or one complete attestation
// (bundle, material index and run state agree), never half; the CLI's retry then stores it exactly
// once, and pushing the same bundle again changes nothing.
func TestSIGKILLDuringPush(t *testing.T) {
	t.Parallel()
	for _, storeName := range []string{"sqlite", "postgres"} {
		for _, mode := range []killMode{killBeforeServer, killAfterCommit, killOnceSent} {
			t.Run(storeName+"/"+string(mode), func(t *testing.T) {
				t.Parallel()
				testSIGKILLDuringPush(t, mode, storeArgs(t, storeName))
			})
		}
	}
}

func testSIGKILLDuringPush(t *testing.T, mode killMode, args []string) {
	ctx := context.Background()
	data := t.TempDir()
	d := startDaemon(t, data, args...)
	p := bootstrap(t, d.url(), d.bootstrapToken(), contractArtifactAndString)
	f := newFront(t, d.addr)
	ws := p.pipeline(t, f.url(), "CUSTODY_RETRY_DEADLINE=100s")
	artifact := ws.writeRandom("rootfs.bin", 1<<20, 2)
	var st statusJSON
	ws.json(&st, "attestation", "init", "--workflow", p.workflow, "--project", p.name)
	runID := st.State.RunID
	ws.ok("attestation", "add", "--name", "artifact", "--value", "rootfs.bin")
	ws.ok("attestation", "add", "--name", "build-ref", "--value", "80e461e9b385c6986cdb8096c9dc99928943d667")

	fired := make(chan struct{})
	f.set(d.addr, pushKiller(t, f, d, mode, fired))
	push := ws.start("attestation", "push", "--key", filepath.Join(p.keyDir, "cosign.key"), "--bundle", "bundle.json", "-o", "json")
	select {
	case <-fired:
	case <-push.done:
		t.Fatalf("push ended before the kill: %+v", push.wait(t))
	case <-time.After(waitLimit):
		t.Fatal("the push never reached the front")
	}

	d2 := startDaemon(t, data, args...)
	c := p.apiClient(t, d2.url())
	stored := checkWhole(t, ctx, p, d2, runID, artifact)
	switch {
	case mode == killBeforeServer && stored != "":
		t.Fatalf("killed before the server saw the push, yet attestation %s is stored", stored)
	case mode == killAfterCommit && stored == "":
		t.Fatal("killed after the server committed, yet nothing is stored")
	}
	t.Logf("after the kill (%s) and a restart, the store holds attestation %q for run %s", mode, stored, runID)
	select {
	case <-push.done:
		t.Fatalf("the push ended while no server was reachable, want it retrying: %+v", push.wait(t))
	default:
	}

	f.set(d2.addr, nil)
	r := push.wait(t)
	if r.code != 0 {
		t.Fatalf("push after the restart: exit %d\nstdout: %s\nstderr: %s", r.code, r.stdout, r.stderr)
	}
	var pushed struct{ RunID, Digest string }
	if err := json.Unmarshal([]byte(r.stdout), &pushed); err != nil {
		t.Fatalf("push -o json: %v\n%s", err, r.stdout)
	}
	if got := checkWhole(t, ctx, p, d2, runID, artifact); got != pushed.Digest || pushed.RunID != runID {
		t.Fatalf("after the retried push the store holds %q for run %s, the CLI pushed %q for run %s", got, runID, pushed.Digest, pushed.RunID)
	}
	if stored != "" && stored != pushed.Digest {
		t.Fatalf("the CLI's retry pushed %s, the store already held %s", pushed.Digest, stored)
	}

	// The same bundle again: the same answer, nothing new.
	bundle, err := os.ReadFile(ws.path("bundle.json"))
	if err != nil {
		t.Fatal(err)
	}
	again, err := c.Push(ctx, runID, bundle)
	if err != nil || again.Created || again.Digest != pushed.Digest {
		t.Fatalf("second push of the same bundle: %+v, %v; want digest %s, created false", again, err, pushed.Digest)
	}
	if r := ws.run("attestation", "push", "--key", filepath.Join(p.keyDir, "cosign.key")); r.code != 6 {
		t.Errorf("custody attestation push after a stored push: exit %d, want 6 (no attestation in progress)\n%s", r.code, r.stderr)
	}
	checkWhole(t, ctx, p, d2, runID, artifact)
}

// checkWhole asserts the store holds nothing or one complete attestation for the run, and returns
// its digest ("" for nothing): bundle readable ⇔ run succeeded with that digest ⇔ the artifact's
// material index names it.
func checkWhole(t *testing.T, ctx context.Context, p *project, d *daemon, runID, artifact string) string {
	t.Helper()
	c := p.apiClient(t, d.url())
	atts, err := c.ListAttestations(ctx, p.name, p.workflow, "", 0)
	if err != nil {
		t.Fatalf("list attestations: %v", err)
	}
	run, err := c.GetRun(ctx, runID)
	if err != nil {
		t.Fatalf("get run: %v", err)
	}
	byMaterial, err := c.ListAttestations(ctx, "", "", artifact, 0)
	if err != nil {
		t.Fatalf("list attestations of %s: %v", artifact, err)
	}
	switch len(atts) {
	case 0:
		if run.State != "initialized" || run.AttestationDigest != "" || len(byMaterial) != 0 {
			t.Fatalf("no attestation stored, yet run %s is %s (attestation %q) and the material index lists %v",
				runID, run.State, run.AttestationDigest, byMaterial)
		}
		return ""
	case 1:
		a := atts[0]
		if a.RunID != runID || run.State != "succeeded" || run.AttestationDigest != a.Digest ||
			len(byMaterial) != 1 || byMaterial[0].Digest != a.Digest {
			t.Fatalf("half-stored attestation: %+v; run %s is %s (attestation %q); material index %v", a, runID, run.State,
				run.AttestationDigest, byMaterial)
		}
		if _, err := c.GetBundle(ctx, a.Digest); err != nil {
			t.Fatalf("attestation %s listed, its bundle: %v", a.Digest, err)
		}
		return a.Digest
	default:
		t.Fatalf("%d attestations for one run: %+v", len(atts), atts)
		return ""
	}
}
