// Package files is the Lua module "files", Fabric's contrib.files: tests
// for paths, idempotent edits (append, sed, comment, uncomment) and writes
// that change a file only when its content differs. File content always
// travels over SFTP (or sudo cat / a private staging directory), never
// inside a command line.
package files

import (
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"

	lua "github.com/yuin/gopher-lua"

	"github.com/gofab/gofab/internal/transport/transfer"
	"github.com/gofab/gofab/luart"
	"github.com/gofab/gofab/stdlib/hostio"
)

var (
	pathParam = luart.Param{Name: "path", Type: "string", Doc: "path on the current host (relative paths honour cd)"}
	boolRet   = []luart.Param{{Type: "boolean"}}
	changed   = []luart.Param{{Type: "boolean", Doc: "whether the file changed"}}
)

// Module returns the files module.
func Module() luart.Module {
	return luart.Module{
		Name: "files",
		Doc:  "Fabric's contrib.files: path tests and idempotent file edits on the current host.",
		TableTypes: []*luart.TableType{filesOptionsType, containsOptionsType, appendOptionsType, sedOptionsType, commentOptionsType,
			writeOptionsType, templateOptionsType},
		Funcs: []luart.Func{
			{Name: "exists", Doc: "Reports whether path exists on the host.", Params: []luart.Param{pathParam, luart.OptionsParam(filesOptionsType)},
				Returns: boolRet, Fn: test("exists", "-e")},
			{Name: "is_link", Doc: "Reports whether path is a symbolic link.", Params: []luart.Param{pathParam, luart.OptionsParam(filesOptionsType)},
				Returns: boolRet, Fn: test("is_link", "-L")},
			{Name: "is_dir", Doc: "Reports whether path is a directory (or a link to one).", Params: []luart.Param{pathParam, luart.OptionsParam(filesOptionsType)},
				Returns: boolRet, Fn: test("is_dir", "-d")},
			{Name: "first", Doc: "Returns the first of the paths that exists, or nil.", Params: []luart.Param{{Name: "paths", Type: "string"}},
				Variadic: true, Returns: []luart.Param{{Type: "string?"}}, Fn: first},
			{Name: "read", Doc: "Returns the content of a file.", Params: []luart.Param{pathParam, luart.OptionsParam(filesOptionsType)},
				Returns: []luart.Param{{Type: "string"}}, Fn: read},
			{Name: "write", Doc: "Makes a file hold content, with mode, owner and group when given; writes only what differs, atomically.",
				Params:  []luart.Param{pathParam, {Name: "content", Type: "string"}, luart.OptionsParam(writeOptionsType)},
				Returns: changed, Fn: write},
			{Name: "contains", Doc: "Reports whether the file contains text (a literal, or a regular expression with escape = false); exact compares whole lines.",
				Params:  []luart.Param{pathParam, {Name: "text", Type: "string"}, luart.OptionsParam(containsOptionsType)},
				Returns: boolRet, Fn: contains},
			{Name: "append", Doc: "Appends each line (a string or a list) that the file does not already have as a whole line (or as a line start with partial). Idempotent; creates the file.",
				Params:  []luart.Param{pathParam, {Name: "text", Type: "string|string[]"}, luart.OptionsParam(appendOptionsType)},
				Returns: changed, Fn: appendFn},
			{Name: "sed", Doc: "Replaces every match of the regular expression before with after (sed syntax: \\1, &) on each line, or on lines matching limit.",
				Params:  []luart.Param{pathParam, {Name: "before", Type: "string"}, {Name: "after", Type: "string"}, luart.OptionsParam(sedOptionsType)},
				Returns: changed, Fn: sedFn},
			{Name: "comment", Doc: "Comments out the lines matching regex (lines already commented are left alone).",
				Params:  []luart.Param{pathParam, {Name: "regex", Type: "string"}, luart.OptionsParam(commentOptionsType)},
				Returns: changed, Fn: edit("comment", comment)},
			{Name: "uncomment", Doc: "Uncomments the commented lines whose text matches regex.",
				Params:  []luart.Param{pathParam, {Name: "regex", Type: "string"}, luart.OptionsParam(commentOptionsType)},
				Returns: changed, Fn: edit("uncomment", uncomment)},
			{Name: "upload_template", Doc: "Renders a local Go text/template file ({{ .name }}, {{ range .list }}…{{ end }}, {{ if }}, and join/upper/lower/quote/default) with context and writes the result to remote when it differs.",
				Params: []luart.Param{{Name: "template", Type: "string", Doc: "local template path, relative to template_dir, else lcd(), else the fabfile's directory"},
					{Name: "remote", Type: "string"}, {Name: "context", Type: "table", Optional: true}, luart.OptionsParam(templateOptionsType)},
				Returns: changed, Fn: uploadTemplate},
		},
	}
}

