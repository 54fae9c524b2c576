package fakehost

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/gofab/gofab/internal/base/host"
)

// node is one file, directory or symlink of an FS.
type node struct {
	mode         fs.FileMode // type bits and permissions
	data         []byte
	target       string // a symlink's target
	owner, group string
	mtime        time.Time
}

// FS is an in-memory file system with modes, owners and symlinks. Views
// of it (As) act as one user: root may do anything, others may only
// change directories they own and can write, or that everyone can write.
type FS struct {
	mu    sync.Mutex
	nodes map[string]*node
}

// NewFS returns a file system holding /, /etc, /tmp (mode 1777), /root,
// /run/systemd/system (so the host looks run by systemd) and the home
// directory of user, each owned as on a Debian host.
func NewFS(user string) *FS {
	f := &FS{nodes: map[string]*node{}}
	now := time.Now()
	dir := func(p string, mode fs.FileMode, owner string) {
		f.nodes[p] = &node{mode: fs.ModeDir | mode, owner: owner, group: owner, mtime: now}
	}
	dir("/", 0o755, "root")
	for _, p := range []string{"/etc", "/etc/cron.d", "/etc/default", "/home", "/root", "/usr", "/usr/bin", "/usr/lib", "/usr/local",
		"/usr/local/bin", "/usr/share", "/var", "/var/lib", "/var/log", "/var/spool", "/var/www", "/srv", "/opt", "/run",
		"/run/systemd", "/run/systemd/system"} {
		dir(p, 0o755, "root")
	}
	dir("/tmp", fs.ModeSticky|0o777, "root")
	if user != "root" {
		dir("/home/"+user, 0o755, user)
	}
	return f
}

// Home returns the home directory of user.
func Home(user string) string {
	if user == "root" {
		return "/root"
	}
	return "/home/" + user
}

// As returns a view of the file system acting as user, with paths
// relative to the user's home directory.
func (f *FS) As(user string) *View { return &View{fs: f, user: user, cwd: Home(user)} }

// View is an FS seen by one user; it implements host.FS.
type View struct {
	fs   *FS
	user string
	cwd  string
}

var _ host.FS = (*View)(nil)

func (v *View) abs(p string) string {
	if p == "~" || strings.HasPrefix(p, "~/") {
		p = Home(v.user) + p[1:]
	}
	if !path.IsAbs(p) {
		p = path.Join(v.cwd, p)
	}
	return path.Clean(p)
}

func pathErr(op, p string, err error) error { return &fs.PathError{Op: op, Path: p, Err: err} }

// resolve follows symlinks in every element of p (and in the last one
// when follow is set) and returns the real path.
func (f *FS) resolve(p string, follow bool) (string, error) {
	for range 40 {
		dir, base := path.Split(p)
		dir = path.Clean(dir)
		if p == "/" {
			return p, nil
		}
		real, err := f.resolve(dir, true)
		if err != nil {
			return "", err
		}
		if d := f.nodes[real]; d == nil || !d.mode.IsDir() {
			if d == nil {
				return "", fs.ErrNotExist
			}
			return "", errors.New("not a directory")
		}
		p = path.Join(real, base)
		n := f.nodes[p]
		if n == nil || !follow || n.mode&fs.ModeSymlink == 0 {
			return p, nil
		}
		t := n.target
		if !path.IsAbs(t) {
			t = path.Join(real, t)
		}
		p = path.Clean(t)
	}
	return "", errors.New("too many levels of symbolic links")
}

// lookup returns the node at p.
func (f *FS) lookup(op, p string, follow bool) (string, *node, error) {
	real, err := f.resolve(p, follow)
	if err != nil {
		return "", nil, pathErr(op, p, err)
	}
	n := f.nodes[real]
	if n == nil {
		return "", nil, pathErr(op, p, fs.ErrNotExist)
	}
	return real, n, nil
}

// writable reports whether user may add or remove entries of dir.
func writable(dir *node, user string) bool {
	return user == "root" || dir.mode&0o002 != 0 || (dir.owner == user && dir.mode&0o200 != 0)
}

// parent returns the real path of p's directory and checks that user may
// change its entries.
func (f *FS) parent(op, p, user string) (string, error) {
	dir, base := path.Split(p)
	real, err := f.resolve(path.Clean(dir), true)
	if err != nil {
		return "", pathErr(op, p, err)
	}
	d := f.nodes[real]
	if d == nil {
		return "", pathErr(op, p, fs.ErrNotExist)
	}
	if !d.mode.IsDir() {
		return "", pathErr(op, p, errors.New("not a directory"))
	}
	if !writable(d, user) {
		return "", pathErr(op, p, fs.ErrPermission)
	}
	return path.Join(real, base), nil
}

