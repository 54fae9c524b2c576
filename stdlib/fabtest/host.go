package fabtest

import (
	"fmt"
	"io/fs"
	"path"
	"strconv"
	"strings"

	lua "github.com/yuin/gopher-lua"

	"github.com/gofab/gofab/internal/testdouble/fakehost"
	"github.com/gofab/gofab/luart"
)

// hostMethods are FakeHost's methods.
func hostMethods(run Runner) []luart.Func {
	pattern := luart.Param{Name: "pattern", Type: "string", Doc: "the command, a text it contains, or a Lua pattern it matches"}
	self := func(f func(st *luart.State, r *hostRef) int) func(st *luart.State) int {
		return func(st *luart.State) int { return f(st, st.CheckObject(1, hostClass).(*hostRef)) }
	}
	return []luart.Func{
		{Name: "files", Doc: "Puts files on the host: path = content, or path = {content, mode, owner, group, link, dir}. Missing directories are made (root, 0755).",
			Params: []luart.Param{{Name: "files", Type: "table<string, string|FakeFile>"}}, Fn: self(putFiles)},
		{Name: "respond", Doc: "Scripts the answer to commands matching pattern (later responses win): stdout, stderr, exit code, and files the command leaves behind (writes). A string is the stdout.",
			Params: []luart.Param{pattern, {Name: "response", Type: "Response|string", Optional: true, Options: responseType}}, Fn: self(respond)},
		{Name: "os", Doc: "Sets what cuisine's OS detection finds (/etc/os-release); the default is debian 12.",
			Params: []luart.Param{{Name: "id", Type: "string", Doc: "debian, ubuntu, fedora, alpine, arch…"}, {Name: "version", Type: "string"}}, Fn: self(setOS)},
		{Name: "packages", Doc: "Marks packages installed (apt-get install on the host does too); returns the installed packages. A package the test declares nothing about is not installed for dpkg-query, rpm -q and the like (so ensure functions install it); its programs still run, as every unscripted command does.",
			Params: []luart.Param{{Name: "names", Type: "string[]", Optional: true}}, Returns: []luart.Param{{Type: "string[]"}},
			Fn: self(func(st *luart.State, r *hostRef) int { return names(st, r.h.Install, r.h.Packages) })},
		{Name: "services", Doc: "Declares services running (a list, or name = \"running\") or stopped (name = \"stopped\"); returns the running ones. A service the test declares nothing about is not running for systemctl is-active (so ensure functions start it) and reloads and restarts fine; one declared stopped (or stopped by the recipe) cannot be reloaded.",
			Params: []luart.Param{{Name: "names", Type: "string[]|table<string, \"running\"|\"stopped\">", Optional: true}}, Returns: []luart.Param{{Type: "string[]"}},
			Fn: self(services)},
		{Name: "programs", Doc: "Makes programs exist for command -v and which. A program the test declares nothing about is missing for command -v and which (so ensure functions install it) but runs when called, as every unscripted command does; users and groups the recipe names in chown are assumed to exist unless t.strict() is on.",
			Params: []luart.Param{{Name: "names", Type: "string[]"}},
			Fn:     self(func(st *luart.State, r *hostRef) int { return names(st, r.h.Provide, nil) })},
		{Name: "run_task", Doc: "Runs a task of the fabfile (\"mod.task\" for a module's) as gofab would, on every host of the case. A host failing the task fails the case unless allow_failure is set.",
			Params: []luart.Param{{Name: "name", Type: "string"}, {Name: "args", Type: "table<string|integer, any>", Optional: true, Doc: "named and positional task arguments"},
				{Name: "opts", Optional: true, Options: runTaskOptionsType}},
			Returns: []luart.Param{{Type: "TaskRun"}},
			Fn:      self(func(st *luart.State, r *hostRef) int { return runTask(st, r, run) })},
		{Name: "assert_ran", Doc: "Fails the case unless the latest run_task ran a command (run or sudo) matching pattern on this host.",
			Params: []luart.Param{pattern}, Fn: self(assertRan("assert_ran", "run", "sudo"))},
		{Name: "assert_ran_sudo", Doc: "Fails the case unless the latest run_task ran a command matching pattern with sudo (as user, when given).",
			Params: []luart.Param{pattern, {Name: "user", Type: "string", Optional: true}}, Fn: self(assertRan("assert_ran_sudo", "sudo"))},
		{Name: "assert_ran_local", Doc: "Fails the case unless the latest run_task ran a command matching pattern with run_local.",
			Params: []luart.Param{pattern}, Fn: self(assertRan("assert_ran_local", "local"))},
		{Name: "assert_not_ran", Doc: "Fails the case when the latest run_task ran a command (run or sudo) matching pattern on this host.",
			Params: []luart.Param{pattern}, Fn: self(assertNotRan)},
		{Name: "assert_no_secret", Doc: "Fails the case when a command the host was given (by the latest run_task, or ever with all = true) holds a value of a secrets.load file or one given to secrets.hide: a secret on a command line is visible in the host's ps.",
			Params: []luart.Param{{Name: "all", Type: "boolean", Optional: true}}, Fn: self(assertNoSecret)},
		{Name: "assert_file", Doc: "Fails the case unless the file at path is as expected: contains, matches, equals, mode, owner, group, link, dir, absent.",
			Params: []luart.Param{{Name: "path", Type: "string"}, {Name: "expect", Optional: true, Options: assertFileOptionsType}}, Fn: self(assertFile)},
		{Name: "assert_output", Doc: "Fails the case unless what gofab printed during the latest run_task matches pattern.",
			Params: []luart.Param{pattern}, Fn: self(assertOutput)},
		{Name: "read", Doc: "Returns the content of a file on the host, or nil.",
			Params: []luart.Param{{Name: "path", Type: "string"}}, Returns: []luart.Param{{Type: "string?"}}, Fn: self(read)},
		{Name: "commands", Doc: "Returns the commands the host was given (all of them, or only the latest run_task's).",
			Params:  []luart.Param{{Name: "latest", Type: "boolean", Optional: true}},
			Returns: []luart.Param{{Type: "RecordedCommand[]"}}, Fn: self(commands)},
		{Name: "host", Doc: "Returns another host of the case by name (made on demand, as execute() on another host does).",
			Params: []luart.Param{{Name: "name", Type: "string"}}, Returns: []luart.Param{{Type: "FakeHost"}},
			Fn: self(func(st *luart.State, r *hostRef) int {
				st.L.Push(st.NewObject(hostClass, &hostRef{c: r.c, h: r.c.Fleet.Host(st.L.CheckString(2))}))
				return 1
			})},
		{Name: "localhost", Doc: "Returns the fake host that stands for this machine: run_local's commands run there.",
			Returns: []luart.Param{{Type: "FakeHost"}},
			Fn: self(func(st *luart.State, r *hostRef) int {
				st.L.Push(st.NewObject(hostClass, &hostRef{c: r.c, h: r.c.Local}))
				return 1
			})},
		{Name: "name", Doc: "Returns the host's name.", Returns: []luart.Param{{Type: "string"}},
			Fn: self(func(st *luart.State, r *hostRef) int { st.L.Push(lua.LString(r.h.Name)); return 1 })},
	}
}

