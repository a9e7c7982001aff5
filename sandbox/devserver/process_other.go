//go:build !unix

package devserver

import (
	"os"
	"os/exec"
)

func detachFromTerminalSignals(*exec.Cmd) {}

// interrupt kills: Windows has no SIGINT to send to another process.
func interrupt(p *os.Process) error {
	return p.Kill()
}
