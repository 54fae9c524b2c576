package luart

import (
	"strings"
	"testing"
	"time"

	lua "github.com/yuin/gopher-lua"
)

var decodeBase = &TableType{Name: "BaseOptions", Fields: []Field{
	{Name: "quiet", Type: "boolean"}, {Name: "timeout", Type: "number"}, {Name: "codes", Type: "integer[]"},
}}

var decodeType = &TableType{Name: "TestOptions", Parent: decodeBase, Fields: []Field{
	{Name: "user", Type: "string"}, {Name: "count", Type: "integer"}, {Name: "ratio", Type: "number"},
	{Name: "names", Type: "string[]"}, {Name: "stdin", Type: "string"}, {Name: "mode", Enum: []string{"append", "prepend", "replace"}},
	{Name: "raw", Type: "any"}, {Name: "hosts", Type: "string|string[]"},
}}

type decodeBaseOpts struct {
	Quiet   bool          `lua:"quiet"`
	Timeout time.Duration `lua:"timeout"`
	Codes   []int         `lua:"codes"`
}

type decodeOpts struct {
	decodeBaseOpts
	User  string     `lua:"user"`
	Count int        `lua:"count"`
	Ratio float64    `lua:"ratio"`
	Names []string   `lua:"names"`
	Stdin *string    `lua:"stdin"`
	Mode  string     `lua:"mode"`
	Raw   lua.LValue `lua:"raw"`
	Hosts NameList   `lua:"hosts"`
	Other int        // untagged: left alone
}

// TestDecode: every Go type from its Lua value, defaults kept for what is
// not given, and the errors a wrong value gets.
func TestDecode(t *testing.T) {
	tests := []struct {
		lua     string
		check   func(decodeOpts) bool
		wantErr string
	}{
		{`return nil`, func(o decodeOpts) bool {
			return o.User == "default" && o.Codes[0] == 0 && o.Stdin == nil && o.Other == 7
		}, ""},
		{`return {quiet = 1, timeout = 1.5, codes = {0, 3}, user = 1000, count = 4, ratio = 0.5, names = {"a", 2}, stdin = "", mode = "append", raw = {}}`,
			func(o decodeOpts) bool {
				return o.Quiet && o.Timeout == 1500*time.Millisecond && len(o.Codes) == 2 && o.Codes[1] == 3 && o.User == "1000" && o.Count == 4 &&
					o.Ratio == 0.5 && strings.Join(o.Names, ",") == "a,2" && o.Stdin != nil && *o.Stdin == "" && o.Mode == "append" && o.Raw.Type() == lua.LTTable
			}, ""},
		{`return {quiet = false}`, func(o decodeOpts) bool { return !o.Quiet && o.User == "default" }, ""},
		{`return {codes = {}}`, func(o decodeOpts) bool { return o.Codes != nil && len(o.Codes) == 0 }, ""},
		{`return {hosts = "web1, web2,"}`, func(o decodeOpts) bool { return strings.Join(o.Hosts, "|") == "web1|web2" }, ""},
		{`return {hosts = {"web1"}}`, func(o decodeOpts) bool { return strings.Join(o.Hosts, "|") == "web1" }, ""},
		{`return {hosts = {1}}`, nil, "hosts must be a list of names, or names separated by commas"},
		{`return {timeout = "soon"}`, nil, "timeout must be a number of seconds"},
		{`return {timeout = -1}`, nil, "timeout must be a number of seconds"},
		{`return {count = 1.5}`, nil, "count must be a whole number"},
		{`return {codes = {0, "x"}}`, nil, "codes must be a list of whole numbers"},
		{`return {codes = {0, nil, 2}}`, nil, "codes must be a list of whole numbers"},
		{`return {names = "a"}`, nil, "names must be a list of strings"},
		{`return {user = {}}`, nil, "user must be a string"},
		{`return {mode = "apend"}`, nil, `mode must be one of append, prepend, replace, not "apend" (did you mean "append"?)`},
		{`return {mode = "sideways"}`, nil, `mode must be one of append, prepend, replace, not "sideways"`},
	}
	for _, tt := range tests {
		L := lua.NewState()
		if err := L.DoString(tt.lua); err != nil {
			t.Fatal(err)
		}
		tbl, _ := L.Get(-1).(*lua.LTable)
		o := decodeOpts{decodeBaseOpts: decodeBaseOpts{Codes: []int{0}}, User: "default", Other: 7}
		err := decodeType.Decode(tbl, &o)
		switch {
		case tt.wantErr != "":
			if err == nil || err.Error() != tt.wantErr {
				t.Errorf("%s: error %v, want %q", tt.lua, err, tt.wantErr)
			}
		case err != nil:
			t.Errorf("%s: %v", tt.lua, err)
		case !tt.check(o):
			t.Errorf("%s: decoded %+v", tt.lua, o)
		}
		L.Close()
	}
}

// TestDecodeUndeclared: a Go field whose tag the type does not declare is
// a bug in gofab, caught at once.
func TestDecodeUndeclared(t *testing.T) {
	defer func() {
		if r := recover(); r == nil || !strings.Contains(r.(string), `no field "colour"`) {
			t.Errorf("recovered %v, want a panic naming the field", r)
		}
	}()
	var o struct {
		Colour string `lua:"colour"`
	}
	decodeType.Decode(nil, &o)
}

// TestEnumLuaType: an Enum field's LuaLS type is the union of its values.
func TestEnumLuaType(t *testing.T) {
	f := Field{Name: "mode", Enum: []string{"append", "prepend"}}
	if got := f.LuaType(); got != `"append"|"prepend"` {
		t.Errorf("LuaType %s", got)
	}
}
