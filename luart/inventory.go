package luart

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	lua "github.com/yuin/gopher-lua"

	"github.com/gofab/gofab/internal/base/host"
	"github.com/gofab/gofab/internal/data/inventory"
)

// inventoryCommandTimeout bounds an inventory command.
const inventoryCommandTimeout = 2 * time.Minute

// inventoryGrace is how long an inventory command's output is read after
// it has exited (a child it left may still hold its stdout).
const inventoryGrace = time.Second

// inventoryGlobals are hosts() and group(): the fleet a fabfile declares.
var inventoryGlobals = Module{
	Doc:        "Declaring the inventory.",
	TableTypes: []*TableType{hostSpecType, groupSpecType, hostInfoType},
	Types: `---The current host, inside a task.
---@type HostInfo
---@diagnostic disable-next-line: missing-fields
host = {}`,
	Funcs: []Func{
		{Name: "hosts", Doc: "Declares hosts: a table of name = HostSpec (or true), a list of names, an inventory source (require(\"inventory\").file/command/ssh_config), or a function returning one of these. Read once, while gofab plans the run.",
			Params: []Param{{Name: "spec", Type: "table<string, HostSpec|boolean>|string[]|table|fun(): table"}},
			Fn:     luaHosts},
		{Name: "group", Doc: "Declares a group: its hosts, child groups and vars.",
			Params: []Param{{Name: "name", Type: "string"}, {Name: "spec", Type: "GroupSpec", Optional: true}},
			Fn:     luaGroup},
	},
}

// inventoryModule is require("inventory"): inventory sources.
var inventoryModule = Module{
	Name: "inventory",
	Doc:  "Inventory sources for hosts(). Each is read once per run, while gofab plans it; every host sees the same result.",
	Funcs: []Func{
		{Name: "file", Doc: "Reads an Ansible inventory file: INI (groups, [g:children], [g:vars], ranges), YAML, or --list JSON. A relative path is from the fabfile's directory.",
			Params: []Param{{Name: "path", Type: "string"}}, Returns: []Param{{Type: "table"}},
			Fn: func(st *State) int { return st.inventorySource("file", st.L.CheckString(1)) }},
		{Name: "command", Doc: "Runs a command on this machine (in the fabfile's directory) that prints Ansible's dynamic-inventory JSON.",
			Params: []Param{{Name: "command", Type: "string"}}, Returns: []Param{{Type: "table"}},
			Fn: func(st *State) int { return st.inventorySource("command", st.L.CheckString(1)) }},
		{Name: "ssh_config", Doc: "Every Host entry of the ssh config (-S, or ~/.ssh/config) matching pattern (a glob; default *), without wildcard entries.",
			Params: []Param{{Name: "pattern", Type: "string", Optional: true}}, Returns: []Param{{Type: "table"}},
			Fn: func(st *State) int { return st.inventorySource("ssh_config", st.L.OptString(1, "*")) }},
	},
}

// notDeclaring says whether hosts()/group() should do nothing here: in a
// host's state the planning state's result stands; inside a task it is
// an error.
func (st *State) notDeclaring(fname string) bool {
	if st.planning() {
		return false
	}
	if !st.loading {
		st.L.RaiseError("%s() declares the inventory at the fabfile's top level, not inside a task", fname)
	}
	return true
}

func luaHosts(st *State) int {
	if st.notDeclaring("hosts") {
		return 0
	}
	v := st.L.Get(1)
	if fn, ok := v.(*lua.LFunction); ok {
		st.L.Push(fn)
		st.L.Call(0, 1)
		v = st.L.Get(-1)
		st.L.Pop(1)
	}
	var src *source
	if t, ok := v.(*lua.LTable); ok {
		src = st.sourceTables[t]
		if src != nil && t.RawGetString("hosts") == lua.LNil {
			// A source's table the fabfile never opened: its hosts go
			// straight from the inventory as read.
			st.adoptSource(src)
			return 0
		}
	}
	pv, err := ToPlain(v)
	if err != nil {
		st.L.ArgError(1, "hosts: "+err.Error())
	}
	if src != nil {
		if sameInLua(src.plainData(), pv) {
			st.adoptSource(src) // read in Lua, not changed
			return 0
		}
		// Lua has no nil values and no empty list: put back the
		// source's null vars and [] (changes made in Lua are kept).
		pv = restorePlain(src.plainData(), pv)
	}
	frag, err := inventory.FromPlain(pv)
	if err != nil {
		st.L.ArgError(1, "hosts: "+err.Error())
	}
	st.inventory().Merge(frag)
	return 0
}

