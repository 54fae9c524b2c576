package transfer

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"path/filepath"
	"sort"
	"strings"

	"golang.org/x/sync/errgroup"

	"github.com/gofab/gofab/internal/base/host"
)

// kind is what an entry of a transfer plan is.
type kind int

const (
	file kind = iota
	dir
	link
)

// item is one entry of a transfer plan.
type item struct {
	kind kind
	src  string      // source path
	dst  string      // destination path
	rel  string      // path below the tree's root ("" for the root)
	mode fs.FileMode // source permission bits
	size int64
	link string // symlink target
	data []byte // content to write instead of reading src
}

// maxDepth bounds directory recursion, which also stops symlink loops when
// links are followed.
const maxDepth = 64

// walk lists the tree at src on fsys (the root itself first), mapping each
// entry below dst. Symlinks stay links unless follow is set. skip, when
// non-nil, leaves out entries by their relative path.
func walk(fsys host.FS, src, dst string, follow bool, skip func(rel string, isDir bool) bool) ([]item, error) {
	var out []item
	// fi is the entry's Lstat, from its directory's listing (nil for the
	// root), so a tree costs one round trip per directory, not per file.
	var visit func(src, dst, rel string, depth int, fi fs.FileInfo) error
	visit = func(src, dst, rel string, depth int, fi fs.FileInfo) error {
		if depth > maxDepth {
			return fmt.Errorf("%s: more than %d directory levels (a symlink loop?)", src, maxDepth)
		}
		var err error
		if fi == nil {
			if fi, err = fsys.Lstat(src); err != nil {
				return err
			}
		}
		if fi.Mode()&fs.ModeSymlink != 0 {
			if !follow {
				target, err := fsys.ReadLink(src)
				if err != nil {
					return err
				}
				out = append(out, item{kind: link, src: src, dst: dst, rel: rel, link: target})
				return nil
			}
			if fi, err = fsys.Stat(src); err != nil {
				return fmt.Errorf("%s: dangling symlink: %w", src, err)
			}
		}
		if skip != nil && rel != "" && skip(rel, fi.IsDir()) {
			return nil
		}
		switch {
		case fi.IsDir():
			out = append(out, item{kind: dir, src: src, dst: dst, rel: rel, mode: fi.Mode().Perm()})
			entries, err := fsys.ReadDir(src)
			if err != nil {
				return err
			}
			sort.Slice(entries, func(i, j int) bool { return entries[i].Name() < entries[j].Name() })
			for _, e := range entries {
				name := e.Name()
				if err := visit(path.Join(src, name), path.Join(dst, name), path.Join(rel, name), depth+1, e); err != nil {
					return err
				}
			}
		case fi.Mode().IsRegular():
			out = append(out, item{kind: file, src: src, dst: dst, rel: rel, mode: fi.Mode().Perm(), size: fi.Size()})
		default:
			return fmt.Errorf("%s: not a regular file, directory or symlink", src)
		}
		return nil
	}
	return out, visit(src, dst, "", 0, nil)
}

// PutOptions are put()'s options.
type PutOptions struct {
	// Mode, when non-zero, is given to every file written.
	Mode fs.FileMode
	// MirrorLocalMode gives files their local permission bits.
	MirrorLocalMode bool
	// Owner and Group, when set, are applied with chown.
	Owner, Group string
	// UseSudo writes through sudo, where the login user cannot.
	UseSudo bool
	// TempDir is where sudo uploads stage their files (default /tmp).
	TempDir string
	// FollowLinks copies what symlinks point to instead of the links.
	FollowLinks bool
	// Check returns the paths that would be written and writes nothing.
	Check bool
}

// expandLocal expands a local path or glob into the paths it names.
func expandLocal(fsys host.FS, pattern string) ([]string, error) {
	if hasMeta(pattern) {
		m, err := fsys.Glob(pattern)
		if err != nil {
			return nil, fmt.Errorf("bad pattern %q: %w", pattern, err)
		}
		if len(m) == 0 {
			return nil, fmt.Errorf("no local file matches %s", pattern)
		}
		return m, nil
	}
	if _, err := fsys.Lstat(pattern); err != nil {
		return nil, fmt.Errorf("local file %s: %w", pattern, unwrapPath(err))
	}
	return []string{pattern}, nil
}