// Abs resolves ~ and relative paths.
func (v *View) Abs(p string) (string, error) { return v.abs(p), nil }

// Stat describes the file p, following symlinks.
func (v *View) Stat(p string) (fs.FileInfo, error) { return v.stat(p, true) }

// Lstat describes p without following a final symlink.
func (v *View) Lstat(p string) (fs.FileInfo, error) { return v.stat(p, false) }

func (v *View) stat(p string, follow bool) (fs.FileInfo, error) {
	p = v.abs(p)
	v.fs.mu.Lock()
	defer v.fs.mu.Unlock()
	_, n, err := v.fs.lookup("stat", p, follow)
	if err != nil {
		return nil, err
	}
	return info(path.Base(p), n), nil
}

// ReadDir lists a directory, sorted by name.
func (v *View) ReadDir(p string) ([]fs.FileInfo, error) {
	p = v.abs(p)
	v.fs.mu.Lock()
	defer v.fs.mu.Unlock()
	real, n, err := v.fs.lookup("readdir", p, true)
	if err != nil {
		return nil, err
	}
	if !n.mode.IsDir() {
		return nil, pathErr("readdir", p, errors.New("not a directory"))
	}
	var out []fs.FileInfo
	for _, name := range v.fs.children(real) {
		out = append(out, info(name, v.fs.nodes[path.Join(real, name)]))
	}
	return out, nil
}

// children returns the sorted names directly under dir.
func (f *FS) children(dir string) []string {
	var names []string
	prefix := strings.TrimSuffix(dir, "/") + "/"
	for p := range f.nodes {
		if p != "/" && strings.HasPrefix(p, prefix) && !strings.Contains(p[len(prefix):], "/") {
			names = append(names, p[len(prefix):])
		}
	}
	slices.Sort(names)
	return names
}

// ReadLink returns a symlink's target.
func (v *View) ReadLink(p string) (string, error) {
	p = v.abs(p)
	v.fs.mu.Lock()
	defer v.fs.mu.Unlock()
	_, n, err := v.fs.lookup("readlink", p, false)
	if err != nil {
		return "", err
	}
	if n.mode&fs.ModeSymlink == 0 {
		return "", pathErr("readlink", p, errors.New("invalid argument"))
	}
	return n.target, nil
}

// Symlink creates link pointing at target.
func (v *View) Symlink(target, link string) error {
	return v.create("symlink", link, &node{mode: fs.ModeSymlink | 0o777, target: target})
}

// Mkdir creates one directory.
func (v *View) Mkdir(p string, perm fs.FileMode) error {
	return v.create("mkdir", p, &node{mode: fs.ModeDir | perm.Perm()})
}

// create adds n at p, owned by the view's user; p must not exist.
func (v *View) create(op, p string, n *node) error {
	p = v.abs(p)
	v.fs.mu.Lock()
	defer v.fs.mu.Unlock()
	real, err := v.fs.parent(op, p, v.user)
	if err != nil {
		return err
	}
	if v.fs.nodes[real] != nil {
		return pathErr(op, p, fs.ErrExist)
	}
	n.owner, n.group, n.mtime = v.user, v.user, time.Now()
	v.fs.nodes[real] = n
	return nil
}

// Glob returns the paths matching an absolute pattern, sorted.
func (v *View) Glob(pattern string) ([]string, error) {
	pattern = v.abs(pattern)
	if _, err := path.Match(pattern, ""); err != nil {
		return nil, err
	}
	v.fs.mu.Lock()
	defer v.fs.mu.Unlock()
	var out []string
	for p := range v.fs.nodes {
		if ok, _ := path.Match(pattern, p); ok {
			out = append(out, p)
		}
	}
	slices.Sort(out)
	return out, nil
}

// Open opens a file for reading.
func (v *View) Open(p string) (host.File, error) {
	p = v.abs(p)
	v.fs.mu.Lock()
	defer v.fs.mu.Unlock()
	_, n, err := v.fs.lookup("open", p, true)
	if err != nil {
		return nil, err
	}
	if n.mode.IsDir() {
		return nil, pathErr("open", p, errors.New("is a directory"))
	}
	if v.user != "root" && n.owner != v.user && n.mode&0o004 == 0 {
		return nil, pathErr("open", p, fs.ErrPermission)
	}
	return &file{r: bytes.NewReader(slices.Clone(n.data))}, nil
}

