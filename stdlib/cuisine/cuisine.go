// Package cuisine is the Lua module "cuisine": Cuisine's idempotent
// "ensure" functions for gofab. Every function that may change the host
// returns whether it did (under --check, whether it would) and a table of
// details, and counts its changes for the run's recap; files.* return the
// same changed boolean. File
// content travels by SFTP; package, service and user functions pick the
// host's tools (apt, dnf, yum, apk, pacman, zypper; systemd, OpenRC or
// SysV).
package cuisine

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"slices"
	"strconv"
	"strings"

	lua "github.com/yuin/gopher-lua"

	"github.com/gofab/gofab/internal/transport/transfer"
	"github.com/gofab/gofab/luart"
	"github.com/gofab/gofab/stdlib/hostio"
)

var (
	pathP   = luart.Param{Name: "path", Type: "string"}
	nameP   = luart.Param{Name: "name", Type: "string"}
	resultR = []luart.Param{{Name: "changed", Type: "boolean", Doc: "whether it changed the host (under --check: would)"}, {Name: "details", Type: "CuisineDetails"}}
	boolR   = []luart.Param{{Type: "boolean"}}
)

// fn declares a cuisine function; its options, if any, are the parameter
// made with luart.OptionsParam.
func fn(name, doc string, params []luart.Param, returns []luart.Param, impl func(*luart.State) int) luart.Func {
	return luart.Func{Name: name, Doc: doc, Params: params, Returns: returns,
		Fn: func(st *luart.State) int {
			if !strings.HasPrefix(name, "text_") {
				st.RequireTask("cuisine." + name)
			}
			prev := st.Settings.Values[callKey]
			st.Settings.Values[callKey] = describeCall(name, st.L)
			defer func() { st.Settings.Values[callKey] = prev }()
			return impl(st)
		}}
}

// Module returns require("cuisine").
func Module() luart.Module {
	return luart.Module{
		Name: "cuisine",
		Doc:  "Cuisine's idempotent ensure functions: files, directories, packages, users, groups, SSH keys, services.",
		TableTypes: []*luart.TableType{cuisineDetailsType, cuisineOptionsType, attribOptionsType, userOptionsType, fileLinkOptionsType,
			dirRemoveOptionsType, passwdOptionsType, groupOptionsType, keygenOptionsType, processFindOptionsType, processKillOptionsType,
			replaceLineOptionsType},
		Funcs: slices.Concat(textFuncs(), fileFuncs(), fileContentFuncs(), fileLinkFuncs(), dirFuncs(), systemFuncs(), modeFuncs()),
	}
}

func modeFuncs() []luart.Func {
	scoped := func(name, doc string, key string, value bool) luart.Func {
		return luart.Func{Name: name, Doc: doc, Params: []luart.Param{{Name: "fn", Type: "fun(): any"}}, Returns: []luart.Param{{Type: "any"}},
			Fn: func(st *luart.State) int {
				return st.Scoped(1, func() { st.Settings.Values[key] = value })
			}}
	}
	return []luart.Func{
		scoped("mode_local", "Runs fn with cuisine acting on this machine.", modeLocal, true),
		scoped("mode_remote", "Runs fn with cuisine acting on the current host (the default).", modeLocal, false),
		scoped("mode_sudo", "Runs fn with cuisine acting as root (sudo).", modeSudo, true),
		scoped("mode_user", "Runs fn with cuisine acting as the login user (the default).", modeSudo, false),
	}
}

func textFuncs() []luart.Func {
	textP := luart.Param{Name: "text", Type: "string"}
	strR := []luart.Param{{Type: "string"}}
	return []luart.Func{
		fn("text_detect_eol", "Returns the text's line ending, \"\\r\\n\" or \"\\n\".", []luart.Param{textP}, strR, func(st *luart.State) int {
			st.L.Push(lua.LString(detectEOL(st.L.CheckString(1))))
			return 1
		}),
		fn("text_ensure_line", "Returns the text with each line appended that it lacks as a whole line.", []luart.Param{textP, {Name: "lines", Type: "string"}}, strR, textEnsureLine),
		fn("text_replace_line", "Replaces every line equal to old (or containing it, with find = true) by new; returns the text and how many lines changed.",
			[]luart.Param{textP, {Name: "old", Type: "string"}, {Name: "new", Type: "string"}, luart.OptionsParam(replaceLineOptionsType)}, []luart.Param{{Type: "string"}, {Type: "integer"}},
			textReplaceLine),
		fn("text_strip_margin", "Removes leading blanks and the margin character (default \"|\") from every line.", []luart.Param{textP, {Name: "margin", Type: "string", Optional: true}}, strR, func(st *luart.State) int {
			st.L.Push(lua.LString(stripMargin(st.L.CheckString(1), st.L.OptString(2, "|"))))
			return 1
		}),
		fn("text_template", "Renders a Go text/template string with the context table ({{ .name }}).", []luart.Param{textP, {Name: "context", Type: "table"}}, strR, textTemplate),
	}
}

