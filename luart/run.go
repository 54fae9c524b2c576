package luart

import (
	"context"
	"errors"
	"fmt"
	"strings"

	lua "github.com/yuin/gopher-lua"

	"github.com/gofab/gofab/internal/base/host"
)

// Args are a task's arguments: strings from "task:a,b,k=v", or plain
// values from execute().
type Args struct {
	Positional []string
	Named      map[string]string
	// Values follow Positional as args[n+1], args[n+2], …
	Values []any
}

// TaskError is a task that failed on a host.
type TaskError struct {
	Host string
	Msg  string // one line, with file:line where Lua gave one
	// Unreachable is set when the host could not be connected to.
	Unreachable bool
	Err         error
}

func (e *TaskError) Error() string { return e.Msg }

// Unwrap returns the cause when it was a Go error.
func (e *TaskError) Unwrap() error { return e.Err }

// RunTask runs a task on one host in a fresh state made from the shared
// bytecode, on the calling goroutine, and returns the task's return value
// as plain data. The state is closed before RunTask returns.
func (p *Program) RunTask(ctx context.Context, he *HostEnv, name string, args Args) (any, error) {
	st, fail, err := p.hostState(ctx, he)
	defer st.close()
	if err != nil {
		return nil, err
	}
	t, ok := p.Task(name)
	if !ok {
		return nil, fail(fmt.Sprintf("no task %q", name))
	}
	fn := st.fns[t.Name]
	if fn == nil {
		return nil, fail(fmt.Sprintf("%s: task %q was not declared in this host's state (is task() called conditionally?)", p.Path, name))
	}
	argt := st.L.CreateTable(len(args.Positional), len(args.Named))
	for i, a := range args.Positional {
		argt.RawSetInt(i+1, lua.LString(a))
	}
	for k, v := range args.Named {
		argt.RawSetString(k, lua.LString(v))
	}
	for i, v := range args.Values {
		argt.RawSetInt(len(args.Positional)+i+1, FromPlain(st.L, v))
	}
	err = st.L.CallByParam(lua.P{Fn: fn, NRet: 1, Protect: true}, argt)
	st.flushIO()
	if err != nil {
		return nil, fail(ErrorMessage(err))
	}
	if err := st.runHandlers(); err != nil {
		return nil, fail(err.Error())
	}
	ret := st.L.Get(-1)
	st.L.Pop(1)
	v, err := ToPlain(ret)
	if err != nil {
		return nil, fail(fmt.Sprintf("task %s returned a value that cannot leave its state: %v", name, err))
	}
	return v, nil
}

// RunCommand runs an ad-hoc command (gofab -- cmd) on one host as a
// synthetic task that calls run(command): the very path a task's run()
// takes, with --check, --dry-run, timeouts, output levels and interrupts.
func (p *Program) RunCommand(ctx context.Context, he *HostEnv, command string) error {
	st, fail, err := p.hostState(ctx, he)
	defer st.close()
	if err != nil {
		return err
	}
	fn := st.L.GetGlobal("run")
	if err := st.L.CallByParam(lua.P{Fn: fn, NRet: 0, Protect: true}, lua.LString(command)); err != nil {
		return fail(ErrorMessage(err))
	}
	return nil
}

// hostState makes a host's state and runs the fabfile's top level in it.
// fail turns a message into the host's *TaskError. The caller closes st.
func (p *Program) hostState(ctx context.Context, he *HostEnv) (st *State, fail func(string) error, err error) {
	st = newState(p, he)
	st.ctx = ctx
	st.L.SetContext(ctx)
	fail = func(msg string) error {
		e := &TaskError{Host: he.HostString, Msg: msg}
		if st.connErr != nil {
			e.Unreachable, e.Err = host.IsConnectError(st.connErr), st.connErr
			e.Msg = st.connErr.Error()
		}
		if ctx.Err() != nil && e.Err == nil {
			e.Err = context.Cause(ctx)
		}
		if e.Err == nil {
			e.Err = st.execErr
		}
		return e
	}
	if err := st.load(); err != nil {
		return st, fail, fail(err.Error())
	}
	st.setHostEnv()
	return st, fail, nil
}

// setHostEnv describes the current host once the top level ran: the
// global host (name, groups, merged vars) and, as in Fabric, env keys.
// A --set value wins over the inventory's.
func (st *State) setHostEnv() {
	he := st.he
	env := st.env()
	L := st.L
	vars := L.CreateTable(0, len(he.Vars))
	for k, v := range he.Vars {
		if sv, ok := st.prog.Set[k]; ok {
			v = sv
		} else {
			env.RawSetString(k, FromPlain(L, v))
		}
		vars.RawSetString(k, FromPlain(L, v))
	}
	for k, v := range st.prog.Set {
		if _, ok := he.Vars[k]; !ok && !strings.Contains(k, ".") {
			vars.RawSetString(k, FromPlain(L, v))
		}
	}
	name := he.HostString
	info := L.CreateTable(0, 3)
	info.RawSetString("name", lua.LString(name))
	info.RawSetString("groups", FromPlain(L, he.Groups))
	info.RawSetString("vars", vars)
	L.SetGlobal("host", info)
	env.RawSetString("host", lua.LString(he.Addr.Host))
	env.RawSetString("host_string", lua.LString(he.HostString))
	env.RawSetString("user", lua.LString(he.User))
	env.RawSetString("port", lua.LNumber(he.Port))
	roles := L.CreateTable(len(he.Roles), 0)
	for _, r := range he.Roles {
		roles.Append(lua.LString(r))
	}
	env.RawSetString("effective_roles", roles)
}

func (st *State) env() *lua.LTable {
	if t, ok := st.L.GetGlobal("env").(*lua.LTable); ok {
		return t
	}
	t := st.L.CreateTable(0, 16)
	st.L.SetGlobal("env", t)
	return t
}

// envPlain returns the env table as plain data, leaving out functions.
func (st *State) envPlain() (map[string]any, error) {
	out := map[string]any{}
	var err error
	st.env().ForEach(func(k, v lua.LValue) {
		ks, ok := k.(lua.LString)
		if !ok || err != nil {
			return
		}
		if _, isFn := v.(*lua.LFunction); isFn {
			return
		}
		var pv any
		if pv, err = ToPlain(v); err != nil {
			err = fmt.Errorf("%s: %w", string(ks), err)
			return
		}
		out[string(ks)] = pv
	})
	return out, err
}

// ErrorMessage returns the one-line message of a Lua error, without the
// stack traceback: "fabfile.lua:12: message".
func ErrorMessage(err error) string {
	var ae *lua.ApiError
	if errors.As(err, &ae) {
		msg := ""
		if ae.Object != nil {
			msg = ae.Object.String()
		}
		if msg == "" {
			msg = ae.Error()
		}
		if ae.Cause != nil && errors.Is(ae.Cause, context.Canceled) {
			return "interrupted"
		}
		first, _, _ := strings.Cut(strings.TrimSpace(msg), "\nstack traceback:")
		return strings.TrimSpace(first)
	}
	return err.Error()
}

// setPath sets a dotted key ("vars.src") in env, making nested tables.
func setPath(L *lua.LState, t *lua.LTable, key string, v any) {
	parts := strings.Split(key, ".")
	for _, p := range parts[:len(parts)-1] {
		next, ok := t.RawGetString(p).(*lua.LTable)
		if !ok {
			next = L.NewTable()
			t.RawSetString(p, next)
		}
		t = next
	}
	t.RawSetString(parts[len(parts)-1], FromPlain(L, v))
}
