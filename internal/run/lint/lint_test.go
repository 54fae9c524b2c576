package lint

import (
	"strings"
	"testing"

	"github.com/gofab/gofab/luart"
)

// options declares a table type of optional fields.
func options(name string, fields ...string) luart.Param {
	t := &luart.TableType{Name: name}
	for _, f := range fields {
		t.Fields = append(t.Fields, luart.Field{Name: f, Type: "any", Optional: true})
	}
	return luart.OptionsParam(t)
}

var anyParam = luart.Param{Name: "x", Type: "any"}

var testModules = []luart.Module{
	{Funcs: []luart.Func{
		{Name: "run", Params: []luart.Param{anyParam, options("RunOptions", "warn_only", "quiet")}},
		{Name: "task", Params: []luart.Param{anyParam, options("TaskOptions", "hosts")}},
		{Name: "execute"},
	}},
	{Name: "files", Funcs: []luart.Func{{Name: "write", Params: []luart.Param{anyParam, anyParam, options("WriteOptions", "mode")}}}},
}

func TestCheck(t *testing.T) {
	cases := []struct {
		name, src string
		want      []string // "line:col: message" prefixes, in order
	}{
		{"clean", "local x = 1\nfunction helper(a) return a + x end\ntask('t', function() run('ls', {quiet = true}) helper(2) end)\n", nil},
		{"typo", "rnu('ls')\n", []string{"1:1: unknown global rnu (did you mean run?)"}},
		{"global defined later is fine", "task('t', function() later() end)\nfunction later() end\n", nil},
		{"local scope ends", "do local y = 1 end\nprint(y)\n", []string{"2:7: unknown global y"}},
		{"for variables", "for i, v in ipairs({}) do print(i, v) end\nfor n = 1, 2 do print(n) end\n", nil},
		{"unknown option", "run('ls', {warn = true})\n", []string{`1:12: run: unknown option "warn"`}},
		{"module option", "local f = require('files')\nf.write('/x', 'y', {mod = '0644'})\n", []string{`2:21: files.write: unknown option "mod"`}},
		{"module function", "local f = require('files')\nf.wirte('/x')\n", []string{"2:3: module files has no function wirte"}},
		{"shadow local", "local run = 1\n", []string{"1:7: warning: local run shadows gofab's global run()"}},
		{"shadow param", "local function f(task) return task end\n", []string{"1:18: warning: local task shadows gofab's global task()"}},
		{"replace global", "run = nil\n", []string{"1:1: warning: assignment replaces gofab's global run()"}},
		{"shadowed and read", "local run = \"/srv\"\nprint(run)\n", []string{"1:7: warning: local run shadows gofab's global run()"}},
		{"shadowed and called", "local run = \"/srv\"\nrun(\"uptime\")\n",
			[]string{"1:7: warning: local run shadows", "2:1: run(...) calls the local run, not gofab's run(): rename the local"}},
		{"called after its scope", "do local run = 1 end\nrun(\"uptime\")\n", []string{"1:10: warning: local run shadows"}},
		{"execute unknown task", "task('a', function() execute('b') end)\n", []string{`1:31: execute: no task "b"`}},
		{"syntax", "task('a', function()\n", []string{"2:1: syntax error"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := Check("f.lua", []byte(c.src), Options{Modules: testModules, Tasks: []string{"a"}})
			if len(got) != len(c.want) {
				t.Fatalf("findings %v, want %v", got, c.want)
			}
			for i, f := range got {
				if s := f.String(); !strings.HasPrefix(s, "f.lua:"+c.want[i]) {
					t.Errorf("finding %q, want prefix f.lua:%s", s, c.want[i])
				}
			}
		})
	}
}