// writeOpts reads mode, owner and group options.
func writeOpts(st *luart.State, fname string, o attribOpts, t *side) transfer.WriteOptions {
	w := transfer.WriteOptions{Owner: o.Owner, Group: o.Group, UseSudo: t.sudo, Check: t.check}
	if o.Mode != nil {
		w.Mode = hostio.Mode(st, fname, o.Mode)
	}
	return hostio.WriteMode(t.st, w)
}

// attribOpts are the options of the calls that set a file's attributes
// (AttribOptions and the types built on it), decoded from their
// declaration.
type attribOpts struct {
	UseSudo   bool       `lua:"use_sudo"`
	Mode      lua.LValue `lua:"mode"` // hostio.Mode reads it: "0644", or a number
	Owner     string     `lua:"owner"`
	Group     string     `lua:"group"`
	Recursive bool       `lua:"recursive"`
}

// readAttribs decodes a call's AttribOptions.
func readAttribs(st *luart.State) attribOpts {
	var o attribOpts
	st.DecodeOpts(&o)
	return o
}

// writeFile makes path hold data and pushes the result.
func writeFile(st *luart.State, t *side, fname, p string, data []byte, w transfer.WriteOptions) int {
	changed, err := t.files().WriteFile(st.Context(), p, data, w)
	if err != nil {
		t.fail("write %s: %v", p, err)
	}
	if changed && st.Shown("running") {
		st.Out().Line(hostio.Would(st, fname), p)
	}
	return t.done(changed, nil)
}

// readFile returns a file's content, or nil when it does not exist.
func readFile(st *luart.State, t *side, p string) ([]byte, bool) {
	data, err := t.files().ReadFile(st.Context(), p, t.sudo)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, false
	}
	if err != nil {
		t.fail("read %s: %v", p, err)
	}
	return data, true
}

func testPath(st *luart.State, flag string) int {
	t := onOpts(st)
	ok, err := t.files().Test(st.Context(), flag, hostio.RemotePath(st, st.L.CheckString(1)), t.sudo)
	if err != nil {
		t.fail("%v", err)
	}
	st.L.Push(lua.LBool(ok))
	return 1
}

// attribs returns a path's "mode owner group", or ok false when it is
// missing.
func (t *side) attribs(p string) (mode, owner, group string, ok bool) {
	out, code := t.probe("stat -c '%a %U %G' -- " + q(p) + " 2>/dev/null")
	f := strings.Fields(out)
	if code != 0 || len(f) != 3 {
		return "", "", "", false
	}
	return f[0], f[1], f[2], true
}

// ensureAttribs applies mode, owner and group where they differ.
func ensureAttribs(st *luart.State, t *side, p string, o attribOpts) bool {
	mode, owner, group, ok := t.attribs(p)
	recursive := ""
	if o.Recursive {
		recursive = "-R "
	}
	changed := false
	if o.Mode != nil {
		want := hostio.Mode(st, "cuisine.file_attribs", o.Mode)
		cur, _ := strconv.ParseUint(mode, 8, 32)
		if !ok || fs.FileMode(cur) != want || recursive != "" && t.differsBelow(p, fmt.Sprintf("! -perm %04o", want)) {
			t.change(fmt.Sprintf("chmod %s%04o -- %s", recursive, want, q(p)))
			changed = true
		}
	}
	if u, g := o.Owner, o.Group; u != "" || g != "" {
		spec, test := u, ""
		if u != "" {
			test = "! -user " + q(u)
		}
		if g != "" {
			spec += ":" + g
			if test != "" {
				test += " -o "
			}
			test += "! -group " + q(g)
		}
		if !ok || (u != "" && u != owner) || (g != "" && g != group) || recursive != "" && t.differsBelow(p, test) {
			t.change("chown " + recursive + q(spec) + " -- " + q(p))
			changed = true
		}
	}
	return changed
}

