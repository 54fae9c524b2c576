// Package hostio is how gofab's built-in Lua functions act on the host a
// task runs on (or on this machine): the one path every command takes
// (Run), the host's files (Files), local and remote paths, permission
// modes, and what --check, --diff and --dry-run make of a change. The
// modules in stdlib share it; none imports another.
package hostio

import (
	"context"
	"errors"
	"io"
	"strings"
	"time"

	"github.com/gofab/gofab/internal/base/host"
	"github.com/gofab/gofab/internal/transport/shell"
	"github.com/gofab/gofab/luart"
)

// Dest is where a command runs. It is resolved when the command runs,
// not before: a command skipped (--check) or refused before it starts
// dials nothing.
type Dest struct {
	local bool
	conn  host.Conn
}

var (
	// TaskHost is the task's host, dialled by the first command that goes
	// there.
	TaskHost = Dest{}
	// ThisMachine is the machine gofab runs on (run_local): the task's
	// host is never dialled for it.
	ThisMachine = Dest{local: true}
)

// On is a connection the caller already holds (a transfer's, a side's).
func On(conn host.Conn) Dest { return Dest{conn: conn} }

// Conn returns the connection d names, dialling the task's host on its
// first use.
func (d Dest) Conn(st *luart.State) host.Conn {
	switch {
	case d.conn != nil:
		return d.conn
	case d.local:
		return st.LocalConn()
	default:
		return st.Conn()
	}
}

// Command is one command a built-in function runs.
type Command struct {
	// Line is the command as the recipe (or the built-in) wrote it.
	Line string
	// Dest is where it runs (TaskHost unless set).
	Dest Dest
	// Sudo runs Line as root, or as User/Group, through sudo.
	Sudo        bool
	User, Group string
	// Scoped applies the task's scope: cd (lcd on ThisMachine), prefix,
	// shell_env and path. Helper commands, which name absolute paths,
	// leave it off.
	Scoped bool
	// Env is exported to the command, after shell_env's.
	Env    [][2]string
	Stdin  io.Reader
	Stdout io.Writer
	Pty    bool
	// Terminal lends the person's terminal to the command, when gofab
	// has one, waiting (and saying so) while another host's command has
	// it; Typed is typed into it first (open_shell's command).
	Terminal bool
	Typed    string
	Timeout  time.Duration
	// Keep caps the output the result keeps; 0 means --max-output.
	Keep int
	// Show prints the command and its output as far as the output levels
	// allow; without it the command is a helper, seen only in logs and
	// fake hosts' listings. HideStdout keeps stdout quiet even so.
	Show, HideStdout bool
	// ReadOnly marks a command that changes nothing: it runs under
	// --check too. Any other command is skipped (ErrSkipped) there.
	ReadOnly bool
}

// kind is what c is: sudo, local (on ThisMachine) or run.
func (c Command) kind() host.Kind {
	switch {
	case c.Sudo:
		return host.KindSudo
	case c.Dest.local:
		return host.KindLocal
	}
	return host.KindRun
}

// ErrSkipped is Run's answer for a command that may change the host
// under --check.
var ErrSkipped = errors.New("not run in check mode")

// Run runs c. Every command gofab runs for a fabfile comes through here:
// run, sudo, run_local, open_shell, the helper commands of transfers and
// of the files module, cuisine's probes and changes, and so the ad-hoc
// command (a synthetic task calling run) and handlers. It is the one
// place that applies the scope, sudo and its password, --check, the
// person's terminal, the output levels, --max-output, timeouts and
// interrupts (ctx). --dry-run needs nothing here: its connections print
// what they are given.
//
// A non-zero exit is not an error; an error means the command could not
// run to completion.
func Run(st *luart.State, ctx context.Context, c Command) (shell.Result, error) {
	probe := false
	if check, _, _ := st.Mode(); check && !c.ReadOnly {
		if !readOnly(st, c) {
			return shell.Result{}, ErrSkipped
		}
		probe = true
	}
	req := shell.Request{Probe: probe,
		Command: c.Line, Kind: c.kind(), Sudo: c.Sudo, SudoUser: c.User, SudoGroup: c.Group,
		Helper: !c.Show, Env: c.Env, Stdin: c.Stdin, Stdout: c.Stdout,
		Pty: c.Pty, Timeout: c.Timeout, MaxOutput: c.Keep,
	}
	if req.MaxOutput == 0 {
		req.MaxOutput = MaxOutput(st)
	}
	if c.Terminal {
		tty, err := acquireTerminal(st, ctx, c.Line)
		if err != nil {
			return shell.Result{}, err
		}
		if tty != nil {
			defer tty.Release()
			req.TTY = tty
			if c.Typed != "" {
				req.Stdin = io.MultiReader(strings.NewReader(c.Typed+"\n"), tty.In)
			}
		}
	}
	if c.Sudo || !c.Dest.local && shell.CallsSudo(c.Line) {
		pw, err := st.SudoPassword()
		if err != nil {
			return shell.Result{}, err
		}
		req.SudoPassword = pw
		req.SudoInside = !c.Sudo && pw != ""
	}
	if c.Scoped {
		s := st.Settings
		req.Cwd, req.Prefixes, req.Path, req.PathMode = s.Cwd, s.Prefixes, s.Path, s.PathMode
		if c.Dest.local {
			req.Cwd = s.Lcwd
		}
		env := make([][2]string, 0, len(s.ShellEnv)+len(c.Env))
		for _, v := range s.ShellEnv {
			env = append(env, [2]string{v.Name, v.Value})
		}
		req.Env = append(env, c.Env...)
	}
	if c.Show {
		req.Out = st.Out()
		req.ShowRunning = st.Shown("running")
		req.ShowStdout = !c.HideStdout && st.Shown("stdout")
		req.ShowStderr = st.Shown("stderr")
	}
	if red := st.Secrets().Redact; !c.Dest.local && red.Len() > 0 && red.Contains(shell.Wrap(req)) && st.Secrets().First("ps "+st.HostString()) {
		st.Out().Line("warning", "a command line holds a secret (shown as ***): other users of the host can read it in ps while it runs; "+
			"give it on the command's input with {stdin = value}, or write it to a file with files.write or upload_template")
	}
	return shell.Run(ctx, c.Dest.Conn(st), req)
}

// readOnly reports whether --check may run c as a probe: it, and the
// prefixes it runs under, provably only read (shell.ReadOnly), and it
// needs no terminal.
func readOnly(st *luart.State, c Command) bool {
	if c.Terminal || c.Stdin != nil || !shell.ReadOnly(c.Line) {
		return false
	}
	if c.Scoped {
		for _, p := range st.Settings.Prefixes {
			if !shell.ReadOnly(p) {
				return false
			}
		}
	}
	return true
}

// acquireTerminal lends the person's terminal to command, waiting (and
// saying so) while another host has it; nil when there is none.
func acquireTerminal(st *luart.State, ctx context.Context, command string) (*host.TTY, error) {
	t := st.Run().Terminal
	if t == nil {
		return nil, nil
	}
	return t.Acquire(ctx, func() {
		st.Out().Line("waiting", "for the terminal (another host's interactive command has it): "+command)
	})
}

// MaxOutput is how much output a result keeps (--max-output).
func MaxOutput(st *luart.State) int {
	if n := st.Run().MaxOutput; n > 0 {
		return n
	}
	return shell.DefaultMaxOutput
}
