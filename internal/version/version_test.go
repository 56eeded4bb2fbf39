package version

import (
	"runtime/debug"
	"testing"
)

func TestResolve(t *testing.T) {
	module := func(v string) *debug.BuildInfo {
		return &debug.BuildInfo{Main: debug.Module{Path: "github.com/custody-dev/custody", Version: v}}
	}
	tests := []struct {
		name    string
		stamped string
		info    *debug.BuildInfo
		want    string
	}{
		{"go install of a release", Dev, module("v1.2.3"), "v1.2.3"},
		{"go install of a commit", Dev, module("v0.0.0-20261127140000-2f4f5a9c1e2d"), "v0.0.0-20261127140000-2f4f5a9c1e2d"},
		{"a stamped release wins", "v1.3.0", module("v1.2.3"), "v1.3.0"},
		{"no stamp at all", "", module("v1.2.3"), "v1.2.3"},
		{"a checkout without VCS information", Dev, module("(devel)"), Dev},
		{"no build information", Dev, nil, Dev},
	}
	for _, tt := range tests {
		if got := resolve(tt.stamped, tt.info); got != tt.want {
			t.Errorf("%s: resolve(%q, %v) = %q, want %q", tt.name, tt.stamped, tt.info, got, tt.want)
		}
	}
}
