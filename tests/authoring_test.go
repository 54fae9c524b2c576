package tests

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gofab/gofab/luart"

	"github.com/creack/pty"
	"github.com/yuin/gopher-lua/parse"

	"github.com/gofab/gofab/stdlib"
)

// gofab runs the binary in dir with extra environment, without the
// testbed's ssh config; stdin feeds it.
func gofab(t *testing.T, dir string, env []string, stdin string, args ...string) result {
	t.Helper()
	cmd := exec.Command(gofabBin, args...)
	cmd.Dir = dir
	cmd.Env = append(append(baseEnv(dir), "NO_COLOR=1"), env...)
	cmd.Stdin = strings.NewReader(stdin)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return result{stdout: stdout.String(), stderr: stderr.String(), code: code}
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestModulesAndNamespaces loads modules from lib/, --include and
// GOFAB_PATH, lists their tasks by namespace and runs them, and loads a
// fabfile that is a directory with init.lua.
func TestModulesAndNamespaces(t *testing.T) {
	dir := t.TempDir()
	shared := t.TempDir()
	extra := t.TempDir()
	writeFile(t, filepath.Join(dir, "fabfile.lua"), `
local web = require("webserver")
require("team.db")
require("extra")
task("deploy", "Deploy everything", function() web.greet() execute("webserver.reload") end)`)
	writeFile(t, filepath.Join(dir, "lib/webserver.lua"), `
local M = {}
function M.greet() puts("greetings from a module") end
task("reload", {doc = "Reload the web server", default = true}, function() puts("reloaded") end)
return M`)
	writeFile(t, filepath.Join(shared, "team/db/init.lua"), `task("migrate", "Run migrations", function() puts("migrated") end)`)
	writeFile(t, filepath.Join(extra, "extra.lua"), `task("hello", function() puts("hello from include") end)`)
	env := []string{"GOFAB_PATH=" + shared}
	r := gofab(t, dir, env, "", "--include", extra, "-l")
	wantCode(t, r, 0)
	want := "Available tasks:\n\n    deploy            Deploy everything\n\n  extra:\n    extra.hello       \n\n  team.db:\n    team.db.migrate   Run migrations\n\n  webserver:\n    webserver.reload  Reload the web server\n"
	if r.stdout != want {
		t.Errorf("listing:\n%s\nwant:\n%s", r.stdout, want)
	}
	r = gofab(t, dir, env, "", "--include", extra, "-H", "local", "deploy", "webserver", "team.db.migrate", "extra.hello")
	wantCode(t, r, 0)
	mustContain(t, r, "greetings from a module", "[local] migrated", "hello from include")
	if n := strings.Count(r.stdout, "reloaded"); n != 2 {
		t.Errorf("webserver.reload ran %d times, want 2 (through execute and by the module's name)\n%s", n, r)
	}
	r = gofab(t, dir, env, "", "--include", extra, "-d", "webserver.reload")
	wantCode(t, r, 0)
	mustContain(t, r, "Reload the web server", "Aliases: webserver", "lib/webserver.lua:4")
	r = gofab(t, dir, nil, "", "-l")
	wantCode(t, r, 2)
	mustContain(t, r, `fabfile.lua:3: module "team.db" not found in`, "GOFAB_PATH")

	pkg := t.TempDir()
	writeFile(t, filepath.Join(pkg, "fabfile/init.lua"), `require("helpers") task("pkg", function() puts(helper()) end)`)
	writeFile(t, filepath.Join(pkg, "fabfile/helpers.lua"), `function helper() return "from the fabfile package" end`)
	r = gofab(t, pkg, nil, "", "-H", "local", "pkg")
	wantCode(t, r, 0)
	mustContain(t, r, "[local] from the fabfile package")
}

// TestTypes writes the editor definitions and checks them against the
// registry: every function defined, nothing else, each file valid Lua.
func TestTypes(t *testing.T) {
	dir := t.TempDir()
	r := gofab(t, dir, nil, "", "types", "defs")
	wantCode(t, r, 0)
	defined := map[string]bool{}
	entries, _ := os.ReadDir(filepath.Join(dir, "defs"))
	for _, e := range entries {
		src, _ := os.ReadFile(filepath.Join(dir, "defs", e.Name()))
		if !bytes.HasPrefix(src, []byte("---@meta")) {
			t.Errorf("%s does not start with ---@meta", e.Name())
		}
		if _, err := parse.Parse(bytes.NewReader(src), e.Name()); err != nil {
			t.Errorf("%s does not parse: %v", e.Name(), err)
		}
		for _, m := range regexp.MustCompile(`(?m)^function ([\w.:]+)\(`).FindAllSubmatch(src, -1) {
			defined[string(m[1])] = true
		}
	}
	for _, m := range stdlib.All() {
		for _, f := range m.Funcs {
			name := f.Name
			if m.Name != "" {
				name = m.Name + "." + f.Name
				if _, err := os.Stat(filepath.Join(dir, "defs", m.Name+".lua")); err != nil {
					t.Errorf("module %s has no definition file", m.Name)
				}
			}
			if !defined[name] {
				t.Errorf("%s is registered but not defined", name)
			}
			delete(defined, name)
		}
		for _, c := range m.Classes {
			for _, f := range c.Methods {
				name := c.Name + ":" + f.Name
				if !defined[name] {
					t.Errorf("method %s is registered but not defined", name)
				}
				delete(defined, name)
			}
		}
	}
	for name := range defined {
		t.Errorf("%s is defined but not registered", name)
	}
	var luarc map[string]any
	data, _ := os.ReadFile(filepath.Join(dir, ".luarc.json"))
	if err := json.Unmarshal(data, &luarc); err != nil || luarc["runtime.version"] != "Lua 5.1" {
		t.Fatalf(".luarc.json: %v %s", err, data)
	}
	if lib, _ := luarc["workspace.library"].([]any); len(lib) != 1 || lib[0] != "defs" {
		t.Errorf("workspace.library = %v", luarc["workspace.library"])
	}
}

// TestCheck runs gofab check on a fabfile with one mistake of each kind
// and on the recipes in fabfiles/.
func TestCheck(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "fabfile.lua"), `local files = require("files")
local run = "shadowed"
task("a", {hosts = {"x"}, retrys = 3}, function()
  rnu("ls")
  sudo("ls", {usr = "root"})
  files.wirte("/x", "y")
  execute("nope")
end)
put = nil
`)
	writeFile(t, filepath.Join(dir, "broken.lua"), "task(\"x\", function()\n  run(\"ls\"\nend)\n")
	r := gofab(t, dir, nil, "", "check")
	wantCode(t, r, 1)
	want := []string{
		"fabfile.lua:2:7: warning: local run shadows gofab's global run()",
		`fabfile.lua:3:27: task: unknown option "retrys"`,
		"fabfile.lua:4:3: unknown global rnu (did you mean run?)",
		`fabfile.lua:5:15: sudo: unknown option "usr"`,
		"fabfile.lua:6:9: module files has no function wirte",
		"fabfile.lua:9:1: warning: assignment replaces gofab's global put()",
	}
	mustContain(t, r, want...)
	// Shadowing is legal Lua: a warning, exit 0, unless the shadowed name
	// is then called.
	writeFile(t, filepath.Join(dir, "shadow.lua"), "local path = \"/srv/app\"\ntask(\"x\", function() run(\"ls \" .. path) end)\n")
	r = gofab(t, dir, nil, "", "check", "-f", "shadow.lua")
	wantCode(t, r, 0)
	mustContain(t, r, "shadow.lua:1:7: warning: local path shadows gofab's global path()")
	writeFile(t, filepath.Join(dir, "shadow.lua"), "local path = \"/srv/app\"\ntask(\"x\", function() path(\"/opt/bin\", function() end) end)\n")
	r = gofab(t, dir, nil, "", "check", "-f", "shadow.lua")
	wantCode(t, r, 1)
	mustContain(t, r, "shadow.lua:2:22: path(...) calls the local path, not gofab's path()")
	// With the load error fixed, execute() of an undefined task shows.
	writeFile(t, filepath.Join(dir, "fabfile.lua"), "task(\"a\", function() execute(\"nope\") execute(\"a\") end)\n")
	r = gofab(t, dir, nil, "", "check", "--format", "json")
	wantCode(t, r, 1)
	var findings []map[string]any
	if err := json.Unmarshal([]byte(r.stdout), &findings); err != nil || len(findings) != 1 {
		t.Fatalf("json findings %v: %v", findings, err)
	}
	if f := findings[0]; f["file"] != "fabfile.lua" || f["line"] != 1.0 || f["col"] != 31.0 || f["message"] != `execute: no task "nope"` {
		t.Errorf("finding %v", f)
	}
	r = gofab(t, dir, nil, "", "check", "-f", "broken.lua")
	wantCode(t, r, 1)
	mustContain(t, r, "broken.lua:3:1: syntax error")
	// A file that ends inside a statement: a real line, for check and run.
	writeFile(t, filepath.Join(dir, "eof.lua"), "task(\"x\", function()\n")
	r = gofab(t, dir, nil, "", "check", "-f", "eof.lua")
	wantCode(t, r, 1)
	mustContain(t, r, "eof.lua:2:1: syntax error: the file ends inside a statement")
	r = gofab(t, dir, nil, "", "-f", "eof.lua", "-l")
	wantCode(t, r, 2)
	mustContain(t, r, "gofab: eof.lua:2: syntax error: the file ends inside a statement")

	// The recipes are modules of one fabfile; checking it checks them.
	r = gofab(t, dir, nil, "", "check", "-f", filepath.Join(repoRoot, "fabfiles", "fabfile.lua"))
	if r.code != 0 || r.stdout != "" {
		t.Errorf("fabfiles/ is not clean:\n%s", r)
	}
}

