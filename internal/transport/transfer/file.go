package transfer

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"strconv"
	"strings"

	"github.com/gofab/gofab/internal/base/host"
)

// ErrNotExist is returned by ReadFile for a file that does not exist.
var ErrNotExist = fs.ErrNotExist

// ExitError is a helper command that exited non-zero.
type ExitError struct {
	Code   int
	Stderr string
}

// Error returns the command's stderr, or its exit status.
func (e *ExitError) Error() string {
	if e.Stderr != "" {
		return e.Stderr
	}
	return fmt.Sprintf("exit status %d", e.Code)
}

// ReadFile returns the content of a file on the host, read over SFTP or,
// with sudo, from "sudo cat".
func (h *Host) ReadFile(ctx context.Context, p string, sudo bool) ([]byte, error) {
	p, err := h.FS.Abs(p)
	if err != nil {
		return nil, err
	}
	if sudo {
		// The content follows a marker, so an answer without one (a
		// --dry-run connection answers nothing) reads as no file.
		out, err := h.Exec(ctx, "if [ -e "+host.Quote(p)+" ]; then printf F && cat -- "+host.Quote(p)+"; else exit 44; fi", true, nil)
		var ee *ExitError
		if errors.As(err, &ee) && ee.Code == 44 {
			return nil, fmt.Errorf("%s: %w", p, ErrNotExist)
		}
		if err != nil {
			return nil, fmt.Errorf("sudo cat %s: %w", p, err)
		}
		content, ok := strings.CutPrefix(out, "F")
		if !ok {
			return nil, fmt.Errorf("%s: %w", p, ErrNotExist)
		}
		return []byte(content), nil
	}
	f, err := h.FS.Open(p)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", p, err)
	}
	defer f.Close()
	var buf bytes.Buffer
	if _, err := f.WriteTo(ctxWriter{ctx, &buf}); err != nil {
		return nil, fmt.Errorf("read %s: %w", p, err)
	}
	return buf.Bytes(), nil
}

// Test reports whether p passes a test(1) check ("-e", "-L", "-d", "-f")
// on the host, as root when sudo is set.
func (h *Host) Test(ctx context.Context, flag, p string, sudo bool) (bool, error) {
	p, err := h.FS.Abs(p)
	if err != nil {
		return false, err
	}
	if sudo {
		out, err := h.Exec(ctx, "if [ "+flag+" "+host.Quote(p)+" ]; then echo yes; else echo no; fi", true, nil)
		return strings.TrimSpace(out) == "yes", err
	}
	fi, err := h.FS.Lstat(p)
	if errors.Is(err, fs.ErrNotExist) || errors.Is(err, fs.ErrPermission) {
		// As test(1): a path the user cannot reach does not exist for it.
		return false, nil
	}
	if err != nil {
		return false, err
	}
	if fi.Mode()&fs.ModeSymlink != 0 && flag != "-L" {
		if fi, err = h.FS.Stat(p); err != nil {
			return false, nil
		}
	}
	switch flag {
	case "-L":
		return fi.Mode()&fs.ModeSymlink != 0, nil
	case "-d":
		return fi.IsDir(), nil
	case "-f":
		return fi.Mode().IsRegular(), nil
	}
	return true, nil
}

// WriteOptions are how WriteFile writes.
type WriteOptions struct {
	// Mode, when non-zero, is the file's permission bits.
	Mode fs.FileMode
	// Owner and Group, when set, are the file's owner and group.
	Owner, Group string
	UseSudo      bool
	// Backup, when set and the content changes, keeps the old content in
	// path+Backup.
	Backup string
	// Check reports what would change and changes nothing.
	Check bool
	// Diff, when set, is told each change before it is made (or, with
	// Check, instead): the old and new content and "mode owner:group".
	Diff func(path string, old, new []byte, oldAttrs, newAttrs string)
}

// attrs are a file's mode, owner and group names.
type attrs struct {
	mode         fs.FileMode
	owner, group string
}

