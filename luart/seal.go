package luart

import (
	"path/filepath"
	"strings"

	lua "github.com/yuin/gopher-lua"

	"github.com/gofab/gofab/internal/base/host"
)

// sealed are the functions of Lua's os and io libraries a fabfile must not
// have: they would end gofab without its recap, print past the host's
// prefixed output, or run commands that --check and --dry-run cannot see.
// Each raises an error that says what to use instead.
var sealed = map[string]map[string]string{
	lua.OsLibName: {
		"exit":    "os.exit would end gofab without its recap or clean-up: use abort(msg) to end the task on this host, or error()",
		"execute": "os.execute bypasses --check, --dry-run, timeouts and output: use run_local(cmd)",
	},
	lua.IoLibName: {
		"popen": "io.popen bypasses --check, --dry-run, timeouts and output: use run_local(cmd).stdout",
		"read":  "io.read would fight gofab for the terminal: use prompt(text)",
	},
}

// seal replaces the sealed functions of library lib (opened as t), and
// sends io.write, io.stdout and io.stderr to the host's prefixed output
// (while planning, to gofab's stdout as print does).
func (st *State) seal(lib string, t *lua.LTable) {
	L := st.L
	defer func() {
		if st.prog.sandboxed {
			st.sandbox(lib, t) // after the wrappers below, which it replaces
		}
	}()
	for name, why := range sealed[lib] {
		t.RawSetString(name, L.NewFunction(func(L *lua.LState) int {
			L.RaiseError("%s", why)
			return 0
		}))
	}
	if lib != lua.IoLibName {
		return
	}
	for _, name := range []string{"open", "lines"} {
		st.localPaths(t, name)
	}
	out := &lineBuffer{st: st, kind: ""}
	errOut := &lineBuffer{st: st, kind: "err"}
	st.ioBuffers = []*lineBuffer{out, errOut}
	t.RawSetString("write", L.NewFunction(func(L *lua.LState) int { return out.write(L, 1) }))
	for name, buf := range map[string]*lineBuffer{"stdout": out, "stderr": errOut} {
		f := L.CreateTable(0, 1)
		f.RawSetString("write", L.NewFunction(func(L *lua.LState) int { return buf.write(L, 2) }))
		t.RawSetString(name, f)
	}
}

// lineBuffer turns io.write's pieces into whole lines of the host's
// output; a line not ended by the task's end is printed then.
type lineBuffer struct {
	st      *State
	kind    string
	pending string
}

// write prints the complete lines among the arguments from index first
// on and returns the file-like receiver (io.write returns io.stdout).
func (b *lineBuffer) write(L *lua.LState, first int) int {
	var sb strings.Builder
	sb.WriteString(b.pending)
	for i := first; i <= L.GetTop(); i++ {
		sb.WriteString(L.ToStringMeta(L.Get(i)).String())
	}
	text := sb.String()
	lines := strings.Split(text, "\n")
	b.pending = lines[len(lines)-1]
	for _, ln := range lines[:len(lines)-1] {
		b.st.emitLine(b.kind, ln)
	}
	if first == 2 {
		L.Push(L.Get(1))
		return 1
	}
	return 0
}

// flushIO prints what io.write left without a newline.
func (st *State) flushIO() {
	for _, b := range st.ioBuffers {
		if b.pending != "" {
			st.emitLine(b.kind, b.pending)
			b.pending = ""
		}
	}
}

// emitLine prints one line as print does: to the host's output in a task,
// to gofab's stdout while planning.
func (st *State) emitLine(kind, text string) {
	if st.he == nil {
		st.say("user", kind, text)
		return
	}
	if !st.loading {
		st.he.Out.Line(kind, text)
	}
}

// localPaths makes io library function name resolve a relative path as
// templates do: from lcd()'s directory, else the fabfile's.
func (st *State) localPaths(t *lua.LTable, name string) {
	orig := t.RawGetString(name)
	t.RawSetString(name, st.L.NewFunction(func(L *lua.LState) int {
		if p, ok := L.Get(1).(lua.LString); ok {
			L.Replace(1, lua.LString(st.LocalFile(string(p))))
		}
		top := L.GetTop()
		L.Insert(orig, 1)
		L.Call(top, lua.MultRet)
		return L.GetTop()
	}))
}

// LocalFile resolves a path of this machine as templates and io.open do:
// ~ is the home directory; a relative path starts at lcd()'s directory,
// and what is still relative at the fabfile's.
func (st *State) LocalFile(p string) string {
	if p == "~" || strings.HasPrefix(p, "~/") {
		if abs, err := (host.OS{}).Abs(p); err == nil {
			return abs
		}
	}
	if filepath.IsAbs(p) {
		return p
	}
	if st.Settings.Lcwd != "" {
		p = filepath.Join(st.Settings.Lcwd, p)
	}
	if filepath.IsAbs(p) {
		return p
	}
	return filepath.Join(st.FabfileDir(), p)
}
