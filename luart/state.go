package luart

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"time"

	lua "github.com/yuin/gopher-lua"

	"github.com/gofab/gofab/internal/base/host"
	"github.com/gofab/gofab/internal/data/inventory"
	"github.com/gofab/gofab/internal/data/secrets"
)

// HostEnv is what the executor hands one host's state. Only plain Go data
// and goroutine-safe values cross into it.
type HostEnv struct {
	// Addr is the parsed host string; HostString is the string as given.
	Addr       host.Addr
	HostString string
	// User and Port are the resolved login user and port (env.user, env.port).
	User string
	Port int
	// Hosts is how many hosts the task runs on.
	Hosts int
	// Roles are the roles that put this host in the list.
	Roles []string
	// Groups are the inventory groups the host is in, parents first.
	Groups []string
	// Vars are the host's merged inventory vars and its roles' vars.
	Vars map[string]any
	// Connect returns the host's connection, dialling it on first use. The
	// executor keeps one connection per host for the whole run.
	Connect func(ctx context.Context) (host.Conn, error)
	// Reconnect closes the host's connection and dials a new one that
	// replaces it for the rest of the run (after a reboot).
	Reconnect func(ctx context.Context) (host.Conn, error)
	// Local runs run_local commands.
	Local host.Conn
	// Out prints this host's lines.
	Out host.Printer
	// Run holds run-wide settings.
	Run *RunOptions
	// Coord is the run's coordination (execute, barrier, shared values).
	Coord Coordinator
}

// RunOptions are run-wide settings from the command line.
type RunOptions struct {
	WarnOnly       bool
	CommandTimeout time.Duration
	// Hidden are the output levels hidden from the start (--hide, -q).
	Hidden []string
	// SudoPassword answers sudo's prompt; "" means none is known.
	SudoPassword string
	// Prompter asks the person at the terminal; nil when there is none.
	Prompter host.Prompter
	// Terminal is lent to interactive commands (pty on a terminal,
	// open_shell); nil when stdin and stdout are not a terminal.
	Terminal host.Terminal
	// Check runs read-only probes only: commands are skipped unless marked
	// check_safe and changes are reported, not made (--check).
	Check bool
	// Diff shows file changes as unified diffs (--diff).
	Diff bool
	// DryRun connects nowhere: commands and transfers are printed (--dry-run).
	DryRun bool
	// LocalFS, when set, is this machine's side of put, get and sync and
	// where templates are read; nil means the disk. gofab test gives an
	// overlay: reads fall through to the disk, writes stay in memory.
	LocalFS host.FS
	// LocalDir is where relative local paths start (put's and get's local
	// side, templates); empty means the working directory. gofab test sets
	// the fabfile's directory.
	LocalDir string
	// MaxOutput caps the bytes of stdout (and of stderr) a command's
	// result keeps (--max-output); 0 is the default, 64 MiB.
	MaxOutput int
	// Color is set when gofab prints in colour: require("colors") then
	// colours text.
	Color bool
	// AssumeYes answers every confirm() yes (--yes).
	AssumeYes bool
}

// Settings is the per-host state that scoped helpers (cd, prefix,
// warn_only, hide, …) change and restore. It lives in Go, bound to one
// State.
type Settings struct {
	Cwd       string   // cd()
	Lcwd      string   // lcd()
	Prefixes  []string // prefix()
	ShellEnv  []EnvVar // shell_env()
	Path      string   // path()
	PathMode  string   // append, prepend or replace
	WarnOnly  bool
	Hidden    map[string]bool // output levels hidden
	SudoUser  string
	SudoGroup string
	Pty       bool
	Timeout   time.Duration
	// Values are scoped settings of built-in modules (cuisine's mode_*).
	Values map[string]any
}

// EnvVar is one NAME=value of shell_env.
type EnvVar struct{ Name, Value string }

func (s Settings) clone() Settings {
	c := s
	c.Prefixes = append([]string(nil), s.Prefixes...)
	c.ShellEnv = append([]EnvVar(nil), s.ShellEnv...)
	c.Hidden = make(map[string]bool, len(s.Hidden))
	for k, v := range s.Hidden {
		c.Hidden[k] = v
	}
	c.Values = make(map[string]any, len(s.Values))
	for k, v := range s.Values {
		c.Values[k] = v
	}
	return c
}

