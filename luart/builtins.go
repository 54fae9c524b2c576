package luart

import (
	"errors"
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"

	lua "github.com/yuin/gopher-lua"

	"github.com/gofab/gofab/internal/base/host"
)

var scopedFn = Param{Name: "fn", Type: "fun(): any", Doc: "runs with the setting; its results are returned"}

// builtins are the globals luart itself provides: the task DSL, scoped
// settings and the messages that go through the host's output.
// outputLevelAlias is the LuaLS enum of AllLevels.
var outputLevelAlias = `---@alias OutputLevel "` + strings.Join(AllLevels(), `"|"`) + `"`

// notAnOptionAlias is the type of every key an options class does not
// declare (see TableType.writeClass): only this text is assignable to it,
// so LuaLS warns on a misspelled option whatever its value.
const notAnOptionAlias = `---A key no gofab function takes as an option: a misspelled name?
---@alias NotAnOption "(not an option)"`

// levelOverloads are hide's and show's call forms with levels one by one:
// hide("running", "stdout", fn).
var levelOverloads = []string{
	"fun(l1: OutputLevel, l2: OutputLevel, fn: fun(): any): any",
	"fun(l1: OutputLevel, l2: OutputLevel, l3: OutputLevel, fn: fun(): any): any",
}

var builtins = Module{
	Doc:        "Global functions available in every fabfile.",
	TableTypes: []*TableType{taskOptionsType, executeOptionsType},
	Types: outputLevelAlias + "\n\n" + notAnOptionAlias + `

---@class Env: table
---@field [string] any any key the fabfile or --set gives
---@field hosts string[] hosts tasks run on by default
---@field roles string[] roles tasks run on by default
---@field roledefs table<string, string[]|{hosts: string[], vars: table}> named groups of hosts
---@field exclude_hosts string[] hosts never run on
---@field host string current host name (inside a task)
---@field host_string string current host string as given
---@field user string login user on the current host
---@field port integer port on the current host
---@field effective_roles string[] roles that selected the current host
---@field real_fabfile string absolute path of the fabfile
---@field local_user string the user running gofab on this machine
env = {}

---The fabfile's tasks as functions: tasks.build(args) calls task build on the current host (as call("build", args)); tasks["db.migrate"] for a module's.
---@type table<string, fun(args?: table): any>
tasks = {}`,
	Funcs: []Func{
		{Name: "task", Doc: "Declares a task. The function receives the task's arguments: positional at 1..n, k=v by name (all strings).",
			Params:    []Param{{Name: "name", Type: "string"}, {Name: "doc_or_options", Type: "string|TaskOptions", Optional: true, Options: taskOptionsType}, {Name: "fn", Type: "fun(args: table): any"}},
			Overloads: []string{"fun(name: string, fn: fun(args: table): any)"},
			Fn:        luaTask},
		{Name: "cd", Doc: "Runs fn with remote commands executed in dir (relative dirs nest).",
			Params: []Param{{Name: "dir", Type: "string"}, scopedFn}, Returns: []Param{{Type: "any"}},
			Fn: func(st *State) int {
				dir := st.L.CheckString(1)
				return st.scoped(2, func() { st.Settings.Cwd = joinDir(st.Settings.Cwd, dir) })
			}},
		{Name: "lcd", Doc: "Runs fn with run_local commands executed in the local dir.",
			Params: []Param{{Name: "dir", Type: "string"}, scopedFn}, Returns: []Param{{Type: "any"}},
			Fn: func(st *State) int {
				dir := st.L.CheckString(1)
				return st.scoped(2, func() { st.Settings.Lcwd = joinDir(st.Settings.Lcwd, dir) })
			}},
		{Name: "prefix", Doc: "Runs fn with every command preceded by `command &&`.",
			Params: []Param{{Name: "command", Type: "string"}, scopedFn}, Returns: []Param{{Type: "any"}},
			Fn: func(st *State) int {
				c := st.L.CheckString(1)
				return st.scoped(2, func() { st.Settings.Prefixes = append(st.Settings.Prefixes, c) })
			}},
		{Name: "shell_env", Doc: "Runs fn with the variables exported to every command.",
			Params: []Param{{Name: "vars", Type: "table<string, string>"}, scopedFn}, Returns: []Param{{Type: "any"}},
			Fn: func(st *State) int {
				vars := st.envVars(1)
				return st.scoped(2, func() { st.Settings.ShellEnv = append(st.Settings.ShellEnv, vars...) })
			}},
		{Name: "path", Doc: "Runs fn with dir added to PATH: behavior is \"append\" (default), \"prepend\" or \"replace\".",
			Params: []Param{{Name: "dir", Type: "string"}, {Name: "behavior", Type: "\"append\"|\"prepend\"|\"replace\"", Optional: true}, scopedFn}, Returns: []Param{{Type: "any"}},
			Overloads: []string{"fun(dir: string, fn: fun(): any): any"},
			Fn:        luaPath},
		{Name: "with_settings", Doc: "Runs fn with env keys set to the given values (warn_only, sudo_user, command_timeout, … or any key), restoring them after.",
			Params: []Param{{Name: "settings", Type: "table"}, scopedFn}, Returns: []Param{{Type: "any"}},
			Fn: luaWithSettings},
		{Name: "warn_only", Doc: "Runs fn with failing commands turned into warnings instead of errors.",
			Params: []Param{scopedFn}, Returns: []Param{{Type: "any"}},
			Fn: func(st *State) int { return st.scoped(1, func() { st.Settings.WarnOnly = true }) }},
		{Name: "quiet", Doc: "Runs fn with all output hidden and warn_only on.",
			Params: []Param{scopedFn}, Returns: []Param{{Type: "any"}},
			Fn: luaQuiet},
		{Name: "hide", Doc: "Runs fn with the output levels hidden: status, aborts, warnings, running, stdout, stderr, user, debug, exceptions, or the aliases output, everything, commands.",
			Params: []Param{{Name: "levels", Type: "OutputLevel|OutputLevel[]"}, scopedFn}, Returns: []Param{{Type: "any"}},
			Overloads: levelOverloads,
			Fn:        func(st *State) int { return st.levels(true) }},
		{Name: "show", Doc: "Runs fn with the output levels shown (see hide).",
			Params: []Param{{Name: "levels", Type: "OutputLevel|OutputLevel[]"}, scopedFn}, Returns: []Param{{Type: "any"}},
			Overloads: levelOverloads,
			Fn:        func(st *State) int { return st.levels(false) }},
		{Name: "call", Doc: "Calls a task's function on the current host, as Fabric calls a task function, and returns what it returns (tasks.name(args) does the same).",
			Params:  []Param{{Name: "name", Type: "string", Doc: "a task's name (\"mod.task\" for a module's) or alias"}, {Name: "args", Type: "table", Optional: true, Doc: "the task's arguments (default {})"}},
			Returns: []Param{{Type: "any"}},
			Fn:      luaCall},
		{Name: "sleep", Doc: "Waits seconds (fractions too), as Fabric's time.sleep; an interrupt ends it.",
			Params: []Param{{Name: "seconds", Type: "number"}}, Fn: luaSleep},
		{Name: "puts", Doc: "Prints a line in the host's prefixed output (output level \"user\"); several values are joined by spaces.",
			Params: []Param{{Name: "text", Type: "any"}}, Variadic: true,
			Fn: luaPuts},
		{Name: "print", Doc: "Prints its arguments, tab-separated, as one line of the host's output.",
			Params: []Param{{Name: "values", Type: "any"}}, Variadic: true,
			Fn: luaPrint},
		{Name: "warn", Doc: "Prints a warning for the current host (output level \"warnings\").",
			Params: []Param{{Name: "message", Type: "string"}},
			Fn: func(st *State) int {
				st.say("warnings", "warning", st.L.CheckString(1))
				return 0
			}},
		{Name: "abort", Doc: "Stops the task on this host with an error.",
			Params: []Param{{Name: "message", Type: "string"}},
			Fn: func(st *State) int {
				st.L.RaiseError("aborted: %s", st.L.CheckString(1))
				return 0
			}},
		{Name: "prompt", Doc: "Asks the person (at the terminal, or a line of piped stdin, as Fabric did) and returns the answer. With a key, env[key] set by --set key=… answers without asking, and the answer is stored there.",
			Params:  []Param{{Name: "text", Type: "string"}, {Name: "options", Type: "{default?: string, validate?: string, key?: string}|string", Doc: "a default answer, or options: validate is a Lua pattern the answer must match, key stores the answer in env (and --set key=… answers)", Optional: true}},
			Returns: []Param{{Type: "string"}},
			Fn:      luaPrompt},
		{Name: "confirm", Doc: "Asks a yes/no question (at the terminal, or a line of piped stdin) and returns the answer; --yes answers yes, and with a key, --set key=yes|no answers.",
			Params:  []Param{{Name: "question", Type: "string"}, {Name: "default", Type: "boolean|{default?: boolean, key?: string}", Optional: true, Doc: "answer for an empty reply (true), or options with the env key that answers"}},
			Returns: []Param{{Type: "boolean"}},
			Fn:      luaConfirm},
		{Name: "execute", Doc: "Runs a task on other hosts (each in its own state, concurrently up to the pool size) and returns {[host] = return value}. A host that failed fails the caller, as in Fabric; with {warn_only = true} (or under warn_only) it maps to {error = \"...\"} instead.\nWithout options the task's own hosts (or the run's) are used. Extra arguments reach the task as args[1], args[2], … (plain data only).",
			Params:   []Param{{Name: "task", Type: "string|function"}, OptionsParam(executeOptionsType), {Name: "args", Type: "any"}},
			Variadic: true,
			Returns:  []Param{{Type: "table<string, any>"}},
			Fn:       luaExecute},
		{Name: "barrier", Doc: "Waits until every running host of the current batch reaches this point (e.g. all drain before any restarts).",
			Fn: luaBarrier},
		{Name: "handler", Doc: "Registers a handler: notify(name) in a task runs it once, when the task has ended well, on the hosts that notified it (e.g. restart nginx after its config changed).",
			Params: []Param{{Name: "name", Type: "string"}, {Name: "fn", Type: "fun()"}},
			Fn:     luaHandler},
		{Name: "notify", Doc: "Asks for the handler name to run once at the end of the current task on this host.",
			Params: []Param{{Name: "name", Type: "string"}},
			Fn:     luaNotify},
		{Name: "require_env", Doc: "Fails unless every named env key is set (Fabric's require).",
			Params: []Param{{Name: "keys", Type: "string|{used_for?: string, provided_by?: string[]}"}}, Variadic: true,
			Fn: luaRequireEnv},
	},
}

