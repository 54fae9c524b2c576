package luart

import (
	"context"
	"fmt"
	"io"
	"strings"
	"sync"
	"testing"
	"time"

	lua "github.com/yuin/gopher-lua"

	"github.com/gofab/gofab/internal/base/event"
	"github.com/gofab/gofab/internal/base/host"
)

// printer records the lines a host prints.
type printer struct {
	mu    sync.Mutex
	lines []string
}

func (p *printer) Line(kind, text string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.lines = append(p.lines, kind+": "+text)
}

func (p *printer) Event(event.Event) {}

func (p *printer) Stream(kind string) io.WriteCloser { return nopCloser{io.Discard} }

type nopCloser struct{ io.Writer }

func (nopCloser) Close() error { return nil }

// probeOptions and the probe module stand in for a stdlib module: probe
// records that its body ran and what options it saw.
var probeOptions = &TableType{Name: "ProbeOptions", Fields: []Field{
	{Name: "quiet", Type: "boolean", Optional: true},
	{Name: "timeout", Type: "number", Optional: true},
}}

func probeModule(calls *[]string) Module {
	return Module{Name: "probe", TableTypes: []*TableType{probeOptions}, Funcs: []Func{
		{Name: "call", Params: []Param{{Name: "what", Type: "string"}, OptionsParam(probeOptions)},
			Fn: func(st *State) int {
				o := st.Opts()
				*calls = append(*calls, fmt.Sprintf("%s quiet=%v", st.L.CheckString(1), o.Bool("quiet")))
				return 0
			}},
		{Name: "undeclared", Fn: func(st *State) int {
			st.Opts() // a function without an options parameter must not
			return 0
		}},
	}}
}

// runTask compiles fabfile with the builtins and the probe module and runs
// task on a host that has no connection; it returns the task's error and
// the lines the host printed.
func runTask(t *testing.T, fabfile, task string, calls *[]string) (error, []string) {
	t.Helper()
	prog, err := Compile("fabfile.lua", []byte(fabfile), Options{Modules: []Module{probeModule(calls)}})
	if err != nil {
		t.Fatal(err)
	}
	out := &printer{}
	he := &HostEnv{
		Addr: host.Addr{Host: "web1"}, HostString: "web1", Hosts: 1, Run: &RunOptions{}, Out: out,
		Connect: func(context.Context) (host.Conn, error) { return nil, fmt.Errorf("no connection in this test") },
	}
	_, err = prog.RunTask(context.Background(), he, task, Args{})
	return err, out.lines
}

// TestOptionsChecked: a call's options are checked against the declared
// type before the body runs, with a did-you-mean; the body reads them
// without naming them again.
func TestOptionsChecked(t *testing.T) {
	cases := []struct {
		name, call string
		wantErr    string // "" for success
		wantCalls  []string
	}{
		{"declared", `probe.call("a", {quiet = true, timeout = 3})`, "", []string{"a quiet=true"}},
		{"no options", `probe.call("b")`, "", []string{"b quiet=false"}},
		{"misspelled", `probe.call("c", {quiett = true})`, `probe.call: unknown option "quiett" (did you mean "quiet"?)`, nil},
		{"far off", `probe.call("d", {colour = "red"})`, `probe.call: unknown option "colour" (known: quiet, timeout)`, nil},
		{"not a table", `probe.call("e", 42)`, "options must be a table", nil},
		{"no declaration", `probe.undeclared()`, "declares no options parameter", nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var calls []string
			err, _ := runTask(t, "local probe = require('probe')\ntask('t', function() "+c.call+" end)\n", "t", &calls)
			switch {
			case c.wantErr == "" && err != nil:
				t.Fatalf("error %v", err)
			case c.wantErr != "" && (err == nil || !strings.Contains(err.Error(), c.wantErr)):
				t.Fatalf("error %v, want one containing %q", err, c.wantErr)
			}
			if fmt.Sprint(calls) != fmt.Sprint(c.wantCalls) {
				t.Errorf("body ran with %q, want %q", calls, c.wantCalls)
			}
		})
	}
}

// TestTableTypeSet: a result can only get the fields its type declares,
// the parent's included.
func TestTableTypeSet(t *testing.T) {
	child := &TableType{Name: "Child", Parent: probeOptions, Fields: []Field{{Name: "extra", Type: "string"}}}
	L := lua.NewState()
	defer L.Close()
	tbl := L.NewTable()
	child.Set(tbl, "extra", lua.LString("x"))
	child.Set(tbl, "quiet", lua.LTrue)
	if got := fmt.Sprint(child.Names()); got != "[quiet timeout extra]" {
		t.Errorf("names %s", got)
	}
	defer func() {
		if recover() == nil {
			t.Error("setting an undeclared field did not panic")
		}
	}()
	child.Set(tbl, "stdout", lua.LString("drift"))
}

