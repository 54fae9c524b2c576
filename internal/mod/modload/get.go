package modload

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"path"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"golang.org/x/mod/module"

	"github.com/gofab/gofab/internal/base/outfile"
	"github.com/gofab/gofab/internal/mod/modcache"
	"github.com/gofab/gofab/internal/mod/modfetch"
	"github.com/gofab/gofab/internal/mod/modfile"
)

// Net is what changing the requirements may use: the network, through
// a Fetcher. Each method leaves gofab.mod and gofab.sum unchanged unless
// it succeeds (Save writes them).
type Net struct {
	*Project
	Fetch *modfetch.Fetcher
	// Log reports progress ("go: downloading …"); nil is quiet.
	Log io.Writer
	// Proxy, when set (GOFAB_PROXY), serves every module fetched by path;
	// what it does not have comes from git when Direct is set (",direct")
	// or gofab.mod names the module's source.
	Proxy  *modfetch.Proxy
	Direct bool
	// sources maps module paths to URLs named by required modules'
	// gofab.mod files.
	sources map[string]string
}

// URL is where path is fetched from: gofab.mod's source line, else one
// from a module requiring it, else https://PATH without a /vN suffix.
func (n *Net) URL(p string) string {
	if u, ok := n.File.Source[p]; ok {
		return u
	}
	if u, ok := n.sources[p]; ok {
		return u
	}
	prefix, _, _ := module.SplitPathVersion(p)
	return "https://" + prefix
}

// Download puts m in the cache unless it is there, and checks its
// gofab.mod's hash and, when tree is true, its tree's against gofab.sum;
// add records hashes gofab.sum lacks (gofab get), else a missing entry is
// an error.
func (n *Net) Download(ctx context.Context, m module.Version, add, tree bool) (*modcache.Entry, error) {
	if _, ok := n.File.Replace[m.Path]; ok {
		return nil, nil
	}
	e, err := n.Cache.Lookup(m)
	if errors.Is(err, modcache.ErrNotCached) {
		e, err = n.fetch(ctx, m, n.URL(m.Path))
	}
	if err != nil {
		return nil, err
	}
	if tree {
		if err := n.Sum.Check(m, false, e.Summary.Hash(), n.URL(m.Path), add); err != nil {
			return nil, err
		}
	}
	if err := n.Sum.Check(m, true, modcache.ModHash(e.Mod), n.URL(m.Path), add); err != nil {
		return nil, err
	}
	return e, nil
}

// fetch gets m's tree from rawURL into the cache.
func (n *Net) fetch(ctx context.Context, m module.Version, rawURL string) (*modcache.Entry, error) {
	if n.Log != nil {
		fmt.Fprintf(n.Log, "gofab: downloading %s %s\n", m.Path, m.Version)
	}
	files, mod, rev, err := n.fetchTree(ctx, m, rawURL)
	if err != nil {
		return nil, err
	}
	if declared := declaredPath(mod); declared != "" && declared != m.Path {
		return nil, fmt.Errorf("%s@%s: %s declares module %s, not %s", m.Path, m.Version, modfetch.Redact(rawURL), declared, m.Path)
	}
	if mod == nil {
		mod = SynthMod(m.Path)
	}
	from := rawURL
	if rev.Commit == "" && n.Proxy != nil {
		from = n.Proxy.URL
	}
	info := modcache.Info{Version: m.Version, Time: time.Unix(rev.Time, 0).UTC(), URL: modfetch.Redact(from), Commit: rev.Commit}
	return n.Cache.Put(ctx, m, files, mod, info)
}

// fetchTree gets m's files and gofab.mod from the proxy, else (or when
// it lacks m and Direct is set) from git at rawURL.
func (n *Net) fetchTree(ctx context.Context, m module.Version, rawURL string) ([]modcache.File, []byte, modfetch.Rev, error) {
	if n.Proxy != nil {
		files, mod, err := n.Proxy.Files(ctx, m)
		if err == nil || !n.direct(m.Path) || !errors.Is(err, modfetch.ErrNotFound) {
			return files, mod, modfetch.Rev{Version: m.Version}, err
		}
	}
	rev, err := n.Fetch.Resolve(ctx, rawURL, m.Path, m.Version)
	if err != nil {
		return nil, nil, rev, err
	}
	files, mod, err := n.tree(ctx, rawURL, rev.Commit)
	return files, mod, rev, err
}

// direct reports whether path may be fetched from git when the proxy
// does not have it: with ",direct", or when gofab.mod names its source.
func (n *Net) direct(path string) bool { return n.Direct || n.File.Source[path] != "" }

