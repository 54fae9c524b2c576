package connect

import (
	"context"
	"errors"
	"io"
	"os/exec"
	"syscall"
	"time"

	"github.com/gofab/gofab/internal/base/host"
)

// Local is the host.Conn of the built-in "local" host: commands run through
// sh -c on this machine, in their own process group so an interrupt reaches
// everything they started.
type Local struct{}

// FS returns this machine's file system.
func (Local) FS(context.Context) (host.FS, error) { return host.OS{}, nil }

// Close does nothing: the local host holds no connection.
func (Local) Close() error { return nil }

// Run runs cmd.Command with sh -c. Pty is ignored.
func (Local) Run(ctx context.Context, cmd *host.Cmd) (int, error) {
	c := exec.Command("sh", "-c", cmd.Command)
	c.Stdout = orDiscard(cmd.Stdout)
	c.Stderr = orDiscard(cmd.Stderr)
	c.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	c.Env = host.ChildEnv()
	// A child that outlives the command with our pipes open does not
	// hold Wait up for ever.
	c.WaitDelay = interruptGrace
	var stdin io.WriteCloser
	if cmd.Stdin != nil {
		var err error
		if stdin, err = c.StdinPipe(); err != nil {
			return -1, err
		}
	}
	if err := c.Start(); err != nil {
		return -1, err
	}
	if stdin != nil {
		go func() {
			io.Copy(stdin, cmd.Stdin)
			stdin.Close()
		}()
	}
	done := make(chan error, 1)
	go func() { done <- c.Wait() }()
	var err error
	select {
	case err = <-done:
	case <-ctx.Done():
		pgid := -c.Process.Pid
		syscall.Kill(pgid, syscall.SIGTERM)
		select {
		case <-done:
		case <-time.After(interruptGrace):
			syscall.Kill(pgid, syscall.SIGKILL)
			<-done
		case <-host.TearingDown():
			syscall.Kill(pgid, syscall.SIGKILL)
			<-done
		}
		return -1, context.Cause(ctx)
	}
	if err == nil {
		return 0, nil
	}
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		if ws, ok := exit.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			return 128 + int(ws.Signal()), nil
		}
		return exit.ExitCode(), nil
	}
	return -1, err
}