// names marks the names of argument 2 with add and returns the list that
// list gives (nothing when list is nil).
func names(st *luart.State, add func(...string), list func() []string) int {
	L := st.L
	if t, ok := L.Get(2).(*lua.LTable); ok {
		var ns []string
		for i := 1; i <= t.Len(); i++ {
			ns = append(ns, lua.LVAsString(t.RawGetInt(i)))
		}
		add(ns...)
	}
	if list == nil {
		return 0
	}
	L.Push(luart.FromPlain(L, list()))
	return 1
}

// services is FakeHost:services: a list marks services running, a
// table of name = "running" | "stopped" declares each.
func services(st *luart.State, r *hostRef) int {
	L := st.L
	if t, ok := L.Get(2).(*lua.LTable); ok {
		var bad string
		t.ForEach(func(k, v lua.LValue) {
			if _, isName := k.(lua.LString); !isName {
				r.h.Start(lua.LVAsString(v))
				return
			}
			switch lua.LVAsString(v) {
			case "running":
				r.h.Start(k.String())
			case "stopped":
				r.h.Stop(k.String())
			default:
				bad = k.String()
			}
		})
		if bad != "" {
			L.ArgError(2, fmt.Sprintf("services: %s = %q: give \"running\" or \"stopped\"", bad, lua.LVAsString(t.RawGetString(bad))))
		}
	}
	L.Push(luart.FromPlain(L, r.h.Services()))
	return 1
}

