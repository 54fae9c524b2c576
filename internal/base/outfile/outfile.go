// Package outfile writes the files a person names on gofab's command line
// (--report, report -o, gofab types, runs.json) without ever replacing
// what is there by something else: a regular file is replaced atomically,
// a symlink is followed, a device or fifo is written through.
package outfile

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
)

// Write writes path with what write gives it.
//
// When path does not exist or is a regular file (directly or through
// symlinks, which are followed, never replaced), a temporary file next to
// the final file is written and renamed over it: a reader sees the old
// content or the new, never half of it, and a failed write leaves the old
// file. A new file gets mode perm; a replaced file keeps its mode.
//
// Any other file (a device such as /dev/null or /dev/stdout, a fifo) is
// opened and written through, as a shell's > does. A directory is refused.
func Write(path string, perm fs.FileMode, write func(io.Writer) error) error {
	fi, err := os.Stat(path)
	switch {
	case err == nil && fi.IsDir():
		return fmt.Errorf("%s is a directory", path)
	case err == nil && !fi.Mode().IsRegular():
		return through(path, os.O_WRONLY, write)
	case err == nil:
		perm = fi.Mode().Perm()
	case !errors.Is(err, fs.ErrNotExist):
		return err
	}
	if lfi, lerr := os.Lstat(path); lerr == nil && lfi.Mode()&fs.ModeSymlink != 0 {
		real, rerr := filepath.EvalSymlinks(path)
		if rerr != nil {
			// A dangling link: create what it points to, as > does.
			return through(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, write)
		}
		path = real
	}
	return atomic(path, perm, write)
}

// through writes an existing non-regular file in place.
func through(path string, flag int, write func(io.Writer) error) error {
	f, err := os.OpenFile(path, flag, 0o644)
	if err != nil {
		return err
	}
	err = write(f)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

// atomic writes a temporary file in path's directory and renames it over
// path.
func atomic(path string, perm fs.FileMode, write func(io.Writer) error) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".gofab-*.tmp")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name()) // gone after the rename; cleans up a failure
	err = write(tmp)
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Chmod(tmp.Name(), perm)
	}
	if err == nil {
		err = os.Rename(tmp.Name(), path)
	}
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}
