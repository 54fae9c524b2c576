package host

import (
	"context"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
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

// SpaceReporter is an FS that can tell the free space of a file system;
// SFTP's status codes cannot say "no space left on device".
type SpaceReporter interface {
	FreeSpace(p string) (uint64, error)
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

// OS is this machine's file system as an FS.
type OS struct{}

// Abs resolves ~ to $HOME and relative paths against the working
// directory.
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

// Stat is os.Stat.
func (OS) Stat(p string) (fs.FileInfo, error) { return os.Stat(p) }

// Lstat is os.Lstat.
func (OS) Lstat(p string) (fs.FileInfo, error) { return os.Lstat(p) }

// ReadDir lists a directory like os.ReadDir, with each entry's Lstat.
func (OS) ReadDir(p string) ([]fs.FileInfo, error) {
	entries, err := os.ReadDir(p)
	if err != nil {
		return nil, err
	}
	out := make([]fs.FileInfo, 0, len(entries))
	for _, e := range entries {
		fi, err := e.Info()
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

// ReadLink is os.Readlink.
func (OS) ReadLink(p string) (string, error) { return os.Readlink(p) }

// Symlink is os.Symlink.
func (OS) Symlink(target, link string) error { return os.Symlink(target, link) }

// Glob is filepath.Glob.
func (OS) Glob(pattern string) ([]string, error) { return filepath.Glob(pattern) }

// Mkdir is os.Mkdir.
func (OS) Mkdir(p string, perm fs.FileMode) error { return os.Mkdir(p, perm) }

// Open is os.Open.
func (OS) Open(p string) (File, error) { return os.Open(p) }

// Rename is os.Rename.
func (OS) Rename(oldpath, newpath string) error { return os.Rename(oldpath, newpath) }

// Remove is os.Remove.
func (OS) Remove(p string) error { return os.Remove(p) }

// Chmod is os.Chmod.
func (OS) Chmod(p string, mode fs.FileMode) error { return os.Chmod(p, mode) }

// CreateExclusive creates p with mode 0600, failing when it exists.
func (OS) CreateExclusive(p string) (File, error) {
	return os.OpenFile(p, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
}

// FileKind names the kind of a file that is not a regular file.
func FileKind(m fs.FileMode) string {
	switch {
	case m&fs.ModeCharDevice != 0:
		return "character device"
	case m&fs.ModeDevice != 0:
		return "block device"
	case m&fs.ModeNamedPipe != 0:
		return "fifo"
	case m&fs.ModeSocket != 0:
		return "socket"
	case m.IsDir():
		return "directory"
	}
	return "special file"
}