// luaMode reads a mode given as "0644" or as a number (420 or 644).
func luaMode(v lua.LValue) (fs.FileMode, error) {
	s := lua.LVAsString(v)
	n, err := strconv.ParseUint(s, 8, 32)
	if err != nil || n > 0o7777 {
		return 0, fmt.Errorf("mode %q is not an octal mode such as \"0644\"", s)
	}
	return fs.FileMode(n), nil
}

func putFiles(st *luart.State, r *hostRef) int {
	L := st.L
	t := L.CheckTable(2)
	root := r.h.View("root")
	var err error
	t.ForEach(func(k, v lua.LValue) {
		if err != nil {
			return
		}
		p := lua.LVAsString(k)
		switch {
		case path.IsAbs(p) || strings.HasPrefix(p, "~"):
		case r.h.Dir != "":
			p = path.Join(r.h.Dir, p) // the local host: the fabfile's directory
		default:
			err = fmt.Errorf("%s: give an absolute path (or ~/…)", p)
			return
		}
		err = putFile(root, r.h, p, v)
	})
	if err != nil {
		L.RaiseError("files: %v", err)
	}
	return 0
}

// putFile makes one file of h:files.
func putFile(root *fakehost.View, h *fakehost.Host, p string, v lua.LValue) error {
	if strings.HasPrefix(p, "~") {
		p = fakehost.Home(h.User) + p[1:]
	}
	spec, ok := v.(*lua.LTable)
	if !ok {
		return root.WriteFile(p, []byte(lua.LVAsString(v)), 0o644)
	}
	get := func(k string) string { return lua.LVAsString(spec.RawGetString(k)) }
	if err := root.MkdirAll(path.Dir(p), 0o755); err != nil {
		return err
	}
	root.Remove(p)
	var err error
	mode := fs.FileMode(0o644)
	switch {
	case get("link") != "":
		err = root.Symlink(get("link"), p)
	case lua.LVAsBool(spec.RawGetString("dir")):
		mode = 0o755
		err = root.MkdirAll(p, mode)
	default:
		err = root.WriteFile(p, []byte(get("content")), mode)
	}
	if err != nil {
		return err
	}
	if m := spec.RawGetString("mode"); m != lua.LNil {
		if mode, err = luaMode(m); err != nil {
			return err
		}
		if err := root.Chmod(p, mode); err != nil {
			return err
		}
	}
	owner, group := get("owner"), get("group")
	if group == "" {
		group = owner
	}
	return root.Chown(p, owner, group, false)
}

