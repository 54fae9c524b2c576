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
// base and package (see globalIndex).
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

// globalIndex returns the lazy globals of states of modules: their
// functions and the lazy standard libraries.
func globalIndex(modules []Module) lazyIndex {
	idx := lazyIndex{}
	for name, open := range lazyLibs {
		idx[name] = func(st *State) lua.LValue { return st.openLib(name, open) }
	}
	for _, name := range baseNames() {
		idx[name] = func(st *State) lua.LValue { return st.openBase(name) }
	}
	idx[lua.LoadLibName] = func(st *State) lua.LValue { return st.openBase(lua.LoadLibName) }
	idx[lua.StringLibName] = func(st *State) lua.LValue { return st.openString() }
	for _, m := range modules {
		if m.Name == "" {
			idx.add(m, "")
		}
	}
	return idx
}

// moduleIndex returns the lazy table of a module loaded with require.
func moduleIndex(m Module) lazyIndex {
	idx := lazyIndex{}
	idx.add(m, m.Name+".")
	return idx
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
		for _, open := range []lua.LGFunction{lua.OpenPackage, lua.OpenBase} {
			L.Push(L.NewFunction(open))
			L.Call(0, 0)
		}
		st.installLoader()
		for _, m := range st.prog.allModules() {
			st.preload(m)
		}
		for _, n := range st.prog.overrides {
			if _, ok := kept[n]; !ok {
				g.RawSetString(n, st.prog.globals[n](st))
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
	L := st.L
	g := L.G.Global
	if !st.stringOpen {
		st.stringOpen = true
		kept := g.RawGetString(lua.StringLibName)
		L.Push(L.NewFunction(lua.OpenString))
		L.Call(0, 0)
		lib := g.RawGetString(lua.StringLibName)
		if kept != lua.LNil { // the fabfile's own global named string
			g.RawSetString(lua.StringLibName, kept)
		}
		return lib
	}
	if lib, ok := L.G.Registry.RawGetString("_LOADED").(*lua.LTable); ok {
		if mod := lib.RawGetString(lua.StringLibName); mod != lua.LNil {
			return mod
		}
	}
	return g.RawGetString(lua.StringLibName)
}

// openLib opens a lazy standard library on first use, sealed.
func (st *State) openLib(name string, open lua.LGFunction) lua.LValue {
	L := st.L
	L.Push(L.NewFunction(open))
	L.Push(lua.LString(name))
	L.Call(1, 0)
	lib := L.G.Global.RawGetString(name)
	if t, ok := lib.(*lua.LTable); ok {
		st.seal(name, t)
	}
	return lib
}
