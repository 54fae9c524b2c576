package host

import (
	"context"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
)

// FS is a host's file system as SFTP offers it. Paths are absolute or
// relative to the login directory; Abs resolves them. Implementations are
// safe for concurrent use.
type FS interface {
	// Abs resolves p: "~" and "~/x" start at the login user's home,
	// other relative paths at the login directory.
	Abs(p string) (string, error)
	Stat(p string) (fs.FileInfo, error)
	Lstat(p string) (fs.FileInfo, error)
	ReadDir(p string) ([]fs.FileInfo, error)
	ReadLink(p string) (string, error)
	Symlink(target, link string) error
	// Glob returns the absolute paths matching an absolute pattern.
	Glob(pattern string) ([]string, error)
	// Mkdir creates one directory with mode perm.
	Mkdir(p string, perm fs.FileMode) error
	// Open opens a file for reading.
	Open(p string) (File, error)
	// CreateExclusive creates a new file for writing; it fails when p exists.
	CreateExclusive(p string) (File, error)
	// Rename moves oldpath to newpath, replacing newpath atomically.
	Rename(oldpath, newpath string) error
	// Remove removes a file, a symlink or an empty directory.
	Remove(p string) error
	Chmod(p string, mode fs.FileMode) error
}

// File is an open file of an FS. ReadFrom and WriteTo move whole files
// with as many requests in flight as the transport allows.
type File interface {
	io.ReadWriteCloser
	io.ReaderFrom
	io.WriterTo
}

// FileConn is a Conn that also offers its host's file system. The SSH
// transport opens one SFTP session per connection, on first use, and every
// transfer shares it.
type FileConn interface {
	Conn
	FS(ctx context.Context) (FS, error)
}

// Redialer is a Conn that can open a second, independent connection to the
// same host. Transfers use it to remove their temporary files after the
// main connection was lost.
type Redialer interface {
	Redial(ctx context.Context) (FileConn, error)
}

// owned is the Sys() of a FileInfo made by WithOwner.
type owned struct{ uid, gid int }

func (o owned) Owner() (int, int) { return o.uid, o.gid }

type ownedInfo struct {
	fs.FileInfo
	sys owned
}

func (f ownedInfo) Sys() any { return f.sys }

// WithOwner returns fi reporting uid and gid through Owner.
func WithOwner(fi fs.FileInfo, uid, gid int) fs.FileInfo { return ownedInfo{fi, owned{uid, gid}} }

// Owner returns the numeric owner and group in a FileInfo from an FS, when
// the file system reports them.
func Owner(fi fs.FileInfo) (uid, gid int, ok bool) {
	if o, isOwned := fi.Sys().(interface{ Owner() (int, int) }); isOwned {
		uid, gid = o.Owner()
		return uid, gid, true
	}
	return 0, 0, false
}

// OS is this machine's file system as an FS.
type OS struct{}

func (OS) Abs(p string) (string, error) {
	if p == "~" || strings.HasPrefix(p, "~/") {
		home, err := os.UserHomeDir()
		if err != nil {
			return "", err
		}
		return filepath.Join(home, strings.TrimPrefix(p[1:], "/")), nil
	}
	return filepath.Abs(p)
}

func osInfo(fi fs.FileInfo, err error) (fs.FileInfo, error) {
	if err != nil {
		return nil, err
	}
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		return WithOwner(fi, int(st.Uid), int(st.Gid)), nil
	}
	return fi, nil
}

func (OS) Stat(p string) (fs.FileInfo, error)  { return osInfo(os.Stat(p)) }
func (OS) Lstat(p string) (fs.FileInfo, error) { return osInfo(os.Lstat(p)) }

func (OS) ReadDir(p string) ([]fs.FileInfo, error) {
	entries, err := os.ReadDir(p)
	if err != nil {
		return nil, err
	}
	out := make([]fs.FileInfo, 0, len(entries))
	for _, e := range entries {
		fi, err := osInfo(e.Info())
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, err
		}
		out = append(out, fi)
	}
	return out, nil
}

func (OS) ReadLink(p string) (string, error)      { return os.Readlink(p) }
func (OS) Symlink(target, link string) error      { return os.Symlink(target, link) }
func (OS) Glob(pattern string) ([]string, error)  { return filepath.Glob(pattern) }
func (OS) Mkdir(p string, perm fs.FileMode) error { return os.Mkdir(p, perm) }
func (OS) Open(p string) (File, error)            { return os.Open(p) }
func (OS) Rename(oldpath, newpath string) error   { return os.Rename(oldpath, newpath) }
func (OS) Remove(p string) error                  { return os.Remove(p) }
func (OS) Chmod(p string, mode fs.FileMode) error { return os.Chmod(p, mode) }
func (OS) CreateExclusive(p string) (File, error) {
	return os.OpenFile(p, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
}
