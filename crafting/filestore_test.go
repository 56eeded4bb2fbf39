package crafting

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/custody-dev/custody/runner"
)

func sha256hex(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

func TestFileStoreOptimisticConcurrency(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "sub", "state.json")
	s := NewFileStore(path)
	if _, _, err := s.Load(ctx); !errors.Is(err, ErrNoState) {
		t.Fatalf("load of nothing = %v", err)
	}
	d1, err := s.Save(ctx, &State{Version: StateVersion, RunID: "a"}, "")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Save(ctx, &State{Version: StateVersion, RunID: "b"}, ""); !errors.Is(err, ErrStale) {
		t.Fatalf("save over existing state with base \"\" = %v, want ErrStale", err)
	}
	d2, err := s.Save(ctx, &State{Version: StateVersion, RunID: "c"}, d1)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Save(ctx, &State{Version: StateVersion, RunID: "d"}, d1); !errors.Is(err, ErrStale) {
		t.Fatalf("save with a stale base = %v, want ErrStale", err)
	}
	st, d, err := s.Load(ctx)
	if err != nil || st.RunID != "c" || d != d2 {
		t.Fatalf("load = %+v %s %v", st, d, err)
	}
	if err := s.Delete(ctx, d1); !errors.Is(err, ErrStale) {
		t.Fatalf("delete with a stale base = %v", err)
	}
	if err := s.Delete(ctx, d2); err != nil {
		t.Fatal(err)
	}
	entries, _ := os.ReadDir(filepath.Dir(path))
	for _, e := range entries {
		if filepath.Ext(e.Name()) == ".tmp" {
			t.Errorf("temp file left behind: %s", e.Name())
		}
	}
}

func TestFileStoreRejectsForeignState(t *testing.T) {
	t.Parallel()
	tests := map[string]string{
		"not json":      "garbage",
		"unknown field": `{"version":1,"runID":"x","extra":true}`,
		"other version": `{"version":9,"runID":"x"}`,
	}
	for name, content := range tests {
		path := filepath.Join(t.TempDir(), "state.json")
		if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		_, _, err := NewFileStore(path).Load(context.Background())
		if err == nil || !strings.Contains(err.Error(), path) {
			t.Errorf("%s: load = %v, want an error naming %s", name, err, path)
		}
	}
}

func TestWorkspaceStateFile(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		env      env
		explicit string
		want     string
	}{
		{"explicit wins", env{"GITHUB_ACTIONS": "true", "GITHUB_WORKSPACE": "/gh"}, "/x/state.json", "/x/state.json"},
		{"github", env{"GITHUB_ACTIONS": "true", "GITHUB_WORKSPACE": "/gh", "CI_PROJECT_DIR": "/gl"}, "", "/gh/.custody/attestation.json"},
		{"gitlab", env{"GITLAB_CI": "true", "CI_PROJECT_DIR": "/gl"}, "", "/gl/.custody/attestation.json"},
		{"jenkins", env{"JENKINS_URL": "https://ci.example.com/", "WORKSPACE": "/var/jenkins_home/workspace/app"}, "", "/var/jenkins_home/workspace/app/.custody/attestation.json"},
		{"the workspace is the runner's: a variable of another is not", env{"GITHUB_WORKSPACE": "/gh"}, "", "/cwd/.custody/attestation.json"},
		{"cwd", env{}, "", "/cwd/.custody/attestation.json"},
	}
	for _, tt := range tests {
		rc := runner.Detect(runner.Env{Getenv: tt.env.get})
		if got := WorkspaceStateFile(rc, tt.explicit, "/cwd"); got != tt.want {
			t.Errorf("%s: %s, want %s", tt.name, got, tt.want)
		}
	}
}

// A state file larger than MaxStateSize is refused with the limit, not read whole; init --replace
// still discards it.
func TestOversizedStateFile(t *testing.T) {
	t.Parallel()
	c, dir := newTestCrafter(t)
	path := filepath.Join(dir, DefaultStateFile)
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Truncate(MaxStateSize + 1); err != nil { // sparse: no disk, no time
		t.Fatal(err)
	}
	f.Close()
	_, err = c.Status(context.Background())
	if err == nil || !strings.Contains(err.Error(), "is larger than the limit of 64 MiB") {
		t.Fatalf("status of an oversized state = %v, want the limit named", err)
	}
	if _, err := c.Init(context.Background(), InitOptions{Workflow: "w", Project: "p", Contract: seedContract(), Replace: true}); err != nil {
		t.Fatalf("init --replace over an oversized state: %v", err)
	}
	if info, err := os.Stat(path); err != nil || info.Size() > 64<<10 {
		t.Errorf("the state was not replaced: %v %v", info, err)
	}
}