// Builtins returns the modules luart provides itself: its globals and
// require("shared").
func Builtins() []Module {
	return []Module{builtins, inventoryGlobals, sharedModule, inventoryModule, jsonModule, colorsModule}
}

func luaTask(st *State) int {
	L := st.L
	name := L.CheckString(1)
	if name == "" || strings.ContainsAny(name, " \t:,=") {
		L.ArgError(1, "task names may not be empty or contain spaces, ':', ',' or '='")
	}
	t := &Task{Name: name}
	if dbg, ok := L.GetStack(1); ok {
		if _, err := L.GetInfo("Sl", dbg, lua.LNil); err == nil {
			t.Line, t.File = dbg.CurrentLine, dbg.Source
		}
	}
	fnIdx := 2
	switch o := L.Get(2).(type) {
	case lua.LString:
		t.Doc, fnIdx = string(o), 3
	case *lua.LTable:
		fnIdx = 3
		st.taskOptions(t, o)
	}
	fn := L.CheckFunction(fnIdx)
	if ns := st.namespace(); ns != "" {
		// A module's tasks live in its namespace; its default task is
		// reached by the module's name.
		name = ns + "." + name
		t.Name = name
		if t.Default {
			t.Default = false
			t.Aliases = append(t.Aliases, ns)
		}
	}
	if _, dup := st.fns[name]; dup {
		for _, prev := range st.tasks {
			if prev.Name == name {
				L.RaiseError("task %q is declared twice (first at line %d)", name, prev.Line)
			}
		}
	}
	st.tasks = append(st.tasks, t)
	st.fns[name] = fn
	return 0
}

