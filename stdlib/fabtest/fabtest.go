// Package fabtest is the Lua module "testing": unit tests for recipes
// (*_test.lua files, run by gofab test) that run a fabfile's real tasks
// against fake hosts (internal/testdouble/fakehost) and assert what they did.
package fabtest

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"strings"

	lua "github.com/yuin/gopher-lua"

	"github.com/gofab/gofab/internal/testdouble/fakehost"
	"github.com/gofab/gofab/luart"
)

// Runner runs a fabfile's task on a case's fake hosts, the way gofab runs
// it on real ones; gofab test provides it.
type Runner interface {
	RunTask(ctx context.Context, c *Case, task string, args luart.Args, o RunOptions) (*Run, error)
}

// RunOptions are h:run_task's options that change how the task runs.
type RunOptions struct {
	Check, DryRun, Diff bool
	// Set are env values, as --set gives them.
	Set map[string]string
}

// Run is what one run_task did.
type Run struct {
	Results []Result
	// Output is what gofab printed, as plain text.
	Output string
}

// Result is how the task ended on one host.
type Result struct {
	Host, Status, Error string
	Changed             int
	Value               any
}

// Case is one t.case of a test file.
type Case struct {
	Name string
	// Where is the file:line that declared it.
	Where string
	// Hosts are the case's host names ({hosts = …}; default "web1").
	Hosts []string
	// Fleet holds the case's fake hosts and makes others on demand (a task
	// that execute()s on other hosts); Local stands for this machine.
	Fleet *fakehost.Fleet
	Local *fakehost.Host
	// Last is the case's latest run.
	Last *Run

	fn *lua.LFunction
}

// AllHosts returns the case's hosts, the local one last.
func (c *Case) AllHosts() []*fakehost.Host { return append(c.Fleet.Hosts(), c.Local) }

// Keys of a state's Settings.Values.
const (
	casesKey  = "testing.cases"
	strictKey = "testing.strict"
)

// Cases returns the cases a test file's state declared, in order.
func Cases(st *luart.State) []*Case {
	cs, _ := st.Settings.Values[casesKey].([]*Case)
	return cs
}

// RunCase runs case i of the state on fresh fake hosts and returns the
// case (with its hosts, for -v) and the failure, if any, as one message.
// localDir is the fabfile's directory: where the local fake host's
// relative paths start.
func RunCase(st *luart.State, i int, localDir string) (*Case, error) {
	c := Cases(st)[i]
	strict, _ := st.Settings.Values[strictKey].(bool)
	c.Fleet = &fakehost.Fleet{}
	c.Fleet.SetStrict(strict)
	c.Local = fakehost.New(fakehost.LocalName, "")
	c.Local.Dir = localDir
	c.Local.FS.As("root").MkdirAll(localDir, 0o755)
	c.Local.SetStrict(strict)
	L := st.L
	args := make([]lua.LValue, 0, len(c.Hosts))
	for _, name := range c.Hosts {
		args = append(args, st.NewObject(hostClass, &hostRef{c: c, h: c.Fleet.Host(name)}))
	}
	if err := L.CallByParam(lua.P{Fn: c.fn, NRet: 0, Protect: true}, args...); err != nil {
		return c, errors.New(luart.ErrorMessage(err))
	}
	return c, nil
}

// hostRef is a FakeHost object: one host of one case.
type hostRef struct {
	c *Case
	h *fakehost.Host
}

const hostClass = "FakeHost"

// Module returns the "testing" module; run is nil when the module is only
// described (gofab types, gofab docs).
func Module(run Runner) luart.Module {
	return luart.Module{
		Name: "testing",
		Doc:  "Unit tests for recipes: cases that run the fabfile's tasks on fake hosts and assert what they did (gofab test).",
		TableTypes: []*luart.TableType{testCaseOptionsType, runTaskOptionsType, fakeFileType, assertFileOptionsType, responseType,
			taskHostResultType, taskRunType, recordedCommandType},
		Classes: []luart.Class{{Name: hostClass, Doc: "A fake host of one test case.", Methods: hostMethods(run)}},
		Funcs: []luart.Func{
			{Name: "case", Doc: "Declares a test case. fn gets one FakeHost per host of opts.hosts (default one host, \"web1\"); each case runs in a fresh state on fresh hosts.",
				Params: []luart.Param{{Name: "name", Type: "string"}, {Name: "opts", Options: testCaseOptionsType},
					{Name: "fn", Type: "fun(h: FakeHost, ...: FakeHost)"}},
				Overloads: []string{"fun(name: string, fn: fun(h: FakeHost, ...: FakeHost))"},
				Fn:        declareCase},
			{Name: "strict", Doc: "Makes commands that no response answers fail (exit 127) instead of succeeding with no output: for every case of the file when called at its top level, else for the current case's hosts.",
				Params: []luart.Param{{Name: "on", Type: "boolean", Optional: true, Doc: "default true"}}, Fn: strict},
			{Name: "equal", Doc: "Fails the case unless got and want are equal (tables compared by content).",
				Params: []luart.Param{{Name: "got", Type: "any"}, {Name: "want", Type: "any"}, {Name: "msg", Type: "string", Optional: true}}, Fn: equal},
		},
	}
}

// declareCase is testing.case(name, [opts,] fn).
func declareCase(st *luart.State) int {
	L := st.L
	name := L.CheckString(1)
	fnIdx := 2
	c := &Case{Name: name, Where: strings.TrimSuffix(L.Where(1), ":"), Hosts: []string{"web1"}}
	if _, ok := L.Get(2).(*lua.LTable); ok {
		o := st.Opts()
		if hs, ok := o["hosts"].(*lua.LTable); ok {
			c.Hosts = nil
			for i := 1; i <= hs.Len(); i++ {
				c.Hosts = append(c.Hosts, lua.LVAsString(hs.RawGetInt(i)))
			}
			if len(c.Hosts) == 0 {
				L.ArgError(2, "hosts is empty")
			}
		}
		fnIdx = 3
	}
	c.fn = L.CheckFunction(fnIdx)
	for _, o := range Cases(st) {
		if o.Name == name {
			L.RaiseError("testing.case: %q is already declared at %s", name, o.Where)
		}
	}
	st.Settings.Values[casesKey] = append(Cases(st), c)
	return 0
}

// strict is testing.strict([on]).
func strict(st *luart.State) int {
	on := st.L.OptBool(1, true)
	st.Settings.Values[strictKey] = on
	for _, c := range Cases(st) {
		if c.Fleet != nil {
			c.Fleet.SetStrict(on)
			c.Local.SetStrict(on)
		}
	}
	return 0
}

// equal is testing.equal(got, want, [msg]).
func equal(st *luart.State) int {
	L := st.L
	got, err1 := luart.ToPlain(L.Get(1))
	want, err2 := luart.ToPlain(L.Get(2))
	if err1 != nil || err2 != nil {
		L.RaiseError("testing.equal: values must be plain data")
	}
	// Both sides come from ToPlain: numbers are alike whatever their source.
	if !reflect.DeepEqual(got, want) {
		msg := L.OptString(3, "not equal")
		L.RaiseError("%s\n        got:  %s\n        want: %s", msg, show(got), show(want))
	}
	return 0
}

func show(v any) string {
	if s, ok := v.(string); ok {
		return fmt.Sprintf("%q", s)
	}
	return fmt.Sprintf("%v", v)
}
