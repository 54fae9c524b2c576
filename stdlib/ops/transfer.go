package ops

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	lua "github.com/yuin/gopher-lua"

	"github.com/gofab/gofab/internal/host"
	"github.com/gofab/gofab/internal/shell"
	"github.com/gofab/gofab/internal/transfer"
	"github.com/gofab/gofab/luart"
)

const transferTypes = `---@class PutOptions
---@field mode? integer|string permission bits for every file written (e.g. "0640" or tonumber("640", 8))
---@field mirror_local_mode? boolean give files their local permission bits
---@field owner? string chown files to this user (needs use_sudo unless you are root)
---@field group? string chown files to this group
---@field use_sudo? boolean write through sudo where the login user cannot
---@field temp_dir? string where sudo uploads stage their files (default /tmp)
---@field follow_links? boolean copy what symlinks point to instead of the links

---@class GetOptions
---@field use_sudo? boolean read files the login user cannot, with sudo

---@class SyncOptions
---@field delete? boolean remove remote entries missing locally
---@field exclude? string[] glob patterns matched against relative paths and names
---@field use_sudo? boolean write as root (a docroot owned by root): staged, then put in place by one sudo script
---@field temp_dir? string where use_sudo stages the files (default /tmp)

---@class SyncDetails
---@field files string[] relative paths written or given a new mode
---@field removed string[] relative paths deleted
---@field check? boolean the result of a --check run`

// The option names of put, get and sync.
var (
	putOptions  = []string{"mode", "mirror_local_mode", "owner", "group", "use_sudo", "temp_dir", "follow_links"}
	getOptions  = []string{"use_sudo"}
	syncOptions = []string{"delete", "exclude", "use_sudo", "temp_dir"}
)

func transferFuncs() []luart.Func {
	return []luart.Func{
		{Name: "put", Doc: "Uploads a local file, glob or directory tree (recursively, symlinks kept as links) to the current host over SFTP.\nEach file is written to a temporary name and renamed into place when complete. Relative remote paths honour cd, relative local paths lcd.\nA remote path ending in / or naming a directory receives the sources inside it.",
			Params: []luart.Param{
				{Name: "local_path", Type: "string", Doc: "a local path or glob"},
				{Name: "remote_path", Type: "string", Doc: "destination path on the host (default: the login or cd directory)", Optional: true},
				{Name: "options", Type: "PutOptions", Optional: true}},
			Returns:    []luart.Param{{Type: "string[]", Doc: "remote paths written"}},
			OptionsArg: 3, Options: putOptions,
			Fn: luaPut},
		{Name: "get", Doc: "Downloads a remote file, glob or directory tree from the current host.\nThe local path may hold {host}, {port}, {user}, {path}, {basename} and {dirname} (default \"{host}/{path}\"); with several hosts and no placeholder, files land under <local>/<host>/.",
			Params: []luart.Param{
				{Name: "remote_path", Type: "string", Doc: "a remote path or glob"},
				{Name: "local_path", Type: "string", Doc: "local destination, may hold placeholders", Optional: true},
				{Name: "options", Type: "GetOptions", Optional: true}},
			Returns:    []luart.Param{{Type: "string[]", Doc: "local paths written"}},
			OptionsArg: 3, Options: getOptions,
			Fn: luaGet},
		{Name: "sync", Doc: "Pushes a local directory tree to the host, skipping files whose size and sha256 already match (remote hashes come from one sha256sum command).\nFiles get their local mode. No rsync needed. Returns whether anything changed, and {files, removed}.",
			Params: []luart.Param{
				{Name: "local_dir", Type: "string"},
				{Name: "remote_dir", Type: "string"},
				{Name: "options", Type: "SyncOptions", Optional: true}},
			Returns:    []luart.Param{{Name: "changed", Type: "boolean", Doc: "whether anything was written or deleted (under --check: would be)"}, {Name: "details", Type: "SyncDetails"}},
			OptionsArg: 3, Options: syncOptions,
			Fn: luaSync},
	}
}

// Transfer returns the current host's side of a transfer: its file system
// over the connection's SFTP session, and a way to run helper commands.
func Transfer(st *luart.State) *transfer.Host { return TransferOn(st, st.Conn()) }