// State is one Lua state bound to one host (or to planning, with no host).
// It is used by one goroutine only.
type State struct {
	// L is the Lua state.
	L *lua.LState
	// Settings are the host's current scoped settings.
	Settings Settings

	prog    *Program
	he      *HostEnv
	ctx     context.Context
	loading bool
	tasks   []*Task
	// baseOpen is set once Lua's base and package libraries are open
	// (see openBase).
	baseOpen bool
	// sourceTables are the tables inventory.file/command returned, with
	// the plain data each was made from (see restorePlain).
	sourceTables map[*lua.LTable]*source
	// stringLib is the string library once open (see openString).
	stringLib lua.LValue
	// optsArg is the stack position of the running function's options
	// table (0: it declares none) and optsType their declaration; see
	// Opts and DecodeOpts.
	optsArg  int
	optsType *TableType
	fns      map[string]*lua.LFunction
	conn     host.Conn
	connErr  error
	// execErr is the error of the last execute(), kept as Go's error so
	// a task failing with it unwraps to it (TaskError.Err).
	execErr error
	// namespaces are the modules being loaded, innermost last.
	namespaces []string
	// moduleRoots are the recipe module roots of the modules being
	// loaded ("" for the search path's), innermost last.
	moduleRoots []string
	// handlers are handler() functions by name; notified the names
	// notify() asked for, in order, run when the task ends.
	handlers map[string]*lua.LFunction
	notified []string
	// inv collects hosts() and group() while planning. invBorrowed says
	// it is a source's inventory taken as read (see adoptSource), to be
	// copied before it is changed.
	inv         *inventory.Inventory
	invBorrowed bool
	// ioBuffers hold io.write's unfinished lines.
	ioBuffers []*lineBuffer
	// files are the files io.open opened in a sandbox (see sandbox.go).
	files []*sandboxFile
}

func newState(p *Program, he *HostEnv) *State {
	L := lua.NewState(lua.Options{
		SkipOpenLibs:        true,
		CallStackSize:       200,
		MinimizeStackMemory: true,
		// The value stack starts small and grows: a fleet holds thousands
		// of states at once.
		RegistrySize:     256,
		RegistryGrowStep: 256,
		RegistryMaxSize:  1024 * 1024,
	})
	globals := L.G.Global
	st := &State{L: L, prog: p, he: he, ctx: context.Background(), fns: map[string]*lua.LFunction{}}
	st.lazyStrings()
	st.Settings.Hidden = map[string]bool{}
	st.Settings.Values = map[string]any{}
	if he != nil && he.Run != nil {
		st.Settings.WarnOnly = he.Run.WarnOnly
		st.Settings.Lcwd = he.Run.LocalDir
		st.Settings.Timeout = he.Run.CommandTimeout
		for _, lvl := range he.Run.Hidden {
			for _, l := range expandLevel(lvl) {
				st.Settings.Hidden[l] = true
			}
		}
	}
	for _, m := range p.all {
		st.classes(m)
	}
	st.lazyTable(globals, p.lazy.globals, true)
	env := L.CreateTable(0, 16)
	L.SetGlobal("env", env)
	env.RawSetString("real_fabfile", lua.LString(p.RealPath))
	env.RawSetString("local_user", lua.LString(LocalUser()))
	for k, v := range p.Set {
		setPath(L, env, k, v)
	}
	return st
}

// classes installs the methods of a module's classes.
func (st *State) classes(m Module) {
	L := st.L
	for _, c := range m.Classes {
		methods := L.CreateTable(0, len(c.Methods))
		for _, f := range c.Methods {
			methods.RawSetString(f.Name, st.function(f, f.Name, 1))
		}
		L.SetField(L.NewTypeMetatable(c.Name), "__index", methods)
	}
}

// preload makes a module loaded with require give a lazy table of its
// functions (global functions are lazy globals).
func (st *State) preload(m Module) {
	L := st.L
	if m.Name == "" {
		return
	}
	idx := st.prog.lazy.modules[m.Name]
	L.PreloadModule(m.Name, func(L *lua.LState) int {
		t := L.CreateTable(0, 8)
		st.lazyTable(t, idx, false)
		L.Push(t)
		return 1
	})
}

// function makes f callable from Lua; self is 1 for a method (its
// object comes first). A call's options are checked against f's declared
// type before f's body runs.
func (st *State) function(f Func, name string, self int) *lua.LFunction {
	fn := f.Fn
	idx, opts := f.OptionsArg()
	if opts != nil {
		idx += self
	}
	return st.L.NewFunction(func(L *lua.LState) int {
		if opts != nil {
			checkOptions(L, idx, name, opts)
		}
		prevArg, prevType := st.optsArg, st.optsType
		st.optsArg, st.optsType = idx, opts
		defer func() { st.optsArg, st.optsType = prevArg, prevType }()
		return fn(st)
	})
}