func luaGroup(st *State) int {
	name := st.L.CheckString(1)
	if st.notDeclaring("group") {
		return 0
	}
	var spec map[string]any
	if v := st.L.Get(2); v != lua.LNil {
		pv, err := ToPlain(v)
		if err == nil {
			var ok bool
			if spec, ok = pv.(map[string]any); !ok {
				if l, isList := pv.([]any); !isList || len(l) > 0 {
					err = fmt.Errorf("give a table of hosts, children and vars")
				}
			}
		}
		if err != nil {
			st.L.ArgError(2, "group: "+err.Error())
		}
	}
	g, err := inventory.GroupFromPlain(name, spec)
	if err != nil {
		st.L.ArgError(2, "group: "+err.Error())
	}
	st.inventory().AddGroup(g)
	return 0
}

// planning reports whether this is the planning state.
func (st *State) planning() bool { return st.he == nil }

func (st *State) inventory() *inventory.Inventory {
	if st.inv == nil {
		st.inv = inventory.New()
	}
	if st.invBorrowed {
		own := inventory.New()
		own.Merge(st.inv)
		st.inv, st.invBorrowed = own, false
	}
	return st.inv
}

// declared returns the inventory declared while planning, copying a
// borrowed one only if the run adds hosts or groups to it (Finish only
// fills its caches).
func (st *State) declared(adds bool) *inventory.Inventory {
	if st.inv != nil && st.invBorrowed && !adds {
		return st.inv
	}
	return st.inventory()
}

// adoptSource adds a source's hosts and groups as read. The first source
// given to hosts() is taken as it is, not copied (10,000 hosts cost no
// 10,000 copies); it is copied before anything is added to it (see
// inventory and declared), so the source stays as read.
func (st *State) adoptSource(src *source) {
	if st.inv == nil {
		st.inv, st.invBorrowed = src.inv, true
		return
	}
	st.inventory().Merge(src.inv)
}

// source is an inventory source read while planning: the inventory as
// read, and its plain form (see inventory.Plain), made on first use.
type source struct {
	name  string
	inv   *inventory.Inventory
	once  sync.Once
	plain map[string]any
}

func (s *source) plainData() map[string]any {
	s.once.Do(func() { s.plain = s.inv.Plain(s.name) })
	return s.plain
}

// inventorySource returns a source's hosts and groups as a table. The
// planning state reads the source once per run; host states get what it
// read. The table's fields (hosts, groups, host_order, group_order) are
// built on first use: hosts() given the table untouched takes the
// inventory as read, so 10,000 hosts cost no 10,000 Lua tables.
func (st *State) inventorySource(kind, arg string) int {
	key := kind + "\x00" + arg
	p := st.prog
	src, ok := p.sources[key]
	if kind == "command" && p.sandboxed {
		st.L.RaiseError("inventory.command: %v: it would run %q on this machine; give a case its hosts with testing.case{hosts = …}", ErrSandboxed, arg)
	}
	if !ok {
		if !st.planning() {
			st.L.RaiseError("inventory.%s(%q) was not called while gofab planned the run (call it at the fabfile's top level)", kind, arg)
		}
		inv, err := st.readSource(kind, arg)
		if err != nil {
			st.L.RaiseError("inventory.%s: %v", kind, err)
		}
		if p.sources == nil {
			p.sources = map[string]*source{}
		}
		src = &source{name: kind + " " + arg, inv: inv}
		p.sources[key] = src
	}
	L := st.L
	t := L.CreateTable(0, 5)
	t.RawSetString(inventory.SourceKey, lua.LString(src.name))
	mt := L.CreateTable(0, 1)
	mt.RawSetString("__index", L.NewFunction(func(L *lua.LState) int {
		full, ok := FromPlain(L, src.plainData()).(*lua.LTable)
		if ok {
			full.ForEach(func(k, v lua.LValue) { t.RawSet(k, v) })
		}
		L.SetMetatable(t, lua.LNil)
		L.Push(t.RawGet(L.Get(2)))
		return 1
	}))
	L.SetMetatable(t, mt)
	if st.sourceTables == nil {
		st.sourceTables = map[*lua.LTable]*source{}
	}
	st.sourceTables[t] = src
	L.Push(t)
	return 1
}

