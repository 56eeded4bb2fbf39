package registryproc

import (
	"os/exec"
	"syscall"
)

// setDeathSignal kills the registry if the test binary dies without running its cleanups.
func setDeathSignal(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