// unwrapPath drops the path from an *fs.PathError the caller names itself.
func unwrapPath(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// intoDir reports whether sources go inside dst (as dst/<name>) rather than
// become dst: dst is written with a trailing slash or is an existing
// directory, or the sources came from a glob.
func intoDir(fsys host.FS, dst string, written string, glob bool) bool {
	return strings.HasSuffix(written, "/") || glob || isDir(fsys, dst)
}

// Put copies local files, globs and directory trees to remote and returns
// the remote paths of the files and links it wrote.
func (h *Host) Put(ctx context.Context, local, remotePath string, o PutOptions) ([]string, error) {
	sources, err := expandLocal(h.local(), local)
	if err != nil {
		return nil, err
	}
	dst, err := h.FS.Abs(remotePath)
	if err != nil {
		return nil, err
	}
	into := intoDir(h.FS, dst, remotePath, hasMeta(local))
	var plan []item
	for _, src := range sources {
		target := dst
		if into {
			target = path.Join(dst, filepath.Base(src))
		}
		items, err := walk(h.local(), src, target, o.FollowLinks, nil)
		if err != nil {
			return nil, fmt.Errorf("read %s: %w", src, err)
		}
		plan = append(plan, items...)
	}
	if o.Check {
		var would []string
		for _, it := range plan {
			if it.kind != dir {
				would = append(would, it.dst)
			}
		}
		return would, nil
	}
	if into {
		if err := h.mkdirs(ctx, dst, o.UseSudo); err != nil {
			return nil, err
		}
	}
	if o.UseSudo {
		return h.putSudo(ctx, plan, o, nil, nil)
	}
	return h.putDirect(ctx, plan, o)
}

// mkdirs creates directory p and its parents, with sudo when asked.
func (h *Host) mkdirs(ctx context.Context, p string, sudo bool) error {
	if isDir(h.FS, p) {
		return nil // no sudo round trip for a directory that is there
	}
	if sudo {
		_, err := h.Exec(ctx, "mkdir -p -- "+host.Quote(p), true, nil)
		return err
	}
	return mkdirAll(h.FS, p, 0o755)
}

// fileMode is the mode a written file gets: the mode option, the local
// mode when mirrored, the mode of the file it replaces, or the local mode
// without group and other write bits.
func fileMode(it item, o PutOptions, existing fs.FileInfo) fs.FileMode {
	switch {
	case o.Mode != 0:
		return o.Mode
	case o.MirrorLocalMode:
		return it.mode
	case existing != nil && existing.Mode().IsRegular():
		return existing.Mode().Perm()
	}
	return it.mode &^ 0o022
}

// dirMode is the mode a created directory gets: its local mode when
// mirrored, else 0755.
func dirMode(it item, o PutOptions) fs.FileMode {
	if o.MirrorLocalMode {
		return it.mode
	}
	return 0o755
}

func (h *Host) putDirect(ctx context.Context, plan []item, o PutOptions) ([]string, error) {
	var written []string
	var files []item
	for _, it := range plan {
		switch it.kind {
		case dir:
			if err := mkdirAll(h.FS, it.dst, dirMode(it, o)); err != nil {
				return written, err
			}
		case link:
			if err := replaceLink(h.FS, it.link, it.dst); err != nil {
				return written, err
			}
			written = append(written, it.dst)
		case file:
			files = append(files, it)
		}
	}
	if err := h.uploadAll(ctx, files, func(it item, existing fs.FileInfo) fs.FileMode { return fileMode(it, o, existing) }); err != nil {
		return written, err
	}
	for _, it := range files {
		written = append(written, it.dst)
	}
	if o.Owner != "" || o.Group != "" {
		if err := h.chown(ctx, written, o.Owner, o.Group, false); err != nil {
			return written, err
		}
	}
	return written, nil
}

// uploadAll uploads files concurrently, each atomically. modeFor, when
// non-nil, picks each file's mode knowing the file it replaces (nil when
// new); without it each file gets its item's mode and nothing is looked up.
func (h *Host) uploadAll(ctx context.Context, files []item, modeFor func(item, fs.FileInfo) fs.FileMode) error {
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(workers)
	for _, it := range files {
		if gctx.Err() != nil {
			break
		}
		g.Go(func() error {
			mode := it.mode
			if modeFor != nil {
				existing, _ := h.FS.Stat(it.dst)
				if existing != nil && existing.IsDir() {
					return fmt.Errorf("cannot replace directory %s with a file", it.dst)
				}
				mode = modeFor(it, existing)
			}
			if it.data != nil {
				return h.writeBytes(gctx, it.dst, it.data, mode)
			}
			return h.upload(gctx, it.src, it.dst, mode)
		})
	}
	if err := g.Wait(); err != nil {
		return err
	}
	return context.Cause(ctx)
}

// upload copies one local file to dst on the host atomically.
func (h *Host) upload(ctx context.Context, src, dst string, mode fs.FileMode) error {
	fi, err := h.local().Stat(src)
	if err != nil {
		return err
	}
	in, err := h.local().Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	return atomicWrite(ctx, h.FS, dst, mode, func(f host.File) error {
		if _, err := f.ReadFrom(ctxReader{ctx, in, fi.Size()}); err != nil {
			return fmt.Errorf("upload %s: %w", dst, err)
		}
		return nil
	}, h.removeRemote)
}

// writeBytes writes data to dst on the host atomically.
func (h *Host) writeBytes(ctx context.Context, dst string, data []byte, mode fs.FileMode) error {
	return atomicWrite(ctx, h.FS, dst, mode, func(f host.File) error {
		if _, err := f.ReadFrom(ctxReader{ctx, bytes.NewReader(data), int64(len(data))}); err != nil {
			return fmt.Errorf("write %s: %w", dst, err)
		}
		return nil
	}, h.removeRemote)
}

func (h *Host) chown(ctx context.Context, paths []string, owner, group string, sudo bool) error {
	if len(paths) == 0 {
		return nil
	}
	spec := owner
	if group != "" {
		spec += ":" + group
	}
	cmd := "chown -h -- " + host.Quote(spec) + " " + host.QuoteArgv(paths)
	if _, err := h.Exec(ctx, cmd, sudo, nil); err != nil {
		return fmt.Errorf("chown %s: %w", spec, err)
	}
	return nil
}
