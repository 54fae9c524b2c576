package luart

import (
	"sync"

	lua "github.com/yuin/gopher-lua"
)

// A fleet makes thousands of states, and most fabfiles touch a handful of
// gofab's hundred functions and little of Lua's libraries. So a state
// starts with none of them: every global (Lua's base functions, package
// and require with gofab's module loader, string, table, math, os, io,
// coroutine, and gofab's functions) and every function of a require()d
// module is made the first time the state reads it, and kept; a string
// method (("x"):upper()) opens the string library too. pairs()
// over _G or a module shows only what was made so far; a fabfile may not
// replace _G's metatable.

// lazyLibs are the standard libraries opened on first use, other than
// base, package and string (see newLazyIndexes).
var lazyLibs = map[string]lua.LGFunction{
	lua.TabLibName: lua.OpenTable, lua.MathLibName: lua.OpenMath, lua.OsLibName: lua.OpenOs,
	lua.IoLibName: lua.OpenIo, lua.CoroutineLibName: lua.OpenCoroutine,
}

// baseNames are the globals Lua's base library defines (print, pairs,
// require, _G, …), listed once from a state of its own.
var baseNames = sync.OnceValue(func() []string {
	L := lua.NewState(lua.Options{SkipOpenLibs: true})
	defer L.Close()
	L.Push(L.NewFunction(lua.OpenBase))
	L.Call(0, 0)
	var names []string
	L.G.Global.ForEach(func(k, _ lua.LValue) { names = append(names, k.String()) })
	return names
})

// lazyIndex makes a table's fields on first read, by name; it is built
// once per program and shared, read-only, by every state.
type lazyIndex map[string]func(st *State) lua.LValue

// lazyIndexes are what a program's states make on first read: the
// globals, each requirable module's table, and the globals gofab defines
// that Lua's base library also does (print: gofab's win). Built once by
// Compile, read-only afterwards.
type lazyIndexes struct {
	globals   lazyIndex
	modules   map[string]lazyIndex
	overrides []string
}

// newLazyIndexes indexes modules (luart's own first).
func newLazyIndexes(modules []Module) lazyIndexes {
	x := lazyIndexes{globals: lazyIndex{}, modules: map[string]lazyIndex{}}
	for name, open := range lazyLibs {
		x.globals[name] = func(st *State) lua.LValue { return st.openLib(name, open) }
	}
	for _, name := range append(baseNames(), lua.LoadLibName) {
		x.globals[name] = func(st *State) lua.LValue { return st.openBase(name) }
	}
	x.globals[lua.StringLibName] = func(st *State) lua.LValue { return st.openString() }
	x.globals["tasks"] = func(st *State) lua.LValue { return st.tasksTable() }
	for _, m := range modules {
		if m.Name != "" {
			x.modules[m.Name] = lazyIndex{}
			x.modules[m.Name].add(m, m.Name+".")
			continue
		}
		for _, f := range m.Funcs {
			if _, ok := x.globals[f.Name]; ok {
				x.overrides = append(x.overrides, f.Name)
			}
		}
		x.globals.add(m, "")
	}
	return x
}

// add adds m's functions, named prefix+name in messages.
func (idx lazyIndex) add(m Module, prefix string) {
	for _, f := range m.Funcs {
		idx[f.Name] = func(st *State) lua.LValue { return st.function(f, prefix+f.Name, 0) }
	}
}

// lazyTable gives t an __index that makes a missing field from idx on
// first read and stores it in t.
func (st *State) lazyTable(t *lua.LTable, idx lazyIndex, protect bool) {
	L := st.L
	mt := L.CreateTable(0, 2)
	mt.RawSetString("__index", L.NewFunction(func(L *lua.LState) int {
		name, ok := L.Get(2).(lua.LString)
		mk := idx[string(name)]
		if !ok || mk == nil {
			L.Push(lua.LNil)
			return 1
		}
		v := mk(st)
		t.RawSetString(string(name), v)
		L.Push(v)
		return 1
	}))
	if protect {
		mt.RawSetString("__metatable", lua.LString("gofab's globals: their metatable cannot be changed"))
	}
	L.SetMetatable(t, mt)
}

// openBase opens Lua's base and package libraries on the first read of
// one of their globals, with gofab's module loader and modules, and
// returns global name. What the globals held already (a fabfile's own
// assert, gofab's print) is kept; gofab's versions replace Lua's.
func (st *State) openBase(name string) lua.LValue {
	L := st.L
	g := L.G.Global
	if !st.baseOpen {
		st.baseOpen = true
		kept := map[string]lua.LValue{}
		for _, n := range append(baseNames(), lua.LoadLibName) {
			if v := g.RawGetString(n); v != lua.LNil {
				kept[n] = v
			}
		}
		st.open(lua.OpenPackage, lua.LoadLibName)
		st.open(lua.OpenBase, lua.BaseLibName)
		st.installLoader()
		for _, m := range st.prog.all {
			st.preload(m)
		}
		for _, n := range st.prog.lazy.overrides {
			if _, ok := kept[n]; !ok {
				g.RawSetString(n, st.prog.lazy.globals[n](st))
			}
		}
		for n, v := range kept {
			g.RawSetString(n, v)
		}
	}
	return g.RawGetString(name)
}

// lazyStrings makes string values' metatable open the string library on
// the first method call; the library then puts its own in place.
func (st *State) lazyStrings() {
	L := st.L
	proxy := L.CreateTable(0, 0)
	pmt := L.CreateTable(0, 1)
	pmt.RawSetString("__index", L.NewFunction(func(L *lua.LState) int {
		L.Push(L.GetField(st.openString(), L.CheckString(2)))
		return 1
	}))
	L.SetMetatable(proxy, pmt)
	mt := L.CreateTable(0, 1)
	mt.RawSetString("__index", proxy)
	L.SetMetatable(lua.LString(""), mt)
}

// openString opens the string library once and returns it.
func (st *State) openString() lua.LValue {
	if st.stringLib == nil {
		g := st.L.G.Global
		kept := g.RawGetString(lua.StringLibName) // the fabfile's own global named string
		st.stringLib = st.open(lua.OpenString, lua.StringLibName)
		if t, ok := st.stringLib.(*lua.LTable); ok {
			t.RawSetString("gmatch", st.L.NewFunction(gmatch))
		}
		if kept != lua.LNil {
			g.RawSetString(lua.StringLibName, kept)
		}
	}
	return st.stringLib
}

// open opens a standard library and returns the global it set.
func (st *State) open(fn lua.LGFunction, name string) lua.LValue {
	L := st.L
	L.Push(L.NewFunction(fn))
	L.Push(lua.LString(name))
	L.Call(1, 0)
	return L.G.Global.RawGetString(name)
}

// openLib opens a lazy standard library on first use, sealed.
func (st *State) openLib(name string, open lua.LGFunction) lua.LValue {
	lib := st.open(open, name)
	if t, ok := lib.(*lua.LTable); ok {
		st.seal(name, t)
	}
	return lib
}
