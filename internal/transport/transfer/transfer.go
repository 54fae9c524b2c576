// Package transfer moves files between this machine and a host over the
// host's file system (SFTP): put, get and sync. Every file is written to a
// temporary name in its destination directory and renamed into place only
// when complete, so a failed or interrupted transfer leaves the old content
// (or nothing) behind. Places the login user cannot write are reached with
// sudo: files are uploaded to a private directory first and moved into place
// by one sudo script.
package transfer

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path"
	"strings"
	"syscall"
	"time"

	"github.com/gofab/gofab/internal/base/host"
)

// workers is how many files move at once on one host; each keeps up to 64
// SFTP requests in flight.
const workers = 8

// cleanupTimeout bounds removing temporary files after a failure.
const cleanupTimeout = 15 * time.Second

// Host is the far side of a transfer.
type Host struct {
	// FS is the host's file system.
	FS host.FS
	// Conn is the host's connection; when it is a host.Redialer, temporary
	// files left by a lost connection are removed over a new one.
	Conn host.Conn
	// Exec runs a shell command on the host, as root when sudo is set, and
	// returns its stdout; stdout is streamed to w instead when w is
	// non-nil. A non-zero exit is an *ExitError.
	Exec func(ctx context.Context, command string, sudo bool, w io.Writer) (string, error)
	// Local is this machine's side of transfers; nil means its disk.
	// gofab test gives an overlay that reads the disk and writes memory.
	Local host.FS
}

// local returns this machine's side of transfers.
func (h *Host) local() host.FS {
	if h.Local != nil {
		return h.Local
	}
	return host.OS{}
}

// tempName returns a hidden, unique name next to base.
func tempName(base string) string {
	var b [6]byte
	rand.Read(b[:])
	return "." + base + ".gofab-" + hex.EncodeToString(b[:]) + ".tmp"
}

// isTemp reports whether a file name is one of gofab's temporary names
// (another host's write in progress on a shared file system: sync and
// the like pass it by).
func isTemp(name string) bool {
	return strings.HasPrefix(name, ".") && strings.Contains(name, ".gofab-") &&
		(strings.HasSuffix(name, ".tmp") || strings.HasSuffix(name, ".tmp.d")) // a file, or a private file's staging directory
}

// atomicWrite creates a temporary file next to dst on fsys, lets fill write
// it, sets its mode and renames it over dst. On any failure the temporary
// file is removed through remove.
func atomicWrite(ctx context.Context, fsys host.FS, dst string, mode fs.FileMode, fill func(host.File) error, remove func(string)) error {
	if err := CheckReplaceable(fsys, dst); err != nil {
		return err
	}
	dir, base := path.Split(dst)
	tmp := path.Join(dir, tempName(base))
	if mode&0o044 != 0o044 {
		// A file others may not read must not be readable while it is
		// written either: SFTP creates files with the server's umask
		// (0644), and a reader that opened it then keeps reading after
		// the chmod. Its bytes go into a 0700 directory made first.
		stage := tmp + ".d"
		if err := fsys.Mkdir(stage, 0o700); err != nil {
			return fmt.Errorf("create %s: %w", dst, err)
		}
		defer fsys.Remove(stage)
		tmp = path.Join(stage, base)
	}
	f, err := fsys.CreateExclusive(tmp)
	if err != nil {
		return fmt.Errorf("create %s: %w", dst, err)
	}
	err = fill(f)
	if cerr := f.Close(); err == nil && cerr != nil {
		err = fmt.Errorf("write %s: %w", dst, cerr)
	}
	if err != nil && ctx.Err() == nil {
		err = explainFull(fsys, dir, err)
	}
	if err == nil && ctx.Err() != nil {
		err = context.Cause(ctx)
	}
	if err == nil {
		if cerr := fsys.Chmod(tmp, mode); cerr != nil {
			err = fmt.Errorf("chmod %s: %w", dst, cerr)
		}
	}
	if err == nil {
		if rerr := fsys.Rename(tmp, dst); rerr != nil {
			err = fmt.Errorf("rename into %s: %w", dst, rerr)
		}
	}
	if err != nil {
		remove(tmp)
		return err
	}
	return nil
}

