package modcache

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/gofrs/flock"
	"golang.org/x/mod/module"
)

// Cache is a module cache directory. Each module version's tree is
// extracted, read-only, to DIR/<path>@<version>; beside it under
// DIR/cache/download/<path>/@v/ are its gofab.mod (.mod), its file list
// (.files, whose hash is the tree's h1:), where it came from (.info) and
// the lock that keeps two processes from filling it at once (.lock).
type Cache struct{ Dir string }

// Info records where a module version came from.
type Info struct {
	Version string
	Time    time.Time
	URL     string
	Commit  string
}

// ErrNotCached means a module version is not in the cache.
var ErrNotCached = errors.New("not in the module cache")

// DefaultDir is GOFAB_MODCACHE, else gofab/mod under the user's cache
// directory.
func DefaultDir(getenv func(string) string) (string, error) {
	if d := getenv("GOFAB_MODCACHE"); d != "" {
		return filepath.Abs(d)
	}
	if d := getenv("XDG_CACHE_HOME"); d != "" {
		return filepath.Join(d, "gofab", "mod"), nil
	}
	if h := getenv("HOME"); h != "" {
		return filepath.Join(h, ".cache", "gofab", "mod"), nil
	}
	d, err := os.UserCacheDir()
	if err != nil {
		return "", fmt.Errorf("module cache: %w (set GOFAB_MODCACHE)", err)
	}
	return filepath.Join(d, "gofab", "mod"), nil
}

func escaped(m module.Version) (string, string, error) {
	p, err := module.EscapePath(m.Path)
	if err != nil {
		return "", "", err
	}
	v, err := module.EscapeVersion(m.Version)
	return filepath.FromSlash(p), v, err
}

// TreeDir is where m's tree is (or would be) extracted.
func (c Cache) TreeDir(m module.Version) string {
	p, v, err := escaped(m)
	if err != nil {
		return filepath.Join(c.Dir, "invalid")
	}
	return filepath.Join(c.Dir, p+"@"+v)
}

// meta is the path of m's download file with extension ext.
func (c Cache) meta(m module.Version, ext string) string {
	p, v, err := escaped(m)
	if err != nil {
		return filepath.Join(c.Dir, "invalid")
	}
	return filepath.Join(c.Dir, "cache", "download", p, "@v", v+ext)
}

// Entry is a cached module version: its tree's directory, file list and
// gofab.mod.
type Entry struct {
	Dir     string
	Summary *Summary
	Mod     []byte
}

// Lookup returns m's cache entry, or an error wrapping ErrNotCached.
func (c Cache) Lookup(m module.Version) (*Entry, error) {
	files, err := os.ReadFile(c.meta(m, ".files"))
	if err == nil {
		var mod []byte
		if mod, err = os.ReadFile(c.meta(m, ".mod")); err == nil {
			var sum *Summary
			if sum, err = ParseSummary(m, files); err != nil {
				return nil, err
			}
			dir := c.TreeDir(m)
			if _, err = os.Stat(dir); err == nil {
				return &Entry{Dir: dir, Summary: sum, Mod: mod}, nil
			}
		}
	}
	if errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ENOTDIR) {
		return nil, fmt.Errorf("%s@%s: %w (run gofab mod download)", m.Path, m.Version, ErrNotCached)
	}
	return nil, fmt.Errorf("module cache: %w", err)
}

// LookupMod returns m's cached gofab.mod, or an error wrapping
// ErrNotCached.
func (c Cache) LookupMod(m module.Version) ([]byte, error) {
	data, err := os.ReadFile(c.meta(m, ".mod"))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%s@%s: %w (run gofab mod download)", m.Path, m.Version, ErrNotCached)
	}
	return data, err
}

