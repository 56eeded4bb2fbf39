//go:build !linux

package gitlabci

import "os/exec"

func setDeathSignal(*exec.Cmd) {}

func killGroup(*exec.Cmd) {}
