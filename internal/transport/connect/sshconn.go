package connect

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"time"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/agent"

	"github.com/gofab/gofab/internal/base/host"
)

// sessionRetry is how long a refused session is tried again.
const sessionRetry = 5 * time.Second

// interruptGrace is how long a cancelled command has after SIGTERM before
// it is killed and its session closed.
const interruptGrace = host.InterruptGrace

// sshConn is a host.Conn over one SSH connection; commands share it as
// sessions, at most MaxSessions at once.
type sshConn struct {
	client *ssh.Client
	sem    chan struct{}
	stop   chan struct{}
	sftp   sftpSession
	// redial opens another connection to the same host.
	redial func(ctx context.Context) (*sshConn, error)
	// agentForward asks each session to forward the agent.
	agentForward bool
}

// forwardAgent serves the agent at socket to the host: each session asks
// for forwarding, and the host's requests reach a new connection to the
// agent (ssh -A).
func (c *sshConn) forwardAgent(socket string) error {
	if socket == "" {
		return errors.New("agent forwarding asked for, but SSH_AUTH_SOCK is not set (is ssh-agent running?)")
	}
	if err := agent.ForwardToRemote(c.client, socket); err != nil {
		return fmt.Errorf("agent forwarding: %w", err)
	}
	c.agentForward = true
	return nil
}

// newSSHConn wraps client, probing it every keepalive (when non-zero) and
// closing it after countMax unanswered probes.
func newSSHConn(client *ssh.Client, keepalive time.Duration, countMax int, redial func(ctx context.Context) (*sshConn, error)) *sshConn {
	c := &sshConn{client: client, sem: make(chan struct{}, MaxSessions), stop: make(chan struct{}), redial: redial}
	if keepalive > 0 {
		go c.keepalive(keepalive, max(countMax, 1))
	}
	return c
}

// keepalive sends keepalive@openssh.com every interval and closes the
// connection after max unanswered probes, as ssh's ServerAliveInterval does.
func (c *sshConn) keepalive(interval time.Duration, max int) {
	t := time.NewTicker(interval)
	defer t.Stop()
	missed := 0
	for {
		select {
		case <-c.stop:
			return
		case <-t.C:
		}
		reply := make(chan error, 1)
		go func() {
			_, _, err := c.client.SendRequest("keepalive@openssh.com", true, nil)
			reply <- err
		}()
		select {
		case <-c.stop:
			return
		case err := <-reply:
			if err != nil {
				c.client.Close()
				return
			}
			missed = 0
		case <-time.After(interval):
			missed++
			if missed >= max {
				c.client.Close()
				return
			}
		}
	}
}

func (c *sshConn) Close() error {
	select {
	case <-c.stop:
	default:
		close(c.stop)
	}
	c.sftp.close()
	return c.client.Close()
}

// Wait returns when the connection has ended.
func (c *sshConn) Wait() error { return c.client.Wait() }

// FS returns the host's file system over the connection's SFTP session,
// opening the session on first use.
func (c *sshConn) FS(ctx context.Context) (host.FS, error) { return c.sftp.get(ctx, c) }

// Redial opens a second connection to the same host.
func (c *sshConn) Redial(ctx context.Context) (host.FileConn, error) {
	if c.redial == nil {
		return nil, errors.New("this connection cannot be opened again")
	}
	return c.redial(ctx)
}

func (c *sshConn) Run(ctx context.Context, cmd *host.Cmd) (int, error) {
	select {
	case c.sem <- struct{}{}:
	case <-ctx.Done():
		return -1, ctx.Err()
	}
	defer func() { <-c.sem }()

	sess, err := c.newSession(ctx)
	if err != nil {
		return -1, fmt.Errorf("open session: %w", err)
	}
	defer sess.Close()
	sess.Stdout = pooledCopy{orDiscard(cmd.Stdout)}
	sess.Stderr = pooledCopy{orDiscard(cmd.Stderr)}
	if cmd.Pty || cmd.TTY != nil {
		if err := requestPty(sess, cmd.TTY); err != nil {
			return -1, err
		}
	}
	var stdin io.WriteCloser
	if cmd.Stdin != nil {
		// A pipe rather than Session.Stdin: Wait would otherwise wait for
		// the caller's reader to end even after the command has exited.
		if stdin, err = sess.StdinPipe(); err != nil {
			return -1, fmt.Errorf("stdin: %w", err)
		}
	}
	if c.agentForward {
		if err := agent.RequestAgentForwarding(sess); err != nil {
			return -1, fmt.Errorf("agent forwarding: %w", err)
		}
	}
	if err := sess.Start(cmd.Command); err != nil {
		return -1, fmt.Errorf("start command: %w", err)
	}
	if stdin != nil {
		go func() {
			io.Copy(stdin, cmd.Stdin)
			stdin.Close()
		}()
	}
	done := make(chan error, 1)
	go func() { done <- sess.Wait() }()
	if cmd.TTY != nil && cmd.TTY.Resize != nil {
		stop := make(chan struct{})
		defer close(stop)
		go followResize(sess, cmd.TTY.Resize, stop)
	}
	select {
	case err = <-done:
	case <-ctx.Done():
		interrupt(sess, stdin, cmd.Pty)
		if !waitDone(done) {
			// It ignored the signal (or the person is leaving): kill it
			// and give up on the session. The server may keep the channel
			// open while the command's children run, so do not wait for it
			// forever.
			sess.Signal(ssh.SIGKILL)
			sess.Close()
			waitDone(done)
		}
		return -1, context.Cause(ctx)
	}
	return exitStatus(err)
}