// TestMetaFromDeclarations: the LuaLS definitions are written from the
// same declarations: exact options classes, parents, the options
// parameter typed by its declaration.
func TestMetaFromDeclarations(t *testing.T) {
	files := MetaFiles([]Module{probeModule(nil)})
	got := files["probe.lua"]
	for _, want := range []string{
		"---@meta probe\n",
		"---@class (exact) ProbeOptions\n---@field quiet? boolean \n---@field timeout? number \n",
		"---@param options? ProbeOptions \nfunction probe.call(what, options) end",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("definitions lack %q:\n%s", want, got)
		}
	}
}

// TestSealedState: os.exit, os.execute and io.popen raise errors that say
// what to use; io.write and print reach the host's prefixed output.
func TestSealedState(t *testing.T) {
	cases := []struct {
		name, body string
		wantErr    string
		wantLines  []string
	}{
		{"os.exit", `os.exit(3)`, "use abort(msg)", nil},
		{"os.execute", `os.execute("touch /tmp/x")`, "use run_local(cmd)", nil},
		{"io.popen", `io.popen("ls")`, "use run_local(cmd).stdout", nil},
		{"io.read", `io.read()`, "use prompt(text)", nil},
		{"io.write", `io.write("a", 1, "\nb") io.stderr:write("oops\n")`, "", []string{": a1", "err: oops", ": b"}},
		{"print", `print("x", 2)`, "", []string{": x\t2"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err, lines := runTask(t, "task('t', function() "+c.body+" end)\n", "t", nil)
			if c.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), c.wantErr) {
					t.Fatalf("error %v, want one containing %q", err, c.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if fmt.Sprintf("%q", lines) != fmt.Sprintf("%q", c.wantLines) {
				t.Errorf("printed %q, want %q", lines, c.wantLines)
			}
		})
	}
}

// TestLazyGlobals: globals are made on first read, and a fabfile's own
// global named like a base function survives the base library opening
// later; gofab's print replaces Lua's; _G's metatable is protected.
func TestLazyGlobals(t *testing.T) {
	cases := []struct{ name, body, wantErr string }{
		{"own assert kept", `assert = function() return "mine" end; local _ = pairs({}); if assert() ~= "mine" then error("assert replaced") end`, ""},
		{"gofab print", `print("x"); local _ = pairs({}); print("y")`, ""},
		{"libraries", `if math.max(1, 2) ~= 2 or table.concat({"a", "b"}) ~= "ab" or type(os.time()) ~= "number" then error("lib") end`, ""},
		{"string method first", `if ("x"):upper() ~= "X" or string.format("%d", 7) ~= "7" or ("a,b"):find(",") ~= 2 then error("string") end`, ""},
		{"string global first", `if string.rep("a", 2) ~= "aa" or ("y"):upper() ~= "Y" then error("string") end`, ""},
		{"require", `local json = require("json"); if json.encode({1}) ~= "[1]" then error("json") end`, ""},
		{"protected", `setmetatable(_G, {})`, "cannot change a protected metatable"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err, lines := runTask(t, "task('t', function() "+c.body+" end)\n", "t", nil)
			if c.wantErr == "" && err != nil {
				t.Fatal(err)
			}
			if c.wantErr != "" && (err == nil || !strings.Contains(err.Error(), c.wantErr)) {
				t.Fatalf("error %v, want %q", err, c.wantErr)
			}
			if c.name == "gofab print" && fmt.Sprint(lines) != "[: x : y]" {
				t.Errorf("print went to %q, want the host's output twice", lines)
			}
		})
	}
}

// TestFabricHelpers: colors (codes only when gofab prints in colour),
// sleep (ended by an interrupt) and env.local_user.
func TestFabricHelpers(t *testing.T) {
	fabfile := `local colors = require("colors")
task("t", function()
  puts(colors.red("r") .. colors.green("g", true))
  assert(env.local_user ~= nil and env.local_user ~= "", "env.local_user")
  sleep(0.001)
end)
task("long", function() sleep(60) end)
`
	prog, err := Compile("fabfile.lua", []byte(fabfile), Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		color bool
		want  string
	}{{false, ": rg"}, {true, ": \x1b[31mr\x1b[0m\x1b[1;32mg\x1b[0m"}} {
		out := &printer{}
		he := &HostEnv{Addr: host.Addr{Host: "web1"}, HostString: "web1", Hosts: 1, Run: &RunOptions{Color: c.color}, Out: out}
		if _, err := prog.RunTask(context.Background(), he, "t", Args{}); err != nil {
			t.Fatal(err)
		}
		if len(out.lines) != 1 || out.lines[0] != c.want {
			t.Errorf("color %v: printed %q, want %q", c.color, out.lines, c.want)
		}
	}
	// sleep(60) ends with the run's context (were it to ignore it, the
	// test would wait the whole minute).
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	he := &HostEnv{Addr: host.Addr{Host: "web1"}, HostString: "web1", Hosts: 1, Run: &RunOptions{}, Out: &printer{}}
	if _, err := prog.RunTask(ctx, he, "long", Args{}); err == nil || !strings.Contains(err.Error(), "deadline exceeded") {
		t.Errorf("sleep past the deadline: %v", err)
	}
}