// taskOpts are a task's options (TaskOptions), decoded from their
// declaration.
type taskOpts struct {
	Doc          string     `lua:"doc"`
	Hosts        NameList   `lua:"hosts"`
	On           NameList   `lua:"on"` // a pattern; entries of hosts are patterns too
	Roles        NameList   `lua:"roles"`
	ExcludeHosts NameList   `lua:"exclude_hosts"`
	Alias        NameList   `lua:"alias"`
	Aliases      NameList   `lua:"aliases"`
	Default      bool       `lua:"default"`
	RunsOnce     bool       `lua:"runs_once"`
	Shard        *int       `lua:"shard"`
	Serial       bool       `lua:"serial"`
	Parallel     bool       `lua:"parallel"`
	FailFast     bool       `lua:"fail_fast"`
	Private      bool       `lua:"private"`
	PoolSize     *int       `lua:"pool_size"`
	Batch        lua.LValue `lua:"batch"`
	MaxFail      lua.LValue `lua:"max_fail"`
}

func (st *State) taskOptions(t *Task, o *lua.LTable) {
	L := st.L
	var opts taskOpts
	if err := taskOptionsType.Decode(o, &opts); err != nil {
		L.RaiseError("task %q: %v", t.Name, err)
	}
	if opts.Shard != nil && *opts.Shard < 0 {
		L.RaiseError("task %q: shard must be a shard number (0 for the first)", t.Name)
	}
	if opts.PoolSize != nil {
		if *opts.PoolSize < 1 {
			L.RaiseError("task %q: pool_size must be a whole number of hosts", t.Name)
		}
		t.PoolSize = *opts.PoolSize
	}
	t.Doc, t.Default, t.RunsOnce, t.Shard = opts.Doc, opts.Default, opts.RunsOnce, opts.Shard
	t.Serial, t.Parallel, t.FailFast, t.Private = opts.Serial, opts.Parallel, opts.FailFast, opts.Private
	t.Hosts = append(opts.Hosts, opts.On...)
	t.Roles, t.ExcludeHosts = opts.Roles, opts.ExcludeHosts
	t.Aliases = append(opts.Alias, opts.Aliases...)
	if opts.Batch != nil {
		pv := st.plain("batch", t, opts.Batch)
		items, isList := pv.([]any)
		if !isList {
			items = []any{pv}
		}
		for _, it := range items {
			b, err := Amount(it)
			if err != nil {
				L.RaiseError("task %q: batch: %v", t.Name, err)
			}
			t.Batch = append(t.Batch, b)
		}
	}
	if opts.MaxFail != nil {
		m, err := Amount(st.plain("max_fail", t, opts.MaxFail))
		if err != nil {
			L.RaiseError("task %q: max_fail: %v", t.Name, err)
		}
		t.MaxFail = m
	}
}