// Put stores m's tree (files), its gofab.mod and where it came from, once:
// under m's lock, in a temporary directory renamed into place, so a
// concurrent Put or a crash never leaves a partial entry. A version
// already cached is left as it is.
func (c Cache) Put(ctx context.Context, m module.Version, files []File, mod []byte, info Info) (*Entry, error) {
	lockPath := c.meta(m, ".lock")
	if err := os.MkdirAll(filepath.Dir(lockPath), 0o755); err != nil {
		return nil, fmt.Errorf("module cache is not writable: %w (set GOFAB_MODCACHE)", err)
	}
	lock := flock.New(lockPath)
	if ok, err := lock.TryLockContext(ctx, 20*time.Millisecond); !ok {
		return nil, fmt.Errorf("module cache lock %s: %w", lockPath, errors.Join(err, ctx.Err()))
	}
	defer lock.Unlock()
	if e, err := c.Lookup(m); err == nil {
		return e, nil
	}
	sum := Summarize(m, files)
	tmp, err := os.MkdirTemp(c.Dir, ".tmp-")
	if err != nil {
		return nil, fmt.Errorf("module cache is not writable: %w", err)
	}
	defer makeWritable(tmp)
	defer os.RemoveAll(tmp)
	if err := WriteTree(tmp, files); err != nil {
		return nil, err
	}
	infoJSON, _ := json.MarshalIndent(info, "", "\t")
	for ext, data := range map[string][]byte{".mod": mod, ".info": infoJSON, ".files": sum.Bytes()} {
		if err := writeAtomic(c.meta(m, ext), data); err != nil {
			return nil, err
		}
	}
	dir := c.TreeDir(m)
	if err := os.MkdirAll(filepath.Dir(dir), 0o755); err != nil {
		return nil, err
	}
	makeWritable(dir)
	os.RemoveAll(dir) // a tree left without its file list by an older crash
	if err := os.Rename(tmp, dir); err != nil {
		return nil, fmt.Errorf("module cache: %w", err)
	}
	makeReadOnly(dir)
	return &Entry{Dir: dir, Summary: sum, Mod: mod}, nil
}

// WriteTree writes files under dir, refusing names that would leave it.
func WriteTree(dir string, files []File) error {
	for _, f := range files {
		if !fs.ValidPath(f.Name) || strings.Contains(f.Name, "\\") {
			return fmt.Errorf("module file %q: not a valid path", f.Name)
		}
		p := filepath.Join(dir, filepath.FromSlash(f.Name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(p, f.Data, 0o644); err != nil {
			return err
		}
	}
	return nil
}

func writeAtomic(p string, data []byte) error {
	tmp := p + ".tmp" + fmt.Sprint(os.Getpid())
	if err := os.WriteFile(tmp, data, 0o644); err != nil {
		return fmt.Errorf("module cache is not writable: %w", err)
	}
	return os.Rename(tmp, p)
}

// makeReadOnly drops write permission below dir, as Go's module cache
// does, so an editor's save into it fails loudly.
func makeReadOnly(dir string) {
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err == nil {
			if d.IsDir() {
				defer os.Chmod(p, 0o555)
			} else {
				os.Chmod(p, 0o444)
			}
		}
		return nil
	})
	os.Chmod(dir, 0o555)
}

// makeWritable restores write permission below dir so it can be removed.
func makeWritable(dir string) {
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && d.IsDir() {
			os.Chmod(p, 0o755)
		}
		return nil
	})
}

// ReadTree reads every file below dir, as a module tree, skipping the
// directories skip reports true for (nested modules in vendor/).
func ReadTree(dir string, skip func(rel string) bool) ([]File, error) {
	var files []File
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		rel = filepath.ToSlash(rel)
		if d.IsDir() {
			if rel != "." && skip != nil && skip(rel) {
				return filepath.SkipDir
			}
			return nil
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		files = append(files, File{Name: rel, Data: data})
		return nil
	})
	return files, err
}

// Verify rehashes m's extracted tree and returns its h1: hash.
func (c Cache) Verify(m module.Version) (string, error) {
	files, err := ReadTree(c.TreeDir(m), nil)
	if err != nil {
		return "", fmt.Errorf("%s@%s: %w", m.Path, m.Version, err)
	}
	return Summarize(m, files).Hash(), nil
}

// Clean removes the whole cache.
func (c Cache) Clean() error {
	if _, err := os.Stat(c.Dir); errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	makeWritable(c.Dir)
	return os.RemoveAll(c.Dir)
}
