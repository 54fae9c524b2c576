package simfleet

import (
	"bufio"
	"fmt"
	"os/exec"
	"strings"
	"syscall"
)

// Process is bench/fleet running in a process of its own: benchmarks and
// tests keep its CPU and memory out of what they measure.
type Process struct {
	cmd   *exec.Cmd
	lines *bufio.Scanner
	// Port is the port every host listens on.
	Port string
}

// StartProcess runs the fleet program bin with args and waits until it
// serves (its "ready: N hosts on port P" line).
func StartProcess(bin string, args ...string) (*Process, error) {
	p := &Process{cmd: exec.Command(bin, args...)}
	var stderr strings.Builder
	p.cmd.Stderr = &stderr
	out, err := p.cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := p.cmd.Start(); err != nil {
		return nil, err
	}
	p.lines = bufio.NewScanner(out)
	if !p.lines.Scan() || !strings.HasPrefix(p.lines.Text(), "ready:") {
		p.Kill()
		return nil, fmt.Errorf("the fleet did not start: %q %s", p.lines.Text(), strings.TrimSpace(stderr.String()))
	}
	f := strings.Fields(p.lines.Text())
	p.Port = f[len(f)-1]
	return p, nil
}

// Stop ends the fleet and returns how many logins and commands it served.
func (p *Process) Stop() (logins, commands int, err error) {
	p.cmd.Process.Signal(syscall.SIGTERM)
	if !p.lines.Scan() {
		return 0, 0, fmt.Errorf("the fleet said nothing when it stopped")
	}
	_, err = fmt.Sscanf(p.lines.Text(), "logins %d commands %d", &logins, &commands)
	p.cmd.Wait()
	return logins, commands, err
}

// Kill ends the fleet at once (when Stop has not).
func (p *Process) Kill() {
	if p.cmd.ProcessState != nil {
		return
	}
	p.cmd.Process.Kill()
	p.cmd.Wait()
}