func respond(st *luart.State, r *hostRef) int {
	L := st.L
	resp := fakehost.Response{Pattern: L.CheckString(2)}
	switch v := L.Get(3).(type) {
	case lua.LString:
		resp.Stdout = string(v)
	case *lua.LTable:
		o := st.Opts()
		resp.Stdout, resp.Stderr = o.String("stdout"), o.String("stderr")
		if c, ok := o["code"].(lua.LNumber); ok {
			resp.Code = int(c)
		}
		if w, ok := o["writes"].(*lua.LTable); ok {
			resp.Writes = map[string]string{}
			w.ForEach(func(k, v lua.LValue) { resp.Writes[lua.LVAsString(k)] = lua.LVAsString(v) })
		}
	case *lua.LNilType:
	default:
		L.ArgError(3, "a response table {stdout, stderr, code} or a string")
	}
	r.h.Respond(resp)
	return 0
}

func setOS(st *luart.State, r *hostRef) int {
	r.h.SetOS(st.L.CheckString(2), st.L.CheckString(3))
	return 0
}

func read(st *luart.State, r *hostRef) int {
	data, err := r.h.View("root").ReadFile(st.L.CheckString(2))
	if err != nil {
		st.L.Push(lua.LNil)
	} else {
		st.L.Push(lua.LString(data))
	}
	return 1
}

// runTask is h:run_task(name, args, opts).
func runTask(st *luart.State, r *hostRef, run Runner) int {
	L := st.L
	name := L.CheckString(2)
	var args luart.Args
	if t, ok := L.Get(3).(*lua.LTable); ok {
		args.Named = map[string]string{}
		t.ForEach(func(k, v lua.LValue) {
			if _, isNum := k.(lua.LNumber); !isNum {
				args.Named[lua.LVAsString(k)] = lua.LVAsString(v)
			}
		})
		for i := 1; i <= t.Len(); i++ {
			args.Positional = append(args.Positional, lua.LVAsString(t.RawGetInt(i)))
		}
	}
	o := st.Opts()
	ro := RunOptions{Check: o.Bool("check"), DryRun: o.Bool("dry_run"), Diff: o.Bool("diff")}
	if set, ok := o["set"].(*lua.LTable); ok {
		ro.Set = map[string]string{}
		set.ForEach(func(k, v lua.LValue) { ro.Set[lua.LVAsString(k)] = lua.LVAsString(v) })
	}
	if run == nil {
		L.RaiseError("run_task: only gofab test can run tasks")
	}
	for _, h := range r.c.AllHosts() {
		h.Begin()
	}
	res, err := run.RunTask(st.Context(), r.c, name, args, ro)
	if err != nil {
		L.RaiseError("run_task(%q): %v", name, err)
	}
	r.c.Last = res
	if problem := unscripted(r.c); problem != "" {
		L.RaiseError("run_task(%q): %s", name, problem)
	}
	if !o.Bool("allow_failure") {
		for _, hr := range res.Results {
			if hr.Status != "ok" {
				L.RaiseError("run_task(%q) %s on %s: %s\n%s", name, hr.Status, hr.Host, hr.Error, indent(res.Output))
			}
		}
	}
	L.Push(runTable(L, r.h.Name, res))
	return 1
}

// unscripted names the commands strict hosts had no answer for.
func unscripted(c *Case) string {
	var lines []string
	for _, h := range c.AllHosts() {
		for _, cmd := range h.Commands(true) {
			if len(cmd.Unscripted) > 0 && cmd.Code == 127 && h.Strict() {
				lines = append(lines, fmt.Sprintf("%s: %s (in %q)", h.Name, strings.Join(cmd.Unscripted, "; "), cmd.Command))
			}
		}
	}
	if len(lines) == 0 {
		return ""
	}
	return "unscripted commands under testing.strict (script them with h:respond):\n        " + strings.Join(lines, "\n        ")
}

