// Package registryproc starts real OCI registry processes on 127.0.0.1 for tests: crane's
// (`crane registry serve`) and the CNCF distribution registry as Debian ships it
// (/usr/bin/docker-registry), the latter behind htpasswd basic auth. Each is found with
// testtool.Path (skipped locally when missing, a failure with CI=true), serves on a free port,
// is ready when it answers GET /v2/, and is killed when the test ends.
package registryproc

import (
	"bufio"
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/custody-dev/custody/internal/testtool"
)

const (
	craneInstall        = "go install github.com/google/go-containerregistry/cmd/crane@v0.22.1"
	distributionInstall = "apt-get install -y docker-registry"

	// readyAttempts bounds the wait for a registry to answer; pollInterval spaces the attempts.
	readyAttempts = 600
	pollInterval  = 50 * time.Millisecond
)

// Crane starts `crane registry serve` (an in-memory registry, no auth) and returns its host,
// "127.0.0.1:PORT".
func Crane(t testing.TB) string {
	t.Helper()
	bin := testtool.Path(t, "crane", "CRANE_BIN", craneInstall)
	cmd := exec.Command(bin, "registry", "serve", "--address", "127.0.0.1:0")
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	p := start(t, cmd, "crane registry")
	ports := make(chan string, 1)
	go func() { // reads the port, then keeps draining so the registry never blocks on a full pipe
		defer close(ports)
		scanner := bufio.NewScanner(stderr)
		for scanner.Scan() {
			line := scanner.Text()
			p.log.write(line + "\n")
			if _, port, ok := strings.Cut(line, "serving on port "); ok {
				ports <- strings.TrimSpace(port)
			}
		}
	}()
	port, ok := <-ports
	if !ok {
		<-p.exited
		t.Fatalf("crane registry exited before serving (%v):\n%s", p.err, p.log)
	}
	host := "127.0.0.1:" + port
	p.waitReady(t, host)
	return host
}

// Distribution starts the distribution registry (Debian's docker-registry) with filesystem storage
// in a temp dir and htpasswd basic auth accepting only user/password, and returns its host,
// "127.0.0.1:PORT". Requests without those credentials get 401 UNAUTHORIZED.
func Distribution(t testing.TB, user, password string) string {
	t.Helper()
	bin := testtool.Path(t, "docker-registry", "DOCKER_REGISTRY_BIN", distributionInstall)
	dir := t.TempDir()
	htpasswd := filepath.Join(dir, "htpasswd")
	hash, err := bcrypt.GenerateFromPassword([]byte(password), bcrypt.MinCost)
	if err != nil {
		t.Fatalf("htpasswd: %v", err)
	}
	if err := os.WriteFile(htpasswd, []byte(user+":"+string(hash)+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	// The port is picked by listening on :0 and closing (the registry cannot report one it picked):
	// another process may take it in between, so a registry that exits early is retried.
	var lastLog string
	for range 3 {
		host := freeHost(t)
		configPath := writeDistributionConfig(t, dir, host, htpasswd)
		cmd := exec.Command(bin, "serve", configPath)
		p := start(t, cmd, "docker-registry")
		if p.waitReadyOrExit(t, host) {
			return host
		}
		lastLog = p.log.String()
	}
	t.Fatalf("docker-registry did not start on a free port in 3 attempts; last log:\n%s", lastLog)
	return ""
}

func writeDistributionConfig(t testing.TB, dir, host, htpasswd string) string {
	t.Helper()
	storage := filepath.Join(dir, "storage-"+randomHex(t, 4))
	// YAML is a superset of JSON: the config is written as JSON, quoting paths safely.
	cfg := map[string]any{
		"version": "0.1",
		"log":     map[string]any{"level": "warn", "accesslog": map[string]any{"disabled": true}},
		"storage": map[string]any{
			"filesystem":  map[string]any{"rootdirectory": storage},
			"maintenance": map[string]any{"uploadpurging": map[string]any{"enabled": false}},
		},
		"http": map[string]any{"addr": host, "secret": randomHex(t, 16)},
		"auth": map[string]any{"htpasswd": map[string]any{"realm": "custody", "path": htpasswd}},
	}
	b, err := json.MarshalIndent(cfg, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "config-"+randomHex(t, 4)+".yml")
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// process is a started registry: its output, and a channel closed when it exits.
type process struct {
	name   string
	log    *logBuffer
	exited chan struct{}
	err    error // set before exited is closed
}

// start runs cmd with an empty environment (no REGISTRY_* overrides leak in), its output kept for
// failure messages, killed when the test ends.
func start(t testing.TB, cmd *exec.Cmd, name string) *process {
	t.Helper()
	p := &process{name: name, log: &logBuffer{}, exited: make(chan struct{})}
	cmd.Env = []string{}
	if cmd.Stdout == nil {
		cmd.Stdout = p.log
	}
	if cmd.Stderr == nil {
		cmd.Stderr = p.log
	}
	setDeathSignal(cmd)
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", name, err)
	}
	go func() {
		p.err = cmd.Wait()
		close(p.exited)
	}()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-p.exited
		if t.Failed() {
			t.Logf("%s log:\n%s", name, p.log)
		}
	})
	return p
}

func (p *process) waitReady(t testing.TB, host string) {
	t.Helper()
	if !p.waitReadyOrExit(t, host) {
		t.Fatalf("%s exited before serving (%v):\n%s", p.name, p.err, p.log)
	}
}

// waitReadyOrExit polls GET /v2/ until the registry answers (200, or 401 behind auth): true; or the
// process exits: false. It fails the test after readyAttempts attempts.
func (p *process) waitReadyOrExit(t testing.TB, host string) bool {
	t.Helper()
	client := &http.Client{Timeout: 2 * time.Second}
	url := "http://" + host + "/v2/"
	var lastErr error
	for range readyAttempts {
		select {
		case <-p.exited:
			return false
		default:
		}
		resp, err := client.Get(url)
		if err == nil {
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK || resp.StatusCode == http.StatusUnauthorized {
				return true
			}
			err = fmt.Errorf("GET %s: %s", url, resp.Status)
		}
		lastErr = err
		select {
		case <-p.exited:
			return false
		case <-time.After(pollInterval):
		}
	}
	t.Fatalf("%s not ready after %d attempts: %v\n%s", p.name, readyAttempts, lastErr, p.log)
	return false
}

func freeHost(t testing.TB) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("free port: %v", err)
	}
	host := l.Addr().String()
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	return host
}

func randomHex(t testing.TB, n int) string {
	t.Helper()
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(b)
}

// logBuffer keeps the last 64 KiB a process wrote, safe for its writer and a reader.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

const logLimit = 64 << 10

func (l *logBuffer) Write(p []byte) (int, error) {
	l.write(string(p))
	return len(p), nil
}

func (l *logBuffer) write(s string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.buf.WriteString(s)
	if over := l.buf.Len() - logLimit; over > 0 {
		l.buf.Next(over)
	}
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}