// sha256 hashes a file on the host with sha256sum, shasum (BSD, macOS)
// or openssl; "" when it is missing.
func (t *side) sha256(p string) string {
	f := q(p)
	out, code := t.probe("[ -f " + f + " ] || exit 44; if command -v sha256sum >/dev/null 2>&1; then sha256sum -- " + f +
		"; elif command -v shasum >/dev/null 2>&1; then shasum -a 256 " + f + "; else openssl dgst -sha256 -r " + f + "; fi")
	fields := strings.Fields(out)
	if code != 0 || len(fields) == 0 || len(fields[0]) != 64 {
		return ""
	}
	return fields[0]
}

// differsBelow reports whether anything under p matches the find test.
func (t *side) differsBelow(p, test string) bool {
	out, _ := t.probe("find " + q(p) + " \\( " + test + " \\) -print -quit 2>/dev/null")
	return strings.TrimSpace(out) != ""
}

// fileFuncs read, write and test files and their attributes.
func fileFuncs() []luart.Func {
	contentP := luart.Param{Name: "content", Type: "string"}
	return []luart.Func{
		fn("file_read", "Returns a file's content, or nil when it does not exist.", []luart.Param{pathP, luart.OptionsParam(cuisineOptionsType)}, []luart.Param{{Type: "string?"}}, fileRead),
		fn("file_write", "Makes a file hold content, with mode, owner and group; writes only what differs (by SFTP, atomically).", []luart.Param{pathP, contentP, luart.OptionsParam(attribOptionsType)}, resultR, fileWrite),
		fn("file_exists", "Reports whether path exists.", []luart.Param{pathP, luart.OptionsParam(cuisineOptionsType)}, boolR, func(st *luart.State) int { return testPath(st, "-e") }),
		fn("file_is_file", "Reports whether path is a regular file.", []luart.Param{pathP, luart.OptionsParam(cuisineOptionsType)}, boolR, func(st *luart.State) int { return testPath(st, "-f") }),
		fn("file_is_dir", "Reports whether path is a directory.", []luart.Param{pathP, luart.OptionsParam(cuisineOptionsType)}, boolR, func(st *luart.State) int { return testPath(st, "-d") }),
		fn("file_is_link", "Reports whether path is a symbolic link.", []luart.Param{pathP, luart.OptionsParam(cuisineOptionsType)}, boolR, func(st *luart.State) int { return testPath(st, "-L") }),
		fn("file_attribs", "Gives path the mode, owner and group asked for (recursive: everything below too), changing only what differs.", []luart.Param{pathP, luart.OptionsParam(attribOptionsType)}, resultR, fileAttribs),
		fn("file_attribs_get", "Returns {mode = \"644\", owner = , group = } of path, or nil.", []luart.Param{pathP, luart.OptionsParam(cuisineOptionsType)}, []luart.Param{{Type: "{mode: string, owner: string, group: string}?"}}, fileAttribsGet),
		fn("file_ensure", "Makes sure a file exists (empty when created) with the attributes asked for.", []luart.Param{pathP, luart.OptionsParam(attribOptionsType)}, resultR, fileEnsure),
	}
}

// fileContentFuncs change what files hold.
func fileContentFuncs() []luart.Func {
	return []luart.Func{
		fn("file_upload", "Uploads a local file to remote when their sha256 differ (atomically, by SFTP).", []luart.Param{{Name: "remote_path", Type: "string"}, {Name: "local_path", Type: "string"}, luart.OptionsParam(attribOptionsType)}, resultR, fileUpload),
		fn("file_update", "Passes the file's content (\"\" when missing) to fn and writes what fn returns when it differs.", []luart.Param{pathP, {Name: "fn", Type: "fun(text: string): string"}, luart.OptionsParam(attribOptionsType)}, resultR, fileUpdate),
		fn("file_append", "Appends text to a file unless the file already contains it (idempotent).", []luart.Param{pathP, {Name: "text", Type: "string"}, luart.OptionsParam(attribOptionsType)}, resultR, fileAppend),
	}
}

// fileLinkFuncs make links, hash and remove files.
func fileLinkFuncs() []luart.Func {
	return []luart.Func{
		fn("file_link", "Makes dest a link to source (symbolic unless symbolic = false).", []luart.Param{{Name: "source", Type: "string"}, {Name: "dest", Type: "string"}, luart.OptionsParam(fileLinkOptionsType)}, resultR, fileLink),
		fn("file_sha256", "Returns the sha256 of a file (sha256sum, shasum or openssl on the host), or nil when it is missing.", []luart.Param{pathP, luart.OptionsParam(cuisineOptionsType)}, []luart.Param{{Type: "string?"}}, fileSha256),
		fn("file_unlink", "Removes a file or link when it exists.", []luart.Param{pathP, luart.OptionsParam(cuisineOptionsType)}, resultR, fileUnlink),
	}
}