func (st *State) close() {
	st.flushFiles()
	st.L.Close()
}

// Close releases a state made by NewScript.
func (st *State) Close() { st.close() }

// Metatable returns the state's metatable named name, made by fill the
// first time.
func (st *State) Metatable(name string, fill func(mt *lua.LTable)) *lua.LTable {
	L := st.L
	reg := L.G.Registry
	if mt, ok := reg.RawGetString(name).(*lua.LTable); ok {
		return mt
	}
	mt := L.CreateTable(0, 2)
	fill(mt)
	reg.RawSetString(name, mt)
	return mt
}

// NewObject returns a Lua object of a class a module declared, holding v.
func (st *State) NewObject(class string, v any) *lua.LUserData {
	ud := st.L.NewUserData()
	ud.Value = v
	st.L.SetMetatable(ud, st.L.GetTypeMetatable(class))
	return ud
}

// CheckObject returns the value of the object of class at argument n,
// raising an argument error when it is something else.
func (st *State) CheckObject(n int, class string) any {
	ud, ok := st.L.Get(n).(*lua.LUserData)
	if !ok || ud.Metatable != st.L.GetTypeMetatable(class) {
		st.L.ArgError(n, class+" expected (call it with a colon: obj:method())")
	}
	return ud.Value
}

// NewScript makes a fresh state and runs the program's top level in it:
// Compile plans with one, and gofab test runs every case of a test file
// in a state of its own. The caller closes it.
func (p *Program) NewScript(ctx context.Context) (*State, error) {
	st := newState(p, nil)
	st.ctx = ctx
	st.L.SetContext(ctx)
	if err := st.load(); err != nil {
		st.close()
		return nil, &LoadError{Msg: err.Error()}
	}
	return st, nil
}

// load runs the fabfile's top level in this state.
func (st *State) load() error {
	st.loading = true
	defer func() { st.loading = false }()
	fn := st.L.NewFunctionFromProto(st.prog.proto)
	st.L.Push(fn)
	if err := st.L.PCall(0, 0, nil); err != nil {
		return errors.New(ErrorMessage(err))
	}
	return nil
}

// Context returns the context of the current run; blocking calls honour it.
func (st *State) Context() context.Context { return st.ctx }

// Loading reports whether the fabfile's top level is running.
func (st *State) Loading() bool { return st.loading || st.he == nil }

// RequireTask raises "name() is only available inside a task" when called
// from the top level.
func (st *State) RequireTask(name string) {
	if st.Loading() {
		st.L.RaiseError("%s() is only available inside a task", name)
	}
}

// HostString returns the host string as given ("" while planning).
func (st *State) HostString() string {
	if st.he == nil {
		return ""
	}
	return st.he.HostString
}

// FabfileDir returns the directory of the fabfile.
func (st *State) FabfileDir() string { return filepath.Dir(st.prog.RealPath) }

// Secrets returns the run's decrypted files and redaction set.
func (st *State) Secrets() *secrets.Store { return st.prog.Secrets }

// HostCount returns how many hosts the current task runs on.
func (st *State) HostCount() int { return st.he.Hosts }

// Identity returns the current host's name, login user and port.
func (st *State) Identity() (name, user string, port int) {
	return st.he.Addr.Host, st.he.User, st.he.Port
}

// Opts returns the options the running function was given, by name: the
// table at the position its registry entry declares (luart.OptionsParam),
// whose names the registry checked before the function's body ran. A
// value that is not a table raises an argument error; no table gives an
// empty map. A function that declares no options must not call it.
func (st *State) Opts() Opts {
	out := Opts{}
	if t := st.optsTable(); t != nil {
		t.ForEach(func(k, v lua.LValue) { out[k.String()] = v })
	}
	return out
}

// optsTable is the running function's options table, nil when none was
// given; anything else there raises its argument error.
func (st *State) optsTable() *lua.LTable {
	if st.optsArg == 0 {
		panic("luart: options read by a function that declares no options parameter")
	}
	switch t := st.L.Get(st.optsArg).(type) {
	case *lua.LNilType:
	case *lua.LTable:
		return t
	default:
		st.L.ArgError(st.optsArg, "options must be a table")
	}
	return nil
}

