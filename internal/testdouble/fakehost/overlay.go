package fakehost

import (
	"errors"
	"io/fs"
	"path"
	"slices"

	"github.com/gofab/gofab/internal/base/host"
)

// Overlay is this machine's file system as gofab test shows it to a
// recipe: what the fake local host's memory holds wins, anything else is
// read from disk, and every write goes to memory, so a test never
// changes this machine.
type Overlay struct {
	mem  *View
	disk host.FS
}

// NewOverlay returns an overlay of mem (written as root) over disk.
func NewOverlay(mem *FS, disk host.FS) *Overlay {
	return &Overlay{mem: mem.As("root"), disk: disk}
}

var _ host.FS = (*Overlay)(nil)

// missing reports whether err says a path is not in memory.
func missing(err error) bool { return errors.Is(err, fs.ErrNotExist) }

// Abs resolves against this machine (paths here are absolute already).
func (o *Overlay) Abs(p string) (string, error) { return o.disk.Abs(p) }

// Stat looks in memory, then on disk.
func (o *Overlay) Stat(p string) (fs.FileInfo, error) {
	if fi, err := o.mem.Stat(p); !missing(err) {
		return fi, err
	}
	return o.disk.Stat(p)
}

// Lstat looks in memory, then on disk.
func (o *Overlay) Lstat(p string) (fs.FileInfo, error) {
	if fi, err := o.mem.Lstat(p); !missing(err) {
		return fi, err
	}
	return o.disk.Lstat(p)
}

// ReadDir merges both listings; memory wins on a name.
func (o *Overlay) ReadDir(p string) ([]fs.FileInfo, error) {
	mem, merr := o.mem.ReadDir(p)
	disk, derr := o.disk.ReadDir(p)
	if merr != nil && derr != nil {
		return nil, derr
	}
	seen := map[string]bool{}
	for _, fi := range mem {
		seen[fi.Name()] = true
	}
	for _, fi := range disk {
		if !seen[fi.Name()] {
			mem = append(mem, fi)
		}
	}
	slices.SortFunc(mem, func(a, b fs.FileInfo) int {
		switch {
		case a.Name() < b.Name():
			return -1
		case a.Name() > b.Name():
			return 1
		}
		return 0
	})
	return mem, nil
}

// ReadLink looks in memory, then on disk.
func (o *Overlay) ReadLink(p string) (string, error) {
	if t, err := o.mem.ReadLink(p); !missing(err) {
		return t, err
	}
	return o.disk.ReadLink(p)
}

// Glob merges both file systems' matches.
func (o *Overlay) Glob(pattern string) ([]string, error) {
	mem, err := o.mem.Glob(pattern)
	if err != nil {
		return nil, err
	}
	disk, _ := o.disk.Glob(pattern)
	all := append(mem, disk...)
	slices.Sort(all)
	return slices.Compact(all), nil
}

// Open reads from memory, then from disk.
func (o *Overlay) Open(p string) (host.File, error) {
	if f, err := o.mem.Open(p); !missing(err) {
		return f, err
	}
	return o.disk.Open(p)
}

// parents makes p's directory in memory.
func (o *Overlay) parents(p string) error { return o.mem.MkdirAll(path.Dir(p), 0o755) }

// Symlink makes a link in memory.
func (o *Overlay) Symlink(target, link string) error {
	if err := o.parents(link); err != nil {
		return err
	}
	return o.mem.Symlink(target, link)
}

// Mkdir makes a directory in memory; one that exists on disk exists.
func (o *Overlay) Mkdir(p string, perm fs.FileMode) error {
	if fi, err := o.disk.Stat(p); err == nil && fi.IsDir() {
		if _, err := o.mem.Stat(p); missing(err) {
			return o.mem.MkdirAll(p, perm)
		}
		return &fs.PathError{Op: "mkdir", Path: p, Err: fs.ErrExist}
	}
	if err := o.parents(p); err != nil {
		return err
	}
	return o.mem.Mkdir(p, perm)
}

// CreateExclusive creates a file in memory.
func (o *Overlay) CreateExclusive(p string) (host.File, error) {
	if _, err := o.disk.Lstat(p); err == nil {
		if _, err := o.mem.Lstat(p); missing(err) {
			return nil, &fs.PathError{Op: "create", Path: p, Err: fs.ErrExist}
		}
	}
	if err := o.parents(p); err != nil {
		return nil, err
	}
	return o.mem.CreateExclusive(p)
}

// onDiskOnly is the error of changing a path that only the disk holds:
// the overlay never changes the disk.
func (o *Overlay) onDiskOnly(op, p string) error {
	if _, err := o.mem.Lstat(p); !missing(err) {
		return nil
	}
	if _, err := o.disk.Lstat(p); err != nil {
		return nil
	}
	return &fs.PathError{Op: op, Path: p, Err: errors.New("on this machine's disk, which gofab test never changes")}
}

// Rename renames in memory (what a write staged there).
func (o *Overlay) Rename(oldpath, newpath string) error {
	if err := o.onDiskOnly("rename", oldpath); err != nil {
		return err
	}
	if err := o.parents(newpath); err != nil {
		return err
	}
	return o.mem.Rename(oldpath, newpath)
}

// Remove removes from memory; the disk is never touched.
func (o *Overlay) Remove(p string) error {
	if err := o.onDiskOnly("remove", p); err != nil {
		return err
	}
	return o.mem.Remove(p)
}

// Chmod changes a file in memory.
func (o *Overlay) Chmod(p string, mode fs.FileMode) error {
	if err := o.onDiskOnly("chmod", p); err != nil {
		return err
	}
	return o.mem.Chmod(p, mode)
}
