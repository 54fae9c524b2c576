package luart

import (
	"fmt"
	"strings"

	lua "github.com/yuin/gopher-lua"

	"github.com/gofab/gofab/internal/base/fuzzy"
)

// Field is one field of a [TableType]: an option a function accepts, or a
// field of a table it returns.
type Field struct {
	Name     string
	Type     string // LuaLS type; "" for an Enum: the union of its values
	Doc      string
	Optional bool
	// Enum lists the strings the field takes (Decode refuses others, with
	// the closest).
	Enum []string
}

// LuaType is the field's LuaLS type: Type, or the union of Enum's values.
func (f Field) LuaType() string {
	if f.Type != "" || len(f.Enum) == 0 {
		return f.Type
	}
	quoted := make([]string, len(f.Enum))
	for i, e := range f.Enum {
		quoted[i] = fmt.Sprintf("%q", e)
	}
	return strings.Join(quoted, "|")
}

// TableType declares a kind of Lua table gofab's functions take or give:
// a function's options (RunOptions) or a result (Result). The declaration
// is the only one: a function's Options validate calls against it, Set
// refuses a field it does not list, and its LuaLS class is written from
// it, so the editor's types and the run time cannot drift apart.
type TableType struct {
	Name string
	Doc  string
	// Parent is the type whose fields this one also has (SudoOptions:
	// RunOptions).
	Parent *TableType
	Fields []Field
}

// Names returns every field name, the parent's first.
func (t *TableType) Names() []string {
	var names []string
	for ; t != nil; t = t.Parent {
		var own []string
		for _, f := range t.Fields {
			own = append(own, f.Name)
		}
		names = append(own, names...)
	}
	return names
}

// Has reports whether the type (or its parent) declares field name.
func (t *TableType) Has(name string) bool {
	_, ok := t.field(name)
	return ok
}

// Set sets field name of tbl, a table of this type. A name the type does
// not declare is a bug in gofab, so it panics (and tests catch it).
func (t *TableType) Set(tbl *lua.LTable, name string, v lua.LValue) {
	if !t.Has(name) {
		panic(fmt.Sprintf("luart: %s has no field %q: declare it", t.Name, name))
	}
	tbl.RawSetString(name, v)
}

// Unknown returns the error for an option name the type does not declare,
// with the closest known name when one is near.
func (t *TableType) Unknown(fname, name string) string {
	names := t.Names()
	msg := fmt.Sprintf("%s: unknown option %q", fname, name)
	if near := fuzzy.Closest(name, names, 3); near != "" {
		return msg + fmt.Sprintf(" (did you mean %q?)", near)
	}
	return msg + " (known: " + strings.Join(names, ", ") + ")"
}

// writeClass writes the LuaLS class; an options type (one a function
// takes as options, or named *Options, as a parent of one) is (exact), and
// its other keys have the type NotAnOption, so a misspelled option is a
// warning in the editor.
func (t *TableType) writeClass(b *strings.Builder, options bool) {
	if t.Doc != "" {
		for _, line := range strings.Split(strings.TrimSpace(t.Doc), "\n") {
			fmt.Fprintf(b, "---%s\n", line)
		}
	}
	exact := ""
	if options || strings.HasSuffix(t.Name, "Options") {
		exact = "(exact) "
	}
	parent := ""
	if t.Parent != nil {
		parent = ": " + t.Parent.Name
	}
	fmt.Fprintf(b, "---@class %s%s%s\n", exact, t.Name, parent)
	for _, f := range t.Fields {
		opt := ""
		if f.Optional {
			opt = "?"
		}
		name := f.Name
		if luadocScopes[name] {
			name = `["` + name + `"]` // ---@field private x declares a private field x
		}
		fmt.Fprintf(b, "---@field %s%s %s %s\n", name, opt, f.LuaType(), f.Doc)
	}
	if exact != "" {
		// LuaLS 3.19 does not flag an unknown key of a table literal
		// passed for an (exact) class; it does flag a value it cannot
		// assign to the key's type: "Cannot assign `boolean` to `nil`".
		b.WriteString("---@field [string] NotAnOption\n")
	}
	b.WriteString("\n")
}

// luadocScopes are the words LuaLS reads as a field's visibility.
var luadocScopes = map[string]bool{"private": true, "protected": true, "public": true, "package": true}

// checkOptions validates the options table at idx of a call to fname
// against the declared type, before the function's body runs. Nil and
// values that are not tables are left to the body (st.Opts raises for
// the latter; some functions take a string there).
func checkOptions(L *lua.LState, idx int, fname string, t *TableType) {
	tbl, ok := L.Get(idx).(*lua.LTable)
	if !ok {
		return
	}
	tbl.ForEach(func(k, _ lua.LValue) {
		name, ok := k.(lua.LString)
		if !ok || !t.Has(string(name)) {
			L.ArgError(idx, t.Unknown(fname, lua.LVAsString(k)))
		}
	})
}