// TransferOn is Transfer for a given connection (this machine's, for
// cuisine's mode_local).
func TransferOn(st *luart.State, conn host.Conn) *transfer.Host {
	fc, ok := conn.(host.FileConn)
	if !ok {
		st.L.RaiseError("%s: this host offers no file access", st.HostString())
	}
	fsys, err := fc.FS(st.Context())
	if err != nil {
		st.L.RaiseError("%s: %v", st.HostString(), err)
	}
	return &transfer.Host{FS: fsys, Conn: conn, Local: st.Run().LocalFS, Exec: func(ctx context.Context, command string, sudo bool, w io.Writer) (string, error) {
		return execOn(st, ctx, conn, command, sudo, w)
	}}
}

// Exec runs a helper command for a built-in function on the current host,
// its output hidden, as root when sudo is set. A non-zero exit is a
// *transfer.ExitError.
func Exec(st *luart.State, ctx context.Context, command string, sudo bool, w io.Writer) (string, error) {
	return execOn(st, ctx, st.Conn(), command, sudo, w)
}

func execOn(st *luart.State, ctx context.Context, conn host.Conn, command string, sudo bool, w io.Writer) (string, error) {
	req := shell.Request{Command: command, Kind: "sudo", Sudo: sudo, Stdout: w, Helper: true}
	if sudo {
		req.SudoPassword = st.Run().SudoPassword
	}
	res, err := shell.Run(ctx, conn, req)
	if err != nil {
		return "", err
	}
	if res.Code != 0 {
		return res.Stdout, &transfer.ExitError{Code: res.Code, Stderr: strings.TrimSpace(res.Stderr)}
	}
	return res.Stdout, nil
}

// ReadLocal reads a file of this machine (of the run's LocalFS under gofab
// test).
func ReadLocal(st *luart.State, p string) ([]byte, error) {
	fsys := st.Run().LocalFS
	if fsys == nil {
		return os.ReadFile(p)
	}
	f, err := fsys.Open(p)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return io.ReadAll(f)
}

// LocalPath resolves a local path: ~ is the home directory, relative
// paths start at lcd()'s directory (or the working directory).
func LocalPath(st *luart.State, p string) string {
	if p == "~" || strings.HasPrefix(p, "~/") {
		if home, err := os.UserHomeDir(); err == nil {
			p = filepath.Join(home, p[1:])
		}
	}
	if !filepath.IsAbs(p) && st.Settings.Lcwd != "" {
		p = filepath.Join(st.Settings.Lcwd, p)
	}
	abs, err := filepath.Abs(p)
	if err != nil {
		st.L.RaiseError("%s: %v", p, err)
	}
	if strings.HasSuffix(p, "/") {
		abs += "/"
	}
	return abs
}

// RemotePath resolves a remote path against cd()'s directory; the host's
// file system resolves ~ and what stays relative (against the login
// directory).
func RemotePath(st *luart.State, p string) string {
	cwd := st.Settings.Cwd
	if cwd == "" || strings.HasPrefix(p, "/") || strings.HasPrefix(p, "~") {
		return p
	}
	return strings.TrimSuffix(cwd, "/") + "/" + p
}

// Mode reads a permission option: a number, or an octal string like "0644".
func Mode(st *luart.State, fname string, v lua.LValue) fs.FileMode {
	switch m := v.(type) {
	case lua.LNumber:
		if m >= 0 && m <= 0o7777 {
			return fs.FileMode(m)
		}
	case lua.LString:
		if n, err := strconv.ParseUint(strings.TrimPrefix(string(m), "0o"), 8, 32); err == nil && n <= 0o7777 {
			return fs.FileMode(n)
		}
	}
	st.L.RaiseError("%s: mode must be permission bits such as \"0644\", got %s", fname, v.String())
	return 0
}

// transferred finishes a transfer call: it returns the list of paths, or
// raises the error (a warning and the partial list under warn_only).
func transferred(st *luart.State, call string, paths []string, err error) int {
	L := st.L
	t := L.CreateTable(len(paths), 0)
	for _, p := range paths {
		t.Append(lua.LString(p))
	}
	if err != nil {
		msg := fmt.Sprintf("%s on %s: %v", call, st.HostString(), err)
		if errors.Is(err, context.Canceled) {
			msg = fmt.Sprintf("%s on %s: interrupted", call, st.HostString())
		}
		if !st.Settings.WarnOnly {
			L.RaiseError("%s", msg)
		}
		if st.Shown("warnings") {
			st.Out().Line("warning", msg)
		}
		t.RawSetString("failed", lua.LTrue)
		t.RawSetString("error", lua.LString(msg))
	}
	L.Push(t)
	return 1
}

