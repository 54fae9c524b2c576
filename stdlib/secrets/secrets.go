// Package secrets is the Lua module "secrets": SOPS files (YAML, JSON,
// dotenv) encrypted to age or SSH keys, decrypted once per run and kept
// out of every output (see internal/data/secrets).
package secrets

import (
	lua "github.com/yuin/gopher-lua"

	"github.com/gofab/gofab/internal/data/secrets"
	"github.com/gofab/gofab/luart"
)

// Module returns the secrets module.
func Module() luart.Module {
	return luart.Module{
		Name: "secrets",
		Doc:  "Encrypted files a team keeps in git (the SOPS format, age and SSH keys): decrypted once per run, every value hidden from output as ***.",
		Funcs: []luart.Func{
			{Name: "load", Doc: "Returns the values of a SOPS file (path relative to the fabfile, inside the project) as a table. The file is decrypted once per run, when a run starts or on first read; every value is then shown as *** in all output.",
				Params:  []luart.Param{{Name: "path", Type: "string", Doc: "a .yaml/.yml, .json or .env file encrypted with sops or gofab secrets"}},
				Returns: []luart.Param{{Type: "table<string, any>"}},
				Fn:      load},
			{Name: "hide", Doc: "Hides value from output from now on, as a decrypted value is (a generated password, a token fetched at run time), and returns it.",
				Params:  []luart.Param{{Name: "value", Type: "string"}},
				Returns: []luart.Param{{Type: "string"}},
				Fn:      hide},
		},
	}
}

func load(st *luart.State) int {
	L := st.L
	name := L.CheckString(1)
	path, err := secrets.Resolve(secrets.ProjectRoot(st.FabfileDir()), st.FabfileDir(), name)
	if err != nil {
		L.RaiseError("secrets.load: %v", err)
	}
	st.SecretFile(path)
	// The table fills itself on first read: listing tasks decrypts nothing.
	t := L.NewTable()
	mt := L.NewTable()
	fill := func(L *lua.LState) {
		vals, err := st.Secrets().Load(path)
		if err != nil {
			L.RaiseError("secrets.load(%q): %v", name, err)
		}
		full, _ := luart.FromPlain(L, vals).(*lua.LTable)
		L.SetMetatable(t, lua.LNil)
		if full != nil {
			full.ForEach(func(k, v lua.LValue) { t.RawSet(k, v) })
		}
	}
	mt.RawSetString("__index", L.NewFunction(func(L *lua.LState) int {
		fill(L)
		L.Push(t.RawGet(L.Get(2)))
		return 1
	}))
	mt.RawSetString("__newindex", L.NewFunction(func(L *lua.LState) int {
		fill(L)
		t.RawSet(L.Get(2), L.Get(3))
		return 0
	}))
	L.SetMetatable(t, mt)
	L.Push(t)
	return 1
}

func hide(st *luart.State) int {
	v := st.L.CheckString(1)
	st.Secrets().Add("the value given to secrets.hide", v)
	st.L.Push(lua.LString(v))
	return 1
}
