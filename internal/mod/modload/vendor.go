package modload

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/mod/module"

	"github.com/gofab/gofab/internal/mod/modcache"
)

// VendorDir is the folder gofab mod vendor fills; its manifest is
// vendor/modules.txt.
const VendorDir = "vendor"

const vendorHeader = "# gofab mod vendor: the build list, each module's file hashes (gofab.sum proves them)\n"

func (p *Project) vendorManifest() string {
	return filepath.Join(p.Root, VendorDir, "modules.txt")
}

func (p *Project) hasVendor() bool {
	_, err := os.Stat(p.vendorManifest())
	return err == nil
}

// loadVendor reads the build list from vendor/modules.txt: each module's
// versions, whether gofab.mod requires it, and its file list, whose hash
// must be gofab.sum's. Neither the cache nor the network is used.
func (p *Project) loadVendor() error {
	data, err := os.ReadFile(p.vendorManifest())
	if err != nil {
		return fmt.Errorf("-mod=vendor: %w (run gofab mod vendor)", err)
	}
	mods, explicit, err := parseManifest(data)
	if err != nil {
		return fmt.Errorf("%s: %w", p.vendorManifest(), err)
	}
	for _, r := range p.File.Require {
		if explicit[r.Path] != r.Version {
			return fmt.Errorf("vendor/modules.txt is out of date: gofab.mod requires %s %s, vendor/ has %q (run gofab mod vendor)", r.Path, r.Version, explicit[r.Path])
		}
	}
	p.Vendored = true
	for _, vm := range mods {
		m := &Module{Version: vm.Version, Dir: filepath.Join(p.Root, VendorDir, filepath.FromSlash(vm.Path)), Replaced: vm.replaced}
		sum, err := modcache.ParseSummary(vm.Version, expand(vm.Version, vm.lines))
		if err != nil {
			return err
		}
		m.Summary = sum
		if vm.replaced == "" {
			if err := p.Sum.Check(vm.Version, false, sum.Hash(), "vendor/", false); err != nil {
				return err
			}
		}
		p.mods = append(p.mods, m)
	}
	p.sortMods()
	return nil
}

type vendored struct {
	module.Version
	replaced string
	lines    []byte
}

// parseManifest reads vendor/modules.txt:
//
//	# path version
//	## explicit           (gofab.mod requires it)
//	## replace ../dir     (from a replace directory)
//	<sha256>  file
//
// A module's file lines are kept as one slice of data, not copied; the
// file names are relative (expand makes the summary dirhash hashes).
func parseManifest(data []byte) ([]*vendored, map[string]string, error) {
	var mods []*vendored
	explicit := map[string]string{}
	var cur *vendored
	start := -1 // where cur's file lines begin
	end := func(at int) {
		if cur != nil && start >= 0 {
			cur.lines = data[start:at]
		}
		start = -1
	}
	for off, n := 0, 1; off < len(data); n++ {
		next := bytes.IndexByte(data[off:], '\n') + off + 1
		if next == off {
			next = len(data)
		}
		line := string(bytes.TrimSuffix(data[off:next], []byte("\n")))
		switch {
		case line == "" || line[0] != '#':
			if cur == nil {
				return nil, nil, fmt.Errorf("line %d: a file line before any module", n)
			}
			if start < 0 {
				start = off
			}
		case n == 1 && line+"\n" == vendorHeader:
		case strings.HasPrefix(line, "## ") && cur != nil:
			end(off)
			f := strings.Fields(line)
			if f[1] == "explicit" {
				explicit[cur.Path] = cur.Version.Version
			} else if f[1] == "replace" && len(f) == 3 {
				cur.replaced = f[2]
			}
		case strings.HasPrefix(line, "# ") && len(strings.Fields(line)) == 3:
			end(off)
			f := strings.Fields(line)
			cur = &vendored{Version: module.Version{Path: f[1], Version: f[2]}}
			mods = append(mods, cur)
		default:
			return nil, nil, fmt.Errorf("line %d: unexpected %q", n, line)
		}
		off = next
	}
	end(len(data))
	return mods, explicit, nil
}