// TestREPL drives the REPL through standard input on the local host.
func TestREPL(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "fabfile.lua"), `function double(x) return x * 2 end`)
	script := "x = double(21)\nx, x + 1\nfor i = 1, 2 do\n  puts(\"loop \" .. i)\nend\nrun(\"echo from-run\").stdout\nrequire('files').exists(\"" + dir + "\")\n"
	r := gofab(t, dir, nil, script+"files.exists(\"/\"), json.encode({1})\n:help files.write\n:help\n:help nope\n", "repl")
	wantCode(t, r, 0)
	mustContain(t, r, "[local] = 42\t43\n", "[local] loop 1", "[local] loop 2", "[local] out: from-run", "[local] = from-run\n",
		"[local] = true\n", // the modules are preloaded
		"[local] = true\t[1]\n",
		"Makes a file hold content", "options: use_sudo, mode, owner, group\n", // :help NAME
		"  cuisine.package_ensure", "  run ", // :help lists the registry
		`repl: no function "nope"`)
	r = gofab(t, dir, nil, "undefined_function()\nx = 1\n", "repl")
	wantCode(t, r, 1)
	mustContain(t, r, "repl:1: attempt to call a non-function object")
}

// completeIn asks shell's completion script what it offers for line (the
// cursor at its end) in dir; zsh's and fish's run only where installed.
func completeIn(t *testing.T, shell, dir, line string) ([]string, bool) {
	t.Helper()
	if _, err := exec.LookPath(shell); err != nil {
		return nil, false
	}
	script := filepath.Join(t.TempDir(), "completion."+shell)
	r := gofab(t, dir, nil, "", "completion", shell)
	wantCode(t, r, 0)
	writeFile(t, script, r.stdout)
	var cmd *exec.Cmd
	words := strings.Fields(line)
	if strings.HasSuffix(line, " ") {
		words = append(words, "")
	}
	switch shell {
	case "bash":
		quoted := make([]string, len(words))
		for i, w := range words {
			quoted[i] = "'" + w + "'"
		}
		cmd = exec.Command("bash", "-c", fmt.Sprintf(`source %s; COMP_LINE=%q; COMP_POINT=${#COMP_LINE}; COMP_WORDS=(%s); COMP_CWORD=%d; _gofab; printf '%%s\n' "${COMPREPLY[@]}"`,
			script, line, strings.Join(quoted, " "), len(words)-1))
	case "zsh":
		quoted := make([]string, len(words))
		for i, w := range words {
			quoted[i] = "'" + w + "'"
		}
		cmd = exec.Command("zsh", "-c", fmt.Sprintf(`compdef() { :; }; _files() { print -- FILES; }; compadd() { local a=${@[-1]}; print -l -- ${(P)a}; }; source %s; words=(%s); CURRENT=%d; _gofab`,
			script, strings.Join(quoted, " "), len(words)))
	case "fish":
		cmd = exec.Command("fish", "-c", fmt.Sprintf("source %s; complete -C %q", script, line))
	}
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "PATH="+filepath.Dir(gofabBin)+":"+os.Getenv("PATH"), "HOME="+dir)
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("%s completion of %q: %v", shell, line, err)
	}
	var cands []string
	for _, l := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		c, _, _ := strings.Cut(l, "\t")
		cands = append(cands, c)
	}
	return cands, true
}

