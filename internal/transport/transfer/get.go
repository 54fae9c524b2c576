package transfer

import (
	"archive/tar"
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path"
	"regexp"
	"strconv"
	"strings"
	"sync"

	"golang.org/x/sync/errgroup"

	"github.com/gofab/gofab/internal/base/host"
)

// GetOptions are get()'s options and what its local path template needs.
type GetOptions struct {
	// UseSudo reads the files with sudo (streamed by tar).
	UseSudo bool
	// Host, Port and User fill {host}, {port} and {user}.
	Host, User string
	Port       int
	// MultiHost, when the local path has no placeholder, puts each host's
	// files under <local>/<host>/ so hosts never overwrite each other.
	MultiHost bool
}

var placeholder = regexp.MustCompile(`\{(host|port|user|path|basename|dirname)\}`)

// fabricPlaceholders turns Fabric's %(host)s forms into gofab's {host}.
var fabricPlaceholders = strings.NewReplacer("%(host)s", "{host}", "%(port)s", "{port}", "%(user)s", "{user}",
	"%(path)s", "{path}", "%(basename)s", "{basename}", "%(dirname)s", "{dirname}")

// HasPlaceholder reports whether a local path template names a
// placeholder such as {host} (or Fabric's %(host)s).
func HasPlaceholder(p string) bool { return placeholder.MatchString(fabricPlaceholders.Replace(p)) }

// localTarget maps remote paths to local ones for one get() call. Every
// local write stays under root, the part of the destination the person
// wrote before any name taken from the host (its name or its files), and
// no write goes through a symlink below root.
type localTarget struct {
	fs   host.FS
	tmpl string
	o    GetOptions
	into bool
	root string
}

func newLocalTarget(fsys host.FS, tmpl string, o GetOptions, into bool) localTarget {
	o.Host, o.User = safeComponent(o.Host), safeComponent(o.User)
	t := localTarget{fs: fsys, tmpl: tmpl, o: o, into: into}
	switch {
	case HasPlaceholder(tmpl):
		i := placeholder.FindStringIndex(tmpl)[0]
		t.root = path.Dir(tmpl[:i] + "x")
	case into || o.MultiHost:
		t.root = path.Clean(tmpl)
	default:
		t.root = path.Dir(path.Clean(tmpl))
	}
	return t
}

// safeComponent makes a host or user name a single safe path component:
// no separators, never "." or "..".
func safeComponent(s string) string {
	s = strings.Map(func(r rune) rune {
		if r == '/' || r == '\\' || r == 0 {
			return '_'
		}
		return r
	}, s)
	if s == "." || s == ".." {
		s = "_" + s
	}
	return s
}

// mkdir makes directory d and its parents for a local write, refusing a
// d outside root and replacing a symlink below root (a link an earlier
// get copied, where the host now has a directory) with a directory.
func (t localTarget) mkdir(d string) error {
	d = path.Clean(d)
	if !within(t.root, d) {
		return fmt.Errorf("refusing to write %s: outside %s", d, t.root)
	}
	if d == t.root {
		return mkdirAll(t.fs, d, 0o755)
	}
	if err := t.mkdir(path.Dir(d)); err != nil {
		return err
	}
	fi, err := t.fs.Lstat(d)
	switch {
	case err == nil && fi.IsDir():
		return nil
	case err == nil && fi.Mode()&fs.ModeSymlink != 0:
		if err := t.fs.Remove(d); err != nil {
			return fmt.Errorf("replace symlink %s with a directory: %w", d, err)
		}
	case err == nil:
		return fmt.Errorf("%s exists and is not a directory", d)
	}
	if err := t.fs.Mkdir(d, 0o755); err != nil && !isDir(t.fs, d) {
		return fmt.Errorf("mkdir %s: %w", d, err)
	}
	return nil
}

// within reports whether p is root or below it.
func within(root, p string) bool {
	return p == root || root == "/" || strings.HasPrefix(p, root+"/") || root == "." && !strings.HasPrefix(p, "../") && p != ".." && !path.IsAbs(p)
}

