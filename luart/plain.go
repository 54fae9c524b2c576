package luart

import (
	"fmt"
	"math"
	"sort"

	lua "github.com/yuin/gopher-lua"
)

// maxDepth bounds nesting when converting tables, so cycles fail cleanly.
const maxDepth = 64

// ToPlain converts a Lua value to plain Go data that may cross goroutines:
// nil, bool, float64 (int64 when integral), string, []any for sequences and
// map[string]any for other tables. Functions, userdata, threads and tables
// with non-string, non-sequence keys are errors.
func ToPlain(v lua.LValue) (any, error) { return toPlain(v, 0) }

func toPlain(v lua.LValue, depth int) (any, error) {
	if depth > maxDepth {
		return nil, fmt.Errorf("table nested deeper than %d (a cycle?)", maxDepth)
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
		n := x.Len()
		count := 0
		x.ForEach(func(lua.LValue, lua.LValue) { count++ })
		if n > 0 && count == n {
			list := make([]any, 0, n)
			for i := 1; i <= n; i++ {
				e, err := toPlain(x.RawGetInt(i), depth+1)
				if err != nil {
					return nil, fmt.Errorf("[%d]: %w", i, err)
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
				err = fmt.Errorf("table key of type %s", k.Type())
				return
			}
			var e any
			if e, err = toPlain(val, depth+1); err != nil {
				err = fmt.Errorf("%s: %w", key, err)
				return
			}
			m[key] = e
		})
		return m, err
	default:
		return nil, fmt.Errorf("a %s cannot leave its Lua state", v.Type())
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
