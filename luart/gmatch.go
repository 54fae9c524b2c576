package luart

import (
	lua "github.com/yuin/gopher-lua"
	"github.com/yuin/gopher-lua/pm"
)

// gmatch is string.gmatch as Lua 5.1 defines it: it returns one iterator
// function. gopher-lua's returns the iterator and a state value the
// iterator needs as its argument, so `s:gmatch(p)()` failed. (The other
// failure of `for line in run(cmd).stdout:gmatch(p)` was the compiler's:
// see fixGenericFor.)
func gmatch(L *lua.LState) int {
	str := L.CheckString(1)
	matches, err := pm.Find(L.CheckString(2), []byte(str), 0, -1)
	if err != nil {
		L.RaiseError("%s", err.Error())
	}
	next := 0
	L.Push(L.NewFunction(func(L *lua.LState) int {
		if next == len(matches) {
			return 0
		}
		m := matches[next]
		next++
		if m.CaptureLength() == 2 { // no captures: the whole match
			L.Push(lua.LString(str[m.Capture(0):m.Capture(1)]))
			return 1
		}
		for i := 2; i < m.CaptureLength(); i += 2 {
			if m.IsPosCapture(i) {
				L.Push(lua.LNumber(m.Capture(i)))
			} else {
				L.Push(lua.LString(str[m.Capture(i):m.Capture(i+1)]))
			}
		}
		return m.CaptureLength()/2 - 1
	}))
	return 1
}
