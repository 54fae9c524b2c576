package bench

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/mod/module"

	"github.com/gofab/gofab/internal/mod/modcache"
	"github.com/gofab/gofab/internal/mod/modfile"
)

// BenchmarkModuleLoad measures what recipe modules add to a run's
// start-up: gofab -l on a fabfile that requires 20 modules of 100 files
// each (2,000 files), from the module cache (gofab.mod, gofab.sum
// checked), from vendor/, and, for reference, the same trees as plain
// --include folders. Median wall time of 51 runs per op; compare the
// ratios cache/include and vendor/include.
func BenchmarkModuleLoad(b *testing.B) {
	dir := b.TempDir()
	gofab := build(b, dir, "./cmd/gofab")
	cache := modcache.Cache{Dir: filepath.Join(dir, "cache")}
	proj := filepath.Join(dir, "proj")
	vend := filepath.Join(dir, "vend")
	include := filepath.Join(dir, "include")
	plain := filepath.Join(dir, "plain")
	mod, _ := modfile.New("example.com/bench", "0.2")
	sum := modfile.NewSum()
	var modFab, plainFab strings.Builder
	for i := 1; i <= 20; i++ {
		m := module.Version{Path: fmt.Sprintf("example.com/ops/m%02d", i), Version: "v1.0.0"}
		var files []modcache.File
		files = append(files, modcache.File{Name: "init.lua", Data: []byte(fmt.Sprintf("task(\"deploy\", \"deploy %d\", function() end)\nreturn {}\n", i))})
		for j := 1; j < 100; j++ {
			files = append(files, modcache.File{Name: fmt.Sprintf("lib/f%02d.lua", j), Data: []byte(fmt.Sprintf("return {n = %d}\n", j))})
		}
		gomod := []byte("module " + m.Path + "\n")
		if _, err := cache.Put(b.Context(), m, files, gomod, modcache.Info{}); err != nil {
			b.Fatal(err)
		}
		sum.Tree[modfile.Key(m)] = modcache.Summarize(m, files).Hash()
		sum.Mod[modfile.Key(m)] = modcache.ModHash(gomod)
		mod.SetRequire(m.Path, m.Version)
		fmt.Fprintf(&modFab, "require(%q)\n", m.Path)
		fmt.Fprintf(&plainFab, "require(\"m%02d\")\n", i)
		writeTree(b, filepath.Join(include, fmt.Sprintf("m%02d", i)), files)
	}
	for _, d := range []string{proj, vend} {
		writeTree(b, d, []modcache.File{{Name: "fabfile.lua", Data: []byte(modFab.String())}, {Name: "gofab.mod", Data: mod.Format()}, {Name: "gofab.sum", Data: sum.Format()}})
	}
	writeTree(b, plain, []modcache.File{{Name: "fabfile.lua", Data: []byte(plainFab.String())}})
	env := append(os.Environ(), "GOFAB_MODCACHE="+cache.Dir)
	runIn(b, vend, env, gofab, "mod", "vendor")
	for _, c := range []struct {
		name, dir string
		argv      []string
	}{
		{"include", plain, []string{gofab, "--include", include, "-l"}},
		{"cache", proj, []string{gofab, "-l"}},
		{"vendor", vend, []string{gofab, "-l"}},
	} {
		b.Run(c.name, func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				b.ReportMetric(medianRunIn(b, c.dir, env, c.argv, 51), "median-ms")
			}
		})
	}
}

func writeTree(b *testing.B, dir string, files []modcache.File) {
	for _, f := range files {
		p := filepath.Join(dir, filepath.FromSlash(f.Name))
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, f.Data, 0o644); err != nil {
			b.Fatal(err)
		}
	}
}