// Opts are the options a Lua function was given, by name.
type Opts map[string]lua.LValue

// OptsType is the declaration of the running function's options (nil:
// it declares none).
func (st *State) OptsType() *TableType { return st.optsType }

// DecodeOpts decodes the running function's options into the struct dst
// points to, as its declaration says (TableType.Decode): fields not given
// keep the values dst holds. A value of the wrong type raises the
// function's argument error.
func (st *State) DecodeOpts(dst any) {
	if err := st.optsType.Decode(st.optsTable(), dst); err != nil {
		st.L.ArgError(st.optsArg, err.Error())
	}
}

// Bool returns the option as a Lua truth value; absent is false.
func (o Opts) Bool(name string) bool {
	v, ok := o[name]
	return ok && lua.LVAsBool(v)
}

// String returns the option as a string; absent is "".
func (o Opts) String(name string) string {
	v, ok := o[name]
	if !ok {
		return ""
	}
	return v.String()
}

// Scoped runs the function at fnIdx with apply's changes to the settings
// and restores them afterwards, even when it raised an error. It returns
// the function's results.
func (st *State) Scoped(fnIdx int, apply func()) int { return st.scoped(fnIdx, apply) }

// Mode returns the run's mode flags: check, diff and dry run.
func (st *State) Mode() (check, diff, dryRun bool) {
	if st.he == nil || st.he.Run == nil {
		return false, false, false
	}
	r := st.he.Run
	return r.Check, r.Diff, r.DryRun
}

// Out returns the host's line printer.
func (st *State) Out() host.Printer { return st.he.Out }

// Shown reports whether an output level is shown.
func (st *State) Shown(level string) bool { return !st.Settings.Hidden[level] }

// Run returns the run-wide options.
func (st *State) Run() *RunOptions { return st.he.Run }

// SudoPassword is the password that answers sudo's prompt. A task's own
// env.sudo_password or env.password (set in the task, or by with_settings:
// Fabric's with settings(password=…)) wins; else the run's
// (GOFAB_SUDO_PASSWORD, --sudo-password-prompt, the fabfile's top-level
// env, the login password); between them, the host's ansible_become_password
// from an encrypted vars file. A password sudo cannot take is an error
// that does not show it.
func (st *State) SudoPassword() (string, error) {
	env := st.env()
	for _, k := range []string{"sudo_password", "password"} {
		v, ok := env.RawGetString(k).(lua.LString)
		if !ok || v == "" || v == lua.LString(fmt.Sprint(st.prog.Env[k])) {
			continue // unset, or the top level's, which the run's already holds
		}
		if strings.ContainsAny(string(v), "\n\r\x00") {
			return "", fmt.Errorf("env.%s contains a newline, carriage return or NUL character, which sudo cannot take", k)
		}
		st.prog.Secrets.Add("env."+k, string(v))
		return string(v), nil
	}
	// The host's Ansible become password, when it came from an encrypted
	// vars file (one in clear was refused with a note when read).
	for _, k := range inventory.BecomePasswordVars {
		if v, ok := st.he.Vars[k].(string); ok && v != "" && st.prog.Secrets.Redact.Has(v) {
			return v, nil
		}
	}
	return st.he.Run.SudoPassword, nil
}

// Conn returns the host's connection, connecting on first use; it raises
// a Lua error when the host cannot be reached.
func (st *State) Conn() host.Conn {
	if st.conn == nil && st.connErr == nil {
		st.conn, st.connErr = st.he.Connect(st.ctx)
	}
	if st.connErr != nil {
		st.L.RaiseError("%v", st.connErr)
	}
	return st.conn
}

// Reconnect replaces the host's connection with a new one; it returns
// the error of the attempt.
func (st *State) Reconnect(ctx context.Context) error {
	if st.he.Reconnect == nil {
		return errors.New("this host cannot be reconnected")
	}
	conn, err := st.he.Reconnect(ctx)
	if err != nil {
		return err
	}
	st.conn, st.connErr = conn, nil
	return nil
}

// LocalConn returns the connection run_local uses.
func (st *State) LocalConn() host.Conn { return st.he.Local }

// Prompter returns who answers prompt() and confirm(), or nil.
func (st *State) Prompter() host.Prompter {
	if st.he == nil || st.he.Run == nil {
		return nil
	}
	return st.he.Run.Prompter
}
