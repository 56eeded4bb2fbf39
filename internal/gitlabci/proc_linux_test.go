package gitlabci

import (
	"os/exec"
	"syscall"
)

// setDeathSignal kills custodyd if the test binary dies without running its cleanups.
func setDeathSignal(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}

// killGroup runs cmd in a process group of its own and makes a cancelled cmd kill the whole group:
// gitlab-ci-local runs each job in a shell of its own.
func killGroup(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
}