// TestCompletion drives bash's, zsh's and fish's completion: flags and
// their values (files, hosts from the inventory and ssh_config, groups,
// output levels, formats), subcommands, tasks of the fabfile -f names,
// namespaced tasks and task arguments.
func TestCompletion(t *testing.T) {
	t.Parallel() // self-contained (its own fleet, files or shells): runs beside the other parallel tests, after the serial ones
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "fabfile.lua"), `hosts({"web1", "web2"}) group("db", {hosts = {"db1"}})
task("deploy", {alias = "d"}, function() end) task("backup", function() end)
require("webapp")`)
	writeFile(t, filepath.Join(dir, "webapp.lua"), `task("reload", function() end)`)
	os.MkdirAll(filepath.Join(dir, "other"), 0o755)
	writeFile(t, filepath.Join(dir, "other", "fab.lua"), `task("migrate", function() end)`)
	writeFile(t, filepath.Join(dir, "ssh_config"), "Host bastion\n  HostName 127.0.0.2\n")
	r := gofab(t, dir, nil, "", "__tasks")
	wantCode(t, r, 0)
	if r.stdout != "deploy\nd\nbackup\nwebapp.reload\n" {
		t.Errorf("task names %q", r.stdout)
	}
	cases := []struct {
		line      string
		want, not []string
	}{
		{"gofab de", []string{"deploy"}, []string{"backup"}},
		{"gofab webapp.", []string{"webapp.reload"}, []string{"deploy"}},
		{"gofab -f other/fab.lua mi", []string{"migrate"}, nil},
		{"gofab -f oth", []string{"other"}, nil},
		{"gofab -S ssh_config -H ", []string{"web1", "db", "bastion", "local"}, []string{"deploy"}},
		{"gofab -R ", []string{"db"}, []string{"web1", "deploy"}},
		{"gofab --hide std", []string{"stdout", "stderr"}, []string{"deploy"}},
		{"gofab --output ", []string{"text", "json"}, nil},
		{"gofab completion ", []string{"bash", "zsh", "fish"}, []string{"deploy"}},
		{"gofab --rerun", []string{"--rerun-failed"}, nil},
		{"gofab ", []string{"deploy", "test", "hosts"}, nil},
	}
	for _, shell := range []string{"bash", "zsh", "fish"} {
		for _, c := range cases {
			got, ok := completeIn(t, shell, dir, c.line)
			if !ok {
				t.Logf("%s is not installed", shell)
				break
			}
			for _, w := range c.want {
				// zsh's stubbed _files answers FILES where the shell lists files.
				isFile := strings.HasPrefix(c.line, "gofab -f ") && !strings.Contains(c.line, ".lua")
				if !slices.ContainsFunc(got, func(g string) bool { return g == w || strings.TrimSuffix(g, "/") == w || isFile && g == "FILES" }) {
					t.Errorf("%s: %q offers %q, want %q among them", shell, c.line, got, w)
				}
			}
			for _, w := range c.not {
				if slices.Contains(got, w) {
					t.Errorf("%s: %q offers %q", shell, c.line, w)
				}
			}
		}
	}
}