// plain is option key of task t as plain data, raising a Lua error for a
// value that has none (a function).
func (st *State) plain(key string, t *Task, v lua.LValue) any {
	pv, err := ToPlain(v)
	if err != nil {
		st.L.RaiseError("task %q: option %s: %v", t.Name, key, err)
	}
	return pv
}

// Amount checks a batch or max_fail value: a whole number of hosts or a
// percentage such as "25%", and returns it as a string.
func Amount(v any) (string, error) {
	switch x := v.(type) {
	case int64:
		if x >= 0 {
			return fmt.Sprint(x), nil
		}
	case string:
		num := strings.TrimSuffix(x, "%")
		if n, err := strconv.ParseFloat(num, 64); err == nil && n >= 0 && (num != x || n == float64(int64(n))) {
			return x, nil
		}
	}
	return "", fmt.Errorf("%v is not a number of hosts or a percentage like \"25%%\"", v)
}

// runHandlers runs the notified handlers once each, in notification
// order, after the task ended well.
func (st *State) runHandlers() error {
	ran := map[string]bool{}
	for len(st.notified) > 0 {
		name := st.notified[0]
		st.notified = st.notified[1:]
		if ran[name] {
			continue
		}
		ran[name] = true
		st.say("running", "handler", name)
		if err := st.L.CallByParam(lua.P{Fn: st.handlers[name], NRet: 0, Protect: true}); err != nil {
			return fmt.Errorf("handler %q: %s", name, ErrorMessage(err))
		}
	}
	return nil
}