// resolve turns query into a version of path: from the proxy when set
// (falling back to git with Direct), else from git at rawURL.
func (n *Net) resolve(ctx context.Context, path, rawURL, query string) (modfetch.Rev, error) {
	if n.Proxy != nil {
		rev, err := n.Proxy.Resolve(ctx, path, query)
		if err == nil || !n.direct(path) || !errors.Is(err, modfetch.ErrNotFound) {
			return rev, err
		}
	}
	return n.Fetch.Resolve(ctx, rawURL, path, query)
}

// tree is the files at commit and the module's gofab.mod (nil if none).
func (n *Net) tree(ctx context.Context, rawURL, commit string) ([]modcache.File, []byte, error) {
	files, err := n.Fetch.Files(ctx, rawURL, commit, "")
	if err != nil {
		return nil, nil, err
	}
	for _, f := range files {
		if f.Name == modfile.Name {
			return files, f.Data, nil
		}
	}
	return files, nil, nil
}

// declaredPath is the module line of a gofab.mod, or "".
func declaredPath(mod []byte) string {
	if mod == nil {
		return ""
	}
	f, err := modfile.Parse(modfile.Name, mod)
	if err != nil {
		return ""
	}
	return f.Module
}

// netReqs is cachedReqs, downloading what the cache lacks.
func (n *Net) netReqs(ctx context.Context, add bool) func(module.Version) ([]module.Version, error) {
	return func(m module.Version) ([]module.Version, error) {
		if _, err := n.Download(ctx, m, add, false); err != nil {
			return nil, err
		}
		reqs, err := n.cachedReqs(m)
		if err != nil {
			return nil, err
		}
		data, _, _ := n.modData(m)
		if f, err := modfile.Parse(m.Path, data); err == nil {
			for p, u := range f.Source {
				if n.sources == nil {
					n.sources = map[string]string{}
				}
				if _, ok := n.sources[p]; !ok {
					n.sources[p] = u
				}
			}
		}
		return reqs, nil
	}
}

// Resolve selects the build list, downloading every module it needs
// into the cache; add records missing gofab.sum hashes. Entries of
// modules no longer in the build list are dropped from gofab.sum.
func (n *Net) Resolve(ctx context.Context, add bool) error {
	g, err := BuildGraph(n.File.Module, n.File.Require, n.netReqs(ctx, add))
	if err != nil {
		return err
	}
	n.Graph = g
	n.mods = nil
	for _, m := range g.List() {
		if _, err := n.Download(ctx, m, add, true); err != nil {
			return err
		}
		mod, err := n.cachedModule(m)
		if err != nil {
			return err
		}
		n.mods = append(n.mods, mod)
	}
	n.sortMods()
	n.Sum.Keep(g.List(), g.Nodes())
	return nil
}

// Save writes gofab.mod and gofab.sum.
func (p *Project) Save() error {
	for name, data := range map[string][]byte{modfile.SumName: p.Sum.Format(), modfile.Name: p.File.Format()} {
		err := outfile.Write(filepath.Join(p.Root, name), 0o644, func(w io.Writer) error { _, err := w.Write(data); return err })
		if err != nil {
			return err
		}
	}
	return nil
}

// Get changes one requirement, as gofab get ARG does: ARG is a module
// path or a git URL (https://, ssh://, user@host:path, file://, a local
// path), with @version (a tag, a branch, a commit, latest, or none to
// drop it); no @version means latest. It fetches what the new build list
// needs; call Save to record it.
func (n *Net) Get(ctx context.Context, arg string) (module.Version, error) {
	target, query := splitQuery(arg)
	if query == "" {
		query = "latest"
	}
	if isURL(target) {
		return n.getURL(ctx, target, query)
	}
	if err := module.CheckImportPath(target); err != nil {
		return module.Version{}, fmt.Errorf("gofab get %s: %w", arg, err)
	}
	if path, ok := n.File.Alias[target]; ok {
		target = path
	}
	if query == "none" {
		n.File.SetRequire(target, "")
		n.File.SetSource(target, "")
		return module.Version{Path: target}, n.Resolve(ctx, true)
	}
	rev, err := n.resolve(ctx, target, n.URL(target), query)
	if err != nil {
		return module.Version{}, err
	}
	return n.require(ctx, target, n.URL(target), rev.Version)
}