// dest returns where the remote file rp, found under the matched path
// match, goes locally.
func (t localTarget) dest(match, rp string) string {
	if HasPlaceholder(t.tmpl) {
		rel := strings.TrimPrefix(rp, "/")
		vals := map[string]string{
			"host": t.o.Host, "port": strconv.Itoa(t.o.Port), "user": t.o.User,
			"path": rel, "basename": path.Base(rp), "dirname": strings.TrimPrefix(path.Dir(rp), "/"),
		}
		d := placeholder.ReplaceAllStringFunc(t.tmpl, func(m string) string { return vals[m[1:len(m)-1]] })
		// A template naming the file ({path}, {basename}) is the file's
		// path, even where an earlier get made a directory of that name.
		names := strings.Contains(t.tmpl, "{path}") || strings.Contains(t.tmpl, "{basename}")
		if !names && (strings.HasSuffix(d, "/") || isDir(t.fs, d)) {
			d = path.Join(d, path.Base(rp))
		}
		return path.Clean(d)
	}
	base := t.tmpl
	if t.o.MultiHost {
		base = path.Join(base, t.o.Host)
	}
	target := base
	if t.into {
		target = path.Join(base, path.Base(match))
	}
	rel := strings.TrimPrefix(strings.TrimPrefix(rp, match), "/")
	return path.Join(target, rel)
}

// Get copies remote files, globs and directory trees to local (a path that
// may hold placeholders) and returns the local paths of the files and links
// it wrote.
func (h *Host) Get(ctx context.Context, remotePattern, local string, o GetOptions) ([]string, error) {
	rp, err := h.FS.Abs(remotePattern)
	if err != nil {
		return nil, err
	}
	matches := []string{rp}
	if hasMeta(rp) {
		if matches, err = h.glob(ctx, rp, o.UseSudo); err != nil {
			return nil, err
		}
		if len(matches) == 0 {
			return nil, fmt.Errorf("no remote file matches %s", remotePattern)
		}
	}
	local = fabricPlaceholders.Replace(local)
	t := newLocalTarget(h.local(), local, o, o.MultiHost || intoDir(h.local(), local, local, hasMeta(rp)))
	var written []string
	for _, m := range matches {
		var w []string
		if o.UseSudo {
			w, err = h.getSudo(ctx, m, t)
		} else {
			w, err = h.getDirect(ctx, m, t)
		}
		written = append(written, w...)
		if err != nil {
			return written, err
		}
	}
	return written, nil
}

func (h *Host) glob(ctx context.Context, pattern string, sudo bool) ([]string, error) {
	if !sudo {
		m, err := h.FS.Glob(pattern)
		if err != nil {
			return nil, fmt.Errorf("glob %s: %w", pattern, err)
		}
		return m, nil
	}
	out, err := h.Exec(ctx, `for f in `+quoteGlob(pattern)+`; do if [ -e "$f" ] || [ -L "$f" ]; then printf '%s\0' "$f"; fi; done`, true, nil)
	if err != nil {
		return nil, fmt.Errorf("glob %s: %w", pattern, err)
	}
	return strings.FieldsFunc(out, func(r rune) bool { return r == 0 }), nil
}

func (h *Host) getDirect(ctx context.Context, match string, t localTarget) ([]string, error) {
	items, err := walk(h.FS, match, "", false, nil)
	if err != nil {
		return nil, fmt.Errorf("remote %s: %w", match, err)
	}
	var written []string
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(workers)
	for _, it := range items {
		dst := t.dest(match, it.src)
		switch it.kind {
		case dir:
			if err := t.mkdir(dst); err != nil {
				return written, err
			}
			continue
		case link:
			if err := t.mkdir(path.Dir(dst)); err != nil {
				return written, err
			}
			if err := replaceLink(h.local(), it.link, dst); err != nil {
				return written, err
			}
		case file:
			if err := t.mkdir(path.Dir(dst)); err != nil {
				return written, err
			}
			g.Go(func() error { return h.download(gctx, it.src, dst, it.mode) })
		}
		written = append(written, dst)
	}
	if err := g.Wait(); err != nil {
		return written, err
	}
	return written, context.Cause(ctx)
}