// runTable is run_task's result: the host's own result plus every host's.
func runTable(L *lua.LState, self string, res *Run) *lua.LTable {
	t := L.NewTable()
	hosts := L.NewTable()
	ok := true
	for _, hr := range res.Results {
		ht := L.NewTable()
		ht.RawSetString("status", lua.LString(hr.Status))
		if hr.Error != "" {
			ht.RawSetString("error", lua.LString(hr.Error))
		}
		ht.RawSetString("changed", lua.LNumber(hr.Changed))
		ht.RawSetString("value", luart.FromPlain(L, hr.Value))
		hosts.RawSetString(hr.Host, ht)
		ok = ok && hr.Status == "ok"
		if hr.Host == self || len(res.Results) == 1 {
			ht.ForEach(func(k, v lua.LValue) { t.RawSet(k, v) })
		}
	}
	t.RawSetString("ok", lua.LBool(ok))
	t.RawSetString("hosts", hosts)
	t.RawSetString("output", lua.LString(res.Output))
	return t
}

// assertRan is assert_ran and its kin: a command of one of kinds matching
// the pattern ran in the latest run_task.
func assertRan(fname string, kinds ...string) func(st *luart.State, r *hostRef) int {
	return func(st *luart.State, r *hostRef) int {
		L := st.L
		pat := L.CheckString(2)
		user := L.OptString(3, "")
		h := r.h
		if kinds[0] == "local" {
			h = r.c.Local
		}
		cmds := h.Commands(true)
		for _, c := range cmds {
			if hasKind(c, kinds) && fakehost.Match(pat, c.Command) && (user == "" || c.User == user) {
				return 0
			}
		}
		want := pat
		if user != "" {
			want += " as " + user
		}
		L.RaiseError("%s: no command matching %q ran on %s; the latest run_task issued:\n%s", fname, want, h.Name, listing(cmds, false))
		return 0
	}
}

func hasKind(c fakehost.Command, kinds []string) bool {
	for _, k := range kinds {
		if c.Kind == k {
			return true
		}
	}
	return false
}

func assertNotRan(st *luart.State, r *hostRef) int {
	L := st.L
	pat := L.CheckString(2)
	for _, c := range r.h.Commands(true) {
		if hasKind(c, []string{"run", "sudo"}) && fakehost.Match(pat, c.Command) {
			L.RaiseError("assert_not_ran: %q ran on %s: %s %q", pat, r.h.Name, c.Kind, c.Command)
		}
	}
	return 0
}

// listing shows commands one per line, for failure messages and -v;
// helpers only when all is set.
func listing(cmds []fakehost.Command, all bool) string {
	var b strings.Builder
	n := 0
	for _, c := range cmds {
		if c.Kind == "helper" && !all {
			continue
		}
		n++
		kind := c.Kind
		if c.Kind == "sudo" && c.User != "root" {
			kind += " -u " + c.User
		}
		fmt.Fprintf(&b, "        %-6s %s", kind+":", c.Command)
		if c.Code != 0 {
			fmt.Fprintf(&b, "  (exit %d)", c.Code)
		}
		if len(c.Unscripted) > 0 {
			fmt.Fprintf(&b, "  [unscripted: %s]", strings.Join(c.Unscripted, "; "))
		}
		b.WriteByte('\n')
	}
	if n == 0 {
		return "        (nothing)"
	}
	return strings.TrimRight(b.String(), "\n")
}

// Listing shows a host's commands for gofab test -v.
func Listing(h *fakehost.Host) string { return listing(h.Commands(false), true) }

func indent(s string) string {
	s = strings.TrimRight(s, "\n")
	if s == "" {
		return ""
	}
	return "        | " + strings.ReplaceAll(s, "\n", "\n        | ")
}

func assertOutput(st *luart.State, r *hostRef) int {
	L := st.L
	pat := L.CheckString(2)
	out := ""
	if r.c.Last != nil {
		out = r.c.Last.Output
	}
	for _, line := range strings.Split(out, "\n") {
		if fakehost.Match(pat, line) {
			return 0
		}
	}
	L.RaiseError("assert_output: no line matches %q; the latest run_task printed:\n%s", pat, indent(out))
	return 0
}