// requestPty asks for a pseudo-terminal: the person's terminal's type and
// size, with echo, for an interactive command (tty); else a wide one
// without echo, whose output is only captured.
func requestPty(sess *ssh.Session, tty *host.TTY) error {
	name, h, w := "xterm", 40, 200
	modes := ssh.TerminalModes{ssh.ECHO: 0, ssh.TTY_OP_ISPEED: 38400, ssh.TTY_OP_OSPEED: 38400}
	if tty != nil {
		if tty.Term != "" {
			name = tty.Term
		}
		if tty.Width > 0 && tty.Height > 0 {
			w, h = tty.Width, tty.Height
		}
		modes[ssh.ECHO] = 1
	}
	if err := sess.RequestPty(name, h, w, modes); err != nil {
		return fmt.Errorf("request pty: %w", err)
	}
	return nil
}

// followResize passes the terminal's new sizes on to the remote pty.
func followResize(sess *ssh.Session, resize <-chan [2]int, stop <-chan struct{}) {
	for {
		select {
		case <-stop:
			return
		case size := <-resize:
			sess.WindowChange(size[1], size[0])
		}
	}
}

// waitDone waits for an interrupted command to end, for the grace period
// at most, or not at all once the person asked to stop at once.
func waitDone(done <-chan error) bool {
	select {
	case <-done:
		return true
	case <-time.After(interruptGrace):
	case <-host.TearingDown():
	}
	return false
}

// newSession opens a session, waiting and trying again while the server
// refuses it: sshd frees a finished session's slot a moment after the
// client saw it end, so a full connection can be refused briefly.
func (c *sshConn) newSession(ctx context.Context) (*ssh.Session, error) {
	deadline := time.Now().Add(sessionRetry)
	for wait := 5 * time.Millisecond; ; wait = min(wait*2, 200*time.Millisecond) {
		sess, err := c.client.NewSession()
		var oce *ssh.OpenChannelError
		if err == nil || !errors.As(err, &oce) || time.Now().After(deadline) {
			return sess, err
		}
		select {
		case <-time.After(wait):
		case <-ctx.Done():
			return nil, err
		}
	}
}

// interrupt asks a running command to stop: ^C on a pty, and SIGTERM (sshd
// delivers signal requests since OpenSSH 7.9).
func interrupt(sess *ssh.Session, stdin io.Writer, pty bool) {
	if pty && stdin != nil {
		stdin.Write([]byte{3})
	}
	sess.Signal(ssh.SIGTERM)
}

func exitStatus(err error) (int, error) {
	if err == nil {
		return 0, nil
	}
	var exit *ssh.ExitError
	if errors.As(err, &exit) {
		if sig := exit.Signal(); sig != "" {
			return 128 + signalNumber(sig), nil
		}
		return exit.ExitStatus(), nil
	}
	var missing *ssh.ExitMissingError
	if errors.As(err, &missing) {
		return -1, errors.New("connection lost: the command ended without an exit status")
	}
	return -1, err
}

func signalNumber(sig string) int {
	switch ssh.Signal(sig) {
	case ssh.SIGHUP:
		return 1
	case ssh.SIGINT:
		return 2
	case ssh.SIGQUIT:
		return 3
	case ssh.SIGKILL:
		return 9
	case ssh.SIGPIPE:
		return 13
	case ssh.SIGTERM:
		return 15
	}
	return 0
}

// copyBuffers are the buffers sessions copy their output with: io.Copy
// would allocate 32 KiB per stream per command, which a fleet of
// thousands of hosts pays all at once.
var copyBuffers = sync.Pool{New: func() any { b := make([]byte, 16<<10); return &b }}

// pooledCopy is a writer that io.Copy fills through ReadFrom, with a
// pooled buffer.
type pooledCopy struct{ w io.Writer }

func (p pooledCopy) Write(b []byte) (int, error) { return p.w.Write(b) }

// ReadFrom copies r to the writer with a buffer from copyBuffers.
func (p pooledCopy) ReadFrom(r io.Reader) (int64, error) {
	buf := copyBuffers.Get().(*[]byte)
	defer copyBuffers.Put(buf)
	return io.CopyBuffer(struct{ io.Writer }{p.w}, r, *buf)
}

func orDiscard(w io.Writer) io.Writer {
	if w == nil {
		return io.Discard
	}
	return w
}