// download copies one remote file to dst atomically.
func (h *Host) download(ctx context.Context, src, dst string, mode fs.FileMode) error {
	in, err := h.FS.Open(src)
	if err != nil {
		return fmt.Errorf("remote %s: %w", src, err)
	}
	defer in.Close()
	return atomicWrite(ctx, h.local(), dst, mode, func(f host.File) error {
		w := localWriters.Get().(*bufio.Writer)
		defer localWriters.Put(w)
		w.Reset(ctxWriter{ctx, f})
		_, err := in.WriteTo(w)
		if err == nil {
			err = w.Flush()
		}
		w.Reset(nil)
		if err != nil {
			return fmt.Errorf("download %s: %w", src, err)
		}
		return nil
	}, h.removeLocal)
}

// localWriters gather a download's 32 KiB SFTP reads into 256 KiB writes
// to the local file: a 256 MiB get makes 1024 write calls, not 8192.
var localWriters = sync.Pool{New: func() any { return bufio.NewWriterSize(nil, 256<<10) }}

// getSudo streams match with "sudo tar" and unpacks it locally, each file
// atomically.
func (h *Host) getSudo(ctx context.Context, match string, t localTarget) ([]string, error) {
	parent, base := path.Split(match)
	if parent == "" {
		parent = "/"
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		_, err := h.Exec(ctx, "tar -C "+host.Quote(parent)+" -cf - -- "+host.Quote(base), true, pw)
		pw.CloseWithError(err)
		done <- err
	}()
	written, err := unpack(ctx, pr, match, base, t)
	if err != nil {
		cancel()
	} else {
		io.Copy(io.Discard, pr) // tar's end-of-archive padding
	}
	pr.CloseWithError(errors.New("unpack stopped"))
	if xerr := <-done; err == nil && xerr != nil {
		err = fmt.Errorf("sudo tar %s: %w", match, xerr)
	}
	return written, err
}

func unpack(ctx context.Context, r io.Reader, match, base string, t localTarget) ([]string, error) {
	var written []string
	tr := tar.NewReader(r)
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			return written, nil
		}
		if err != nil {
			return written, err
		}
		name := path.Clean(hdr.Name)
		if name != base && !strings.HasPrefix(name, base+"/") {
			return written, fmt.Errorf("tar stream names %q outside %s", hdr.Name, match)
		}
		dst := t.dest(match, path.Join(path.Dir(match), name))
		switch hdr.Typeflag {
		case tar.TypeDir:
			err = t.mkdir(dst)
		case tar.TypeSymlink:
			if err = t.mkdir(path.Dir(dst)); err == nil {
				err = replaceLink(t.fs, hdr.Linkname, dst)
			}
			written = append(written, dst)
		case tar.TypeReg:
			if err = t.mkdir(path.Dir(dst)); err == nil {
				err = atomicWrite(ctx, t.fs, dst, fs.FileMode(hdr.Mode).Perm(), func(f host.File) error {
					_, err := io.Copy(f, ctxReader{ctx, tr, hdr.Size})
					return err
				}, func(p string) { t.fs.Remove(p) })
			}
			written = append(written, dst)
		}
		if err != nil {
			return written, err
		}
	}
}

// replaceLink makes dst a symlink to target, replacing what is there
// atomically.
func replaceLink(fsys host.FS, target, dst string) error {
	dir, base := path.Split(dst)
	tmp := path.Join(dir, tempName(base))
	if err := fsys.Symlink(target, tmp); err != nil {
		return fmt.Errorf("symlink %s: %w", dst, err)
	}
	if err := fsys.Rename(tmp, dst); err != nil {
		fsys.Remove(tmp)
		return fmt.Errorf("symlink %s: %w", dst, err)
	}
	return nil
}
