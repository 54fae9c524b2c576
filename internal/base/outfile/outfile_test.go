package outfile

import (
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

func writeString(s string) func(io.Writer) error {
	return func(w io.Writer) error {
		_, err := io.WriteString(w, s)
		return err
	}
}

// TestWrite: what is at the path decides how it is written, and nothing
// but a regular file is ever replaced.
func TestWrite(t *testing.T) {
	cases := []struct {
		name string
		// setup makes what is at path (in dir) and returns the file whose
		// content must be "new" afterwards ("" for none).
		setup func(t *testing.T, dir, path string) string
		// check looks at path afterwards.
		check   func(t *testing.T, path string)
		wantErr string
	}{
		{"absent", func(t *testing.T, dir, path string) string { return path }, mode(0o640), ""},
		{"regular keeps its mode", func(t *testing.T, dir, path string) string {
			must(t, os.WriteFile(path, []byte("old"), 0o600))
			return path
		}, mode(0o600), ""},
		{"symlink followed", func(t *testing.T, dir, path string) string {
			target := filepath.Join(dir, "target")
			must(t, os.WriteFile(target, []byte("old"), 0o644))
			must(t, os.Symlink("target", path))
			return target
		}, isLink, ""},
		{"dangling symlink creates its target", func(t *testing.T, dir, path string) string {
			must(t, os.Symlink("made", path))
			return filepath.Join(dir, "made")
		}, isLink, ""},
		{"fifo written through", func(t *testing.T, dir, path string) string {
			must(t, syscall.Mkfifo(path, 0o600))
			got := make(chan string, 1)
			go func() {
				f, err := os.Open(path)
				if err != nil {
					got <- err.Error()
					return
				}
				b, _ := io.ReadAll(f)
				f.Close()
				got <- string(b)
			}()
			t.Cleanup(func() {
				if s := <-got; s != "new" {
					t.Errorf("the fifo's reader got %q", s)
				}
			})
			return ""
		}, kind(fs.ModeNamedPipe), ""},
		{"directory refused", func(t *testing.T, dir, path string) string {
			must(t, os.Mkdir(path, 0o755))
			return ""
		}, kind(fs.ModeDir), "is a directory"},
		{"no such directory", func(t *testing.T, dir, path string) string {
			must(t, os.Remove(dir))
			return ""
		}, nil, "no such file"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "d")
			must(t, os.Mkdir(dir, 0o755))
			path := filepath.Join(dir, "out")
			want := c.setup(t, dir, path)
			err := Write(path, 0o640, writeString("new"))
			if c.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), c.wantErr) {
					t.Fatalf("Write = %v, want an error with %q", err, c.wantErr)
				}
			} else if err != nil {
				t.Fatal(err)
			}
			if want != "" {
				if b, err := os.ReadFile(want); err != nil || string(b) != "new" {
					t.Errorf("%s holds %q (%v), want \"new\"", want, b, err)
				}
			}
			if c.check != nil {
				c.check(t, path)
			}
			if left, _ := filepath.Glob(filepath.Join(dir, ".*.tmp")); len(left) > 0 {
				t.Errorf("temporary files left: %v", left)
			}
		})
	}
}

// TestWriteDevice: /dev/null stays the device (gofab runs as root in CI,
// where a rename over it would succeed).
func TestWriteDevice(t *testing.T) {
	if err := Write(os.DevNull, 0o644, writeString("page")); err != nil {
		t.Fatal(err)
	}
	kind(fs.ModeCharDevice)(t, os.DevNull)
}

// TestWriteFailureKeepsOld: a failed write leaves the old file whole.
func TestWriteFailureKeepsOld(t *testing.T) {
	path := filepath.Join(t.TempDir(), "out")
	must(t, os.WriteFile(path, []byte("old"), 0o644))
	err := Write(path, 0o644, func(w io.Writer) error {
		io.WriteString(w, "half")
		return errors.New("boom")
	})
	if err == nil || !strings.Contains(err.Error(), "boom") {
		t.Fatalf("Write = %v, want boom", err)
	}
	if b, _ := os.ReadFile(path); string(b) != "old" {
		t.Errorf("file holds %q after a failed write", b)
	}
	if left, _ := filepath.Glob(filepath.Join(filepath.Dir(path), ".*")); len(left) > 0 {
		t.Errorf("temporary files left: %v", left)
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func mode(m fs.FileMode) func(*testing.T, string) {
	return func(t *testing.T, path string) {
		if fi, err := os.Lstat(path); err != nil || fi.Mode() != m {
			t.Errorf("%s: mode %v (%v), want %v", path, fi.Mode(), err, m)
		}
	}
}

func isLink(t *testing.T, path string) {
	if fi, err := os.Lstat(path); err != nil || fi.Mode()&fs.ModeSymlink == 0 {
		t.Errorf("%s is no longer a symlink", path)
	}
}

func kind(k fs.FileMode) func(*testing.T, string) {
	return func(t *testing.T, path string) {
		if fi, err := os.Lstat(path); err != nil || fi.Mode()&k == 0 {
			t.Errorf("%s is no longer a %v", path, k)
		}
	}
}
