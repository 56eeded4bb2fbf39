package registryproc_test

import (
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/custody-dev/custody/internal/registryproc"
)

func get(t *testing.T, url, user, password string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	if user != "" {
		req.SetBasicAuth(user, password)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}

func TestCrane(t *testing.T) {
	t.Parallel()
	host := registryproc.Crane(t)
	if !strings.HasPrefix(host, "127.0.0.1:") {
		t.Fatalf("host = %q, want 127.0.0.1:PORT", host)
	}
	if status, body := get(t, "http://"+host+"/v2/", "", ""); status != http.StatusOK {
		t.Fatalf("GET /v2/ = %d %s", status, body)
	}
}

func TestDistributionBasicAuth(t *testing.T) {
	t.Parallel()
	host := registryproc.Distribution(t, "ci", "s3cret")
	url := "http://" + host + "/v2/"
	tests := []struct {
		name, user, password string
		want                 int
	}{
		{"right credentials", "ci", "s3cret", http.StatusOK},
		{"no credentials", "", "", http.StatusUnauthorized},
		{"wrong password", "ci", "nope", http.StatusUnauthorized},
		{"unknown user", "root", "s3cret", http.StatusUnauthorized},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			status, body := get(t, url, tc.user, tc.password)
			if status != tc.want {
				t.Fatalf("GET /v2/ = %d %s, want %d", status, body, tc.want)
			}
			if tc.want == http.StatusUnauthorized && !strings.Contains(body, "UNAUTHORIZED") {
				t.Fatalf("401 body %q does not name UNAUTHORIZED", body)
			}
		})
	}
}

func TestTwoRegistriesAtOnce(t *testing.T) {
	t.Parallel()
	a := registryproc.Distribution(t, "a", "a")
	b := registryproc.Distribution(t, "b", "b")
	if a == b {
		t.Fatalf("both registries on %s", a)
	}
}