// dirFuncs manage directories.
func dirFuncs() []luart.Func {
	return []luart.Func{
		fn("dir_exists", "Reports whether path is a directory.", []luart.Param{pathP, luart.OptionsParam(cuisineOptionsType)}, boolR, func(st *luart.State) int { return testPath(st, "-d") }),
		fn("dir_ensure", "Makes sure a directory exists (recursive: with its parents) with the attributes asked for.", []luart.Param{pathP, luart.OptionsParam(attribOptionsType)}, resultR, dirEnsure),
		fn("dir_remove", "Removes a directory and what it holds (recursive = false: only when empty).", []luart.Param{pathP, luart.OptionsParam(dirRemoveOptionsType)}, resultR, dirRemove),
	}
}

// textEnsureLine is cuisine.text_ensure_line.
func textEnsureLine(st *luart.State) int {
	var lines []string
	for i := 2; i <= st.L.GetTop(); i++ {
		lines = append(lines, st.L.CheckString(i))
	}
	st.L.Push(lua.LString(ensureLines(st.L.CheckString(1), lines)))
	return 1
}

// textTemplate is cuisine.text_template.
func textTemplate(st *luart.State) int {
	data, err := luart.ToPlain(st.L.CheckTable(2))
	if err != nil {
		st.L.ArgError(2, err.Error())
	}
	out, err := hostio.Render("text_template", st.L.CheckString(1), data)
	if err != nil {
		st.L.RaiseError("cuisine.text_template: %v", err)
	}
	st.L.Push(lua.LString(out))
	return 1
}

// fileRead is cuisine.file_read.
func fileRead(st *luart.State) int {
	t := onOpts(st)
	if data, ok := readFile(st, t, hostio.RemotePath(st, st.L.CheckString(1))); ok {
		st.L.Push(lua.LString(data))
	} else {
		st.L.Push(lua.LNil)
	}
	return 1
}

// fileWrite is cuisine.file_write.
func fileWrite(st *luart.State) int {
	o := readAttribs(st)
	t := on(st, o.UseSudo)
	return writeFile(st, t, "file_write", hostio.RemotePath(st, st.L.CheckString(1)), []byte(st.L.CheckString(2)), writeOpts(st, "cuisine.file_write", o, t))
}

// fileAttribs is cuisine.file_attribs.
func fileAttribs(st *luart.State) int {
	o := readAttribs(st)
	t := on(st, o.UseSudo)
	return t.done(ensureAttribs(st, t, hostio.RemotePath(st, st.L.CheckString(1)), o), nil)
}

// fileAttribsGet is cuisine.file_attribs_get.
func fileAttribsGet(st *luart.State) int {
	t := onOpts(st)
	mode, owner, group, ok := t.attribs(hostio.RemotePath(st, st.L.CheckString(1)))
	if !ok {
		st.L.Push(lua.LNil)
		return 1
	}
	r := st.L.CreateTable(0, 3)
	r.RawSetString("mode", lua.LString(mode))
	r.RawSetString("owner", lua.LString(owner))
	r.RawSetString("group", lua.LString(group))
	st.L.Push(r)
	return 1
}

// fileEnsure is cuisine.file_ensure.
func fileEnsure(st *luart.State) int {
	o := readAttribs(st)
	t := on(st, o.UseSudo)
	p := hostio.RemotePath(st, st.L.CheckString(1))
	changed := false
	if _, _, _, ok := t.attribs(p); !ok {
		t.change("touch -- " + q(p))
		changed = true
	}
	if !(changed && t.check) {
		changed = ensureAttribs(st, t, p, o) || changed
	}
	return t.done(changed, nil)
}

// fileUpload is cuisine.file_upload.
func fileUpload(st *luart.State) int {
	o := readAttribs(st)
	t := on(st, o.UseSudo)
	data, err := hostio.ReadLocal(st, hostio.LocalPath(st, st.L.CheckString(2)))
	if err != nil {
		t.fail("%v", err)
	}
	p := hostio.RemotePath(st, st.L.CheckString(1))
	sum := sha256.Sum256(data)
	// Same content (by a hash computed on the host): only the
	// attributes may need work, and the file is not read back.
	if t.sha256(p) == hex.EncodeToString(sum[:]) {
		return t.done(ensureAttribs(st, t, p, o), nil)
	}
	return writeFile(st, t, "file_upload", p, data, writeOpts(st, "cuisine.file_upload", o, t))
}

