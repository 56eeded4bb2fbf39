package main

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/pem"
	"fmt"
	"io"
	iofs "io/fs"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// TestKeylessSecretsStayPrivate: custodyd, with the CA and TSA it generates in its data directory,
// logging at debug, serves a keyless pipeline (init, add, push, trusted-root) and refused certificate
// and timestamp requests; no private key of the CA or TSA (its PEM, its base64 body or a line of it,
// its scalar in hex or raw) appears in its log, its stdout or any answer it gave; and every file under
// DATA_DIR/ca and DATA_DIR/tsa is 0600 or narrower, every directory 0700 or narrower.
func TestKeylessSecretsStayPrivate(t *testing.T) {
	t.Parallel()
	rec := newRecorder(t)
	d := startDaemon(t, t.TempDir(), "--log-level", "debug", "--external-url", rec.url())
	rec.setTarget(d.addr)
	p := bootstrap(t, rec.url(), d.bootstrapToken(), contractArtifactAndString)
	ws := p.pipeline(t, rec.url())
	ws.writeRandom("rootfs.tar.gz", 4096, 3)
	var st statusJSON
	ws.json(&st, "attestation", "init", "--workflow", p.workflow, "--project", p.name)
	ws.ok("attestation", "add", "--name", "artifact", "--value", "rootfs.tar.gz")
	ws.ok("attestation", "add", "--name", "build-ref", "--value", "80e461e9b385c6986cdb8096c9dc99928943d667")
	// Refused certificate and timestamp requests, while the run is open.
	for _, r := range []struct{ path, contentType, body string }{
		{"/v1/runs/" + st.State.RunID + "/certificate", "application/json", `{"csr":"-----BEGIN CERTIFICATE REQUEST-----\nMIIB\n-----END CERTIFICATE REQUEST-----\n"}`},
		{"/v1/timestamp", "application/timestamp-query", "not a timestamp request"},
	} {
		req, err := http.NewRequest(http.MethodPost, rec.url()+r.path, strings.NewReader(r.body))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Authorization", "Bearer "+p.token)
		req.Header.Set("Content-Type", r.contentType)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusBadRequest {
			t.Fatalf("POST %s with a bad body: %s, want 400", r.path, resp.Status)
		}
	}

	ws.ok("attestation", "push", "--bundle", "attestation.sigstore.json") // keyless
	ws.ok("trusted-root")
	answers := rec.answers()
	for _, want := range []string{"GET /v1/trusted-root 200", "POST /v1/runs/{id}/certificate 201", "POST /v1/timestamp 200",
		"POST /v1/runs/{id}/attestation 201", "POST /v1/runs/{id}/certificate 400", "POST /v1/timestamp 400"} {
		if _, ok := answers[want]; !ok {
			t.Fatalf("no answer %q was recorded (the test sees %d kinds of answers)", want, len(answers))
		}
	}
	haystacks := map[string][]byte{"the log (stderr)": []byte(d.log.String()), "stdout": []byte(d.out.String())}
	for what, body := range answers {
		haystacks["the answer to "+what] = body
	}
	keys := 0
	for _, dir := range []string{"ca", "tsa"} {
		root := filepath.Join(d.dataDir, dir)
		err := filepath.WalkDir(root, func(path string, e iofs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			info, err := e.Info()
			if err != nil {
				return err
			}
			if mode := info.Mode().Perm(); mode&0o077 != 0 || (!e.IsDir() && mode&0o100 != 0) {
				t.Errorf("%s has mode %04o: want 0600 or narrower for a file, 0700 or narrower for a directory", path, mode)
			}
			if strings.HasSuffix(path, ".key") {
				keys++
				for form, secret := range secretForms(t, path) {
					for where, hay := range haystacks {
						if bytes.Contains(hay, secret) {
							t.Errorf("%s of %s appears in %s", form, path, where)
						}
					}
				}
			}
			return nil
		})
		if err != nil {
			t.Fatalf("walk %s: %v", root, err)
		}
	}
	if keys != 4 { // ca/root.key, ca/intermediate.key, tsa/root.key, tsa/tsa.key
		t.Fatalf("found %d key files under %s/ca and %s/tsa, want 4", keys, d.dataDir, d.dataDir)
	}
}

// secretForms returns the forms a leak of the PEM private key in path could take: the PEM, its base64
// body (whole, and each full line of it), and the private scalar (hex, both cases, and raw bytes).
func secretForms(t *testing.T, path string) map[string][]byte {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	block, _ := pem.Decode(data)
	if block == nil {
		t.Fatalf("%s is not PEM", path)
	}
	forms := map[string][]byte{
		"the PEM":          bytes.TrimSpace(data),
		"the base64 body":  []byte(base64.StdEncoding.EncodeToString(block.Bytes)),
		"the DER (binary)": block.Bytes,
	}
	for i, line := range strings.Split(string(data), "\n") {
		if len(line) == 64 {
			forms[fmt.Sprintf("line %d of the PEM", i+1)] = []byte(line)
		}
	}
	key, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		key, err = x509.ParseECPrivateKey(block.Bytes)
	}
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	ec, ok := key.(*ecdsa.PrivateKey)
	if !ok {
		t.Fatalf("%s holds a %T, want an ECDSA key", path, key)
	}
	d, err := ec.Bytes()
	if err != nil {
		t.Fatal(err)
	}
	forms["the private scalar in hex"] = []byte(hex.EncodeToString(d))
	forms["the private scalar in upper-case hex"] = []byte(strings.ToUpper(hex.EncodeToString(d)))
	forms["the private scalar (binary)"] = d
	return forms
}

// recorder is a reverse proxy before custodyd that keeps every answer it passes on (status line,
// headers and body), by route pattern and status ("POST /v1/runs/{id}/certificate 201").
type recorder struct {
	srv *httptest.Server

	mu     sync.Mutex
	target string
	seen   map[string][]byte
}

func newRecorder(t *testing.T) *recorder {
	t.Helper()
	r := &recorder{seen: map[string][]byte{}}
	rp := &httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) {
			r.mu.Lock()
			defer r.mu.Unlock()
			pr.SetURL(&url.URL{Scheme: "http", Host: r.target})
		},
		ModifyResponse: func(resp *http.Response) error {
			body, err := io.ReadAll(resp.Body)
			resp.Body.Close()
			if err != nil {
				return err
			}
			resp.Body = io.NopCloser(bytes.NewReader(body))
			var all bytes.Buffer
			fmt.Fprintf(&all, "%s\n", resp.Status)
			_ = resp.Header.Write(&all)
			all.Write(body)
			key := fmt.Sprintf("%s %s %d", resp.Request.Method, routeOf(resp.Request.URL.Path), resp.StatusCode)
			r.mu.Lock()
			r.seen[key] = append(r.seen[key], all.Bytes()...)
			r.mu.Unlock()
			return nil
		},
	}
	r.srv = httptest.NewServer(rp)
	t.Cleanup(r.srv.Close)
	return r
}

func (r *recorder) url() string { return r.srv.URL }

func (r *recorder) setTarget(addr string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.target = addr
}

// answers returns what the recorder saw, by route and status.
func (r *recorder) answers() map[string][]byte {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make(map[string][]byte, len(r.seen))
	for k, v := range r.seen {
		out[k] = bytes.Clone(v)
	}
	return out
}

// routeOf names a path by its route: a run's id is {id}.
func routeOf(path string) string {
	parts := strings.Split(path, "/")
	if len(parts) > 3 && parts[1] == "v1" && parts[2] == "runs" {
		parts[3] = "{id}"
	}
	return strings.Join(parts, "/")
}
