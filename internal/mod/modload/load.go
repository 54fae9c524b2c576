// Package modload loads a project's recipe modules: it reads gofab.mod
// and gofab.sum, selects versions by minimal version selection, checks
// every module against gofab.sum before anything runs, and tells
// require() where a module's files are — from the module cache, from
// vendor/, or from a replace directory — with no network. get.go and
// vendor.go change the requirements: gofab get, gofab mod tidy, vendor.
package modload

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"golang.org/x/mod/module"

	"github.com/gofab/gofab/internal/mod/modcache"
	"github.com/gofab/gofab/internal/mod/modfile"
)

// Mode says where modules come from.
type Mode string

// The modes of --mod: Auto uses vendor/ when vendor/modules.txt exists,
// else the cache.
const (
	Auto   Mode = ""
	Vendor Mode = "vendor"
	Cache  Mode = "mod"
)

// Module is one module of the build list.
type Module struct {
	module.Version
	// Dir is the root of its files.
	Dir string
	// Summary lists its files' hashes; nil for a replace directory.
	Summary *modcache.Summary
	// Replaced is the replace directory as gofab.mod writes it, or "".
	Replaced string
}

// Project is a loaded project: its gofab.mod, gofab.sum and build list.
type Project struct {
	// Root is the directory holding gofab.mod.
	Root  string
	File  *modfile.File
	Sum   *modfile.Sum
	Cache modcache.Cache
	// Vendored is true when modules come from vendor/.
	Vendored bool
	// Graph is the requirement graph (nil when vendored).
	Graph *Graph

	mods     []*Module // longest path first, for prefix matching
	gofabVer string
	// entries are the cache entries Load read, each once.
	entries map[module.Version]*modcache.Entry
}

// ReadProject reads root's gofab.mod and gofab.sum, without loading the
// build list.
func ReadProject(root string, cache modcache.Cache, gofabVersion string) (*Project, error) {
	f, err := modfile.ReadFile(filepath.Join(root, modfile.Name))
	if err != nil {
		return nil, err
	}
	if err := f.CheckGofab(gofabVersion); err != nil {
		return nil, err
	}
	sum, err := modfile.ReadSum(filepath.Join(root, modfile.SumName))
	if err != nil {
		return nil, err
	}
	return &Project{Root: root, File: f, Sum: sum, Cache: cache, gofabVer: gofabVersion}, nil
}

// Load reads the project at root and its build list, from vendor/ or the
// cache as mode says, checking every module's file list and gofab.mod
// against gofab.sum: a mismatch or a missing module stops here, before
// anything connects. Module trees are not rehashed: each file require()
// loads is checked against its module's list (see Verify).
func Load(root string, cache modcache.Cache, mode Mode, gofabVersion string) (*Project, error) {
	p, err := ReadProject(root, cache, gofabVersion)
	if err != nil {
		return nil, err
	}
	if mode == Vendor || mode == Auto && p.hasVendor() {
		return p, p.loadVendor()
	}
	return p, p.loadCache()
}

// loadCache selects versions from the cached gofab.mod files.
func (p *Project) loadCache() error {
	g, err := BuildGraph(p.File.Module, p.File.Require, p.cachedReqs)
	if err != nil {
		return err
	}
	p.Graph = g
	for _, m := range g.List() {
		mod, err := p.cachedModule(m)
		if err != nil {
			return err
		}
		p.mods = append(p.mods, mod)
	}
	p.sortMods()
	return nil
}

// cachedModule is m from its replace directory or the cache, checked.
func (p *Project) cachedModule(m module.Version) (*Module, error) {
	if dir, ok := p.File.Replace[m.Path]; ok {
		return &Module{Version: m, Dir: p.abs(dir), Replaced: dir}, nil
	}
	e, err := p.lookup(m)
	if err != nil {
		return nil, err
	}
	if err := p.Sum.Check(m, false, e.Summary.Hash(), "the module cache ("+e.Dir+")", false); err != nil {
		return nil, err
	}
	return &Module{Version: m, Dir: e.Dir, Summary: e.Summary}, nil
}

// cachedReqs reads m's requirements from its replace directory's or its
// cached gofab.mod, checked against gofab.sum.
func (p *Project) cachedReqs(m module.Version) ([]module.Version, error) {
	data, where, err := p.modData(m)
	if err != nil {
		return nil, err
	}
	if where != "" {
		if err := p.Sum.Check(m, true, modcache.ModHash(data), where, false); err != nil {
			return nil, err
		}
	}
	return p.parseReqs(m, data)
}

// modData is m's gofab.mod and where it was read ("" for a replace
// directory, which gofab.sum does not cover).
func (p *Project) modData(m module.Version) ([]byte, string, error) {
	if dir, ok := p.File.Replace[m.Path]; ok {
		data, err := os.ReadFile(filepath.Join(p.abs(dir), modfile.Name))
		if errors.Is(err, os.ErrNotExist) {
			return SynthMod(m.Path), "", nil
		}
		return data, "", err
	}
	e, err := p.lookup(m)
	if errors.Is(err, modcache.ErrNotCached) {
		// MVS reads versions it does not select: only their gofab.mod.
		data, err := p.Cache.LookupMod(m)
		return data, "the module cache", err
	}
	if err != nil {
		return nil, "", err
	}
	return e.Mod, "the module cache", nil
}

