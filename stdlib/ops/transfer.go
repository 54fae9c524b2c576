package ops

import (
	"context"
	"errors"
	"fmt"
	"strings"

	lua "github.com/yuin/gopher-lua"

	"github.com/gofab/gofab/internal/base/event"
	"github.com/gofab/gofab/internal/base/host"
	"github.com/gofab/gofab/internal/transport/transfer"
	"github.com/gofab/gofab/luart"
	"github.com/gofab/gofab/stdlib/hostio"
)

// The option names of put, get and sync.
func transferFuncs() []luart.Func {
	return []luart.Func{
		{Name: "put", Doc: "Uploads a local file, glob or directory tree (recursively, symlinks kept as links) to the current host over SFTP.\nEach file is written to a temporary name and renamed into place when complete. Relative remote paths honour cd, relative local paths lcd.\nA remote path ending in / or naming a directory receives the sources inside it.",
			Params: []luart.Param{
				{Name: "local_path", Type: "string", Doc: "a local path or glob"},
				{Name: "remote_path", Type: "string", Doc: "destination path on the host (default: the login or cd directory)", Optional: true},
				luart.OptionsParam(putOptionsType)},
			Returns: []luart.Param{{Type: "string[]", Doc: "remote paths written"}},
			Fn:      luaPut},
		{Name: "get", Doc: "Downloads a remote file, glob or directory tree from the current host.\nThe local path may hold {host}, {port}, {user}, {path}, {basename} and {dirname} (default \"{host}/{path}\"); with several hosts and no placeholder, files land under <local>/<host>/.",
			Params: []luart.Param{
				{Name: "remote_path", Type: "string", Doc: "a remote path or glob"},
				{Name: "local_path", Type: "string", Doc: "local destination, may hold placeholders", Optional: true},
				luart.OptionsParam(getOptionsType)},
			Returns: []luart.Param{{Type: "string[]", Doc: "local paths written"}},
			Fn:      luaGet},
		{Name: "sync", Doc: "Pushes a local directory tree to the host, skipping files whose size and sha256 already match (remote hashes come from one sha256sum command).\nFiles get their local mode. No rsync needed. Returns whether anything changed, and {files, removed}.",
			Params: []luart.Param{
				{Name: "local_dir", Type: "string"},
				{Name: "remote_dir", Type: "string"},
				luart.OptionsParam(syncOptionsType)},
			Returns: []luart.Param{{Name: "changed", Type: "boolean", Doc: "whether anything was written or deleted (under --check: would be)"}, {Name: "details", Type: "SyncDetails"}},
			Fn:      luaSync},
	}
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

// transferEvent reports a transfer to JSON output.
func transferEvent(st *luart.State, op, src, dst string, files int, err error) {
	ev := event.Transfer{Op: op, Source: src, Destination: dst, Files: files}
	if err != nil {
		ev.Error = err.Error()
	}
	st.Out().Event(ev)
}

func luaPut(st *luart.State) int {
	L := st.L
	st.RequireTask("put")
	local := hostio.LocalPath(st, L.CheckString(1))
	dst := hostio.RemotePath(st, L.OptString(2, ""))
	if L.OptString(2, "") == "" {
		dst = hostio.RemotePath(st, ".") + "/"
	}
	opts := st.Opts()
	var o transfer.PutOptions
	if v, ok := opts["mode"]; ok {
		o.Mode = hostio.Mode(st, "put", v)
	}
	o.MirrorLocalMode = opts.Bool("mirror_local_mode")
	o.Owner = opts.String("owner")
	o.Group = opts.String("group")
	o.UseSudo = opts.Bool("use_sudo")
	o.TempDir = opts.String("temp_dir")
	o.FollowLinks = opts.Bool("follow_links")
	o.Check, _, _ = st.Mode()
	if st.Shown("running") {
		st.Out().Line(hostio.Would(st, "put"), L.CheckString(1)+" -> "+dst)
	}
	if _, _, dry := st.Mode(); dry && !localExists(st, local) {
		// A file an earlier step (a run_local build) would have made.
		if st.Shown("running") {
			st.Out().Line("would put", local+" is not present now: an earlier step would make it")
		}
		return transferred(st, fmt.Sprintf("put(%q)", L.CheckString(1)), nil, nil)
	}
	h := hostio.Files(st)
	paths, err := h.Put(st.Context(), local, dst, o)
	st.Changed(len(paths))
	transferEvent(st, "put", local, dst, len(paths), err)
	return transferred(st, fmt.Sprintf("put(%q)", L.CheckString(1)), paths, err)
}

// localExists reports whether a local path (or glob) names something on
// this machine's side of transfers.
func localExists(st *luart.State, p string) bool {
	fsys := st.Run().LocalFS
	if fsys == nil {
		fsys = host.OS{}
	}
	if strings.ContainsAny(p, "*?[") {
		m, err := fsys.Glob(p)
		return err == nil && len(m) > 0
	}
	_, err := fsys.Stat(p)
	return err == nil
}

func luaGet(st *luart.State) int {
	L := st.L
	st.RequireTask("get")
	src := hostio.RemotePath(st, L.CheckString(1))
	local := L.OptString(2, "{host}/{path}")
	opts := st.Opts()
	name, user, port := st.Identity()
	o := transfer.GetOptions{UseSudo: opts.Bool("use_sudo"), Host: name, User: user, Port: port,
		MultiHost: st.HostCount() > 1}
	if st.Shown("running") {
		st.Out().Line("get", src+" -> "+local)
	}
	h := hostio.Files(st)
	paths, err := h.Get(st.Context(), src, hostio.LocalPath(st, local), o)
	transferEvent(st, "get", src, local, len(paths), err)
	return transferred(st, fmt.Sprintf("get(%q)", L.CheckString(1)), paths, err)
}

func luaSync(st *luart.State) int {
	L := st.L
	st.RequireTask("sync")
	local := hostio.LocalPath(st, L.CheckString(1))
	dst := hostio.RemotePath(st, L.CheckString(2))
	opts := st.Opts()
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
		st.Out().Line(hostio.Would(st, "sync"), L.CheckString(1)+" -> "+dst)
	}
	res, err := hostio.Files(st).Sync(st.Context(), local, dst, o)
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
