package luart

import (
	"context"
	"fmt"
	"strings"

	lua "github.com/yuin/gopher-lua"

	"github.com/gofab/gofab/internal/base/event"
	"github.com/gofab/gofab/internal/base/host"
)

// Coordinator is what a host's state shares with the rest of the run: it
// runs nested tasks (execute), waits at barriers, holds values hosts
// publish to each other and counts changes. The executor implements it;
// only plain Go data crosses it.
type Coordinator interface {
	// Execute runs task on the hosts sel picks (the task's own when empty)
	// and returns each host's return value, or its error message.
	Execute(ctx context.Context, task string, sel ExecSelection, args Args) ([]ExecResult, error)
	// Barrier returns when every running host of the batch reached it.
	Barrier(ctx context.Context) error
	// Publish stores a value under key for every host of the run.
	Publish(key string, value any)
	// Lookup returns a published value; with wait it waits for it until
	// ctx ends.
	Lookup(ctx context.Context, key string, wait bool) (any, bool, error)
	// Changed adds n to the host's count of changes.
	Changed(n int)
}

// ExecSelection is the host selection execute() was given.
type ExecSelection struct {
	Hosts, Roles, Exclude []string
}

// executeOpts are execute()'s options (ExecuteOptions), decoded from
// their declaration.
type executeOpts struct {
	Hosts        NameList `lua:"hosts"`
	On           NameList `lua:"on"` // a pattern, as hosts' entries are; hosts wins
	Roles        NameList `lua:"roles"`
	ExcludeHosts NameList `lua:"exclude_hosts"`
	WarnOnly     bool     `lua:"warn_only"`
}

// ExecResult is one host's outcome of an execute().
type ExecResult struct {
	Host  string
	Value any
	Err   string // empty when the task succeeded
	// Skipped is a host not run (unreachable under --skip-bad-hosts, or
	// past max_fail): it does not fail the caller.
	Skipped bool
}

// Changed records that a built-in function changed n things on the host,
// for the run's recap; what, when given, describes them for the events
// (and the --report page).
func (st *State) Changed(n int, what ...string) {
	if st.he != nil && st.he.Coord != nil {
		st.he.Coord.Changed(n)
	}
	if st.he != nil && st.he.Out != nil {
		for _, w := range what {
			st.he.Out.Event(event.Change{What: w})
		}
	}
}

func (st *State) coord(fname string) Coordinator {
	st.RequireTask(fname)
	if st.he.Coord == nil {
		st.L.RaiseError("%s() is not available here", fname)
	}
	return st.he.Coord
}

func luaExecute(st *State) int {
	L := st.L
	c := st.coord("execute")
	var name string
	switch v := L.Get(1).(type) {
	case lua.LString:
		name = string(v)
	case *lua.LFunction:
		for n, fn := range st.fns {
			if fn == v {
				name = n
			}
		}
		if name == "" {
			L.ArgError(1, "execute: this function is not a declared task")
		}
	default:
		L.ArgError(1, "execute: give a task name or a task's function")
	}
	if t, ok := st.prog.Task(name); ok {
		name = t.Name
	} else {
		L.ArgError(1, fmt.Sprintf("execute: no task %q", name))
	}
	var opts executeOpts
	st.DecodeOpts(&opts)
	sel := ExecSelection{Hosts: opts.Hosts, Roles: opts.Roles, Exclude: opts.ExcludeHosts}
	if sel.Hosts == nil {
		sel.Hosts = opts.On
	}
	var args Args
	for i := 3; i <= L.GetTop(); i++ {
		v, err := ToPlain(L.Get(i))
		if err != nil {
			L.ArgError(i, "execute: arguments must be plain data: "+err.Error())
		}
		args.Values = append(args.Values, v)
	}
	results, err := c.Execute(st.ctx, name, sel, args)
	st.execErr = err
	if err != nil {
		L.RaiseError("execute(%q): %v", name, err)
	}
	if failed := execFailures(results); failed != "" && !st.Settings.WarnOnly && !opts.WarnOnly {
		// Fabric's execute aborts the caller; warn_only gets the table.
		L.RaiseError("execute(%q) failed on %s (pass {warn_only = true} to get every host's result instead)", name, failed)
	}
	t := L.CreateTable(0, len(results))
	for _, r := range results {
		if r.Err != "" {
			e := L.CreateTable(0, 1)
			e.RawSetString("error", lua.LString(r.Err))
			t.RawSetString(r.Host, e)
			continue
		}
		v := FromPlain(L, r.Value)
		if v == lua.LNil {
			v = lua.LTrue // a host that returned nothing still succeeded
		}
		t.RawSetString(r.Host, v)
	}
	L.Push(t)
	return 1
}

// execFailures names the hosts that failed (skipped ones aside) and the
// first error, or "" when none did.
func execFailures(results []ExecResult) string {
	var hosts []string
	first := ""
	for _, r := range results {
		if r.Err != "" && !r.Skipped {
			hosts = append(hosts, r.Host)
			if first == "" {
				first = r.Err
			}
		}
	}
	if len(hosts) == 0 {
		return ""
	}
	return fmt.Sprintf("%d of %d hosts (%s): %s", len(hosts), len(results), strings.Join(hosts, ", "), first)
}

func luaBarrier(st *State) int {
	if err := st.coord("barrier").Barrier(st.ctx); err != nil {
		st.L.RaiseError("barrier: %v", err)
	}
	return 0
}

// sharedModule is require("shared"): values one host publishes for the
// others during a run.
var sharedModule = Module{
	Name: "shared",
	Doc:  "Values hosts publish to each other during a run (plain data: strings, numbers, booleans, tables of those).",
	Funcs: []Func{
		{Name: "set", Doc: "Publishes value under key for every host of the run.",
			Params: []Param{{Name: "key", Type: "string"}, {Name: "value", Type: "any"}},
			Fn:     luaSharedSet},
		{Name: "get", Doc: "Returns the value published under key, or nil.",
			Params: []Param{{Name: "key", Type: "string"}}, Returns: []Param{{Type: "any"}},
			Fn: func(st *State) int { return sharedLookup(st, "shared.get", false) }},
		{Name: "wait", Doc: "Waits until a value is published under key (at most timeout seconds) and returns it.",
			Params:  []Param{{Name: "key", Type: "string"}, {Name: "timeout", Type: "number", Optional: true}},
			Returns: []Param{{Type: "any"}},
			Fn:      func(st *State) int { return sharedLookup(st, "shared.wait", true) }},
	},
}

func sharedLookup(st *State, fname string, wait bool) int {
	L := st.L
	key := L.CheckString(1)
	ctx := st.ctx
	if wait && L.Get(2) != lua.LNil {
		var cancel context.CancelFunc
		d, err := host.Seconds(float64(L.CheckNumber(2)))
		if err != nil {
			L.ArgError(2, err.Error())
		}
		ctx, cancel = context.WithTimeout(ctx, d)
		defer cancel()
	}
	v, ok, err := st.coord(fname).Lookup(ctx, key, wait)
	if err != nil {
		L.RaiseError("%s(%q): %v", fname, key, err)
	}
	if !ok {
		L.Push(lua.LNil)
		return 1
	}
	L.Push(FromPlain(L, v))
	return 1
}

// luaSharedSet is shared.set().
func luaSharedSet(st *State) int {
	key := st.L.CheckString(1)
	v, err := ToPlain(st.L.Get(2))
	if err != nil {
		st.L.ArgError(2, "shared.set: "+err.Error())
	}
	st.coord("shared.set").Publish(key, v)
	return 0
}
