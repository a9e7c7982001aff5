//go:build unix

package devserver

import (
	"os"
	"os/exec"
	"syscall"
)

// detachFromTerminalSignals puts the server in its own process group, so the
// Ctrl-C a person types reaches only the demo, which stops its worker first
// and the server last.
func detachFromTerminalSignals(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
}

func interrupt(p *os.Process) error {
	return p.Signal(os.Interrupt)
}
