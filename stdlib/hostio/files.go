package hostio

import (
	"context"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/pmezard/go-difflib/difflib"
	lua "github.com/yuin/gopher-lua"

	"github.com/gofab/gofab/internal/base/host"
	"github.com/gofab/gofab/internal/transport/transfer"
	"github.com/gofab/gofab/luart"
)

// Files returns the current host's side of a transfer: its file system
// over the connection's SFTP session, and a way to run helper commands.
func Files(st *luart.State) *transfer.Host { return FilesOn(st, st.Conn()) }

// FilesOn is Files for a given connection (this machine's, for cuisine's
// mode_local).
func FilesOn(st *luart.State, conn host.Conn) *transfer.Host {
	fc, ok := conn.(host.FileConn)
	if !ok {
		st.L.RaiseError("%s: this host offers no file access", st.HostString())
	}
	fsys, err := fc.FS(st.Context())
	if err != nil {
		st.L.RaiseError("%s: %v", st.HostString(), err)
	}
	return &transfer.Host{FS: fsys, Conn: conn, Local: st.Run().LocalFS, Exec: func(ctx context.Context, command string, sudo bool, w io.Writer) (string, error) {
		return helper(st, ctx, On(conn), command, sudo, w)
	}}
}

// Helper runs a helper command for a built-in function on the current
// host, its output hidden, as root when sudo is set. A non-zero exit is a
// *transfer.ExitError.
func Helper(st *luart.State, ctx context.Context, command string, sudo bool, w io.Writer) (string, error) {
	return helper(st, ctx, TaskHost, command, sudo, w)
}

// helper runs a helper command on conn. The built-ins that call it never
// change a host under --check, so their helpers run there too.
func helper(st *luart.State, ctx context.Context, dest Dest, command string, sudo bool, w io.Writer) (string, error) {
	res, err := Run(st, ctx, Command{Line: command, Dest: dest, Sudo: sudo, Stdout: w, ReadOnly: true})
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

// Would labels an echo line: "would put" under --check and --dry-run,
// "put" otherwise.
func Would(st *luart.State, verb string) string {
	if check, _, dry := st.Mode(); check || dry {
		return "would " + verb
	}
	return verb
}

// WriteMode returns the check and diff settings a file write honours in
// this run (--check, --diff).
func WriteMode(st *luart.State, o transfer.WriteOptions) transfer.WriteOptions {
	check, diff, _ := st.Mode()
	o.Check = o.Check || check
	if diff {
		o.Diff = func(path string, old, new []byte, oldAttrs, newAttrs string) {
			ShowDiff(st, path, old, new, oldAttrs, newAttrs)
		}
	}
	return o
}

// ShowDiff prints a unified diff of a file's change, with its mode and
// owner when they change, as "[host] diff: ..." lines.
func ShowDiff(st *luart.State, path string, old, new []byte, oldAttrs, newAttrs string) {
	var b strings.Builder
	if oldAttrs != newAttrs && newAttrs != "" {
		b.WriteString("attributes of " + path + ": " + orNone(oldAttrs) + " -> " + newAttrs + "\n")
	}
	if string(old) != string(new) {
		text, _ := difflib.GetUnifiedDiffString(difflib.UnifiedDiff{
			A: difflib.SplitLines(string(old)), B: difflib.SplitLines(string(new)),
			FromFile: path, ToFile: path, Context: 3,
		})
		b.WriteString(text)
	}
	if b.Len() > 0 {
		st.Out().Line("diff", strings.TrimRight(b.String(), "\n"))
	}
}

func orNone(s string) string {
	if s == "" {
		return "(none)"
	}
	return s
}