// CheckReplaceable refuses a destination that a rename must not replace:
// a device (/dev/null), a fifo or a socket, directly or through a link.
func CheckReplaceable(fsys host.FS, dst string) error {
	fi, err := fsys.Stat(dst)
	if err != nil || fi.Mode().IsRegular() || fi.IsDir() {
		return nil
	}
	return fmt.Errorf("refusing to replace %s: it is a %s, not a regular file", dst, host.FileKind(fi.Mode()))
}

// minFree is the free space below which a failed write is put down to a
// full disk.
const minFree = 64 << 10

// explainFull says "no space left on device" when a write failed on a
// file system that is (nearly) full: SFTP reports that as a bare failure.
func explainFull(fsys host.FS, dir string, err error) error {
	sr, ok := fsys.(host.SpaceReporter)
	if !ok || errors.Is(err, syscall.ENOSPC) {
		return err
	}
	if dir == "" {
		dir = "."
	}
	if free, serr := sr.FreeSpace(dir); serr == nil && free < minFree {
		return fmt.Errorf("%w: %w", err, syscall.ENOSPC)
	}
	return err
}

// removeRemote removes a temporary file on the host, over a new connection
// when the host's connection was lost; it outlives the caller's context.
func (h *Host) removeRemote(p string) {
	err := h.FS.Remove(p)
	if err == nil || errors.Is(err, fs.ErrNotExist) {
		return
	}
	rd, ok := h.Conn.(host.Redialer)
	if !ok {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), cleanupTimeout)
	defer cancel()
	conn, err := rd.Redial(ctx)
	if err != nil {
		return
	}
	defer conn.Close()
	if fsys, err := conn.FS(ctx); err == nil {
		fsys.Remove(p)
	}
}

func (h *Host) removeLocal(p string) { h.local().Remove(p) }

// ctxReader stops a copy when its context ends. Its Size lets SFTP keep
// many writes in flight (an unsized reader is sent one packet at a time).
type ctxReader struct {
	ctx  context.Context
	r    io.Reader
	size int64
}

// Size returns how many bytes the reader holds.
func (c ctxReader) Size() int64 { return c.size }

func (c ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, context.Cause(c.ctx)
	}
	return c.r.Read(p)
}

// ctxWriter stops a copy when its context ends.
type ctxWriter struct {
	ctx context.Context
	w   io.Writer
}

func (c ctxWriter) Write(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, context.Cause(c.ctx)
	}
	return c.w.Write(p)
}

// hasMeta reports whether a path is a glob pattern.
func hasMeta(p string) bool { return strings.ContainsAny(p, "*?[") }

// isDir reports whether p exists on fsys and is a directory.
func isDir(fsys host.FS, p string) bool {
	fi, err := fsys.Stat(p)
	return err == nil && fi.IsDir()
}

// mkdirAll creates p and its missing parents on fsys.
func mkdirAll(fsys host.FS, p string, perm fs.FileMode) error {
	if fi, err := fsys.Stat(p); err == nil {
		if fi.IsDir() {
			return nil
		}
		return fmt.Errorf("%s exists and is not a directory", p)
	}
	if parent := path.Dir(p); parent != p {
		if err := mkdirAll(fsys, parent, perm); err != nil {
			return err
		}
	}
	if err := fsys.Mkdir(p, perm); err != nil && !isDir(fsys, p) {
		return fmt.Errorf("mkdir %s: %w", p, err)
	}
	return nil
}

// quoteGlob quotes a glob pattern for a POSIX shell, leaving its
// wildcards active.
func quoteGlob(p string) string {
	var b strings.Builder
	lit := func(s string) {
		if s != "" {
			b.WriteString(host.Quote(s))
		}
	}
	start := 0
	for i := 0; i < len(p); i++ {
		switch p[i] {
		case '*', '?':
			lit(p[start:i])
			b.WriteByte(p[i])
			start = i + 1
		case '[':
			end := strings.IndexByte(p[i+1:], ']')
			if end < 0 {
				continue
			}
			lit(p[start:i])
			class := p[i+1 : i+1+end]
			if strings.ContainsAny(class, "'\\") {
				class = strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(class)
			}
			b.WriteString("[" + class + "]")
			i += end + 1
			start = i + 1
		}
	}
	lit(p[start:])
	return b.String()
}
