package luart

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"

	lua "github.com/yuin/gopher-lua"
)

// moduleCache compiles each Lua module file once per run; every state
// makes its own function from the shared bytecode.
type moduleCache struct {
	mu     sync.Mutex
	protos map[string]*lua.FunctionProto
}

// ModuleFinder resolves the require() names that belong to recipe modules
// (a project's gofab.mod; internal/mod/modload implements it).
type ModuleFinder interface {
	// Find returns the file of name, the namespace its tasks are declared
	// in and its module's root directory; ok is false when name is not a
	// module's, and the search path applies.
	Find(name string) (file, namespace, root string, ok bool, err error)
	// Verify checks a file's content before it is compiled (against
	// gofab.sum's hashes).
	Verify(file string, src []byte) error
}

// compile reads and compiles path once; verify, when not nil, checks the
// content first.
func (c *moduleCache) compile(path string, verify func(string, []byte) error) (*lua.FunctionProto, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if p, ok := c.protos[path]; ok {
		return p, nil
	}
	src, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	if verify != nil {
		if err := verify(path, src); err != nil {
			return nil, err
		}
	}
	name := DisplayPath(path)
	proto, err := compile(bytes.NewReader(src), name)
	if err != nil {
		return nil, errors.New(syntaxMessage(name, src, err))
	}
	if c.protos == nil {
		c.protos = map[string]*lua.FunctionProto{}
	}
	c.protos[path] = proto
	return proto, nil
}

// DisplayPath shortens a path for messages: relative to the working
// directory when it is below it.
func DisplayPath(path string) string {
	if wd, err := os.Getwd(); err == nil {
		if rel, err := filepath.Rel(wd, path); err == nil && !strings.HasPrefix(rel, "..") {
			return rel
		}
	}
	return path
}

// FindFabfile returns the fabfile nearest dir: fabfile.lua or
// fabfile/init.lua in dir or the closest parent that has one, or "".
func FindFabfile(dir string) string {
	for ; ; dir = filepath.Dir(dir) {
		for _, name := range []string{"fabfile.lua", filepath.Join("fabfile", "init.lua")} {
			p := filepath.Join(dir, name)
			if fi, err := os.Stat(p); err == nil && fi.Mode().IsRegular() {
				return p
			}
		}
		if filepath.Dir(dir) == dir {
			return ""
		}
	}
}

// SearchPath lists where require() looks for modules, in order: the
// fabfile's directory and its lib/, the include directories, GOFAB_PATH's
// entries, then ~/.config/gofab/recipes.
func SearchPath(fabfile string, include []string, gofabPath, home string) []string {
	dir := filepath.Dir(fabfile)
	if abs, err := filepath.Abs(dir); err == nil {
		dir = abs
	}
	dirs := []string{dir, filepath.Join(dir, "lib")}
	dirs = append(dirs, include...)
	for _, d := range filepath.SplitList(gofabPath) {
		if d != "" {
			dirs = append(dirs, d)
		}
	}
	if home != "" {
		dirs = append(dirs, filepath.Join(home, ".config", "gofab", "recipes"))
	}
	return dirs
}

// FindModule returns the file of module name ("a.b" is a/b.lua or
// a/b/init.lua) in the search path, or "".
func FindModule(dirs []string, name string) string {
	rel := filepath.FromSlash(strings.ReplaceAll(name, ".", "/"))
	for _, d := range dirs {
		for _, p := range []string{filepath.Join(d, rel+".lua"), filepath.Join(d, rel, "init.lua")} {
			if fi, err := os.Stat(p); err == nil && fi.Mode().IsRegular() {
				return p
			}
		}
	}
	return ""
}

// installLoader makes require() find modules in the program's search
// path, compile them once per run, and declare their tasks in the
// module's namespace ("webserver.reload").
func (st *State) installLoader() {
	L := st.L
	pkg, ok := L.GetGlobal("package").(*lua.LTable)
	if !ok {
		return
	}
	loaders, ok := pkg.RawGetString("loaders").(*lua.LTable)
	if !ok {
		return
	}
	pkg.RawSetString("path", lua.LString(""))
	loaders.RawSetInt(2, L.NewFunction(func(L *lua.LState) int {
		name := L.CheckString(1)
		path, ns, root := st.findModule(name)
		var verify func(string, []byte) error
		if st.prog.finder != nil {
			verify = st.prog.finder.Verify
		}
		proto, err := st.prog.modCache.compile(path, verify)
		if err != nil {
			L.RaiseError("%v", err)
		}
		fn := L.NewFunctionFromProto(proto)
		L.Push(L.NewFunction(func(L *lua.LState) int {
			st.namespaces = append(st.namespaces, ns)
			st.moduleRoots = append(st.moduleRoots, root)
			defer func() {
				st.namespaces = st.namespaces[:len(st.namespaces)-1]
				st.moduleRoots = st.moduleRoots[:len(st.moduleRoots)-1]
			}()
			top := L.GetTop()
			L.Push(fn)
			for i := 1; i <= top; i++ {
				L.Push(L.Get(i))
			}
			L.Call(top, lua.MultRet)
			return L.GetTop() - top
		}))
		return 1
	}))
}

// findModule returns the file of module name, the namespace its tasks
// get and the root of the recipe module it belongs to ("" for the
// search path's), raising a Lua error when there is none: a recipe
// module's name first, then (inside a recipe module) its own files, then
// the search path.
func (st *State) findModule(name string) (path, ns, root string) {
	L := st.L
	if f := st.prog.finder; f != nil {
		file, ns, root, ok, err := f.Find(name)
		if err != nil {
			L.RaiseError("%v", err)
		}
		if ok {
			return file, ns, root
		}
	}
	if n := len(st.moduleRoots); n > 0 && st.moduleRoots[n-1] != "" {
		if root := st.moduleRoots[n-1]; FindModule([]string{root}, name) != "" {
			return FindModule([]string{root}, name), name, root
		}
	}
	path = FindModule(st.prog.searchPath, name)
	if path == "" {
		L.RaiseError("module %q not found in %s (add --include DIR or GOFAB_PATH)", name, strings.Join(st.prog.searchPath, ", "))
	}
	return path, name, ""
}

// namespace returns the namespace tasks declared now belong to.
func (st *State) namespace() string {
	if len(st.namespaces) == 0 {
		return ""
	}
	return st.namespaces[len(st.namespaces)-1]
}