// TestInitAndDocs: init writes a working starter fabfile and the editor
// files, and refuses to overwrite; docs/reference.md is what gofab docs
// prints.
func TestInitAndDocs(t *testing.T) {
	dir := t.TempDir()
	r := gofab(t, dir, nil, "", "init")
	wantCode(t, r, 0)
	for _, f := range []string{"fabfile.lua", ".luarc.json", ".gofab/types/gofab.lua", ".gofab/types/files.lua"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Errorf("init did not write %s", f)
		}
	}
	r = gofab(t, dir, nil, "", "check")
	wantCode(t, r, 0)
	r = gofab(t, dir, nil, "", "uptime")
	wantCode(t, r, 0)
	mustContain(t, r, "[local] run: uptime")
	r = gofab(t, dir, nil, "", "init")
	wantCode(t, r, 2)
	mustContain(t, r, "already exists")

	// The sample test passes; a broken expectation fails with its line.
	r = gofab(t, dir, nil, "", "test")
	wantCode(t, r, 0)
	mustContain(t, r, "ok  \tfabfile_test.lua\t", "PASS")
	writeFile(t, filepath.Join(dir, "more_test.lua"), "local t = require('testing')\n"+
		"t.case('uptime is not restarted', function(h)\n  h:run_task('uptime')\n  h:assert_not_ran('uptime')\nend)\n")
	r = gofab(t, dir, nil, "", "test", "-v", "-run", "uptime")
	wantCode(t, r, 1)
	mustContain(t, r, "--- FAIL: uptime is not restarted", `more_test.lua:4: assert_not_ran: "uptime" ran on web1: run "uptime"`,
		"--- PASS: uptime runs uptime", "FAIL\tmore_test.lua\t")
	mustNotContain(t, r, "motd writes")
	r = gofab(t, dir, nil, "", "test", "fabfile_test.lua")
	wantCode(t, r, 0)
	r = gofab(t, dir, nil, "", "test", "nowhere")
	wantCode(t, r, 2)

	r = gofab(t, dir, nil, "", "docs")
	wantCode(t, r, 0)
	committed, _ := os.ReadFile(filepath.Join(repoRoot, "docs", "reference.md"))
	if string(committed) != r.stdout {
		t.Error("docs/reference.md is out of date: run go run ./cmd/gofab docs > docs/reference.md")
	}
}

