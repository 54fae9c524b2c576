package stdlib

import (
	"context"
	"io"
	"strings"
	"sync"
	"testing"

	"github.com/gofab/gofab/internal/base/host"
	"github.com/gofab/gofab/internal/ui/output"
	"github.com/gofab/gofab/luart"
)

// fakeConn is a host.Conn that records the command lines it is given and
// answers each with exit status 0 and no output.
type fakeConn struct {
	mu       sync.Mutex
	commands []string
}

func (f *fakeConn) Run(_ context.Context, cmd *host.Cmd) (int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.commands = append(f.commands, cmd.Command)
	// Like a real session, input is read aside: sudo's stays open until
	// the command ends.
	if cmd.Stdin != nil {
		go io.Copy(io.Discard, cmd.Stdin)
	}
	return 0, nil
}

func (f *fakeConn) Close() error { return nil }

// runOnFake runs task t of fabfile on a fake host and returns the command
// lines the host was given.
func runOnFake(t *testing.T, fabfile, task string, run luart.RunOptions) []string {
	t.Helper()
	prog, err := luart.Compile("fabfile.lua", []byte(fabfile), luart.Options{Modules: Modules()})
	if err != nil {
		t.Fatal(err)
	}
	conn := &fakeConn{}
	he := &luart.HostEnv{
		Addr: host.Addr{Host: "web1"}, HostString: "web1", Hosts: 1, Run: &run,
		Out:     output.New(io.Discard, false).Host("web1"),
		Connect: func(context.Context) (host.Conn, error) { return conn, nil },
		Local:   conn,
	}
	if _, err := prog.RunTask(context.Background(), he, task, luart.Args{}); err != nil {
		t.Fatal(err)
	}
	return conn.commands
}

// TestCommandLines: what cd, prefix, shell_env, path and sudo make of a
// command, in milliseconds, without a server.
func TestCommandLines(t *testing.T) {
	cases := []struct {
		name, body string
		run        luart.RunOptions
		want       []string // substrings of the one command line, in order
		not        []string
	}{
		{"plain", `run("ls -l")`, luart.RunOptions{}, []string{"ls -l"}, []string{"sudo"}},
		{"cd and prefix", `cd("/srv/app", function() prefix("source venv/bin/activate", function() run("make") end) end)`,
			luart.RunOptions{}, []string{"cd /srv/app && source venv/bin/activate && make"}, nil},
		{"shell_env and path", `shell_env({LANG = "C"}, function() path("/opt/bin", "prepend", function() run("env") end) end)`,
			luart.RunOptions{}, []string{"export LANG=C PATH=/opt/bin:\"$PATH\" && env"}, nil},
		{"sudo wraps everything", `cd("/etc", function() sudo("cat shadow", {user = "root"}) end)`,
			luart.RunOptions{SudoPassword: "pw"}, []string{"sudo -S -p '[gofab-sudo-", "-u root -- sh -c", "gofab-guard", "cd /etc && cat shadow", " 2 watch"}, []string{"pw"}},
		{"sudo with a pty", `sudo("top -b -n1", {pty = true})`, luart.RunOptions{}, []string{"sudo -S", "top -b -n1", " 2 tty"}, nil},
		{"argv is quoted", `run({"echo", "it's", "$HOME"})`, luart.RunOptions{}, []string{`echo 'it'\''s' '$HOME'`}, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cmds := runOnFake(t, `task("t", function() `+c.body+` end)`, "t", c.run)
			if len(cmds) != 1 {
				t.Fatalf("%d commands: %q", len(cmds), cmds)
			}
			rest := cmds[0]
			for _, w := range c.want {
				i := strings.Index(rest, w)
				if i < 0 {
					t.Fatalf("command %q lacks %q (in order)", cmds[0], w)
				}
				rest = rest[i+len(w):]
			}
			for _, n := range c.not {
				if strings.Contains(cmds[0], n) {
					t.Errorf("command %q contains %q", cmds[0], n)
				}
			}
		})
	}
	// --check skips a command unless it is check_safe.
	cmds := runOnFake(t, `task("t", function() run("rm -rf /tmp/x"); run("uname", {check_safe = true}) end)`, "t", luart.RunOptions{Check: true})
	if len(cmds) != 1 || !strings.Contains(cmds[0], "uname") {
		t.Errorf("--check ran %q", cmds)
	}
}

// TestCuisineTakesTheOnePath: cuisine's probes and changes go through the
// same path as run: a change is wrapped in sudo with the password kept
// off the command line, probes run as the login user, and under --check
// only the probes run.
func TestCuisineTakesTheOnePath(t *testing.T) {
	fabfile := `task("t", function() require("cuisine").group_ensure("deploy") end)`
	cmds := runOnFake(t, fabfile, "t", luart.RunOptions{SudoPassword: "hunter2"})
	all := strings.Join(cmds, "\n")
	if !strings.Contains(all, "groupadd") || strings.Contains(all, "hunter2") {
		t.Fatalf("group_ensure sent %q", cmds)
	}
	for _, c := range cmds {
		if strings.Contains(c, "sudo -S") != strings.Contains(c, "groupadd") {
			t.Errorf("sudo on the wrong command: %q", c)
		}
	}
	probes := runOnFake(t, fabfile, "t", luart.RunOptions{Check: true})
	if len(probes) == 0 || len(probes) >= len(cmds) || strings.Contains(strings.Join(probes, "\n"), "groupadd") {
		t.Errorf("group_ensure under --check sent %q: want its probes only", probes)
	}
}

// countingTerminal counts how often the person's terminal is taken.
type countingTerminal struct{ taken int }

func (c *countingTerminal) Acquire(context.Context, func()) (*host.TTY, error) {
	c.taken++
	return &host.TTY{In: strings.NewReader(""), Out: io.Discard, Release: func() {}}, nil
}

// TestTerminalAfterCheck: an interactive command takes the terminal only
// when it runs; under --check it is skipped without waiting for it.
func TestTerminalAfterCheck(t *testing.T) {
	for _, check := range []bool{false, true} {
		term := &countingTerminal{}
		runOnFake(t, `task("t", function() run("top", {pty = true}) end)`, "t", luart.RunOptions{Check: check, Terminal: term})
		if want := map[bool]int{false: 1, true: 0}[check]; term.taken != want {
			t.Errorf("check=%v: the terminal was taken %d times, want %d", check, term.taken, want)
		}
	}
}