func commands(st *luart.State, r *hostRef) int {
	L := st.L
	list := L.NewTable()
	for _, c := range r.h.Commands(L.OptBool(2, false)) {
		t := L.NewTable()
		t.RawSetString("kind", lua.LString(c.Kind))
		t.RawSetString("command", lua.LString(c.Command))
		t.RawSetString("line", lua.LString(c.Line))
		t.RawSetString("user", lua.LString(c.User))
		t.RawSetString("code", lua.LNumber(c.Code))
		t.RawSetString("unscripted", luart.FromPlain(L, c.Unscripted))
		list.Append(t)
	}
	L.Push(list)
	return 1
}

// assertFile is h:assert_file(path, expect).
func assertFile(st *luart.State, r *hostRef) int {
	L := st.L
	p := L.CheckString(2)
	o := st.Opts()
	if problem := checkFile(r.h.View("root"), p, o); problem != "" {
		L.RaiseError("assert_file(%q) on %s: %s", p, r.h.Name, problem)
	}
	return 0
}

// checkFile says how the file at p differs from what o expects, or "".
func checkFile(v *fakehost.View, p string, o luart.Opts) string {
	fi, err := v.Lstat(p)
	if o.Bool("absent") {
		if err == nil {
			return "expected nothing there, found a " + kind(fi)
		}
		return ""
	}
	if err != nil {
		return "no such file"
	}
	if link := o.String("link"); link != "" {
		target, err := v.ReadLink(p)
		if err != nil {
			return fmt.Sprintf("expected a symlink to %q, found a %s", link, kind(fi))
		}
		if target != link {
			return fmt.Sprintf("expected a symlink to %q, found one to %q", link, target)
		}
	}
	if o.Bool("dir") && !fi.IsDir() {
		return "expected a directory, found a " + kind(fi)
	}
	if m, ok := o["mode"]; ok {
		want, err := luaMode(m)
		if err != nil {
			return err.Error()
		}
		if got := fi.Mode() &^ fs.ModeType; got.Perm() != want.Perm() {
			return fmt.Sprintf("mode is %04o, expected %04o", got.Perm(), want.Perm())
		}
	}
	owner, group, _ := v.Owner(p)
	if w := o.String("owner"); w != "" && w != owner {
		return fmt.Sprintf("owner is %s, expected %s", owner, w)
	}
	if w := o.String("group"); w != "" && w != group {
		return fmt.Sprintf("group is %s, expected %s", group, w)
	}
	_, wantContent := o["contains"]
	_, wantMatch := o["matches"]
	_, wantEqual := o["equals"]
	if !wantContent && !wantMatch && !wantEqual {
		return ""
	}
	data, err := v.ReadFile(p)
	if err != nil {
		return err.Error()
	}
	content := string(data)
	switch {
	case wantContent && !strings.Contains(content, o.String("contains")):
		return fmt.Sprintf("does not contain %q; it holds:\n%s", o.String("contains"), indent(content))
	case wantMatch && !fakehost.Match(o.String("matches"), content):
		return fmt.Sprintf("does not match %q; it holds:\n%s", o.String("matches"), indent(content))
	case wantEqual && content != o.String("equals"):
		return fmt.Sprintf("content differs:\n        got:  %q\n        want: %q", content, o.String("equals"))
	}
	return ""
}

func kind(fi fs.FileInfo) string {
	switch {
	case fi.IsDir():
		return "directory"
	case fi.Mode()&fs.ModeSymlink != 0:
		return "symlink"
	}
	return "file"
}

// assertNoSecret is h:assert_no_secret(all).
func assertNoSecret(st *luart.State, r *hostRef) int {
	red := st.Secrets().Redact
	for _, c := range r.h.Commands(!st.L.OptBool(2, false)) {
		if red.Contains(c.Line) || red.Contains(c.Command) {
			st.L.RaiseError("assert_no_secret: a command given to %s holds a secret (visible in ps): %s", r.h.Name, red.String(c.Line))
		}
	}
	return 0
}