// TestREPLTerminal drives the REPL on a pseudo-terminal: a statement, an
// expression, and the up arrow bringing back the previous line from the
// history.
func TestREPLTerminal(t *testing.T) {
	dir := t.TempDir()
	cmd := exec.Command(gofabBin, "repl")
	cmd.Dir = dir
	cmd.Env = append(baseEnv(dir), "NO_COLOR=1", "TERM=xterm")
	tty, err := pty.StartWithSize(cmd, &pty.Winsize{Rows: 40, Cols: 120})
	if err != nil {
		t.Fatal(err)
	}
	defer tty.Close()
	var seen bytes.Buffer
	buf := make([]byte, 4096)
	// waitFor reads the terminal until want has appeared n times.
	waitFor := func(want string, n int) {
		t.Helper()
		deadline := time.Now().Add(20 * time.Second)
		for strings.Count(seen.String(), want) < n {
			if time.Now().After(deadline) {
				t.Fatalf("terminal never showed %q %d times:\n%s", want, n, seen.String())
			}
			tty.SetReadDeadline(time.Now().Add(time.Second))
			k, _ := tty.Read(buf)
			seen.Write(buf[:k])
		}
	}
	waitFor("gofab> ", 1)
	io.WriteString(tty, "x = 6 * 7\r")
	waitFor("gofab> ", 2)
	io.WriteString(tty, "x\r")
	waitFor("[local] = 42\r\n", 1)
	io.WriteString(tty, "\x1b[A\r") // up arrow: "x" again
	waitFor("[local] = 42\r\n", 2)
	io.WriteString(tty, "\x04") // Ctrl-D
	if err := cmd.Wait(); err != nil {
		t.Fatalf("repl exit: %v\n%s", err, seen.String())
	}
	history, _ := os.ReadFile(filepath.Join(dir, ".local/state/gofab/repl_history"))
	if string(history) != "x = 6 * 7\nx\nx\n" {
		t.Errorf("history file %q", history)
	}
}

