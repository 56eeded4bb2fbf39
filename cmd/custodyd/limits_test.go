package main

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	iofs "io/fs"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/custody-dev/custody/client"
	"github.com/custody-dev/custody/wire"
)

// Timeouts in these tests are small and injected (flags); what a test waits for is bounded by
// waitLimit, never an assertion about speed.

// uploadHead is the start of a blob upload announcing size bytes.
func uploadHead(token string, size int) string {
	return fmt.Sprintf("POST /v1/blobs HTTP/1.1\r\nHost: custody\r\nAuthorization: Bearer %s\r\n"+
		"Content-Type: application/octet-stream\r\nContent-Length: %d\r\n\r\n", token, size)
}

// readProblem reads an answer on c and its problem document.
func readProblem(t *testing.T, c net.Conn) (*http.Response, wire.Problem) {
	t.Helper()
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatalf("read the answer: %v", err)
	}
	defer resp.Body.Close()
	var p wire.Problem
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode >= 400 && json.Unmarshal(b, &p) != nil {
		t.Fatalf("%s: %q is not a problem document", resp.Status, b)
	}
	return resp, p
}

// closedByServer reports whether the server closed c: a read sees EOF or a reset.
func closedByServer(t *testing.T, c net.Conn) {
	t.Helper()
	_, err := c.Read(make([]byte, 1))
	var ne net.Error
	if err == nil || errors.As(err, &ne) && ne.Timeout() {
		t.Fatalf("the server kept the connection open (read: %v)", err)
	}
}

// noTrace fails the test if the CAS holds a temp file or any blob.
func noTrace(t *testing.T, dataDir string) {
	t.Helper()
	if left := tempFiles(t, dataDir); len(left) != 0 {
		t.Errorf("temp files left: %v", left)
	}
	var blobs []string
	err := filepath.WalkDir(filepath.Join(dataDir, "cas", "blobs"), func(p string, e iofs.DirEntry, err error) error {
		if err == nil && !e.IsDir() {
			blobs = append(blobs, p)
		}
		return err
	})
	if err != nil || len(blobs) != 0 {
		t.Errorf("blobs stored: %v (%v)", blobs, err)
	}
}

// TestStalledUploadIsCut: an upload that stops sending (silent) or trickles below the minimum rate
// is answered 408 after a window and its connection closed; it leaves no temp file and no blob.
func TestStalledUploadIsCut(t *testing.T) {
	t.Parallel()
	d := startInProcess(t, "--body-timeout", "300ms", "--body-min-rate", "1000") // 300 bytes every 300 ms
	for _, tc := range []struct {
		name string
		send func(c net.Conn) // what the client sends after the headers, then it waits
	}{
		{"silent after the headers", func(net.Conn) {}},
		{"silent after 64 KiB", func(c net.Conn) { _, _ = c.Write(make([]byte, 64<<10)) }},
		{"10 bytes every 50 ms", func(c net.Conn) {
			for range 100 { // 200 bytes/s, longer than the window: cut before the loop ends
				if _, err := c.Write(make([]byte, 10)); err != nil {
					return
				}
				time.Sleep(50 * time.Millisecond)
			}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := d.dial(t)
			if _, err := c.Write([]byte(uploadHead(d.token, 1<<20))); err != nil {
				t.Fatal(err)
			}
			go tc.send(c)
			resp, p := readProblem(t, c)
			if resp.StatusCode != http.StatusRequestTimeout || p.Code != wire.CodeRequestTimeout {
				t.Fatalf("answer %s %+v, want 408 %s", resp.Status, p, wire.CodeRequestTimeout)
			}
			closedByServer(t, c)
			noTrace(t, d.dataDir)
		})
	}
	if lines := d.errorLines(); len(lines) != 0 {
		t.Errorf("a client's stalled upload is logged as a server error: %v", lines)
	}
}

