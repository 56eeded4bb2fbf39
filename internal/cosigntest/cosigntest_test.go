package cosigntest

import (
	"os"
	"path/filepath"
	"testing"
)

func TestFind(t *testing.T) {
	dir := t.TempDir()
	exe := filepath.Join(dir, "cosign")
	if err := os.WriteFile(exe, []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	notExe := filepath.Join(dir, "not-exe")
	if err := os.WriteFile(notExe, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", t.TempDir()) // no cosign on PATH
	tests := []struct {
		name   string
		env    map[string]string
		want   string
		wantOK bool
	}{
		{"COSIGN_BIN wins", map[string]string{"COSIGN_BIN": exe}, exe, true},
		{"COSIGN_BIN not executable", map[string]string{"COSIGN_BIN": notExe}, notExe, false},
		{"GOBIN", map[string]string{"GOBIN": dir}, exe, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := find(func(k string) string { return tt.env[k] })
			if ok != tt.wantOK || got != tt.want {
				t.Errorf("find() = %q, %v; want %q, %v", got, ok, tt.want, tt.wantOK)
			}
		})
	}
}