// TestEditorDefinitions checks the LuaLS definitions against the registry,
// in place of a lua-language-server (none can be installed from the
// registries this project's CI reaches): options classes are exact and
// hold exactly the options each function accepts, every documented call
// form has an overload, env takes custom keys, output levels are an enum,
// and every Lua example in README and docs/ passes gofab check.
func TestEditorDefinitions(t *testing.T) {
	files := luart.MetaFiles(stdlib.All())
	all := strings.Join(slices.Collect(maps.Values(files)), "\n")
	// Classes and their fields, parents included.
	fields := map[string]map[string]bool{}
	parent := map[string]string{}
	var cur string
	for _, line := range strings.Split(all, "\n") {
		if m := regexp.MustCompile(`^---@class (\(exact\) )?(\w+)(?:: (\w+))?`).FindStringSubmatch(line); m != nil {
			cur = m[2]
			fields[cur] = map[string]bool{}
			parent[cur] = m[3]
			if strings.HasSuffix(cur, "Options") && m[1] == "" {
				t.Errorf("options class %s is not (exact): a misspelled option would not warn", cur)
			}
			continue
		}
		if m := regexp.MustCompile(`^---@field (?:\["(\w+)"\]|(\w+))`).FindStringSubmatch(line); m != nil && cur != "" {
			m[1] += m[2]
			fields[cur][m[1]] = true
		} else if !strings.HasPrefix(line, "---@field") {
			cur = ""
		}
	}
	fieldsOf := func(class string) map[string]bool {
		out := map[string]bool{}
		for c := class; c != ""; c = parent[c] {
			for f := range fields[c] {
				out[f] = true
			}
		}
		return out
	}
	for _, m := range stdlib.All() {
		funcs := m.Funcs
		for _, c := range m.Classes {
			funcs = append(funcs, c.Methods...)
		}
		for _, f := range funcs {
			idx, opts := f.OptionsArg()
			if opts == nil {
				continue
			}
			if typ := f.Params[idx-1].Type; typ != "" && !strings.Contains(typ, opts.Name) {
				t.Errorf("%s.%s's options parameter has type %s, not its declared %s", m.Name, f.Name, typ, opts.Name)
			}
			typ := opts.Name
			have := fieldsOf(typ)
			want := map[string]bool{}
			for _, o := range opts.Names() {
				want[o] = true
				if !have[o] {
					t.Errorf("%s.%s accepts option %q, which its type %s lacks", m.Name, f.Name, o, typ)
				}
			}
			for o := range have {
				if !want[o] {
					t.Errorf("%s.%s's type %s has %q, which the function refuses", m.Name, f.Name, typ, o)
				}
			}
		}
	}
	for _, form := range []string{
		"---@overload fun(name: string, fn: fun(args: table): any)\nfunction task(",
		"---@overload fun(dir: string, fn: fun(): any): any\nfunction path(",
		"---@overload fun(l1: OutputLevel, l2: OutputLevel, fn: fun(): any): any\n",
		"---@overload fun(name: string, fn: fun(h: FakeHost, ...: FakeHost))\nfunction testing.case(",
		"---@field [string] any",
		"---@field backup? string|boolean",
	} {
		if !strings.Contains(all, form) {
			t.Errorf("the definitions lack %q", form)
		}
	}
	for _, l := range append(luart.Levels, "output", "everything", "commands") {
		if !regexp.MustCompile(`---@alias OutputLevel .*"` + l + `"`).MatchString(all) {
			t.Errorf("OutputLevel lacks %q", l)
		}
	}
	// The examples of README and docs/ check clean (with the files the
	// inventory example reads).
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "inventory", "hosts.ini"), "[web]\nweb1.eu\n")
	writeFile(t, filepath.Join(dir, "cloud-hosts"), "#!/bin/sh\necho '{}'\n")
	os.Chmod(filepath.Join(dir, "cloud-hosts"), 0o755)
	docs, _ := filepath.Glob(filepath.Join(repoRoot, "docs", "*.md"))
	n := 0
	for _, doc := range append(docs, filepath.Join(repoRoot, "README.md")) {
		text, _ := os.ReadFile(doc)
		for _, m := range regexp.MustCompile("(?s)```lua\n(.*?)```").FindAllSubmatch(text, -1) {
			n++
			name := fmt.Sprintf("example%d.lua", n)
			if bytes.Contains(m[1], []byte(`require("testing")`)) {
				name = fmt.Sprintf("example%d_test.lua", n) // a recipe test, as gofab test finds them
			}
			writeFile(t, filepath.Join(dir, name), string(m[1]))
			if r := gofab(t, dir, nil, "", "check", "-f", name); r.code != 0 || r.stdout != "" {
				t.Errorf("the Lua example %d of %s does not check clean:\n%s\n%s", n, filepath.Base(doc), m[1], r)
			}
		}
	}
	if n < 2 {
		t.Errorf("only %d Lua examples found", n)
	}
}
