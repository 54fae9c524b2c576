package luart

import (
	"slices"
	"strings"

	lua "github.com/yuin/gopher-lua"
)

// Levels are Fabric's atomic output levels.
var Levels = []string{"status", "aborts", "warnings", "running", "stdout", "stderr", "user", "debug", "exceptions"}

// levelAliasNames are the aliases of levelAliases, in a fixed order.
var levelAliasNames = []string{"output", "everything", "commands"}

// AllLevels returns the output levels and then their aliases.
func AllLevels() []string { return append(slices.Clone(Levels), levelAliasNames...) }

var levelAliases = map[string][]string{
	"output":     {"stdout", "stderr"},
	"everything": {"warnings", "running", "user", "stdout", "stderr"},
	"commands":   {"stdout", "running"},
}

func expandLevel(l string) []string {
	if a, ok := levelAliases[l]; ok {
		return a
	}
	return []string{l}
}

// LevelHidden reports whether level is hidden by the list of hidden levels
// and aliases.
func LevelHidden(hidden []string, level string) bool {
	for _, h := range hidden {
		for _, l := range expandLevel(h) {
			if l == level {
				return true
			}
		}
	}
	return false
}

// ValidLevel reports whether l is an output level or an alias of some.
func ValidLevel(l string) bool {
	if _, ok := levelAliases[l]; ok {
		return true
	}
	for _, x := range Levels {
		if x == l {
			return true
		}
	}
	return false
}

func (st *State) levels(hide bool) int {
	L := st.L
	top := L.GetTop()
	var levels []string
	for i := 1; i < top; i++ {
		switch v := L.Get(i).(type) {
		case lua.LString:
			for _, s := range strings.FieldsFunc(string(v), func(r rune) bool { return r == ',' || r == ' ' }) {
				levels = append(levels, s)
			}
		case *lua.LTable:
			v.ForEach(func(_, e lua.LValue) { levels = append(levels, e.String()) })
		default:
			L.ArgError(i, "output level names expected")
		}
	}
	for _, l := range levels {
		if !ValidLevel(l) {
			L.RaiseError("unknown output level %q (use %s, output, everything or commands)", l, strings.Join(Levels, ", "))
		}
	}
	return st.scoped(top, func() {
		for _, l := range levels {
			for _, a := range expandLevel(l) {
				st.Settings.Hidden[a] = hide
			}
		}
	})
}