// fileUpdate is cuisine.file_update.
func fileUpdate(st *luart.State) int {
	o := readAttribs(st)
	t := on(st, o.UseSudo)
	p := hostio.RemotePath(st, st.L.CheckString(1))
	old, _ := readFile(st, t, p)
	st.L.Push(st.L.CheckFunction(2))
	st.L.Push(lua.LString(old))
	st.L.Call(1, 1)
	updated := st.L.CheckString(-1)
	st.L.Pop(1)
	return writeFile(st, t, "file_update", p, []byte(updated), writeOpts(st, "cuisine.file_update", o, t))
}

// fileAppend is cuisine.file_append.
func fileAppend(st *luart.State) int {
	o := readAttribs(st)
	t := on(st, o.UseSudo)
	p := hostio.RemotePath(st, st.L.CheckString(1))
	text := st.L.CheckString(2)
	old, _ := readFile(st, t, p)
	if strings.Contains(string(old), text) {
		return t.done(false, nil)
	}
	if len(old) > 0 && !strings.HasSuffix(string(old), "\n") && !strings.HasPrefix(text, "\n") {
		old = append(old, '\n')
	}
	return writeFile(st, t, "file_append", p, append(old, text...), writeOpts(st, "cuisine.file_append", o, t))
}

// fileLink is cuisine.file_link.
func fileLink(st *luart.State) int {
	o := st.Opts()
	t := onOpts(st)
	src, dst := st.L.CheckString(1), hostio.RemotePath(st, st.L.CheckString(2))
	symbolic := true
	if v, ok := o["symbolic"]; ok {
		symbolic = lua.LVAsBool(v)
	}
	if symbolic {
		if cur, code := t.probe("readlink -- " + q(dst)); code == 0 && strings.TrimSpace(cur) == src {
			return t.done(false, nil)
		}
		t.change("ln -sfn -- " + q(src) + " " + q(dst))
		return t.done(true, nil)
	}
	if _, code := t.probe("[ " + q(src) + " -ef " + q(dst) + " ]"); code == 0 {
		return t.done(false, nil)
	}
	t.change("ln -f -- " + q(src) + " " + q(dst))
	return t.done(true, nil)
}

// fileSha256 is cuisine.file_sha256.
func fileSha256(st *luart.State) int {
	t := onOpts(st)
	if sum := t.sha256(hostio.RemotePath(st, st.L.CheckString(1))); sum != "" {
		st.L.Push(lua.LString(sum))
	} else {
		st.L.Push(lua.LNil)
	}
	return 1
}

// fileUnlink is cuisine.file_unlink.
func fileUnlink(st *luart.State) int {
	t := onOpts(st)
	p := q(hostio.RemotePath(st, st.L.CheckString(1)))
	if _, code := t.probe("[ -e " + p + " ] || [ -L " + p + " ]"); code != 0 {
		return t.done(false, nil)
	}
	t.change("rm -f -- " + p)
	return t.done(true, nil)
}

// dirEnsure is cuisine.dir_ensure.
func dirEnsure(st *luart.State) int {
	o := readAttribs(st)
	t := on(st, o.UseSudo)
	p := hostio.RemotePath(st, st.L.CheckString(1))
	changed := false
	if _, code := t.probe("[ -d " + q(p) + " ]"); code != 0 {
		flag := ""
		if o.Recursive {
			flag = "-p "
		}
		// Another host sharing the file system (NFS homes) may make
		// it first: that is fine; a real failure shows on the retry.
		t.change("mkdir " + flag + "-- " + q(p) + " 2>/dev/null || [ -d " + q(p) + " ] || mkdir " + flag + "-- " + q(p))
		changed = true
	}
	attr := o
	attr.Recursive = false // mkdir -p's, not chmod -R's
	if !(changed && t.check) {
		changed = ensureAttribs(st, t, p, attr) || changed
	}
	return t.done(changed, nil)
}

// dirRemove is cuisine.dir_remove.
func dirRemove(st *luart.State) int {
	o := st.Opts()
	t := onOpts(st)
	p := q(hostio.RemotePath(st, st.L.CheckString(1)))
	if _, code := t.probe("[ -d " + p + " ]"); code != 0 {
		return t.done(false, nil)
	}
	if v, ok := o["recursive"]; ok && !lua.LVAsBool(v) {
		t.change("rmdir -- " + p)
	} else {
		t.change("rm -rf -- " + p)
	}
	return t.done(true, nil)
}

// textReplaceLine is cuisine.text_replace_line.
func textReplaceLine(st *luart.State) int {
	text, n := replaceLine(st.L.CheckString(1), st.L.CheckString(2), st.L.CheckString(3), st.Opts().Bool("find"))
	st.L.Push(lua.LString(text))
	st.L.Push(lua.LNumber(n))
	return 2
}
