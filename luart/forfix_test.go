package luart

import (
	"strings"
	"testing"

	lua "github.com/yuin/gopher-lua"
)

// TestGenericForAndGmatch: loops gopher-lua 1.1.2 compiled wrongly (a call
// nested in the loop's expressions) and string.gmatch called as Lua 5.1
// allows, next to loops it always got right.
func TestGenericForAndGmatch(t *testing.T) {
	const prelude = `local function f() return {s = "a b c", t = {x = 1}} end
local out = {}
local function add(...) for i = 1, select("#", ...) do out[#out + 1] = tostring((select(i, ...))) end end
`
	cases := []struct{ name, src, want string }{
		{"call then field then method", `for w in f().s:gmatch("%S+") do add(w) end`, "a,b,c"},
		{"inside a closure", `local function g() for w in f().s:gmatch("%S+") do add(w) end end g()`, "a,b,c"},
		{"in a function in a table", `local t = {g = function() for w in f().s:gmatch("%a") do add(w) end end} t.g()`, "a,b,c"},
		{"pairs of a call's field", `for k, v in pairs(f().t) do add(k, v) end`, "x,1"},
		{"ipairs", `for i, v in ipairs({"p", "q"}) do add(i, v) end`, "1,p,2,q"},
		{"nested loops", `for _, x in ipairs({"1", "2"}) do for y in ("ab"):gmatch(".") do add(x .. y) end end`, "1a,1b,2a,2b"},
		{"break and locals after", `for w in f().s:gmatch("%S+") do if w == "b" then break end add(w) end local z = "z" add(z)`, "a,z"},
		{"explicit iterator triple", `local function it(s, c) if c < s then return c + 1 end end for i in it, 3, 0 do add(i) end`, "1,2,3"},
		{"gmatch called directly", `add(("k=v x=y"):gmatch("(%w+)=(%w+)")())`, "k,v"},
		{"gmatch captures and positions", `for k, v in string.gmatch("k=v, x=y", "(%w+)=(%w+)") do add(k, v) end for p in ("ab"):gmatch("()") do add(p) end`, "k,v,x,y,1,2,3"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			proto, err := compile(strings.NewReader(prelude+c.src+"\nreturn table.concat(out, \",\")"), "t.lua")
			if err != nil {
				t.Fatal(err)
			}
			L := lua.NewState()
			defer L.Close()
			L.SetField(L.GetGlobal("string"), "gmatch", L.NewFunction(gmatch))
			L.Push(L.NewFunctionFromProto(proto))
			if err := L.PCall(0, 1, nil); err != nil {
				t.Fatal(err)
			}
			if got := L.Get(-1).String(); got != c.want {
				t.Errorf("got %q, want %q", got, c.want)
			}
		})
	}
}
