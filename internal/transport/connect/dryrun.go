package connect

import (
	"context"
	"io"
	"io/fs"

	"github.com/gofab/gofab/internal/base/host"
)

// DryDialer is the dialer of --dry-run: every host, local included, gets
// a DryRun connection; logins and ports are still what the dialer it
// wraps resolves (ssh_config, the inventory), as the echo lines show them.
type DryDialer struct {
	Dialer interface {
		Identity(addr host.Addr) (user string, port int, err error)
	}
}

// Dial returns a DryRun connection without connecting.
func (DryDialer) Dial(context.Context, host.Addr) (host.Conn, error) { return DryRun{}, nil }

// Identity is the wrapped dialer's.
func (d DryDialer) Identity(addr host.Addr) (string, int, error) { return d.Dialer.Identity(addr) }

// Close closes the wrapped dialer, when it has anything to close.
func (d DryDialer) Close() {
	if c, ok := d.Dialer.(interface{ Close() }); ok {
		c.Close()
	}
}

// DryRun is the host.Conn of --dry-run: it connects nowhere. Commands
// succeed at once with no output, reads find nothing and writes vanish, so
// a task runs through and its echo lines show what it would attempt.
type DryRun struct{}

// Run does nothing and reports success.
func (DryRun) Run(context.Context, *host.Cmd) (int, error) { return 0, nil }

// Close does nothing.
func (DryRun) Close() error { return nil }

// FS returns a file system where nothing exists and writes are dropped.
func (DryRun) FS(context.Context) (host.FS, error) { return dryFS{}, nil }

type dryFS struct{}

func (dryFS) Abs(p string) (string, error)                { return host.OS{}.Abs(p) }
func (dryFS) Stat(p string) (fs.FileInfo, error)          { return nil, fs.ErrNotExist }
func (dryFS) Lstat(p string) (fs.FileInfo, error)         { return nil, fs.ErrNotExist }
func (dryFS) ReadDir(p string) ([]fs.FileInfo, error)     { return nil, fs.ErrNotExist }
func (dryFS) ReadLink(p string) (string, error)           { return "", fs.ErrNotExist }
func (dryFS) Symlink(target, link string) error           { return nil }
func (dryFS) Glob(pattern string) ([]string, error)       { return nil, nil }
func (dryFS) Mkdir(p string, perm fs.FileMode) error      { return nil }
func (dryFS) Open(p string) (host.File, error)            { return nil, fs.ErrNotExist }
func (dryFS) CreateExclusive(p string) (host.File, error) { return discard{}, nil }
func (dryFS) Rename(oldpath, newpath string) error        { return nil }
func (dryFS) Remove(p string) error                       { return nil }
func (dryFS) Chmod(p string, mode fs.FileMode) error      { return nil }

// discard is a file that takes and forgets everything.
type discard struct{}

func (discard) Read([]byte) (int, error)            { return 0, io.EOF }
func (discard) Write(p []byte) (int, error)         { return len(p), nil }
func (discard) Close() error                        { return nil }
func (discard) ReadFrom(r io.Reader) (int64, error) { return io.Copy(io.Discard, r) }
func (discard) WriteTo(w io.Writer) (int64, error)  { return 0, nil }