// CreateExclusive creates a new, empty file for writing.
func (v *View) CreateExclusive(p string) (host.File, error) {
	n := &node{mode: 0o644}
	if err := v.create("create", p, n); err != nil {
		return nil, err
	}
	return &file{w: n, fs: v.fs}, nil
}

// Rename moves oldpath (and what is under it) to newpath, replacing a
// file there.
func (v *View) Rename(oldpath, newpath string) error {
	oldpath, newpath = v.abs(oldpath), v.abs(newpath)
	v.fs.mu.Lock()
	defer v.fs.mu.Unlock()
	from, err := v.fs.parent("rename", oldpath, v.user)
	if err != nil {
		return err
	}
	to, err := v.fs.parent("rename", newpath, v.user)
	if err != nil {
		return err
	}
	n := v.fs.nodes[from]
	if n == nil {
		return pathErr("rename", oldpath, fs.ErrNotExist)
	}
	if old := v.fs.nodes[to]; old != nil && old.mode.IsDir() && len(v.fs.children(to)) > 0 {
		return pathErr("rename", newpath, errors.New("directory not empty"))
	}
	if from == to {
		return nil
	}
	if strings.HasPrefix(to, from+"/") {
		return pathErr("rename", newpath, errors.New("invalid argument"))
	}
	for p, m := range v.fs.nodes {
		if strings.HasPrefix(p, from+"/") {
			delete(v.fs.nodes, p)
			v.fs.nodes[to+p[len(from):]] = m
		}
	}
	delete(v.fs.nodes, from)
	v.fs.nodes[to] = n
	return nil
}

// Remove removes a file, a symlink or an empty directory.
func (v *View) Remove(p string) error {
	p = v.abs(p)
	v.fs.mu.Lock()
	defer v.fs.mu.Unlock()
	real, err := v.fs.parent("remove", p, v.user)
	if err != nil {
		return err
	}
	n := v.fs.nodes[real]
	if n == nil {
		return pathErr("remove", p, fs.ErrNotExist)
	}
	if n.mode.IsDir() && len(v.fs.children(real)) > 0 {
		return pathErr("remove", p, errors.New("directory not empty"))
	}
	delete(v.fs.nodes, real)
	return nil
}

// Chmod sets the permission bits (and setuid, setgid, sticky) of p.
func (v *View) Chmod(p string, mode fs.FileMode) error {
	return v.change("chmod", p, true, func(n *node) {
		n.mode = n.mode.Type() | mode&(fs.ModePerm|fs.ModeSetuid|fs.ModeSetgid|fs.ModeSticky)
	})
}

// Chown sets the owner and group of p (empty leaves one as it is); only
// root may.
func (v *View) Chown(p, owner, group string, follow bool) error {
	if v.user != "root" {
		return pathErr("chown", v.abs(p), fs.ErrPermission)
	}
	return v.change("chown", p, follow, func(n *node) {
		if owner != "" {
			n.owner = owner
		}
		if group != "" {
			n.group = group
		}
	})
}

// change applies fn to p's node when the view's user owns it (or is root).
func (v *View) change(op, p string, follow bool, fn func(*node)) error {
	p = v.abs(p)
	v.fs.mu.Lock()
	defer v.fs.mu.Unlock()
	_, n, err := v.fs.lookup(op, p, follow)
	if err != nil {
		return err
	}
	if v.user != "root" && n.owner != v.user {
		return pathErr(op, p, fs.ErrPermission)
	}
	fn(n)
	return nil
}

// WriteFile creates or replaces the file p with data and mode, creating
// missing parent directories (mode 0755) on the way.
func (v *View) WriteFile(p string, data []byte, mode fs.FileMode) error {
	p = v.abs(p)
	if err := v.MkdirAll(path.Dir(p), 0o755); err != nil {
		return err
	}
	v.fs.mu.Lock()
	defer v.fs.mu.Unlock()
	real, err := v.fs.resolve(p, true)
	if err != nil {
		return pathErr("write", p, err)
	}
	if n := v.fs.nodes[real]; n != nil {
		if n.mode.IsDir() {
			return pathErr("write", p, errors.New("is a directory"))
		}
		if v.user != "root" && n.owner != v.user {
			return pathErr("write", p, fs.ErrPermission)
		}
		n.data, n.mtime = slices.Clone(data), time.Now()
		return nil
	}
	if _, err := v.fs.parent("write", real, v.user); err != nil {
		return err
	}
	v.fs.nodes[real] = &node{mode: mode.Perm(), data: slices.Clone(data), owner: v.user, group: v.user, mtime: time.Now()}
	return nil
}