// fail raises err as a Lua error naming the function and host.
func fail(st *luart.State, fname string, err error) {
	st.L.RaiseError("files.%s on %s: %v", fname, st.HostString(), err)
}

func test(fname, flag string) func(*luart.State) int {
	return func(st *luart.State) int {
		st.RequireTask("files." + fname)
		p := hostio.RemotePath(st, st.L.CheckString(1))
		o := st.Opts()
		ok, err := hostio.Files(st).Test(st.Context(), flag, p, o.Bool("use_sudo"))
		if err != nil {
			fail(st, fname, err)
		}
		st.L.Push(lua.LBool(ok))
		return 1
	}
}

func first(st *luart.State) int {
	st.RequireTask("files.first")
	h := hostio.Files(st)
	for i := 1; i <= st.L.GetTop(); i++ {
		p := st.L.CheckString(i)
		ok, err := h.Test(st.Context(), "-e", hostio.RemotePath(st, p), false)
		if err != nil {
			fail(st, "first", err)
		}
		if ok {
			st.L.Push(lua.LString(p))
			return 1
		}
	}
	st.L.Push(lua.LNil)
	return 1
}

// readText returns a file's content; missing files read as "" when
// allowMissing is set.
func readText(st *luart.State, fname, p string, sudo, allowMissing bool) (string, bool) {
	data, err := hostio.Files(st).ReadFile(st.Context(), p, sudo)
	if allowMissing && errors.Is(err, fs.ErrNotExist) {
		return "", false
	}
	if err != nil {
		fail(st, fname, err)
	}
	return string(data), true
}

func read(st *luart.State) int {
	st.RequireTask("files.read")
	p := hostio.RemotePath(st, st.L.CheckString(1))
	o := st.Opts()
	text, _ := readText(st, "read", p, o.Bool("use_sudo"), false)
	st.L.Push(lua.LString(text))
	return 1
}

func writeOpts(st *luart.State, fname string, o luart.Opts) transfer.WriteOptions {
	w := transfer.WriteOptions{Owner: o.String("owner"), Group: o.String("group"), UseSudo: o.Bool("use_sudo")}
	if v, ok := o["mode"]; ok {
		w.Mode = hostio.Mode(st, fname, v)
	}
	return w
}

// store writes content when it differs and pushes whether it changed.
func store(st *luart.State, fname, p, content string, w transfer.WriteOptions) int {
	ch, err := hostio.Files(st).WriteFile(st.Context(), p, []byte(content), hostio.WriteMode(st, w))
	if err != nil {
		fail(st, fname, err)
	}
	if ch {
		st.Changed(1, "files."+fname+" "+p)
		if st.Shown("running") {
			st.Out().Line(hostio.Would(st, fname), p)
		}
	}
	st.L.Push(lua.LBool(ch))
	return 1
}

func write(st *luart.State) int {
	st.RequireTask("files.write")
	p := hostio.RemotePath(st, st.L.CheckString(1))
	content := st.L.CheckString(2)
	o := st.Opts()
	return store(st, "write", p, content, writeOpts(st, "files.write", o))
}

func contains(st *luart.State) int {
	st.RequireTask("files.contains")
	p := hostio.RemotePath(st, st.L.CheckString(1))
	text := st.L.CheckString(2)
	o := st.Opts()
	escape := !hasFalse(o, "escape")
	re, err := pattern(text, escape, o.Bool("exact"), false, !hasFalse(o, "case_sensitive"))
	if err != nil {
		fail(st, "contains", err)
	}
	content, _ := readText(st, "contains", p, o.Bool("use_sudo"), true)
	st.L.Push(lua.LBool(re.MatchString(content)))
	return 1
}