// Would labels an echo line: "would put" under --check and --dry-run,
// "put" otherwise.
func Would(st *luart.State, verb string) string {
	if check, _, dry := st.Mode(); check || dry {
		return "would " + verb
	}
	return verb
}

// transferEvent reports a transfer to JSON output.
func transferEvent(st *luart.State, op, src, dst string, files int, err error) {
	ev := map[string]any{"op": op, "source": src, "destination": dst, "files": files}
	if err != nil {
		ev["error"] = err.Error()
	}
	st.Out().Event("transfer", ev)
}

func luaPut(st *luart.State) int {
	L := st.L
	st.RequireTask("put")
	local := LocalPath(st, L.CheckString(1))
	dst := RemotePath(st, L.OptString(2, ""))
	if L.OptString(2, "") == "" {
		dst = RemotePath(st, ".") + "/"
	}
	opts := st.Options(3, "put", putOptions...)
	var o transfer.PutOptions
	if v, ok := opts["mode"]; ok {
		o.Mode = Mode(st, "put", v)
	}
	o.MirrorLocalMode = opts.Bool("mirror_local_mode")
	o.Owner = opts.String("owner")
	o.Group = opts.String("group")
	o.UseSudo = opts.Bool("use_sudo")
	o.TempDir = opts.String("temp_dir")
	o.FollowLinks = opts.Bool("follow_links")
	o.Check, _, _ = st.Mode()
	if st.Shown("running") {
		st.Out().Line(Would(st, "put"), L.CheckString(1)+" -> "+dst)
	}
	h := Transfer(st)
	paths, err := h.Put(st.Context(), local, dst, o)
	st.Changed(len(paths))
	transferEvent(st, "put", local, dst, len(paths), err)
	return transferred(st, fmt.Sprintf("put(%q)", L.CheckString(1)), paths, err)
}

func luaGet(st *luart.State) int {
	L := st.L
	st.RequireTask("get")
	src := RemotePath(st, L.CheckString(1))
	local := L.OptString(2, "{host}/{path}")
	opts := st.Options(3, "get", getOptions...)
	name, user, port := st.Identity()
	o := transfer.GetOptions{UseSudo: opts.Bool("use_sudo"), Host: name, User: user, Port: port,
		MultiHost: st.HostCount() > 1}
	if st.Shown("running") {
		st.Out().Line("get", src+" -> "+local)
	}
	h := Transfer(st)
	paths, err := h.Get(st.Context(), src, LocalPath(st, local), o)
	transferEvent(st, "get", src, local, len(paths), err)
	return transferred(st, fmt.Sprintf("get(%q)", L.CheckString(1)), paths, err)
}

func luaSync(st *luart.State) int {
	L := st.L
	st.RequireTask("sync")
	local := LocalPath(st, L.CheckString(1))
	dst := RemotePath(st, L.CheckString(2))
	opts := st.Options(3, "sync", syncOptions...)
	o := transfer.SyncOptions{Delete: opts.Bool("delete"), UseSudo: opts.Bool("use_sudo"), TempDir: opts.String("temp_dir")}
	switch ex := opts["exclude"].(type) {
	case nil:
	case lua.LString:
		o.Exclude = []string{string(ex)}
	case *lua.LTable:
		ex.ForEach(func(_, v lua.LValue) { o.Exclude = append(o.Exclude, v.String()) })
	default:
		L.ArgError(3, "sync: exclude must be a list of glob patterns")
	}
	o.Check, _, _ = st.Mode()
	if st.Shown("running") {
		st.Out().Line(Would(st, "sync"), L.CheckString(1)+" -> "+dst)
	}
	res, err := Transfer(st).Sync(st.Context(), local, dst, o)
	st.Changed(res.Changed + res.Deleted)
	transferEvent(st, "sync", local, dst, res.Changed+res.Deleted, err)
	if err != nil {
		return transferred(st, fmt.Sprintf("sync(%q)", L.CheckString(1)), nil, err)
	}
	t := L.CreateTable(0, 3)
	t.RawSetString("files", luart.FromPlain(L, res.Files))
	t.RawSetString("removed", luart.FromPlain(L, res.Removed))
	if o.Check {
		t.RawSetString("check", lua.LTrue)
	}
	L.Push(lua.LBool(res.Changed+res.Deleted > 0))
	L.Push(t)
	return 2
}
