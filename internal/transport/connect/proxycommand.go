package connect

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/gofab/gofab/internal/base/host"
	"github.com/gofab/gofab/internal/transport/sshconfig"
)

// proxyCommand starts cfg's ProxyCommand (through sh -c, with %h, %p, %r,
// %n and %% expanded as ssh does) and returns a connection over its
// standard input and output.
func proxyCommand(cfg *sshconfig.Config, original string) (net.Conn, error) {
	command := strings.NewReplacer("%%", "%", "%h", cfg.HostName, "%p", strconv.Itoa(cfg.Port),
		"%r", cfg.User, "%n", original).Replace(cfg.ProxyCommand)
	toChild, ourIn, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	ourOut, fromChild, err := os.Pipe()
	if err != nil {
		toChild.Close()
		ourIn.Close()
		return nil, err
	}
	cmd := exec.Command("sh", "-c", command)
	stderr := &tailBuffer{max: 2048}
	cmd.Stdin, cmd.Stdout, cmd.Stderr = toChild, fromChild, stderr
	cmd.Env = host.ChildEnv()
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	err = cmd.Start()
	toChild.Close()
	fromChild.Close()
	if err != nil {
		ourIn.Close()
		ourOut.Close()
		return nil, fmt.Errorf("ProxyCommand %q: %w", command, err)
	}
	done := make(chan struct{})
	go func() { cmd.Wait(); close(done) }()
	target := net.JoinHostPort(cfg.HostName, strconv.Itoa(cfg.Port))
	return &cmdConn{r: ourOut, w: ourIn, cmd: cmd, done: done, addr: pipeAddr(target), stderr: stderr}, nil
}

// explain wraps a handshake error over the command's connection with
// what the command printed on stderr.
func (c *cmdConn) explain(command string, err error) error {
	if said := c.stderr.String(); said != "" {
		err = fmt.Errorf("%w (the command said: %s)", err, strings.ReplaceAll(said, "\n", " | "))
	}
	return fmt.Errorf("through ProxyCommand %q: %w", command, err)
}

// tailBuffer keeps the last max bytes written to it.
type tailBuffer struct {
	mu  sync.Mutex
	buf []byte
	max int
}

func (t *tailBuffer) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.buf = append(t.buf, p...)
	if len(t.buf) > t.max {
		t.buf = t.buf[len(t.buf)-t.max:]
	}
	return len(p), nil
}

func (t *tailBuffer) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return strings.TrimSpace(string(t.buf))
}

// cmdConn is a net.Conn over a proxy command's pipes.
type cmdConn struct {
	r, w *os.File
	cmd  *exec.Cmd
	done chan struct{}
	addr pipeAddr
	// stderr is what the command said, for error messages.
	stderr *tailBuffer
}

func (c *cmdConn) Read(p []byte) (int, error)  { return c.r.Read(p) }
func (c *cmdConn) Write(p []byte) (int, error) { return c.w.Write(p) }

// Close closes the pipes and stops the command.
func (c *cmdConn) Close() error {
	c.w.Close()
	c.r.Close()
	select {
	case <-c.done:
	case <-time.After(time.Second):
		syscall.Kill(-c.cmd.Process.Pid, syscall.SIGKILL)
	}
	return nil
}

func (c *cmdConn) LocalAddr() net.Addr  { return pipeAddr("proxycommand") }
func (c *cmdConn) RemoteAddr() net.Addr { return c.addr }

func (c *cmdConn) SetDeadline(t time.Time) error {
	c.r.SetReadDeadline(t)
	return c.w.SetWriteDeadline(t)
}
func (c *cmdConn) SetReadDeadline(t time.Time) error  { return c.r.SetReadDeadline(t) }
func (c *cmdConn) SetWriteDeadline(t time.Time) error { return c.w.SetWriteDeadline(t) }

// pipeAddr names the host a proxy command reaches.
type pipeAddr string

func (pipeAddr) Network() string  { return "pipe" }
func (a pipeAddr) String() string { return string(a) }