// CanWrite reports why the view's user may not write the file p, if so.
func (v *View) CanWrite(p string) error {
	p = v.abs(p)
	v.fs.mu.Lock()
	defer v.fs.mu.Unlock()
	if _, n, err := v.fs.lookup("open", p, true); err == nil {
		if v.user != "root" && n.owner != v.user && n.mode&0o002 == 0 {
			return pathErr("open", p, fs.ErrPermission)
		}
		return nil
	}
	_, err := v.fs.parent("open", p, v.user)
	return err
}

// ReadFile returns the content of the file p.
func (v *View) ReadFile(p string) ([]byte, error) {
	f, err := v.Open(p)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return io.ReadAll(f)
}

// MkdirAll creates p and its missing parents.
func (v *View) MkdirAll(p string, perm fs.FileMode) error {
	p = v.abs(p)
	if fi, err := v.Stat(p); err == nil {
		if !fi.IsDir() {
			return pathErr("mkdir", p, errors.New("not a directory"))
		}
		return nil
	}
	if parent := path.Dir(p); parent != p {
		if err := v.MkdirAll(parent, perm); err != nil {
			return err
		}
	}
	if err := v.Mkdir(p, perm); err != nil && !errors.Is(err, fs.ErrExist) {
		return err
	}
	return nil
}

// Real returns p with every symlink resolved.
func (v *View) Real(p string) (string, error) {
	p = v.abs(p)
	v.fs.mu.Lock()
	defer v.fs.mu.Unlock()
	real, _, err := v.fs.lookup("realpath", p, true)
	return real, err
}

// Owner returns the owner and group of p (following symlinks).
func (v *View) Owner(p string) (owner, group string, err error) {
	p = v.abs(p)
	v.fs.mu.Lock()
	defer v.fs.mu.Unlock()
	_, n, err := v.fs.lookup("stat", p, true)
	if err != nil {
		return "", "", err
	}
	return n.owner, n.group, nil
}

// Paths returns every path of the file system, sorted.
func (f *FS) Paths() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []string
	for p := range f.nodes {
		out = append(out, p)
	}
	slices.Sort(out)
	return out
}

// fileInfo describes a node.
type fileInfo struct {
	name string
	size int64
	mode fs.FileMode
	time time.Time
}

func info(name string, n *node) fileInfo {
	size := int64(len(n.data))
	if n.mode&fs.ModeSymlink != 0 {
		size = int64(len(n.target))
	}
	return fileInfo{name: name, size: size, mode: n.mode, time: n.mtime}
}

func (i fileInfo) Name() string       { return i.name }
func (i fileInfo) Size() int64        { return i.size }
func (i fileInfo) Mode() fs.FileMode  { return i.mode }
func (i fileInfo) ModTime() time.Time { return i.time }
func (i fileInfo) IsDir() bool        { return i.mode.IsDir() }
func (i fileInfo) Sys() any           { return nil }

// file is an open file: a reader over a copy of the content, or a writer
// that appends to the node.
type file struct {
	r  *bytes.Reader
	w  *node
	fs *FS
}

func (f *file) Read(p []byte) (int, error) {
	if f.r == nil {
		return 0, errors.New("file not open for reading")
	}
	return f.r.Read(p)
}

func (f *file) Write(p []byte) (int, error) {
	if f.w == nil {
		return 0, errors.New("file not open for writing")
	}
	f.fs.mu.Lock()
	defer f.fs.mu.Unlock()
	f.w.data = append(f.w.data, p...)
	f.w.mtime = time.Now()
	return len(p), nil
}

func (f *file) ReadFrom(r io.Reader) (int64, error) { return io.Copy(struct{ io.Writer }{f}, r) }
func (f *file) WriteTo(w io.Writer) (int64, error)  { return io.Copy(w, struct{ io.Reader }{f}) }
func (f *file) Close() error                        { return nil }

// String describes a node for messages: "file 0644 root:root 12 bytes".
func (n *node) String() string {
	kind := "file"
	switch {
	case n.mode.IsDir():
		kind = "directory"
	case n.mode&fs.ModeSymlink != 0:
		kind = "symlink to " + n.target
	}
	return fmt.Sprintf("%s %04o %s:%s", kind, n.mode.Perm(), n.owner, n.group)
}
