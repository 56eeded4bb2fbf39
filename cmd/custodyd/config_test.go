package main

import (
	"fmt"
	"io"
	"strings"
	"testing"
	"time"
)

// TestConfigLimits: the connection limits have their documented defaults, come from the environment,
// are overridden by flags, and a value that would disable a limit is refused with the flag's name.
func TestConfigLimits(t *testing.T) {
	t.Parallel()
	c, err := loadConfig(nil, map[string]string{}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	want := config{ReadHeaderTimeout: 10 * time.Second, BodyTimeout: 30 * time.Second, BodyMinRate: 1024, WriteTimeout: 30 * time.Second,
		IdleTimeout: 30 * time.Second, MaxConnections: 1024, MaxUploads: 64, BodyBudget: 64 << 20}
	if got := limitsOf(c); got != want {
		t.Errorf("defaults %+v, want %+v", got, want)
	}

	env := map[string]string{"CUSTODY_READ_HEADER_TIMEOUT": "1s", "CUSTODY_BODY_TIMEOUT": "2s", "CUSTODY_BODY_MIN_RATE": "0",
		"CUSTODY_WRITE_TIMEOUT": "3s", "CUSTODY_IDLE_TIMEOUT": "4s", "CUSTODY_MAX_CONNECTIONS": "5", "CUSTODY_MAX_UPLOADS": "6",
		"CUSTODY_BODY_BUDGET": "7", "CUSTODY_PUSH_BUDGET": "8"}
	c, err = loadConfig([]string{"--idle-timeout", "40s", "--max-uploads", "60", "--push-budget", "80"}, env, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	want = config{ReadHeaderTimeout: time.Second, BodyTimeout: 2 * time.Second, BodyMinRate: 0, WriteTimeout: 3 * time.Second,
		IdleTimeout: 40 * time.Second, MaxConnections: 5, MaxUploads: 60, BodyBudget: 7, PushBudget: 80}
	if got := limitsOf(c); got != want {
		t.Errorf("from the environment and flags %+v, want %+v", got, want)
	}

	for _, tc := range []struct{ flag, value string }{
		{"read-header-timeout", "0s"}, {"body-timeout", "0s"}, {"write-timeout", "-1s"}, {"idle-timeout", "0s"},
		{"body-min-rate", "-1"}, {"max-connections", "0"}, {"max-uploads", "-3"}, {"body-budget", "0"}, {"push-budget", "-1"},
	} {
		_, err := loadConfig([]string{"--" + tc.flag, tc.value}, map[string]string{}, io.Discard)
		if err == nil || !strings.Contains(err.Error(), "--"+tc.flag) {
			t.Errorf("--%s %s: %v, want an error naming the flag", tc.flag, tc.value, err)
		}
	}
}

func limitsOf(c config) config {
	return config{ReadHeaderTimeout: c.ReadHeaderTimeout, BodyTimeout: c.BodyTimeout, BodyMinRate: c.BodyMinRate, WriteTimeout: c.WriteTimeout,
		IdleTimeout: c.IdleTimeout, MaxConnections: c.MaxConnections, MaxUploads: c.MaxUploads, BodyBudget: c.BodyBudget, PushBudget: c.PushBudget}
}

// TestConfigAuthorities: the CA and TSA files come from the environment, flags override them, and
// with none the authorities live in the data directory.
func TestConfigAuthorities(t *testing.T) {
	t.Parallel()
	env := map[string]string{"CUSTODY_DATA_DIR": "/data", "CUSTODY_CA_CERT": "/env/ca.pem", "CUSTODY_CA_KEY": "/env/ca.key",
		"CUSTODY_CA_RETIRED": "/env/retired.json", "CUSTODY_TSA_CERT": "/env/tsa.pem", "CUSTODY_TSA_KEY": "/env/tsa.key"}
	c, err := loadConfig([]string{"--ca-key", "/flag/ca.key", "--tsa-cert", "/flag/tsa.pem"}, env, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := []any{c.caFiles(), c.tsaFiles(), c.retiredFile()}, []any{authorityFiles{Chain: "/env/ca.pem", Key: "/flag/ca.key"},
		authorityFiles{Chain: "/flag/tsa.pem", Key: "/env/tsa.key"}, "/env/retired.json"}; fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("from the environment and flags: %v, want %v", got, want)
	}
	c, err = loadConfig(nil, map[string]string{"CUSTODY_DATA_DIR": "/data"}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := []any{c.caFiles(), c.tsaFiles(), c.retiredFile()}, []any{authorityFiles{"/data/ca/chain.pem", "/data/ca/intermediate.key", true},
		authorityFiles{"/data/tsa/chain.pem", "/data/tsa/tsa.key", true}, "/data/ca/retired.json"}; fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("defaults: %v, want %v", got, want)
	}
}

// TestConfigCASPlainHTTP: plain http to the CAS's registry is asked for by name, and only for an
// oci:// CAS.
func TestConfigCASPlainHTTP(t *testing.T) {
	t.Parallel()
	c, err := loadConfig(nil, map[string]string{"CUSTODY_CAS": "oci://registry:5000/custody-cas"}, io.Discard)
	if err != nil || c.CASPlainHTTP {
		t.Errorf("the default: %v, plain http %v", err, c.CASPlainHTTP)
	}
	c, err = loadConfig(nil, map[string]string{"CUSTODY_CAS": "oci://registry:5000/custody-cas", "CUSTODY_CAS_PLAIN_HTTP": "true"}, io.Discard)
	if err != nil || !c.CASPlainHTTP {
		t.Errorf("CUSTODY_CAS_PLAIN_HTTP=true: %v, plain http %v", err, c.CASPlainHTTP)
	}
	c, err = loadConfig([]string{"--cas", "oci://registry:5000/custody-cas", "--cas-plain-http"}, map[string]string{}, io.Discard)
	if err != nil || !c.CASPlainHTTP {
		t.Errorf("--cas-plain-http: %v, plain http %v", err, c.CASPlainHTTP)
	}
	_, err = loadConfig([]string{"--cas-plain-http"}, map[string]string{"CUSTODY_DATA_DIR": "/data"}, io.Discard)
	if err == nil || err.Error() != "--cas-plain-http is for an oci:// CAS, not file:///data/cas" {
		t.Errorf("--cas-plain-http with the filesystem CAS: %v", err)
	}
}