// scoped runs the function at fnIdx with apply's changes to the settings
// and restores them afterwards, even when the function raised an error,
// which is then raised again. It returns the function's results.
func (st *State) scoped(fnIdx int, apply func()) int {
	L := st.L
	fn := L.CheckFunction(fnIdx)
	saved := st.Settings.clone()
	apply()
	base := L.GetTop()
	L.Push(fn)
	err := L.PCall(0, lua.MultRet, nil)
	st.Settings = saved
	if err != nil {
		reraise(L, err)
	}
	return L.GetTop() - base
}

// reraise raises the error a PCall returned, keeping its message as is.
func reraise(L *lua.LState, err error) {
	var ae *lua.ApiError
	if errors.As(err, &ae) && ae.Object != nil && ae.Object != lua.LNil {
		L.Error(ae.Object, 0)
	}
	L.RaiseError("%s", err.Error())
}

var envName = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// envVars reads a table of NAME = value into sorted EnvVars.
func (st *State) envVars(idx int) []EnvVar {
	L := st.L
	t := L.CheckTable(idx)
	var vars []EnvVar
	t.ForEach(func(k, v lua.LValue) {
		name := k.String()
		if !envName.MatchString(name) {
			L.ArgError(idx, fmt.Sprintf("%q is not a valid environment variable name", name))
		}
		vars = append(vars, EnvVar{Name: name, Value: L.ToStringMeta(v).String()})
	})
	sort.Slice(vars, func(i, j int) bool { return vars[i].Name < vars[j].Name })
	return vars
}

// EnvVars reads a table of NAME = value at idx into sorted EnvVars,
// raising an argument error on an invalid name.
func (st *State) EnvVars(idx int) []EnvVar { return st.envVars(idx) }

func luaPath(st *State) int {
	L := st.L
	dir := L.CheckString(1)
	mode, fnIdx := "append", 2
	if s, ok := L.Get(2).(lua.LString); ok {
		mode, fnIdx = string(s), 3
		if mode != "append" && mode != "prepend" && mode != "replace" {
			L.ArgError(2, "behavior must be \"append\", \"prepend\" or \"replace\"")
		}
	}
	return st.scoped(fnIdx, func() {
		if st.Settings.Path != "" && mode != "replace" {
			if mode == "append" {
				dir = st.Settings.Path + ":" + dir
			} else {
				dir = dir + ":" + st.Settings.Path
			}
		}
		st.Settings.Path, st.Settings.PathMode = dir, mode
	})
}

func luaWithSettings(st *State) int {
	L := st.L
	t := L.CheckTable(1)
	L.CheckFunction(2)
	env := st.env()
	type saved struct {
		key string
		old lua.LValue
	}
	var olds []saved
	apply := func() {
		t.ForEach(func(k, v lua.LValue) {
			key := k.String()
			olds = append(olds, saved{key, env.RawGetString(key)})
			env.RawSetString(key, v)
			switch key {
			case "warn_only":
				st.Settings.WarnOnly = lua.LVAsBool(v)
			case "cwd":
				st.Settings.Cwd = v.String()
			case "lcwd":
				st.Settings.Lcwd = v.String()
			case "sudo_user":
				st.Settings.SudoUser = v.String()
			case "sudo_group":
				st.Settings.SudoGroup = v.String()
			case "always_use_pty", "pty":
				st.Settings.Pty = lua.LVAsBool(v)
			case "command_timeout":
				n, ok := v.(lua.LNumber)
				d, err := host.Seconds(float64(n))
				if !ok || err != nil {
					L.RaiseError("with_settings: command_timeout must be a number of seconds")
				}
				st.Settings.Timeout = d
			case "shell_env":
				L.Push(v)
				st.Settings.ShellEnv = append(st.Settings.ShellEnv, st.envVars(L.GetTop())...)
				L.Pop(1)
			case "path":
				st.Settings.Path = v.String()
			}
		})
	}
	defer func() {
		for i := len(olds) - 1; i >= 0; i-- {
			env.RawSetString(olds[i].key, olds[i].old)
		}
	}()
	return st.scoped(2, apply)
}

