package modload

import (
	"context"
	"fmt"
	"slices"
	"strings"
)

// Tidy makes gofab.mod require exactly the modules that names (the
// require() arguments of the project's own Lua files) need: a name no
// required module provides is looked up at its newest version, longest
// candidate path first; a requirement no name uses is dropped (what
// other modules need stays in the build list through their gofab.mod).
func (n *Net) Tidy(ctx context.Context, names []string) error {
	if err := n.Resolve(ctx, true); err != nil {
		return err
	}
	used := map[string]string{}
	for _, name := range names {
		full := n.expandAlias(name)
		if m := n.provider(full); m != nil {
			used[m.Path] = m.Version.Version
			continue
		}
		first, _, _ := strings.Cut(full, "/")
		if !strings.Contains(full, "/") || !strings.Contains(first, ".") {
			continue // a local module
		}
		path, err := n.getProvider(ctx, full)
		if err != nil {
			return err
		}
		used[path] = n.File.Requires(path)
	}
	for _, r := range slices.Clone(n.File.Require) {
		if _, ok := used[r.Path]; !ok {
			n.File.SetRequire(r.Path, "")
			n.File.SetSource(r.Path, "")
		}
	}
	for path, v := range used {
		if n.File.Requires(path) == "" {
			n.File.SetRequire(path, v)
		}
	}
	return n.Resolve(ctx, true)
}

func (p *Project) expandAlias(name string) string {
	first, rest, _ := strings.Cut(name, "/")
	if target, ok := p.File.Alias[first]; ok {
		if rest == "" {
			return target
		}
		return target + "/" + rest
	}
	return name
}

// provider is the build list's module whose path is the longest prefix
// of name, or nil.
func (p *Project) provider(name string) *Module {
	for _, m := range p.mods {
		if rel, ok := strings.CutPrefix(name, m.Path); ok && (rel == "" || rel[0] == '/') {
			return m
		}
	}
	return nil
}

// getProvider requires the newest version of the longest prefix of name
// that is a module, trying shorter ones down to host/one element.
func (n *Net) getProvider(ctx context.Context, name string) (string, error) {
	parts := strings.Split(name, "/")
	var firstErr error
	for i := len(parts); i >= 2; i-- {
		path := strings.Join(parts[:i], "/")
		m, err := n.Get(ctx, path+"@latest")
		if err == nil {
			return m.Path, nil
		}
		if firstErr == nil {
			firstErr = err
		}
	}
	return "", fmt.Errorf("require(%q): no module provides it: %w", name, firstErr)
}