// TestSlowLiveUploadFinishes: an upload slower than one window per body, but above the minimum
// rate, is received whole: the deadline is a rate, not a fixed time.
func TestSlowLiveUploadFinishes(t *testing.T) {
	t.Parallel()
	d := startInProcess(t, "--body-timeout", "300ms", "--body-min-rate", "1000")
	const pieces, piece = 64, 256 // 16 KiB in 1.3 s at least: 12.8 KB/s, 13 times the minimum rate
	body := bytes.Repeat([]byte("slow but live "), pieces*piece/14+1)[:pieces*piece]
	c := d.dial(t)
	start := time.Now()
	if _, err := c.Write([]byte(uploadHead(d.token, len(body)))); err != nil {
		t.Fatal(err)
	}
	go func() {
		for i := 0; i < len(body); i += piece {
			if _, err := c.Write(body[i : i+piece]); err != nil {
				return
			}
			time.Sleep(20 * time.Millisecond)
		}
	}()
	resp, p := readProblem(t, c)
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("slow upload: %s %+v, want 201", resp.Status, p)
	}
	if took := time.Since(start); took < 300*time.Millisecond {
		t.Fatalf("the upload took %s, less than one window: it proves nothing", took)
	}
	if _, err := os.Stat(blobFile(d.dataDir, digestOfBytes(body))); err != nil {
		t.Errorf("the slow upload is not stored: %v", err)
	}
}

