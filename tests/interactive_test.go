package tests

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/creack/pty"
)

// termSession is gofab running on a pseudo-terminal; a goroutine
// collects what it shows (a pty's reads cannot time out).
type termSession struct {
	t    *testing.T
	cmd  *exec.Cmd
	tty  *os.File
	mu   sync.Mutex
	buf  bytes.Buffer
	done chan struct{}
	// drained is closed when the terminal's reader has read everything
	// (the pty reports EIO once gofab and its children are gone);
	// changed is closed and replaced on every read.
	drained chan struct{}
	changed chan struct{}
}

// seen returns what the terminal showed so far.
func (s *termSession) seen() string {
	text, _ := s.seenAndNext()
	return text
}

// seenAndNext returns what the terminal showed so far and a channel
// closed when it shows more.
func (s *termSession) seenAndNext() (string, <-chan struct{}) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.buf.String(), s.changed
}

func startOnTerminal(t *testing.T, p *project, args ...string) *termSession {
	t.Helper()
	cmd := exec.Command(gofabBin, append([]string{"-S", filepath.Join(p.dir, "ssh_config")}, args...)...)
	cmd.Dir = p.dir
	cmd.Env = append(append([]string{}, p.env...), "TERM=xterm")
	tty, err := pty.StartWithSize(cmd, &pty.Winsize{Rows: 30, Cols: 100})
	if err != nil {
		t.Fatal(err)
	}
	s := &termSession{t: t, cmd: cmd, tty: tty, done: make(chan struct{}), drained: make(chan struct{}), changed: make(chan struct{})}
	go func() {
		defer close(s.drained)
		b := make([]byte, 4096)
		for {
			n, err := tty.Read(b)
			s.mu.Lock()
			s.buf.Write(b[:n])
			close(s.changed)
			s.changed = make(chan struct{})
			s.mu.Unlock()
			if err != nil {
				return
			}
		}
	}()
	go func() {
		cmd.Wait()
		close(s.done)
	}()
	t.Cleanup(func() {
		cmd.Process.Kill()
		<-s.done
		tty.Close()
	})
	return s
}

// waitFor waits until the terminal has shown want n times.
func (s *termSession) waitFor(want string, n int) {
	s.t.Helper()
	deadline := time.After(time.Minute)
	for {
		text, next := s.seenAndNext()
		if strings.Count(text, want) >= n {
			return
		}
		select {
		case <-next:
		case <-s.drained:
			if strings.Count(s.seen(), want) < n {
				s.t.Fatalf("gofab ended; the terminal never showed %q %d times:\n%s", want, n, s.seen())
			}
		case <-deadline:
			s.t.Fatalf("terminal never showed %q %d times:\n%s", want, n, s.seen())
		}
	}
}

// finish waits for gofab to exit and returns its exit status.
func (s *termSession) finish() int {
	s.t.Helper()
	select {
	case <-s.done:
	case <-time.After(time.Minute):
		s.t.Fatalf("gofab did not exit:\n%s", s.seen())
	}
	select { // the reader drains what is left
	case <-s.drained:
	case <-time.After(time.Minute):
		s.t.Fatalf("the terminal still open a minute after gofab exited:\n%s", s.seen())
	}
	return s.cmd.ProcessState.ExitCode()
}

// TestInteractivePty: on a terminal, a pty command gets the keystrokes
// and shows its output raw; the terminal's size and a resize reach it;
// two hosts take turns, and the second says it waits.
func TestInteractivePty(t *testing.T) {
	needTestbed(t)
	p := newProject(t, `
task("ask", function()
  local r = run("stty size; read -p 'type: ' x; echo got:$x; while [ \"$(stty size)\" = '30 100' ]; do sleep 0.05; done; stty size", {pty = true})
  puts("result has", r.stdout:match("got:%w+"))
end)
task("both", function() run("read -p \"$(printf 'na\\155e? ')\" x; echo hello-$x", {pty = true}) end)
task("sudo_ask", function() sudo("printf 'root says: '; read x; echo root-got:$x:$(id -u)", {pty = true}) end)
`, "")
	s := startOnTerminal(t, p, "-H", "127.0.0.2", "ask")
	s.waitFor("30 100", 1) // the terminal's size
	s.waitFor("type: ", 1)
	io.WriteString(s.tty, "hello\r")
	s.waitFor("got:hello", 1)
	// The command waits for the new size itself: the window-change
	// request and typed keys travel independently.
	pty.Setsize(s.tty, &pty.Winsize{Rows: 50, Cols: 132})
	s.waitFor("50 132", 1)
	if code := s.finish(); code != 0 {
		t.Fatalf("exit %d\n%s", code, s.seen())
	}
	if !strings.Contains(s.seen(), "result has got:hello") {
		t.Errorf("the result did not capture the output:\n%s", s.seen())
	}
	if strings.Contains(s.seen(), "out: type:") {
		t.Errorf("interactive output was prefixed:\n%s", s.seen())
	}

	s = startOnTerminal(t, p, "-H", "127.0.0.2,127.0.0.3", "both")
	s.waitFor("name? ", 1)
	s.waitFor("waiting: for the terminal", 1)
	io.WriteString(s.tty, "one\r")
	s.waitFor("hello-one", 1)
	s.waitFor("name? ", 2)
	io.WriteString(s.tty, "two\r")
	if code := s.finish(); code != 0 {
		t.Fatalf("exit %d\n%s", code, s.seen())
	}
	for _, want := range []string{"hello-one", "hello-two"} {
		if !strings.Contains(s.seen(), want) {
			t.Errorf("missing %q:\n%s", want, s.seen())
		}
	}

	s = startOnTerminal(t, p, "-H", tb.NPUser+"@127.0.0.2", "sudo_ask")
	s.waitFor("root says: ", 1)
	io.WriteString(s.tty, "yes\r")
	s.waitFor("root-got:yes:0", 1)
	if code := s.finish(); code != 0 {
		t.Fatalf("exit %d\n%s", code, s.seen())
	}
}

