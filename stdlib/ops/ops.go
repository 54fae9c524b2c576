// Package ops provides Fabric's operations to fabfiles: run, sudo,
// run_local, shell_quote, and the transfers put, get and sync.
package ops

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	lua "github.com/yuin/gopher-lua"

	"github.com/gofab/gofab/internal/base/host"
	"github.com/gofab/gofab/internal/transport/shell"
	"github.com/gofab/gofab/luart"
	"github.com/gofab/gofab/stdlib/hostio"
)

const resultMeta = "gofab.Result"

var cmdParam = luart.Param{Name: "command", Type: "string|string[]", Doc: "a shell command line, or an argv list whose elements are quoted"}

// Module returns the operations, registered as globals.
func Module() luart.Module {
	return luart.Module{
		Doc:        "Running commands on the current host and on this machine.",
		TableTypes: []*luart.TableType{resultType, runOptionsType, sudoOptionsType, putOptionsType, getOptionsType, syncOptionsType, syncDetailsType, rebootOptionsType},
		Funcs: append([]luart.Func{
			{Name: "run", Doc: "Runs a command on the current host through its login shell and returns its Result.\nA non-OK exit raises an error naming host, command and exit code, unless warn_only.",
				Params:  []luart.Param{cmdParam, luart.OptionsParam(runOptionsType)},
				Returns: []luart.Param{{Type: "Result"}},
				Fn:      func(st *luart.State) int { return run(st, host.KindRun) }},
			{Name: "sudo", Doc: "Runs a command as root (or options.user) with sudo on the current host.\nThe whole command, with cd, prefix, env and path, runs inside sudo; its password prompt is answered from GOFAB_SUDO_PASSWORD, --sudo-password-prompt or the login password.",
				Params:  []luart.Param{cmdParam, luart.OptionsParam(sudoOptionsType)},
				Returns: []luart.Param{{Type: "Result"}},
				Fn:      func(st *luart.State) int { return run(st, host.KindSudo) }},
			{Name: "run_local", Doc: "Runs a command on this machine (Fabric's local) with sh -c, honouring lcd, prefix, shell_env and path.",
				Params:  []luart.Param{cmdParam, luart.OptionsParam(runOptionsType)},
				Returns: []luart.Param{{Type: "Result"}},
				Fn:      func(st *luart.State) int { return run(st, host.KindLocal) }},
			{Name: "open_shell", Doc: "Opens an interactive login shell on the current host, on your terminal (Fabric's open_shell); command, when given, is typed into it first. Hosts take turns at the terminal.",
				Params: []luart.Param{{Name: "command", Type: "string", Optional: true}},
				Fn:     openShell},
			{Name: "shell_quote", Doc: "Quotes a string (or each element of a list, joined by spaces) for a POSIX shell.",
				Params:  []luart.Param{{Name: "value", Type: "string|string[]"}},
				Returns: []luart.Param{{Type: "string"}},
				Fn:      luaShellQuote},
		}, append(transferFuncs(), rebootFunc)...),
	}
}

// commandArg reads a command: a string as is, or an argv list quoted.
func commandArg(st *luart.State, idx int) string {
	L := st.L
	switch v := L.Get(idx).(type) {
	case lua.LString:
		return string(v)
	case lua.LNumber:
		return v.String()
	case *lua.LTable:
		var argv []string
		for i := 1; i <= v.Len(); i++ {
			e := v.RawGetInt(i)
			switch e.(type) {
			case lua.LString, lua.LNumber:
				argv = append(argv, e.String())
			default:
				L.ArgError(idx, fmt.Sprintf("argv element %d is a %s, not a string", i, e.Type()))
			}
		}
		if len(argv) == 0 {
			L.ArgError(idx, "empty argv list")
		}
		return host.QuoteArgv(argv)
	}
	L.ArgError(idx, "command must be a string or a list of strings")
	return ""
}

// runOpts are run's and run_local's options (RunOptions), decoded from
// their declaration.
type runOpts struct {
	WarnOnly  bool          `lua:"warn_only"`
	Quiet     bool          `lua:"quiet"`
	Pty       bool          `lua:"pty"`
	Timeout   time.Duration `lua:"timeout"`
	OKCodes   []int         `lua:"ok_codes"`
	Env       lua.LValue    `lua:"env"`   // read by st.EnvVars
	Stdin     lua.LValue    `lua:"stdin"` // tostring()'d: a secret's value too
	CheckSafe bool          `lua:"check_safe"`
}

// sudoOpts are sudo's (SudoOptions).
type sudoOpts struct {
	runOpts
	User  string `lua:"user"`
	Group string `lua:"group"`
}

// readOpts reads run's, sudo's and run_local's options over the scope's
// defaults (warn_only, pty, timeout, sudo_user); quiet implies warn_only.
func readOpts(st *luart.State, kind host.Kind) (o sudoOpts, env [][2]string, stdin *string) {
	L := st.L
	s := st.Settings
	o = sudoOpts{runOpts: runOpts{WarnOnly: s.WarnOnly, Pty: s.Pty, Timeout: s.Timeout, OKCodes: []int{0}}, User: s.SudoUser, Group: s.SudoGroup}
	if kind == host.KindSudo {
		st.DecodeOpts(&o)
	} else {
		st.DecodeOpts(&o.runOpts)
	}
	if o.Env != nil {
		L.Push(o.Env)
		for _, e := range st.EnvVars(L.GetTop()) {
			env = append(env, [2]string{e.Name, e.Value})
		}
		L.Pop(1)
	}
	if o.Stdin != nil {
		text := L.ToStringMeta(o.Stdin).String()
		stdin = &text
	}
	if o.Quiet {
		o.WarnOnly = true
	}
	return o, env, stdin
}