// lookup is p.Cache.Lookup, once per module version.
func (p *Project) lookup(m module.Version) (*modcache.Entry, error) {
	if e, ok := p.entries[m]; ok {
		return e, nil
	}
	e, err := p.Cache.Lookup(m)
	if err != nil {
		return nil, err
	}
	if p.entries == nil {
		p.entries = map[module.Version]*modcache.Entry{}
	}
	p.entries[m] = e
	return e, nil
}

// parseReqs parses m's gofab.mod and checks it declares m's path and
// a gofab version this one meets.
func (p *Project) parseReqs(m module.Version, data []byte) ([]module.Version, error) {
	f, err := modfile.Parse(m.Path+"@"+m.Version+"/"+modfile.Name, data)
	if err != nil {
		return nil, err
	}
	if f.Module != "" && f.Module != m.Path {
		return nil, fmt.Errorf("%s@%s: its gofab.mod declares module %s: require it by that path", m.Path, m.Version, f.Module)
	}
	if err := f.CheckGofab(p.gofabVer); err != nil {
		return nil, err
	}
	return f.Require, nil
}

// SynthMod is the gofab.mod of a module whose repository has none: a
// module with no requirements, as Go treats a repository without go.mod.
func SynthMod(path string) []byte { return []byte("module " + path + "\n") }

func (p *Project) abs(dir string) string {
	if filepath.IsAbs(dir) {
		return dir
	}
	return filepath.Join(p.Root, dir)
}

func (p *Project) sortMods() {
	slices.SortFunc(p.mods, func(a, b *Module) int { return len(b.Path) - len(a.Path) })
}

// Modules is the build list, sorted by path.
func (p *Project) Modules() []*Module {
	out := slices.Clone(p.mods)
	slices.SortFunc(out, func(a, b *Module) int { return strings.Compare(a.Path, b.Path) })
	return out
}

// Find resolves a require() name that belongs to a module: the full
// module path, or an alias from gofab.mod, then "/name" inside it (dots
// in name are directories, as for local modules). ok is false when name
// is not a module's; a name that looks like a module path (a dotted first
// element and a slash) that no required module provides is an error.
func (p *Project) Find(name string) (file, namespace, root string, ok bool, err error) {
	full := name
	first, rest, _ := strings.Cut(name, "/")
	if target, ok := p.File.Alias[first]; ok {
		full = target
		if rest != "" {
			full += "/" + rest
		}
	}
	for _, m := range p.mods {
		rel, ok := strings.CutPrefix(full, m.Path)
		if !ok || rel != "" && rel[0] != '/' {
			continue
		}
		return p.findIn(m, name, strings.TrimPrefix(rel, "/"))
	}
	if strings.Contains(name, "/") && strings.Contains(first, ".") {
		return "", "", "", false, fmt.Errorf("require(%q): no module in %s provides it (gofab get MODULE adds one)", name, modfile.Name)
	}
	return "", "", "", false, nil
}

func (p *Project) findIn(m *Module, name, rel string) (file, namespace, root string, ok bool, err error) {
	ns := strings.ReplaceAll(rel, "/", ".")
	if rel == "" {
		elem, _, _ := module.SplitPathVersion(m.Path)
		ns = elem[strings.LastIndex(elem, "/")+1:]
	}
	base := strings.ReplaceAll(ns, ".", "/")
	candidates := []string{base + ".lua", base + "/init.lua"}
	if rel == "" {
		candidates = []string{"init.lua"}
	}
	for _, c := range candidates {
		if !p.exists(m, c) {
			continue
		}
		return filepath.Join(m.Dir, filepath.FromSlash(c)), ns, m.Dir, true, nil
	}
	return "", "", "", false, fmt.Errorf("require(%q): module %s@%s has no %s", name, m.Path, m.Version.Version, strings.Join(candidates, " or "))
}

// exists reports whether m has file rel: from its file list when it has
// one (the disk is checked when the file is loaded), else on disk.
func (p *Project) exists(m *Module, rel string) bool {
	if m.Summary != nil {
		return m.Summary.Has(rel)
	}
	fi, err := os.Stat(filepath.Join(m.Dir, filepath.FromSlash(rel)))
	return err == nil && fi.Mode().IsRegular()
}

// Verify checks a file's content before it is compiled: a file of a
// module from the cache or vendor/ must be what gofab.sum's hash lists.
// Files outside modules pass.
func (p *Project) Verify(file string, src []byte) error {
	for _, m := range p.mods {
		rel, err := filepath.Rel(m.Dir, file)
		if m.Summary == nil || err != nil || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
			continue
		}
		if err := m.Summary.CheckFile(filepath.ToSlash(rel), src); err != nil {
			return fmt.Errorf("%s@%s: %w: the copy in %s is not the one gofab.sum proves (gofab mod verify checks them all)",
				m.Path, m.Version.Version, err, m.Dir)
		}
		return nil
	}
	return nil
}
