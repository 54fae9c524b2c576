package transfer

import (
	"context"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/gofab/gofab/internal/base/host"
)

func TestQuoteGlob(t *testing.T) {
	cases := map[string]string{
		"/var/log/*.log":       "/var/log/*.log",
		"/my dir/a?.txt":       "'/my dir/a'?.txt",
		"/x/[ab]*":             "/x/[ab]*",
		"/it's/*":              `'/it'\''s/'*`,
		"/$HOME/`x`*":          "'/$HOME/`x`'*",
		"/no/wildcards/at/all": "/no/wildcards/at/all",
	}
	for in, want := range cases {
		if got := quoteGlob(in); got != want {
			t.Errorf("quoteGlob(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestLocalTarget(t *testing.T) {
	dir := t.TempDir()
	cases := []struct {
		name, tmpl  string
		o           GetOptions
		into        bool
		match, file string
		want        string
	}{
		{"file to file", dir + "/out.txt", GetOptions{}, false, "/etc/hosts", "/etc/hosts", dir + "/out.txt"},
		{"file into dir", dir, GetOptions{}, true, "/etc/hosts", "/etc/hosts", dir + "/hosts"},
		{"tree becomes dir", dir + "/copy", GetOptions{}, false, "/etc/ssh", "/etc/ssh/sshd_config", dir + "/copy/sshd_config"},
		{"tree into dir", dir, GetOptions{}, true, "/etc/ssh", "/etc/ssh/sshd_config", dir + "/ssh/sshd_config"},
		{"several hosts", dir, GetOptions{Host: "web1", MultiHost: true}, true, "/etc/hosts", "/etc/hosts", dir + "/web1/hosts"},
		{"placeholders", dir + "/{host}-{port}-{user}/{path}", GetOptions{Host: "h", Port: 22, User: "u"}, false, "/etc/ssh", "/etc/ssh/sshd_config", dir + "/h-22-u/etc/ssh/sshd_config"},
		{"basename and dirname", dir + "/{dirname}/x-{basename}", GetOptions{}, false, "/a/b", "/a/b/c.txt", dir + "/a/b/x-c.txt"},
		{"Fabric's placeholders", fabricPlaceholders.Replace(dir + "/%(host)s/%(path)s"), GetOptions{Host: "h"}, false, "/etc/ssh", "/etc/ssh/sshd_config", dir + "/h/etc/ssh/sshd_config"},
		{"host named ..", dir, GetOptions{Host: "..", MultiHost: true}, true, "/etc/hostname", "/etc/hostname", dir + "/_../hostname"},
		{"host with a slash", dir + "/{host}/{basename}", GetOptions{Host: "a/../../b"}, false, "/etc/hostname", "/etc/hostname", dir + "/a_.._.._b/hostname"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			lt := newLocalTarget(host.OS{}, c.tmpl, c.o, c.into)
			got := lt.dest(c.match, c.file)
			if got != c.want {
				t.Errorf("dest = %q, want %q", got, c.want)
			}
			if !within(lt.root, got) {
				t.Errorf("dest %q is outside root %q", got, lt.root)
			}
		})
	}
}

// TestLocalTargetAgain: a get into {path} run a second time writes the
// same files, not a copy nested in the directories the first one made.
func TestLocalTargetAgain(t *testing.T) {
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "x/g4/a"), 0o755); err != nil {
		t.Fatal(err)
	}
	for _, tmpl := range []string{dir + "/{path}", dir + "/{dirname}/{basename}"} {
		lt := newLocalTarget(host.OS{}, tmpl, GetOptions{}, false)
		for _, rp := range []string{"/x/g4", "/x/g4/a", "/x/g4/a/f"} {
			if got, want := lt.dest("/x/g4", rp), dir+rp; got != want {
				t.Errorf("%s: dest(%s) = %q, want %q", tmpl, rp, got, want)
			}
		}
	}
}

// TestCheckReplaceable: a transfer never renames a file over a device or
// a fifo (a get into /dev/null as root would replace the device).
func TestCheckReplaceable(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "file"), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	for p, want := range map[string]string{os.DevNull: "character device", fifo: "fifo", dir + "/file": "", dir + "/absent": ""} {
		err := CheckReplaceable(host.OS{}, p)
		if (want == "") != (err == nil) || want != "" && !strings.Contains(err.Error(), want) {
			t.Errorf("CheckReplaceable(%s) = %v, want %q", p, err, want)
		}
	}
}

// TestLocalTargetMkdir: a symlink an earlier get left below the
// destination is replaced by a directory, never written through, and
// nothing is made outside the destination.
func TestLocalTargetMkdir(t *testing.T) {
	dir, outside := t.TempDir(), t.TempDir()
	if err := os.Symlink(outside, filepath.Join(dir, "l")); err != nil {
		t.Fatal(err)
	}
	lt := newLocalTarget(host.OS{}, dir, GetOptions{}, true)
	if err := lt.mkdir(dir + "/l/sub"); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Lstat(filepath.Join(dir, "l")); err != nil || !fi.IsDir() {
		t.Errorf("l is %v (%v), want a directory", fi.Mode(), err)
	}
	if entries, _ := os.ReadDir(outside); len(entries) != 0 {
		t.Errorf("wrote through the symlink: %s holds %v", outside, entries)
	}
	if err := lt.mkdir(dir + "/../escape"); err == nil || !strings.Contains(err.Error(), "outside") {
		t.Errorf("mkdir outside the destination: %v", err)
	}
}