// TestIdleConnectionsClosed: a keep-alive connection that sends no next request is closed after
// --idle-timeout, and one that never sends its headers after --read-header-timeout.
func TestIdleConnectionsClosed(t *testing.T) {
	t.Parallel()
	d := startInProcess(t, "--idle-timeout", "200ms", "--read-header-timeout", "200ms")

	keepAlive := d.dial(t)
	br := bufio.NewReader(keepAlive)
	for range 2 { // the connection is reused, then left idle
		if _, err := keepAlive.Write([]byte("GET /healthz HTTP/1.1\r\nHost: custody\r\n\r\n")); err != nil {
			t.Fatal(err)
		}
		resp, err := http.ReadResponse(br, nil)
		if err != nil || resp.StatusCode != 200 {
			t.Fatalf("GET /healthz: %v, %v", resp, err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
	if _, err := br.ReadByte(); err == nil || errors.Is(err, os.ErrDeadlineExceeded) {
		t.Errorf("idle keep-alive connection: read %v, want it closed by the server", err)
	}

	silent := d.dial(t)
	closedByServer(t, silent)

	halfHeaders := d.dial(t)
	if _, err := halfHeaders.Write([]byte("GET /healthz HTTP/1.1\r\nHost: cust")); err != nil {
		t.Fatal(err)
	}
	closedByServer(t, halfHeaders)
}

// TestConnectionCap: past --max-connections, a connection is answered 503 with Retry-After and
// closed; once a connection closes, its slot serves the next.
func TestConnectionCap(t *testing.T) {
	t.Parallel()
	d := startInProcess(t, "--max-connections", "2")
	held := []net.Conn{d.dial(t), d.dial(t)}
	for _, c := range held { // both are being served: they answer
		if _, err := c.Write([]byte("GET /healthz HTTP/1.1\r\nHost: custody\r\n\r\n")); err != nil {
			t.Fatal(err)
		}
		if resp, _ := readProblem(t, c); resp.StatusCode != 200 {
			t.Fatalf("GET /healthz on a held connection: %s", resp.Status)
		}
	}
	over := d.dial(t)
	resp, p := readProblem(t, over)
	if resp.StatusCode != http.StatusServiceUnavailable || p.Code != wire.CodeServiceUnavailable || resp.Header.Get("Retry-After") == "" ||
		!strings.Contains(p.Detail, "2 connections") {
		t.Fatalf("connection past the cap: %s %+v (Retry-After %q), want 503 unavailable naming the cap", resp.Status, p, resp.Header.Get("Retry-After"))
	}
	closedByServer(t, over)

	held[0].Close()
	eventually(t, "a slot freed by a closed connection", func() bool {
		c := d.dial(t)
		defer c.Close()
		_, _ = c.Write([]byte("GET /healthz HTTP/1.1\r\nHost: custody\r\nConnection: close\r\n\r\n"))
		resp, err := http.ReadResponse(bufio.NewReader(c), nil)
		return err == nil && resp.StatusCode == 200
	})
}

// TestUploadCap: past --max-uploads uploads at once, an upload is answered 503 with Retry-After
// before its body is read, and stores nothing; the upload in flight finishes, and the refused one
// goes through once it has.
func TestUploadCap(t *testing.T) {
	t.Parallel()
	d := startInProcess(t, "--max-uploads", "1")
	first := []byte(strings.Repeat("first upload ", 10_000))
	c := d.dial(t)
	if _, err := c.Write(append([]byte(uploadHead(d.token, len(first))), first[:1000]...)); err != nil {
		t.Fatal(err)
	}
	eventually(t, "custodyd receiving the first upload", func() bool { return receiving(t, d.dataDir) })

	second := []byte("second upload")
	resp := d.exchange(t, uploadHead(d.token, len(second))+string(second))
	b, _ := io.ReadAll(resp.Body)
	var p wire.Problem
	if resp.StatusCode != http.StatusServiceUnavailable || json.Unmarshal(b, &p) != nil || p.Code != wire.CodeServiceUnavailable ||
		resp.Header.Get("Retry-After") == "" || !strings.Contains(p.Detail, "at most 1 upload") {
		t.Fatalf("upload past the cap: %s %q (Retry-After %q), want 503 unavailable naming the cap", resp.Status, b, resp.Header.Get("Retry-After"))
	}
	if _, err := os.Stat(blobFile(d.dataDir, digestOfBytes(second))); !os.IsNotExist(err) {
		t.Errorf("the refused upload is stored (%v)", err)
	}

	if _, err := c.Write(first[1000:]); err != nil {
		t.Fatal(err)
	}
	if resp, p := readProblem(t, c); resp.StatusCode != http.StatusCreated {
		t.Fatalf("the upload in flight: %s %+v, want 201", resp.Status, p)
	}
	if resp := d.exchange(t, uploadHead(d.token, len(second))+string(second)); resp.StatusCode != http.StatusCreated {
		t.Fatalf("the second upload once the first finished: %s, want 201", resp.Status)
	}
}

// TestTruncatedUpload: a body that ends before its Content-Length (the client half-closes) is the
// client's 400, not a server error: nothing is stored and nothing is logged as an error.
func TestTruncatedUpload(t *testing.T) {
	t.Parallel()
	d := startInProcess(t)
	c := d.dial(t)
	if _, err := c.Write([]byte(uploadHead(d.token, 1000) + "only ten b")); err != nil {
		t.Fatal(err)
	}
	if err := c.(*net.TCPConn).CloseWrite(); err != nil {
		t.Fatal(err)
	}
	resp, p := readProblem(t, c)
	if resp.StatusCode != http.StatusBadRequest || p.Code != wire.CodeBadRequest || !strings.Contains(p.Detail, "cut short") {
		t.Fatalf("truncated upload: %s %+v, want 400 bad_request saying the body was cut short", resp.Status, p)
	}
	noTrace(t, d.dataDir)
	if lines := d.errorLines(); len(lines) != 0 {
		t.Errorf("a client's truncated upload is logged as a server error: %v", lines)
	}
}

// TestHalfClosedClient: a client that sends its request and half-closes its connection never gets a
// success for work that did not happen: either the work happened and is answered, or it gets no
// answer (or an error).
func TestHalfClosedClient(t *testing.T) {
	t.Parallel()
	d := startInProcess(t)
	for i := range 50 {
		name := fmt.Sprintf("half-closed-%d", i)
		body := `{"name":"` + name + `"}`
		c := d.dial(t)
		if _, err := fmt.Fprintf(c, "POST /v1/projects HTTP/1.1\r\nHost: custody\r\nAuthorization: Bearer %s\r\n"+
			"Content-Type: application/json\r\nContent-Length: %d\r\n\r\n%s", d.token, len(body), body); err != nil {
			t.Fatal(err)
		}
		if err := c.(*net.TCPConn).CloseWrite(); err != nil {
			t.Fatal(err)
		}
		resp, err := http.ReadResponse(bufio.NewReader(c), nil)
		if err != nil {
			continue // no answer: fine, the client knows nothing was confirmed
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		var project wire.Project
		if resp.StatusCode/100 == 2 && (resp.StatusCode != http.StatusCreated || json.Unmarshal(b, &project) != nil || project.Name != name) {
			t.Fatalf("half-closed client %d: %s %q, a success that confirms nothing", i, resp.Status, b)
		}
	}
}

func digestOfBytes(b []byte) string {
	sum := sha256.Sum256(b)
	return "sha256:" + hex.EncodeToString(sum[:])
}

// TestHeaderBound: request headers past 64 KiB get 431; up to it, they are read.
func TestHeaderBound(t *testing.T) {
	t.Parallel()
	d := startInProcess(t)
	for _, tc := range []struct {
		size   int
		status int
	}{{60 << 10, http.StatusOK}, {70 << 10, http.StatusRequestHeaderFieldsTooLarge}} {
		resp := d.exchange(t, "GET /healthz HTTP/1.1\r\nHost: custody\r\nX-Padding: "+strings.Repeat("p", tc.size)+"\r\nConnection: close\r\n\r\n")
		if resp.StatusCode != tc.status {
			t.Errorf("%d bytes of headers: %s, want %d", tc.size, resp.Status, tc.status)
		}
	}
}

// TestStalledDownloadIsCut: a client that stops reading a 32 MiB download holds the server's handler
// only --write-timeout: the answer is cut and the handler ends.
func TestStalledDownloadIsCut(t *testing.T) {
	t.Parallel()
	d := startInProcess(t, "--write-timeout", "200ms")
	c, err := client.New(d.url(), d.token, client.WithRetry(client.Retry{}))
	if err != nil {
		t.Fatal(err)
	}
	const size = 32 << 20 // more than the loopback buffers hold
	up, err := c.UploadBlob(t.Context(), func() (io.Reader, error) { return io.LimitReader(newXorshift(7), size), nil })
	if err != nil {
		t.Fatal(err)
	}
	conn := d.dial(t)
	if err := conn.(*net.TCPConn).SetReadBuffer(4096); err != nil {
		t.Fatal(err)
	}
	if _, err := fmt.Fprintf(conn, "GET /v1/blobs/%s HTTP/1.1\r\nHost: custody\r\nAuthorization: Bearer %s\r\n\r\n", up.Digest, d.token); err != nil {
		t.Fatal(err)
	}
	// The handler has returned once the request is counted (the metrics count a request when its
	// handler ends): without a write timeout it would wait for the client forever.
	eventually(t, "the stalled download's handler to end", func() bool {
		resp := d.exchange(t, "GET /metrics HTTP/1.1\r\nHost: custody\r\nConnection: close\r\n\r\n")
		b, _ := io.ReadAll(resp.Body)
		return strings.Contains(string(b), `custody_http_requests_total{code="200",route="GET /v1/blobs/{digest}"} 1`)
	})
}

// TestUnreadBodyDoesNotHold: a body announced to a route that does not read it, and never sent, holds
// the connection one --body-timeout at most (net/http reads such a body before it answers).
func TestUnreadBodyDoesNotHold(t *testing.T) {
	t.Parallel()
	d := startInProcess(t, "--body-timeout", "200ms")
	c := d.dial(t)
	if _, err := c.Write([]byte("GET /healthz HTTP/1.1\r\nHost: custody\r\nContent-Length: 100\r\n\r\n")); err != nil {
		t.Fatal(err)
	}
	if resp, _ := readProblem(t, c); resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /healthz: %s", resp.Status)
	}
	closedByServer(t, c)
}