// String shows attributes as a diff header does: "0644 root:root", or
// "" when unknown.
func (a attrs) String() string {
	if a.mode == 0 && a.owner == "" {
		return ""
	}
	return fmt.Sprintf("%04o %s:%s", a.mode, a.owner, a.group)
}

func (h *Host) attrs(ctx context.Context, p string, sudo bool) (attrs, error) {
	out, err := h.Exec(ctx, "stat -c '%a %U %G' -- "+host.Quote(p), sudo, nil)
	if err != nil {
		return attrs{}, fmt.Errorf("stat %s: %w", p, err)
	}
	f := strings.Fields(out)
	if len(f) != 3 {
		return attrs{}, fmt.Errorf("stat %s: unexpected output %q", p, out)
	}
	m, err := strconv.ParseUint(f[0], 8, 32)
	if err != nil {
		return attrs{}, fmt.Errorf("stat %s: unexpected mode %q", p, f[0])
	}
	return attrs{fs.FileMode(m), f[1], f[2]}, nil
}

// WriteFile makes the file at p hold data with the given mode and owner,
// changing only what differs, and reports whether anything changed. The
// content is compared with what the file holds and written atomically.
func (h *Host) WriteFile(ctx context.Context, p string, data []byte, o WriteOptions) (bool, error) {
	p, err := h.FS.Abs(p)
	if err != nil {
		return false, err
	}
	old, err := h.ReadFile(ctx, p, o.UseSudo)
	exists := err == nil
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return false, err
	}
	contentChanged := !exists || !bytes.Equal(old, data)
	var cur attrs
	if exists && (o.Mode != 0 || o.Owner != "" || o.Group != "") {
		if cur, err = h.attrs(ctx, p, o.UseSudo); err != nil {
			return false, err
		}
	}
	modeChanged := o.Mode != 0 && (!exists || cur.mode != o.Mode.Perm())
	ownerChanged := (o.Owner != "" && cur.owner != o.Owner) || (o.Group != "" && cur.group != o.Group)
	if !contentChanged && !modeChanged && !ownerChanged {
		return false, nil
	}
	if o.Diff != nil {
		want := cur
		if o.Mode != 0 {
			want.mode = o.Mode.Perm()
		}
		if o.Owner != "" {
			want.owner = o.Owner
		}
		if o.Group != "" {
			want.group = o.Group
		}
		o.Diff(p, old, data, cur.String(), want.String())
	}
	if o.Check {
		return true, nil
	}
	if contentChanged {
		if exists && o.Backup != "" {
			if err := h.place(ctx, p+o.Backup, old, WriteOptions{UseSudo: o.UseSudo}); err != nil {
				return false, fmt.Errorf("backup %s: %w", p, err)
			}
		}
		return true, h.place(ctx, p, data, o)
	}
	if modeChanged {
		if _, err := h.Exec(ctx, fmt.Sprintf("chmod %o -- %s", o.Mode, host.Quote(p)), o.UseSudo, nil); err != nil {
			return false, fmt.Errorf("chmod %s: %w", p, err)
		}
	}
	if ownerChanged {
		if err := h.chown(ctx, []string{p}, o.Owner, o.Group, o.UseSudo); err != nil {
			return false, err
		}
	}
	return true, nil
}

// place writes data to p atomically, keeping the mode and owner of the
// file it replaces unless o gives them.
func (h *Host) place(ctx context.Context, p string, data []byte, o WriteOptions) error {
	it := item{kind: file, dst: p, data: data, mode: 0o644}
	po := PutOptions{Mode: o.Mode, Owner: o.Owner, Group: o.Group, UseSudo: o.UseSudo}
	var err error
	if o.UseSudo {
		_, err = h.putSudo(ctx, []item{it}, po, nil, nil)
	} else {
		_, err = h.putDirect(ctx, []item{it}, po)
	}
	return err
}