func TestExcluded(t *testing.T) {
	patterns := []string{"*.tmp", "cache/", "build/out"}
	for rel, want := range map[string]bool{
		"a.tmp": true, "d/b.tmp": true, "cache": true, "d/cache": true, "build/out": true,
		"a.txt": false, "cached": false, "build": false,
	} {
		if got := excluded(patterns, rel); got != want {
			t.Errorf("excluded(%q) = %v, want %v", rel, got, want)
		}
	}
}

// fullFS is this machine's file system whose files fail after limit bytes
// with ENOSPC, as a full disk does.
type fullFS struct {
	host.OS
	limit int
}

type fullFile struct {
	*os.File
	left int
}

func (f *fullFile) Write(p []byte) (int, error) {
	if len(p) > f.left {
		n, _ := f.File.Write(p[:f.left])
		f.left = 0
		return n, &fs.PathError{Op: "write", Path: f.Name(), Err: errors.New("no space left on device")}
	}
	f.left -= len(p)
	return f.File.Write(p)
}

func (f *fullFile) ReadFrom(r io.Reader) (int64, error) { return io.Copy(struct{ io.Writer }{f}, r) }

func (f fullFS) CreateExclusive(p string) (host.File, error) {
	file, err := os.OpenFile(p, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return nil, err
	}
	return &fullFile{File: file, left: f.limit}, nil
}

// TestAtomicWriteFailureKeepsOld: a write that fails midway (disk full)
// or is cancelled leaves the old file and no temporary file.
func TestAtomicWriteFailureKeepsOld(t *testing.T) {
	for _, c := range []struct {
		name   string
		cancel bool
	}{{"disk full", false}, {"cancelled", true}} {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			dst := filepath.Join(dir, "target")
			os.WriteFile(dst, []byte("old"), 0o644)
			src := filepath.Join(dir, "src")
			os.WriteFile(src, []byte(strings.Repeat("x", 1<<20)), 0o644)
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			if c.cancel {
				cancel()
			}
			h := &Host{FS: fullFS{limit: 1000}}
			err := h.upload(ctx, src, dst, 0o644)
			if err == nil {
				t.Fatal("upload succeeded")
			}
			if data, _ := os.ReadFile(dst); string(data) != "old" {
				t.Errorf("destination holds %d bytes, want the old content", len(data))
			}
			entries, _ := os.ReadDir(dir)
			if len(entries) != 2 {
				t.Errorf("directory holds %d entries, want target and src only", len(entries))
			}
		})
	}
}

// umaskFS creates files as an SFTP server does, with mode 0644 whatever
// they will become, and records, for each file created, whether another
// user could reach it then (every directory above it searchable by all).
type umaskFS struct {
	host.OS
	root      string
	reachable map[string]bool
}

func (u umaskFS) CreateExclusive(p string) (host.File, error) {
	open := true
	for d := filepath.Dir(p); len(d) >= len(u.root); d = filepath.Dir(d) {
		if fi, err := os.Stat(d); err == nil && fi.Mode().Perm()&0o005 != 0o005 {
			open = false
		}
	}
	u.reachable[p] = open
	return os.OpenFile(p, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
}

// TestPrivateFileWrittenUnreachable: a file whose mode keeps others out
// (a secret's 0600) is written where no other user can open it before its
// mode is set; a 0644 file goes straight next to its destination.
func TestPrivateFileWrittenUnreachable(t *testing.T) {
	for _, c := range []struct {
		mode      fs.FileMode
		reachable bool
	}{{0o600, false}, {0o640, false}, {0o644, true}} {
		t.Run(c.mode.String(), func(t *testing.T) {
			dir := t.TempDir()
			os.Chmod(dir, 0o755)
			src := filepath.Join(dir, "src")
			os.WriteFile(src, []byte("db_password=hunter2"), 0o600)
			u := umaskFS{root: dir, reachable: map[string]bool{}}
			h := &Host{FS: u}
			dst := filepath.Join(dir, "app.env")
			if err := h.upload(context.Background(), src, dst, c.mode); err != nil {
				t.Fatal(err)
			}
			if len(u.reachable) != 1 {
				t.Fatalf("%d files created", len(u.reachable))
			}
			for p, open := range u.reachable {
				if open != c.reachable {
					t.Errorf("%s created reachable=%v, want %v", p, open, c.reachable)
				}
			}
			fi, err := os.Stat(dst)
			if err != nil || fi.Mode().Perm() != c.mode {
				t.Errorf("destination: %v %v", fi, err)
			}
			if entries, _ := os.ReadDir(dir); len(entries) != 2 {
				t.Errorf("directory holds %d entries, want app.env and src (the staging directory removed)", len(entries))
			}
		})
	}
}