// hasFalse reports whether an option defaulting to true was set false.
func hasFalse(o luart.Opts, name string) bool {
	v, ok := o[name]
	return ok && !lua.LVAsBool(v)
}

func appendFn(st *luart.State) int {
	st.RequireTask("files.append")
	L := st.L
	p := hostio.RemotePath(st, L.CheckString(1))
	var add []string
	switch v := L.Get(2).(type) {
	case lua.LString:
		add = lines(string(v) + "\n")
	case *lua.LTable:
		for i := 1; i <= v.Len(); i++ {
			add = append(add, v.RawGetInt(i).String())
		}
	default:
		L.ArgError(2, "files.append: text must be a string or a list of lines")
	}
	o := st.Opts()
	content, _ := readText(st, "append", p, o.Bool("use_sudo"), true)
	out, ch, err := appendLines(content, add, o.Bool("partial"), !hasFalse(o, "escape"))
	if err != nil {
		fail(st, "append", err)
	}
	if !ch {
		L.Push(lua.LFalse)
		return 1
	}
	return store(st, "append", p, out, transfer.WriteOptions{UseSudo: o.Bool("use_sudo")})
}

// backup returns the backup suffix option, ".bak" unless given.
func backup(o luart.Opts) string {
	v, ok := o["backup"]
	switch {
	case !ok:
		return ".bak"
	case v == lua.LFalse:
		return ""
	case v == lua.LTrue:
		return ".bak"
	}
	return v.String()
}

// rewrite applies fn to an existing file's content and stores the result.
func rewrite(st *luart.State, fname, p string, o luart.Opts, fn func(string) (string, error)) int {
	content, _ := readText(st, fname, p, o.Bool("use_sudo"), false)
	out, err := fn(content)
	if err != nil {
		fail(st, fname, err)
	}
	if out == content {
		st.L.Push(lua.LFalse)
		return 1
	}
	return store(st, fname, p, out, transfer.WriteOptions{UseSudo: o.Bool("use_sudo"), Backup: backup(o)})
}

func sedFn(st *luart.State) int {
	st.RequireTask("files.sed")
	L := st.L
	p := hostio.RemotePath(st, L.CheckString(1))
	before, after := L.CheckString(2), L.CheckString(3)
	o := st.Opts()
	return rewrite(st, "sed", p, o, func(s string) (string, error) {
		return sed(s, before, after, o.String("limit"), o.String("flags"))
	})
}

func edit(fname string, fn func(content, regex, char string) (string, error)) func(*luart.State) int {
	return func(st *luart.State) int {
		st.RequireTask("files." + fname)
		L := st.L
		p := hostio.RemotePath(st, L.CheckString(1))
		regex := L.CheckString(2)
		o := st.Opts()
		char := o.String("char")
		if char == "" {
			char = "#"
		}
		return rewrite(st, fname, p, o, func(s string) (string, error) { return fn(s, regex, char) })
	}
}

func uploadTemplate(st *luart.State) int {
	st.RequireTask("files.upload_template")
	L := st.L
	name := L.CheckString(1)
	p := hostio.RemotePath(st, L.CheckString(2))
	var data any = map[string]any{}
	if v := L.Get(3); v != lua.LNil {
		var err error
		if data, err = luart.ToPlain(v); err != nil {
			L.ArgError(3, "files.upload_template: context: "+err.Error())
		}
	}
	o := st.Opts()
	local := name
	if !filepath.IsAbs(name) {
		switch dir := o.String("template_dir"); {
		case dir != "":
			local = filepath.Join(dir, name)
		case st.Settings.Lcwd == "":
			local = filepath.Join(st.FabfileDir(), name)
		}
	}
	local = hostio.LocalPath(st, local)
	text, err := hostio.ReadLocal(st, local)
	if err != nil {
		fail(st, "upload_template", fmt.Errorf("template: %w", err))
	}
	out, err := hostio.Render(filepath.Base(local), string(text), data)
	if err != nil {
		fail(st, "upload_template", err)
	}
	w := writeOpts(st, "files.upload_template", o)
	w.Backup = backup(o)
	return store(st, "upload_template", p, out, w)
}