// sameInLua reports whether got is orig as it comes back from a Lua
// table, which holds no nil values or list elements and reads an empty
// list as an empty map.
func sameInLua(orig, got any) bool {
	switch o := orig.(type) {
	case map[string]any:
		g, ok := got.(map[string]any)
		if !ok {
			return false
		}
		n := 0
		for k, ov := range o {
			if ov == nil {
				continue
			}
			n++
			if gv, ok := g[k]; !ok || !sameInLua(ov, gv) {
				return false
			}
		}
		return n == len(g)
	case []any:
		var items []any
		if g, ok := got.([]any); ok {
			items = g
		} else if g, ok := got.(map[string]any); !ok || len(g) > 0 {
			return false
		}
		i := 0
		for _, ov := range o {
			if ov == nil {
				continue
			}
			if i >= len(items) || !sameInLua(ov, items[i]) {
				return false
			}
			i++
		}
		return i == len(items)
	}
	return orig == got
}

// restorePlain puts back into got, a source's table as Lua gave it back,
// what a Lua table cannot hold of orig, the source's plain data: keys
// whose value is null, and empty lists (Lua's empty table reads back as
// an empty map).
func restorePlain(orig, got any) any {
	if sameInLua(orig, got) {
		return orig // unchanged in Lua: the source's values exactly
	}
	switch o := orig.(type) {
	case map[string]any:
		g, ok := got.(map[string]any)
		if !ok {
			return got
		}
		for k, ov := range o {
			if gv, present := g[k]; present {
				g[k] = restorePlain(ov, gv)
			} else if ov == nil {
				g[k] = nil
			}
		}
		return g
	case []any:
		if g, ok := got.(map[string]any); ok && len(g) == 0 {
			return []any{}
		}
		if g, ok := got.([]any); ok && len(g) == len(o) {
			for i := range g {
				g[i] = restorePlain(o[i], g[i])
			}
		}
	}
	return got
}

func (st *State) readSource(kind, arg string) (*inventory.Inventory, error) {
	dir := st.FabfileDir()
	var inv *inventory.Inventory
	var err error
	switch kind {
	case "file":
		path := arg
		if !filepath.IsAbs(path) {
			path = filepath.Join(dir, path)
		}
		data, rerr := os.ReadFile(path)
		if rerr != nil {
			return nil, rerr
		}
		vars := inventory.ReadVarsDirs(filepath.Dir(path), st.prog.Secrets.Decrypt) // while the file is parsed
		if inv, err = inventory.Parse(arg, data); err == nil {
			err = vars.Apply(inv)
		}
	case "command":
		inv, err = runInventoryCommand(st.prog.ctx, dir, arg)
	case "ssh_config":
		if st.prog.sshHosts == nil {
			return nil, fmt.Errorf("no ssh config is known here")
		}
		var names []string
		if names, err = st.prog.sshHosts(); err != nil {
			return nil, err
		}
		inv = inventory.New()
		for _, n := range names {
			if ok, _ := filepath.Match(arg, n); ok {
				inv.AddHost(inventory.Host{Name: n})
			}
		}
	}
	if err != nil {
		return nil, err
	}
	notes := inv.Warnings
	if kind == "file" {
		notes = append(notes, inv.ConnectionNotes(arg, st.prog.Secrets.Redact.Has)...)
	}
	for _, w := range notes {
		fmt.Fprintf(st.prog.stderr, "warning: %s\n", w)
	}
	return inv, nil
}

// runInventoryCommand runs an inventory command and parses its JSON; a
// failure names the exit status and the command's stderr.
func runInventoryCommand(ctx context.Context, dir, command string) (*inventory.Inventory, error) {
	ctx, cancel := context.WithTimeout(ctx, inventoryCommandTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, "sh", "-c", command)
	cmd.Dir = dir
	cmd.Env = host.ChildEnv()
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	// The command runs in a process group of its own, killed whole when
	// the run is interrupted and once the command has exited: a child it
	// left in the background holding stdout neither hangs gofab nor
	// outlives it. Its output is read for inventoryGrace after it exits.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = inventoryGrace
	err := cmd.Run()
	if cmd.Process != nil {
		syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	}
	if errors.Is(err, exec.ErrWaitDelay) {
		err = nil // the command itself succeeded; a child kept its stdout
	}
	if err != nil {
		msg := strings.TrimSpace(stderr.String())
		if len(msg) > 2000 {
			msg = msg[:2000] + "…"
		}
		if msg != "" {
			msg = ": " + strings.ReplaceAll(msg, "\n", " | ")
		}
		if ctx.Err() != nil {
			return nil, fmt.Errorf("%q: %v%s", command, context.Cause(ctx), msg)
		}
		return nil, fmt.Errorf("%q failed (%v)%s", command, err, msg)
	}
	return inventory.ParseJSON(command, stdout.Bytes())
}