// say prints a line through the host's output when its level is shown.
// While the top level runs in a host's state nothing is printed: the
// planning state already printed it once.
func (st *State) say(level, kind, text string) {
	if st.he == nil {
		fmt.Fprintln(st.prog.stdout, text)
		return
	}
	if st.loading || !st.Shown(level) {
		return
	}
	st.he.Out.Line(kind, text)
}

func luaPrint(st *State) int {
	L := st.L
	parts := make([]string, L.GetTop())
	for i := range parts {
		parts[i] = L.ToStringMeta(L.Get(i + 1)).String()
	}
	text := strings.Join(parts, "\t")
	if st.he == nil {
		fmt.Fprintln(st.prog.stdout, text)
	} else if !st.loading {
		st.he.Out.Line("", text)
	}
	return 0
}

// joinDir nests dir inside cur the way Fabric's cd does: absolute and ~
// paths replace, relative ones append.
func joinDir(cur, dir string) string {
	if cur == "" || strings.HasPrefix(dir, "/") || strings.HasPrefix(dir, "~") {
		return dir
	}
	return strings.TrimSuffix(cur, "/") + "/" + dir
}

// luaQuiet is quiet().
func luaQuiet(st *State) int {
	return st.scoped(1, func() {
		st.Settings.WarnOnly = true
		for _, l := range expandLevel("everything") {
			st.Settings.Hidden[l] = true
		}
	})
}

// luaPuts is puts().
func luaPuts(st *State) int {
	parts := make([]string, max(st.L.GetTop(), 1))
	for i := range parts {
		parts[i] = st.L.ToStringMeta(st.L.Get(i + 1)).String()
	}
	st.say("user", "", strings.Join(parts, " "))
	return 0
}

// luaCall is call(name, args): the task's function, called here.
func luaCall(st *State) int {
	L := st.L
	name := L.CheckString(1)
	fn := st.taskFunc(name)
	if fn == nil {
		L.ArgError(1, "call: "+st.prog.UnknownTask(name))
	}
	args, ok := L.Get(2).(*lua.LTable)
	if !ok {
		args = L.NewTable()
	}
	top := L.GetTop()
	L.Push(fn)
	L.Push(args)
	L.Call(1, lua.MultRet)
	return L.GetTop() - top
}

// tasksTable is the global tasks: tasks.build(args) calls task build's
// function here, as call("build", args) does (tasks["db.migrate"] for a
// module's).
func (st *State) tasksTable() *lua.LTable {
	L := st.L
	t := L.CreateTable(0, 0)
	mt := L.CreateTable(0, 1)
	mt.RawSetString("__index", L.NewFunction(func(L *lua.LState) int {
		name := L.CheckString(2)
		if st.taskFunc(name) == nil {
			L.RaiseError("tasks.%s: %s", name, st.prog.UnknownTask(name))
		}
		L.Push(L.NewFunction(func(L *lua.LState) int {
			L.Insert(lua.LString(name), 1)
			return luaCall(st)
		}))
		return 1
	}))
	L.SetMetatable(t, mt)
	return t
}

// taskFunc is the function of the task (or alias) name in this state.
func (st *State) taskFunc(name string) *lua.LFunction {
	if t, ok := st.prog.Task(name); ok {
		name = t.Name
	}
	return st.fns[name]
}

// luaHandler is handler().
func luaHandler(st *State) int {
	if st.handlers == nil {
		st.handlers = map[string]*lua.LFunction{}
	}
	st.handlers[st.L.CheckString(1)] = st.L.CheckFunction(2)
	return 0
}

// luaNotify is notify().
func luaNotify(st *State) int {
	st.RequireTask("notify")
	name := st.L.CheckString(1)
	if st.handlers[name] == nil {
		st.L.ArgError(1, fmt.Sprintf("notify: no handler %q (declare it with handler(name, fn))", name))
	}
	if !slices.Contains(st.notified, name) {
		st.notified = append(st.notified, name)
	}
	return 0
}
