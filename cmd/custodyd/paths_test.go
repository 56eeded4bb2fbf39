package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/custody-dev/custody/client"
	"github.com/custody-dev/custody/wire"
)

// TestNonCanonicalPathsRefused sends paths with empty, '.' or '..' segments to the handler custodyd
// builds: each is refused with 400, none is redirected to its clean form (which would carry the
// request, body and token, to another route), and nothing is created.
func TestNonCanonicalPathsRefused(t *testing.T) {
	t.Parallel()
	d := startInProcess(t)
	for _, tc := range []struct{ method, path string }{
		{"POST", "/v1/runs/../projects"},
		{"POST", "/v1/runs/%2e%2e/projects"},
		{"POST", "/metrics/../v1/projects"},
		{"POST", "//v1/projects"},
		{"POST", "/v1/./projects"},
		{"POST", "/v1/projects/"},
		{"GET", "/metrics/"},
		{"GET", "//metrics"},
		{"GET", "/v1/../metrics"},
		{"GET", "/./healthz"},
	} {
		body := `{"name":"sneaky"}`
		resp := d.exchange(t, fmt.Sprintf("%s %s HTTP/1.1\r\nHost: custody\r\nAuthorization: Bearer %s\r\nContent-Type: application/json\r\n"+
			"Content-Length: %d\r\nConnection: close\r\n\r\n%s", tc.method, tc.path, d.token, len(body), body))
		b, _ := io.ReadAll(resp.Body)
		var p wire.Problem
		if resp.StatusCode != http.StatusBadRequest || json.Unmarshal(b, &p) != nil || p.Code != wire.CodeBadRequest || !strings.Contains(p.Detail, "not canonical") {
			t.Errorf("%s %s: %s %q (Location %q), want 400 bad_request naming the path", tc.method, tc.path, resp.Status, b, resp.Header.Get("Location"))
		}
	}
	c, err := client.New(d.url(), d.token)
	if err != nil {
		t.Fatal(err)
	}
	projects, err := c.ListProjects(t.Context())
	if err != nil || len(projects) != 0 {
		t.Fatalf("projects after the refusals: %+v, %v; want none", projects, err)
	}
	// The canonical paths still answer.
	for path, want := range map[string]int{"/metrics": 200, "/healthz": 200, "/v1/nothing": 404} {
		if resp := d.exchange(t, "GET "+path+" HTTP/1.1\r\nHost: custody\r\nConnection: close\r\n\r\n"); resp.StatusCode != want {
			t.Errorf("GET %s: %s, want %d", path, resp.Status, want)
		}
	}
}
