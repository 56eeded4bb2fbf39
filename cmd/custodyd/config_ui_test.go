package main

import (
	"io"
	"strings"
	"testing"
	"time"
)

// TestConfigUISessionTTL: a web UI sign-in lasts 12 hours by default, CUSTODY_UI_SESSION_TTL or
// --ui-session-ttl say otherwise, and a duration that is not positive is refused with the flag's name.
func TestConfigUISessionTTL(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		args []string
		env  map[string]string
		want time.Duration
	}{
		{nil, nil, 12 * time.Hour},
		{nil, map[string]string{"CUSTODY_UI_SESSION_TTL": "1h"}, time.Hour},
		{[]string{"--ui-session-ttl", "30m"}, map[string]string{"CUSTODY_UI_SESSION_TTL": "1h"}, 30 * time.Minute},
	} {
		c, err := loadConfig(tc.args, tc.env, io.Discard)
		if err != nil || c.UISessionTTL != tc.want {
			t.Errorf("%v %v: %s, %v; want %s", tc.args, tc.env, c.UISessionTTL, err, tc.want)
		}
	}
	for _, v := range []string{"0s", "-1h"} {
		if _, err := loadConfig([]string{"--ui-session-ttl", v}, nil, io.Discard); err == nil || !strings.Contains(err.Error(), "--ui-session-ttl") {
			t.Errorf("--ui-session-ttl %s: %v, want an error naming the flag", v, err)
		}
	}
}
