package luart

import (
	"context"
	"os/user"
	"sync"
	"time"

	lua "github.com/yuin/gopher-lua"

	"github.com/gofab/gofab/internal/base/host"
)

// colorsModule is require("colors"), Fabric's fabric.colors: text wrapped
// in the terminal's colour codes when gofab prints in colour (a terminal,
// NO_COLOR unset), and unchanged otherwise. Lines the fabfile prints keep
// these codes; command output never does.
var colorsModule = Module{
	Name:  "colors",
	Doc:   "Fabric's colour helpers: colors.red(text) … return text in that colour when gofab prints in colour (a terminal, NO_COLOR unset), else unchanged.",
	Funcs: colorFuncs(),
}

// ansiColors are the SGR codes of Fabric's colour functions.
var ansiColors = []struct{ name, code string }{
	{"red", "31"}, {"green", "32"}, {"yellow", "33"}, {"blue", "34"},
	{"magenta", "35"}, {"cyan", "36"}, {"white", "37"},
}

func colorFuncs() []Func {
	var fns []Func
	for _, c := range ansiColors {
		fns = append(fns, Func{Name: c.name, Doc: "Returns text in " + c.name + " (bold too when bold is true) when gofab prints in colour.",
			Params:  []Param{{Name: "text", Type: "string"}, {Name: "bold", Type: "boolean", Optional: true}},
			Returns: []Param{{Type: "string"}},
			Fn:      func(st *State) int { return colorize(st, c.code) }})
	}
	return fns
}

// colorize returns the text argument in colour code, bold when asked.
func colorize(st *State, code string) int {
	L := st.L
	text := L.CheckString(1)
	if st.he == nil || st.he.Run == nil || !st.he.Run.Color {
		L.Push(lua.LString(text))
		return 1
	}
	if L.ToBool(2) {
		code = "1;" + code
	}
	L.Push(lua.LString("\x1b[" + code + "m" + text + "\x1b[0m"))
	return 1
}

// luaSleep is sleep(seconds): Fabric's time.sleep, ended by an interrupt;
// under gofab test it returns at once, as a fake host's sleep does.
func luaSleep(st *State) int {
	L := st.L
	d, err := host.Seconds(float64(L.CheckNumber(1)))
	if err != nil {
		L.ArgError(1, err.Error())
	}
	if st.prog.sandboxed || d == 0 {
		return 0
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-st.ctx.Done():
		L.RaiseError("sleep: %v", context.Cause(st.ctx))
	}
	return 0
}

// LocalUser is the name of the user running gofab (env.local_user, the
// local host's user), looked up once.
var LocalUser = sync.OnceValue(func() string {
	if u, err := user.Current(); err == nil {
		return u.Username
	}
	return ""
})
