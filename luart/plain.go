package luart

import (
	"fmt"
	"math"
	"sort"
	"strings"

	lua "github.com/yuin/gopher-lua"
)

// maxDepth bounds nesting when converting tables, so cycles fail cleanly.
const maxDepth = 64

// ToPlain converts a Lua value to plain Go data that may cross goroutines:
// nil, bool, float64 (int64 when integral), string, []any for sequences and
// map[string]any for other tables. Functions, userdata, threads, tables
// with non-string, non-sequence keys and tables that contain themselves
// are errors, which name where in the value the problem is.
func ToPlain(v lua.LValue) (any, error) {
	out, err := toPlain(v, 0, map[*lua.LTable]bool{})
	if pe, ok := err.(*plainError); ok {
		return nil, pe.finish()
	}
	return out, err
}

// plainError is a conversion problem and the keys leading to it,
// innermost first.
type plainError struct {
	msg  string
	keys []string
}

func (e *plainError) Error() string { return e.finish().Error() }

// finish says where: "at a.b[2]: msg", eliding the middle of long paths.
func (e *plainError) finish() error {
	if len(e.keys) == 0 {
		return fmt.Errorf("%s", e.msg)
	}
	keys := make([]string, len(e.keys))
	for i, k := range e.keys {
		keys[len(keys)-1-i] = k
	}
	if len(keys) > 6 {
		keys = append(append(keys[:3:3], "…"), keys[len(keys)-2:]...)
	}
	return fmt.Errorf("at %s: %s", strings.Join(keys, "."), e.msg)
}

func wrapKey(err error, key string) error {
	if pe, ok := err.(*plainError); ok {
		pe.keys = append(pe.keys, key)
		return pe
	}
	return &plainError{msg: err.Error(), keys: []string{key}}
}

func toPlain(v lua.LValue, depth int, onPath map[*lua.LTable]bool) (any, error) {
	if depth > maxDepth {
		return nil, &plainError{msg: fmt.Sprintf("tables nested deeper than %d", maxDepth)}
	}
	switch x := v.(type) {
	case *lua.LNilType:
		return nil, nil
	case lua.LBool:
		return bool(x), nil
	case lua.LNumber:
		f := float64(x)
		if f == math.Trunc(f) && math.Abs(f) < 1<<53 {
			return int64(f), nil
		}
		return f, nil
	case lua.LString:
		return string(x), nil
	case *lua.LTable:
		if onPath[x] {
			return nil, &plainError{msg: "a table that contains itself cannot leave its Lua state"}
		}
		onPath[x] = true
		defer delete(onPath, x)
		n := x.Len()
		count := 0
		x.ForEach(func(lua.LValue, lua.LValue) { count++ })
		if n > 0 && count == n {
			list := make([]any, 0, n)
			for i := 1; i <= n; i++ {
				e, err := toPlain(x.RawGetInt(i), depth+1, onPath)
				if err != nil {
					return nil, wrapKey(err, fmt.Sprintf("[%d]", i))
				}
				list = append(list, e)
			}
			return list, nil
		}
		m := make(map[string]any, count)
		var err error
		x.ForEach(func(k, val lua.LValue) {
			if err != nil {
				return
			}
			var key string
			switch kk := k.(type) {
			case lua.LString:
				key = string(kk)
			case lua.LNumber:
				key = kk.String()
			default:
				err = &plainError{msg: fmt.Sprintf("table key of type %s", k.Type())}
				return
			}
			var e any
			if e, err = toPlain(val, depth+1, onPath); err != nil {
				err = wrapKey(err, key)
				return
			}
			m[key] = e
		})
		return m, err
	default:
		return nil, &plainError{msg: fmt.Sprintf("a %s cannot leave its Lua state", v.Type())}
	}
}

// FromPlain converts plain Go data (as ToPlain returns, plus int and
// []string) to a Lua value in L.
func FromPlain(L *lua.LState, v any) lua.LValue {
	switch x := v.(type) {
	case nil:
		return lua.LNil
	case bool:
		return lua.LBool(x)
	case int:
		return lua.LNumber(x)
	case int64:
		return lua.LNumber(x)
	case float64:
		return lua.LNumber(x)
	case string:
		return lua.LString(x)
	case []string:
		t := L.CreateTable(len(x), 0)
		for _, e := range x {
			t.Append(lua.LString(e))
		}
		return t
	case []any:
		t := L.CreateTable(len(x), 0)
		for _, e := range x {
			t.Append(FromPlain(L, e))
		}
		return t
	case map[string]any:
		t := L.CreateTable(0, len(x))
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			t.RawSetString(k, FromPlain(L, x[k]))
		}
		return t
	}
	return lua.LString(fmt.Sprint(v))
}
