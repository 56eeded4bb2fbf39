package deploy_test

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/compose-spec/compose-go/v2/types"
	"github.com/google/go-containerregistry/pkg/registry"

	"github.com/custody-dev/custody/internal/pgtest"
	"github.com/custody-dev/custody/wire"
)

// TestComposeReplicasRun stands in for docker compose up, where no Docker engine runs: it runs the
// compose project's own commands and environments as processes of the image's custodyd, with the
// project's hosts and volumes mapped to this machine (postgres to a real PostgreSQL database,
// registry:5000 to a registry on 127.0.0.1, each volume to a directory). The authority step writes the
// CA and TSA and keeps them when it runs again; both replicas start on them, are ready (their store
// and CAS answer), serve the same trusted root, share the store (the bootstrap token one prints works
// on the other) and the CAS (a blob uploaded through one is downloaded through the other).
func TestComposeReplicasRun(t *testing.T) {
	t.Parallel()
	p, err := loadCompose(t, composeFile)
	if err != nil {
		t.Fatal(err)
	}
	pgURL := pgtest.New(t)
	reg := httptest.NewServer(registry.New(registry.Logger(log.New(io.Discard, "", 0))))
	t.Cleanup(reg.Close)
	bin := custodyd(t)
	volumes := t.TempDir()
	hosts := map[string]string{
		"postgres://custody:custody@postgres:5432/custody?sslmode=disable": pgURL,
		"oci://registry:5000/": "oci://" + strings.TrimPrefix(reg.URL, "http://") + "/",
	}
	// mapped is a service's value with the project's hosts and the service's mounts on this machine.
	mapped := func(s types.ServiceConfig, v string) string {
		for from, to := range hosts {
			v = strings.ReplaceAll(v, from, to)
		}
		for _, m := range s.Volumes {
			if m.Type != types.VolumeTypeVolume {
				continue
			}
			dir := filepath.Join(volumes, m.Source)
			if err := os.MkdirAll(dir, 0o700); err != nil {
				t.Fatal(err)
			}
			if v == m.Target || strings.HasPrefix(v, m.Target+"/") {
				v = dir + strings.TrimPrefix(v, m.Target)
			}
		}
		return v
	}
	environ := func(s types.ServiceConfig) []string {
		env := []string{"CUSTODY_LISTEN=127.0.0.1:0"}
		for k, v := range s.Environment {
			if v == nil {
				t.Fatalf("%s: %s has no value", s.Name, k)
			}
			env = append(env, k+"="+mapped(s, *v))
		}
		return env
	}

	authority := p.Services["authority"]
	for i, want := range []string{"Start every replica with", "already in " + filepath.Join(volumes, "authority") + ": kept"} {
		var args []string
		for _, a := range authority.Command {
			args = append(args, mapped(authority, a))
		}
		out, err := exec.CommandContext(t.Context(), bin, args...).CombinedOutput()
		if err != nil || !strings.Contains(string(out), want) {
			t.Fatalf("the authority step, run %d: %v\n%s", i+1, err, out)
		}
	}

	var replicas []*replica
	for _, name := range []string{"custodyd-1", "custodyd-2"} {
		// One after the other, as a restarted replica meets a store another already set up.
		replicas = append(replicas, start(t, bin, environ(p.Services[name])))
	}
	token := ""
	for _, r := range replicas {
		if m := regexp.MustCompile(`bootstrap admin token \(shown once, keep it safe\): (cst_\S+)`).FindStringSubmatch(r.stdout.String()); m != nil {
			token = m[1]
		}
	}
	if token == "" || strings.Contains(replicas[1].stdout.String(), "bootstrap") {
		t.Fatalf("bootstrap tokens: %q and %q, want one, from the first replica", replicas[0].stdout.String(), replicas[1].stdout.String())
	}
	var roots [][]byte
	for _, r := range replicas {
		for _, path := range []string{"/readyz", "/v1/whoami"} {
			if code, body := r.do(t, "GET", path, token, nil); code != http.StatusOK {
				t.Errorf("%s %s: %d %s", r.url, path, code, body)
			}
		}
		_, root := r.do(t, "GET", "/v1/trusted-root", "", nil)
		roots = append(roots, root)
	}
	if !bytes.Equal(roots[0], roots[1]) || !bytes.Contains(roots[0], []byte("certificateAuthorities")) {
		t.Errorf("the replicas serve different trusted roots:\n%s\n%s", roots[0], roots[1])
	}
	blob := []byte("a blob uploaded through one replica")
	sum := sha256.Sum256(blob)
	digest := "sha256:" + hex.EncodeToString(sum[:])
	if code, body := replicas[0].do(t, "POST", "/v1/blobs", token, blob, wire.DigestHeader, digest); code != http.StatusCreated {
		t.Fatalf("upload through %s: %d %s", replicas[0].url, code, body)
	}
	if code, body := replicas[1].do(t, "GET", "/v1/blobs/"+digest, token, nil); code != http.StatusOK || !bytes.Equal(body, blob) {
		t.Errorf("download through %s: %d %q", replicas[1].url, code, body)
	}
}

type replica struct {
	url    string
	stdout *bytes.Buffer
}

// start runs custodyd with env until the test ends, and waits for it to serve.
func start(t *testing.T, bin string, env []string) *replica {
	t.Helper()
	return startAs(t, bin, env, nil)
}

// startAs is start as the user cred names, when not nil.
func startAs(t *testing.T, bin string, env []string, cred *syscall.Credential) *replica {
	t.Helper()
	cmd := exec.Command(bin)
	cmd.Env, cmd.Dir = env, "/"
	if cred != nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
	}
	var stdout bytes.Buffer
	cmd.Stdout = &stdout
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var log bytes.Buffer
	addr, done := make(chan string, 1), make(chan struct{})
	go func() {
		defer close(done)
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			log.Write(append(sc.Bytes(), '\n'))
			if m := regexp.MustCompile(`"msg":"custodyd serving","addr":"([^"]+)"`).FindSubmatch(sc.Bytes()); m != nil {
				addr <- string(m[1])
			}
		}
	}()
	t.Cleanup(func() {
		if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
			t.Error(err)
		}
		<-done
		if err := cmd.Wait(); err != nil {
			t.Errorf("custodyd after SIGTERM: %v\n%s", err, log.String())
		}
	})
	select {
	case a := <-addr:
		return &replica{url: "http://" + a, stdout: &stdout}
	case <-done:
		t.Fatalf("custodyd stopped before serving:\n%s", log.String())
	case <-time.After(time.Minute):
		t.Fatalf("custodyd did not serve within a minute:\n%s", log.String())
	}
	return nil
}

func (r *replica) do(t *testing.T, method, path, token string, body []byte, header ...string) (int, []byte) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), method, r.url+path, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s%s: %v", method, r.url, path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}