func luaName(kind host.Kind) string {
	if kind == host.KindLocal {
		return "run_local"
	}
	return kind.String()
}

// run is run(), sudo() and run_local(): it runs the command through the
// one command path and turns what came back into a Result, or an error.
func run(st *luart.State, kind host.Kind) int {
	L := st.L
	name := luaName(kind)
	st.RequireTask(name)
	command := commandArg(st, 1)
	o, env, stdin := readOpts(st, kind)
	c := hostio.Command{
		Line: command, Sudo: kind == host.KindSudo, User: o.User, Group: o.Group,
		Scoped: true, Env: env, Pty: o.Pty, Timeout: o.Timeout, Show: !o.Quiet, ReadOnly: o.CheckSafe,
	}
	if kind == host.KindLocal {
		c.Dest = hostio.ThisMachine
	}
	if stdin != nil {
		c.Stdin = strings.NewReader(*stdin)
	}
	if o.Pty && kind != host.KindLocal && st.HostString() != host.Local {
		// On a terminal, an interactive command gets it, one host at a
		// time; without one, the pty is only for commands that want one.
		c.Terminal = true
	}
	res, err := hostio.Run(st, st.Context(), c)
	where := "locally"
	if kind != host.KindLocal {
		where = "on " + st.HostString()
	}
	call := fmt.Sprintf("%s(%q) %s", name, command, where)
	timedOut := false
	switch {
	case err == nil:
	case errors.Is(err, hostio.ErrSkipped):
		// --check: commands may change the host, so they are reported,
		// not run, unless the call says it only reads.
		if !o.Quiet && st.Shown("running") {
			st.Out().Line("skipped", name+": "+command+" (check mode; pass {check_safe = true} to run it)")
		}
		t := newResult(st, command, shell.Result{}, true, false)
		resultType.Set(t, "skipped", lua.LTrue)
		L.Push(t)
		return 1
	case shell.IsTimeout(err) && o.WarnOnly:
		timedOut = true
		res.Code = -1
	case errors.Is(err, context.Canceled):
		L.RaiseError("%s: interrupted", call)
	default:
		L.RaiseError("%s: %v", call, err)
	}
	L.Push(newResult(st, command, res, o.judge(st, call, res, err, timedOut), timedOut))
	return 1
}

// judge decides whether a finished command is OK: its exit code is in
// ok_codes and it did not time out. Otherwise it raises the error, or,
// under warn_only, prints it as a warning. Output past --max-output is
// warned about too.
func (o runOpts) judge(st *luart.State, call string, res shell.Result, err error, timedOut bool) bool {
	if res.Truncated && st.Shown("warnings") {
		st.Out().Line("warning", fmt.Sprintf("%s: output past %d MiB was shown but not kept in the result (see --max-output)", call, hostio.MaxOutput(st)>>20))
	}
	if !timedOut && slices.Contains(o.OKCodes, res.Code) {
		return true
	}
	msg := fmt.Sprintf("%s exited with code %d", call, res.Code)
	if timedOut {
		msg = fmt.Sprintf("%s: %v", call, err)
	}
	if !o.WarnOnly {
		st.L.RaiseError("%s", msg)
	}
	if !o.Quiet && st.Shown("warnings") {
		st.Out().Line("warning", msg)
	}
	return false
}

// openShell runs an interactive login shell on the terminal.
func openShell(st *luart.State) int {
	L := st.L
	st.RequireTask("open_shell")
	if st.Run().Terminal == nil {
		L.RaiseError("open_shell() on %s needs a terminal (stdin and stdout are not one)", st.HostString())
	}
	c := hostio.Command{Line: `exec "${SHELL:-/bin/sh}" -l`, Terminal: true, Typed: L.OptString(1, ""),
		Keep: 1 << 20, Show: true, ReadOnly: true} // a session's output is not returned
	if _, err := hostio.Run(st, st.Context(), c); err != nil && !errors.Is(err, context.Canceled) {
		L.RaiseError("open_shell on %s: %v", st.HostString(), err)
	}
	return 0
}

func newResult(st *luart.State, command string, res shell.Result, ok, timedOut bool) *lua.LTable {
	L := st.L
	t := L.CreateTable(0, 10)
	set := func(name string, v lua.LValue) { resultType.Set(t, name, v) }
	set("stdout", lua.LString(res.Stdout))
	set("stderr", lua.LString(res.Stderr))
	set("code", lua.LNumber(res.Code))
	set("ok", lua.LBool(ok))
	set("failed", lua.LBool(!ok))
	set("succeeded", lua.LBool(ok))
	set("timed_out", lua.LBool(timedOut))
	set("command", lua.LString(command))
	set("host", lua.LString(st.HostString()))
	if res.Truncated {
		set("truncated", lua.LTrue)
	}
	L.SetMetatable(t, st.Metatable(resultMeta, func(mt *lua.LTable) {
		mt.RawSetString("__tostring", L.NewFunction(func(L *lua.LState) int {
			r := L.CheckTable(1)
			L.Push(lua.LString(strings.TrimSuffix(lua.LVAsString(r.RawGetString("stdout")), "\n")))
			return 1
		}))
	}))
	return t
}

// luaShellQuote is shell_quote().
func luaShellQuote(st *luart.State) int {
	if s, ok := st.L.Get(1).(lua.LString); ok {
		st.L.Push(lua.LString(host.Quote(string(s))))
	} else {
		st.L.Push(lua.LString(commandArg(st, 1)))
	}
	return 1
}
