package modcache

import (
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/mod/module"
	"golang.org/x/mod/sumdb/dirhash"
)

// TestSummaryIsDirhash proves gofab.sum's h1: hashes are Go's: the same
// tree hashed by x/mod's dirhash gives the same string.
func TestSummaryIsDirhash(t *testing.T) {
	m := module.Version{Path: "git.example.com/ops/recipes", Version: "v1.4.2"}
	files := []File{{"nginx/init.lua", []byte("task('x')\n")}, {"gofab.mod", []byte("module git.example.com/ops/recipes\n")}, {"a b.lua", nil}}
	dir := t.TempDir()
	if err := WriteTree(dir, files); err != nil {
		t.Fatal(err)
	}
	want, err := dirhash.HashDir(dir, m.Path+"@"+m.Version, dirhash.Hash1)
	if err != nil {
		t.Fatal(err)
	}
	sum := Summarize(m, files)
	if sum.Hash() != want {
		t.Fatalf("Summarize hash %s, dirhash %s", sum.Hash(), want)
	}
	parsed, err := ParseSummary(m, sum.Bytes())
	if err != nil || parsed.Hash() != want {
		t.Fatalf("ParseSummary: %v %v", parsed, err)
	}
	if err := parsed.CheckFile("nginx/init.lua", []byte("task('x')\n")); err != nil {
		t.Errorf("unchanged file refused: %v", err)
	}
	if err := parsed.CheckFile("nginx/init.lua", []byte("task('y')\n")); err == nil || !strings.Contains(err.Error(), "changed") {
		t.Errorf("changed file: %v", err)
	}
	if err := parsed.CheckFile("extra.lua", nil); err == nil {
		t.Error("a file outside the list passed")
	}
	gomod := filepath.Join(t.TempDir(), "gofab.mod")
	os.WriteFile(gomod, files[1].Data, 0o644)
	wantMod, _ := dirhash.Hash1([]string{"gofab.mod"}, func(string) (io.ReadCloser, error) { return os.Open(gomod) })
	if got := ModHash(files[1].Data); got != wantMod {
		t.Errorf("ModHash %s, dirhash %s", got, wantMod)
	}
}

// TestPutIsAtomicAndIdempotent: a second Put of a version keeps the first
// tree; Lookup sees only complete entries.
func TestPutIsAtomicAndIdempotent(t *testing.T) {
	c := Cache{Dir: t.TempDir()}
	m := module.Version{Path: "example.com/r", Version: "v1.0.0"}
	if _, err := c.Lookup(m); err == nil {
		t.Fatal("empty cache has an entry")
	}
	e1, err := c.Put(t.Context(), m, []File{{"a.lua", []byte("1")}}, []byte("module example.com/r\n"), Info{})
	if err != nil {
		t.Fatal(err)
	}
	e2, err := c.Put(t.Context(), m, []File{{"a.lua", []byte("2")}}, []byte("module example.com/r\n"), Info{})
	if err != nil || e2.Summary.Hash() != e1.Summary.Hash() {
		t.Fatalf("second Put replaced the entry: %v", err)
	}
	if h, err := c.Verify(m); err != nil || h != e1.Summary.Hash() {
		t.Fatalf("Verify %s %v, want %s", h, err, e1.Summary.Hash())
	}
	leftovers, _ := filepath.Glob(filepath.Join(c.Dir, ".tmp-*"))
	if len(leftovers) > 0 {
		t.Errorf("temporary directories left: %v", leftovers)
	}
	if err := c.Clean(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(c.Dir); !os.IsNotExist(err) {
		t.Errorf("Clean left %s", c.Dir)
	}
}