// expand turns vendor/modules.txt's "sha256  file" lines back into the
// summary lines "sha256  path@version/file" whose hash gofab.sum records.
func expand(m module.Version, lines []byte) []byte {
	prefix := m.Path + "@" + m.Version + "/"
	out := make([]byte, 0, len(lines)+bytes.Count(lines, []byte("\n"))*len(prefix))
	for line := range bytes.Lines(lines) {
		if len(line) < 66 {
			out = append(out, line...) // malformed: the hash check refuses it
			continue
		}
		out = append(append(append(out, line[:66]...), prefix...), line[66:]...)
	}
	return out
}

// shorten is expand's inverse, for writing vendor/modules.txt.
func shorten(m module.Version, summary []byte) []byte {
	prefix := []byte(m.Path + "@" + m.Version + "/")
	var out []byte
	for line := range bytes.Lines(summary) {
		out = append(append(out, line[:66]...), bytes.TrimPrefix(line[66:], prefix)...)
	}
	return out
}

// WriteVendor copies the build list's trees into vendor/, exactly as
// gofab.sum proves them, with vendor/modules.txt listing them. The old
// vendor/ is replaced only once the new one is complete.
func (p *Project) WriteVendor() error {
	var manifest bytes.Buffer
	manifest.WriteString(vendorHeader)
	tmp, err := os.MkdirTemp(p.Root, ".vendor-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	for _, m := range p.Modules() {
		files, err := p.moduleFiles(m)
		if err != nil {
			return err
		}
		sum := modcache.Summarize(m.Version, files)
		if m.Replaced == "" {
			if err := p.Sum.Check(m.Version, false, sum.Hash(), m.Dir, false); err != nil {
				return err
			}
		}
		fmt.Fprintf(&manifest, "# %s %s\n", m.Path, m.Version.Version)
		if p.File.Requires(m.Path) != "" {
			manifest.WriteString("## explicit\n")
		}
		if m.Replaced != "" {
			fmt.Fprintf(&manifest, "## replace %s\n", m.Replaced)
		}
		manifest.Write(shorten(m.Version, sum.Bytes()))
		if err := modcache.WriteTree(filepath.Join(tmp, filepath.FromSlash(m.Path)), files); err != nil {
			return err
		}
	}
	if err := os.WriteFile(filepath.Join(tmp, "modules.txt"), manifest.Bytes(), 0o644); err != nil {
		return err
	}
	dir := filepath.Join(p.Root, VendorDir)
	old := dir + ".old"
	os.RemoveAll(old)
	if err := os.Rename(dir, old); err != nil && !os.IsNotExist(err) {
		return err
	}
	if err := os.Rename(tmp, dir); err != nil {
		os.Rename(old, dir)
		return err
	}
	return os.RemoveAll(old)
}

// moduleFiles reads m's whole tree (a replace directory without the
// folders of other vendored modules nested in it).
func (p *Project) moduleFiles(m *Module) ([]modcache.File, error) {
	files, err := modcache.ReadTree(m.Dir, func(rel string) bool {
		return rel == ".git" || p.isModuleDir(m.Path+"/"+rel)
	})
	if err != nil {
		return nil, fmt.Errorf("%s@%s: %w", m.Path, m.Version.Version, err)
	}
	return files, nil
}

func (p *Project) isModuleDir(path string) bool {
	for _, m := range p.mods {
		if m.Path == path {
			return true
		}
	}
	return false
}

// VerifyAll rehashes every module tree of the build list (the cache's
// copies, or vendor/'s) and each gofab.mod, against gofab.sum; it returns
// one error per module that differs.
func (p *Project) VerifyAll() []error {
	var errs []error
	for _, m := range p.Modules() {
		if m.Replaced != "" && !p.Vendored {
			continue
		}
		files, err := p.moduleFiles(m)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		sum := modcache.Summarize(m.Version, files)
		if m.Summary != nil && sum.Hash() != m.Summary.Hash() {
			where := m.Dir
			errs = append(errs, fmt.Errorf("%s@%s: files in %s differ from their recorded list (%s, recorded %s)", m.Path, m.Version.Version, where, sum.Hash(), m.Summary.Hash()))
			continue
		}
		if m.Replaced == "" {
			if err := p.Sum.Check(m.Version, false, sum.Hash(), m.Dir, false); err != nil {
				errs = append(errs, err)
			}
		}
	}
	return errs
}