// getURL gets the module at a URL: its path is its gofab.mod's module
// line, else derived from the URL (DerivePath).
func (n *Net) getURL(ctx context.Context, rawURL, query string) (module.Version, error) {
	path, err := DerivePath(rawURL)
	if err != nil {
		return module.Version{}, err
	}
	rev, err := n.Fetch.Resolve(ctx, rawURL, "", query)
	if err != nil {
		return module.Version{}, err
	}
	_, mod, err := n.tree(ctx, rawURL, rev.Commit)
	if err != nil {
		return module.Version{}, err
	}
	if declared := declaredPath(mod); declared != "" {
		path = declared
	}
	if query == "none" {
		return n.Get(ctx, path+"@none")
	}
	if rev, err = n.Fetch.Resolve(ctx, rawURL, path, query); err != nil {
		return module.Version{}, err
	}
	return n.require(ctx, path, rawURL, rev.Version)
}

// require requires path at version, fetched from rawURL (or the proxy).
func (n *Net) require(ctx context.Context, path, rawURL, version string) (module.Version, error) {
	m := module.Version{Path: path, Version: version}
	if path == n.File.Module {
		return m, fmt.Errorf("%s is this project's own module", path)
	}
	n.File.SetRequire(path, version)
	if rawURL != n.URL(path) || n.File.Source[path] != "" {
		n.File.SetSource(path, rawURL)
	}
	if _, err := n.fetchChecked(ctx, m); err != nil {
		return m, err
	}
	return m, n.Resolve(ctx, true)
}

// fetchChecked downloads m and checks the gofab version it
// needs.
func (n *Net) fetchChecked(ctx context.Context, m module.Version) (*modcache.Entry, error) {
	e, err := n.Download(ctx, m, true, true)
	if err != nil || e == nil { // nil: a replace directory
		return e, err
	}
	if f, err := modfile.Parse(m.Path+"@"+m.Version+"/"+modfile.Name, e.Mod); err != nil {
		return nil, err
	} else if err := f.CheckGofab(n.gofabVer); err != nil {
		return nil, err
	}
	return e, nil
}

// splitQuery splits "target@query" at its last @ when what follows is a
// version query (user@host:path is not).
func splitQuery(arg string) (string, string) {
	i := strings.LastIndex(arg, "@")
	if i < 0 || strings.ContainsAny(arg[i+1:], ":/") {
		return arg, ""
	}
	return arg[:i], arg[i+1:]
}

var scpLike = regexp.MustCompile(`^(?:[\w.-]+@)?[\w.-]+:[^/]`)

// isURL reports whether s is a git URL or a local path rather than a
// module path.
func isURL(s string) bool {
	return strings.Contains(s, "://") || scpLike.MatchString(s) && !strings.Contains(strings.SplitN(s, ":", 2)[0], "/") ||
		strings.HasPrefix(s, "/") || strings.HasPrefix(s, "./") || strings.HasPrefix(s, "../")
}

// DerivePath is the module path of a repository without a gofab.mod,
// from its URL: host and path for network URLs, without user, port and
// ".git" (ssh://git@git.example.com:2222/ops/recipes.git and
// git@git.example.com:ops/recipes.git are git.example.com/ops/recipes),
// and file.local/ and the last folder's name for file:// URLs and local
// paths (/srv/git/recipes.git is file.local/recipes: a required path needs
// a dot in its first element, as in Go).
func DerivePath(rawURL string) (string, error) {
	var p string
	switch {
	case strings.Contains(rawURL, "://"):
		u, err := url.Parse(rawURL)
		if err != nil {
			return "", fmt.Errorf("%s: %w", modfetch.Redact(rawURL), err)
		}
		if u.Scheme == "file" {
			p = "file.local/" + path.Base(strings.TrimSuffix(u.Path, "/"))
		} else {
			p = u.Hostname() + u.Path
		}
	case strings.HasPrefix(rawURL, "/") || strings.HasPrefix(rawURL, "."):
		abs, err := filepath.Abs(rawURL)
		if err != nil {
			return "", err
		}
		p = "file.local/" + filepath.Base(abs)
	default: // user@host:path
		_, hostPath, _ := strings.Cut(rawURL, "@")
		if !strings.Contains(rawURL, "@") {
			hostPath = rawURL
		}
		h, rest, _ := strings.Cut(hostPath, ":")
		p = h + "/" + strings.TrimPrefix(rest, "/")
	}
	p = strings.TrimSuffix(strings.TrimSuffix(p, "/"), ".git")
	if err := module.CheckImportPath(p); err != nil {
		return "", fmt.Errorf("%s: cannot derive a module path (%v): give the repository a gofab.mod with a module line", modfetch.Redact(rawURL), err)
	}
	return p, nil
}