// TestOpenShell opens a shell on the terminal with a first command typed
// into it, then types into it and leaves.
func TestOpenShell(t *testing.T) {
	needTestbed(t)
	p := newProject(t, `task("sh", function() open_shell("echo first-$((6*7))") end)`, "")
	s := startOnTerminal(t, p, "-H", "127.0.0.2", "sh")
	s.waitFor("first-42", 1)
	io.WriteString(s.tty, "echo second-$((7*8))\r")
	s.waitFor("second-56", 1)
	io.WriteString(s.tty, "exit\r")
	if code := s.finish(); code != 0 {
		t.Fatalf("exit %d\n%s", code, s.seen())
	}
	// Without a terminal it says why.
	r := p.run(nil, "-H", "127.0.0.2", "sh")
	wantCode(t, r, 1)
	mustContain(t, r, "open_shell() on 127.0.0.2 needs a terminal")
}

// TestAgentForwarding: with -A (or env.forward_agent, a host's
// forward_agent, ssh_config's ForwardAgent) a command on one host uses the
// local ssh-agent to ssh on to another; without it, it cannot.
func TestAgentForwarding(t *testing.T) {
	needTestbed(t)
	dir := t.TempDir()
	sock := filepath.Join(dir, "agent.sock")
	agentCmd := exec.Command("ssh-agent", "-D", "-a", sock)
	if err := agentCmd.Start(); err != nil {
		t.Skipf("no ssh-agent: %v", err)
	}
	t.Cleanup(func() { agentCmd.Process.Kill(); agentCmd.Wait() })
	for i := 0; ; i++ {
		if _, err := os.Stat(sock); err == nil {
			break
		}
		if i > 500 {
			t.Fatal("ssh-agent did not start")
		}
		time.Sleep(10 * time.Millisecond)
	}
	if out, err := exec.Command("env", "SSH_AUTH_SOCK="+sock, "ssh-add", tb.Key).CombinedOutput(); err != nil {
		t.Fatalf("ssh-add: %v %s", err, out)
	}
	hop := fmt.Sprintf(`ssh -o BatchMode=yes -o StrictHostKeyChecking=yes -o UserKnownHostsFile=%s -p %s %s@127.0.0.3 'echo hopped-as-$(id -un)'`,
		tb.KnownHosts, tb.Port, tb.NPUser)
	cases := []struct {
		name, fabfile, sshConfig string
		args                     []string
		works                    bool
	}{
		{"off by default", "", "", nil, false},
		{"-A", "", "", []string{"-A"}, true},
		{"env.forward_agent", "env.forward_agent = true\n", "", nil, true},
		{"host's forward_agent", `hosts {a = {address = "127.0.0.2", forward_agent = true}}` + "\n", "", nil, true},
		{"ssh_config ForwardAgent", "", "Host a\n  ForwardAgent yes\n", nil, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			extra := c.sshConfig
			if !strings.Contains(c.fabfile, "address") {
				extra += "Host a\n  HostName 127.0.0.2\n"
			}
			p := newProject(t, c.fabfile+fmt.Sprintf(`task("hop", function() run(%q, {warn_only = true}) end)`, hop), extra)
			r := p.run([]string{"SSH_AUTH_SOCK=" + sock}, append(c.args, "-H", "a", "hop")...)
			wantCode(t, r, 0)
			if got := strings.Contains(r.stdout, "hopped-as-"+tb.NPUser); got != c.works {
				t.Errorf("hopped = %v, want %v\n%s", got, c.works, r)
			}
		})
	}
}
