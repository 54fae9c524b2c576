package main

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/urfave/cli/v2"
	"golang.org/x/mod/module"
	"golang.org/x/mod/semver"
	"golang.org/x/term"

	"github.com/gofab/gofab/internal/mod/modcache"
	"github.com/gofab/gofab/internal/mod/modfetch"
	"github.com/gofab/gofab/internal/mod/modfile"
	"github.com/gofab/gofab/internal/mod/modload"
	"github.com/gofab/gofab/internal/run/lint"
	"github.com/gofab/gofab/internal/transport/connect"
	"github.com/gofab/gofab/internal/transport/sshconfig"
	"github.com/gofab/gofab/luart"
)

// gofabMajorMinor is the "gofab" line gofab mod init writes.
func gofabMajorMinor() string { return strings.TrimPrefix(semver.MajorMinor("v"+version), "v") }

// modFlag is --mod: where recipe modules come from.
var modFlag = &cli.StringFlag{Name: "mod", Usage: "recipe modules from `MODE`: vendor (vendor/ only) or mod (the module cache); default vendor/ when vendor/modules.txt exists"}

// moduleCommands are gofab get, gofab mod and gofab clean.
func moduleCommands(env environ) []*cli.Command {
	sshFlag := &cli.StringFlag{Name: "ssh-config", Aliases: []string{"S", "F"}, Usage: "ssh config `FILE` for git over SSH, instead of ~/.ssh/config"}
	return []*cli.Command{
		{
			Name:      "get",
			Usage:     "add, upgrade or drop a recipe module requirement: PATH or git URL, @version (tag, branch, commit, latest, none)",
			ArgsUsage: "MODULE[@VERSION]...",
			Flags:     []cli.Flag{&cli.BoolFlag{Name: "u", Usage: "upgrade the named modules (all required ones when none is named) to their newest tag"}, sshFlag},
			Action:    func(c *cli.Context) error { return getAction(c, env) },
		},
		{
			Name:  "mod",
			Usage: "manage gofab.mod, gofab.sum, the module cache and vendor/",
			Subcommands: []*cli.Command{
				{Name: "init", Usage: "write gofab.mod declaring module PATH", ArgsUsage: "PATH", Action: func(c *cli.Context) error { return modInit(c, env) }},
				{Name: "download", Flags: []cli.Flag{sshFlag}, Usage: "fill the module cache with every module gofab.sum pins (for CI)", Action: func(c *cli.Context) error { return modDownload(c, env) }},
				{Name: "verify", Usage: "rehash every module tree in the cache or vendor/ against gofab.sum", Action: func(c *cli.Context) error { return modVerify(c, env) }},
				{Name: "vendor", Flags: []cli.Flag{sshFlag}, Usage: "copy every module into vendor/, so runs need neither the cache nor the network", Action: func(c *cli.Context) error { return modVendor(c, env) }},
				{Name: "tidy", Flags: []cli.Flag{sshFlag}, Usage: "require what the fabfiles' require() calls need, drop what nothing uses", Action: func(c *cli.Context) error { return modTidy(c, env) }},
				{Name: "graph", Flags: []cli.Flag{sshFlag}, Usage: "print the requirement graph, one \"from to\" edge a line", Action: func(c *cli.Context) error { return modGraph(c, env) }},
				modEditCommand(env),
				{Name: "why", Flags: []cli.Flag{sshFlag}, Usage: "show the requirement chain that brings in PATH", ArgsUsage: "PATH", Action: func(c *cli.Context) error { return modWhy(c, env) }},
			},
		},
		{
			Name:  "clean",
			Usage: "remove cached data: -modcache empties the module cache",
			Flags: []cli.Flag{&cli.BoolFlag{Name: "modcache", Usage: "remove the whole module cache"}},
			Action: func(c *cli.Context) error {
				f, err := flagsOf[struct {
					Modcache bool `flag:"modcache"`
				}](c)
				if err != nil {
					return err
				}
				if !f.Modcache {
					return usageErr("clean: say what to clean (-modcache)")
				}
				cache, err := moduleCache(env)
				if err != nil {
					return err
				}
				if err := cache.Clean(); err != nil {
					return &exitError{code: exitFailed, msg: fmt.Sprintf("clean -modcache: %v", err)}
				}
				return nil
			},
		},
	}
}

func moduleCache(env environ) (modcache.Cache, error) {
	dir, err := modcache.DefaultDir(env.getenv)
	if err != nil {
		return modcache.Cache{}, usageErr("%v", err)
	}
	return modcache.Cache{Dir: dir}, nil
}

// projectRoot is the directory of the gofab.mod nearest dir, or "".
func projectRoot(dir string) string {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return ""
	}
	root, err := modfile.Find(abs)
	if err != nil {
		return ""
	}
	return root
}

// loadModules loads the recipe modules of the project fabfile belongs
// to, for a run, check, listing or test; nil when it has no gofab.mod.
func loadModules(cfg Config, env environ, fabfile string) (luart.ModuleFinder, error) {
	root := projectRoot(filepath.Dir(fabfile))
	if root == "" {
		return nil, nil
	}
	cache, err := moduleCache(env)
	if err != nil {
		return nil, err
	}
	mode := modload.Mode(cfg.Mod)
	if mode != modload.Auto && mode != modload.Vendor && mode != modload.Cache {
		return nil, usageErr("--mod %q: want vendor or mod", mode)
	}
	p, err := modload.Load(root, cache, mode, version)
	if err != nil {
		return nil, usageErr("%v", err)
	}
	return p, nil
}

// openProject reads the project of the working directory for gofab get
// and gofab mod, with a Fetcher that reaches git over SSH the way gofab
// reaches hosts (ssh_config, keys, agent, known_hosts).
func openProject(c *cli.Context, env environ) (*modload.Net, error) {
	wd, err := os.Getwd()
	if err != nil {
		return nil, usageErr("%v", err)
	}
	root := projectRoot(wd)
	if root == "" {
		return nil, usageErr("no gofab.mod here or in any parent directory (gofab mod init PATH writes one)")
	}
	cache, err := moduleCache(env)
	if err != nil {
		return nil, err
	}
	p, err := modload.ReadProject(root, cache, version)
	if err != nil {
		return nil, usageErr("%v", err)
	}
	cfg, err := readConfig(c)
	if err != nil {
		return nil, err
	}
	files, err := sshFiles(cfg)
	if err != nil {
		return nil, err
	}
	opts := connect.Options{Config: sshconfig.NewLoader(sshconfig.CurrentLocal(), files...), AgentSocket: env.getenv("SSH_AUTH_SOCK")}
	if env.stdin != nil && term.IsTerminal(int(env.stdin.Fd())) { // a key's passphrase is asked as for a run
		opts.Prompter = newConsole(env.stdin, env.stderr, env.stdout, env.getenv("TERM"))
	}
	dialer := connect.NewDialer(opts)
	n := &modload.Net{Project: p, Fetch: &modfetch.Fetcher{SSH: dialer}, Log: env.stderr}
	n.Proxy, n.Direct, err = moduleProxy(env.getenv("GOFAB_PROXY"))
	return n, err
}

// moduleProxy reads GOFAB_PROXY: "" or "direct" fetch from git; "URL"
// fetches every module from that proxy; "URL,direct" falls back to git
// for what the proxy does not have.
func moduleProxy(v string) (*modfetch.Proxy, bool, error) {
	list := strings.Split(v, ",")
	if v == "" || list[0] == "direct" {
		return nil, false, nil
	}
	if len(list) > 2 || len(list) == 2 && list[1] != "direct" || !strings.HasPrefix(list[0], "https://") && !strings.HasPrefix(list[0], "http://") && !strings.HasPrefix(list[0], "file://") {
		return nil, false, usageErr("GOFAB_PROXY=%q: want URL, URL,direct or direct (URL: https://, http:// or file://)", modfetch.Redact(v))
	}
	return &modfetch.Proxy{URL: list[0]}, len(list) == 2, nil
}

// modErr is a module command's failure: one line, exit 2.
func modErr(err error) error {
	return usageErr("%v", err)
}

func modInit(c *cli.Context, env environ) error {
	if c.NArg() != 1 {
		return usageErr("mod init: give the module PATH (example.com/ops/myproject)")
	}
	if _, err := os.Stat(modfile.Name); err == nil {
		return usageErr("%s already exists", modfile.Name)
	}
	f, err := modfile.New(c.Args().First(), gofabMajorMinor())
	if err != nil {
		return modErr(fmt.Errorf("mod init: %w", err))
	}
	wd, _ := os.Getwd()
	p := &modload.Project{Root: wd, File: f, Sum: modfile.NewSum()}
	if err := p.Save(); err != nil {
		return modErr(err)
	}
	fmt.Fprintf(env.stderr, "gofab: wrote %s\n", modfile.Name)
	return nil
}

func getAction(c *cli.Context, env environ) error {
	n, err := openProject(c, env)
	if err != nil {
		return err
	}
	f, err := flagsOf[struct {
		Update bool `flag:"u"`
	}](c)
	if err != nil {
		return err
	}
	args := c.Args().Slice()
	if f.Update && len(args) == 0 {
		for _, r := range n.File.Require {
			args = append(args, r.Path)
		}
	}
	if len(args) == 0 {
		return usageErr("get: name a module (PATH or git URL, @version)")
	}
	for _, a := range args {
		m, err := n.Get(c.Context, a)
		if err != nil {
			return modErr(err)
		}
		if m.Version != "" {
			fmt.Fprintf(env.stderr, "gofab: %s %s\n", m.Path, m.Version)
		}
	}
	return saveProject(n.Project)
}

func saveProject(p *modload.Project) error {
	if err := p.Save(); err != nil {
		return modErr(err)
	}
	return nil
}

func modDownload(c *cli.Context, env environ) error {
	n, err := openProject(c, env)
	if err != nil {
		return err
	}
	if err := n.Resolve(c.Context, false); err != nil {
		return modErr(err)
	}
	return nil
}

func modVerify(c *cli.Context, env environ) error {
	root := projectRoot(".")
	if root == "" {
		return usageErr("no gofab.mod here or in any parent directory")
	}
	cache, err := moduleCache(env)
	if err != nil {
		return err
	}
	cfg, err := readConfig(c)
	if err != nil {
		return err
	}
	p, err := modload.Load(root, cache, modload.Mode(cfg.Mod), version)
	if err != nil {
		return modErr(err)
	}
	errs := p.VerifyAll()
	for _, e := range errs {
		fmt.Fprintf(env.stderr, "gofab: %v\n", e)
	}
	if len(errs) > 0 {
		return &exitError{code: exitUsage}
	}
	fmt.Fprintln(env.stdout, "all modules verified")
	return nil
}

func modVendor(c *cli.Context, env environ) error {
	n, err := openProject(c, env)
	if err != nil {
		return err
	}
	if err := n.Resolve(c.Context, false); err != nil {
		return modErr(err)
	}
	if err := n.WriteVendor(); err != nil {
		return modErr(fmt.Errorf("mod vendor: %w", err))
	}
	return nil
}

func modTidy(c *cli.Context, env environ) error {
	n, err := openProject(c, env)
	if err != nil {
		return err
	}
	names, err := projectRequires(n.Root)
	if err != nil {
		return modErr(err)
	}
	if err := n.Tidy(c.Context, names); err != nil {
		return modErr(err)
	}
	return saveProject(n.Project)
}

func modGraph(c *cli.Context, env environ) error {
	n, err := openProject(c, env)
	if err != nil {
		return err
	}
	if err := n.Resolve(c.Context, false); err != nil {
		return modErr(err)
	}
	for _, l := range n.Graph.Lines() {
		fmt.Fprintln(env.stdout, l)
	}
	return nil
}

func modWhy(c *cli.Context, env environ) error {
	if c.NArg() != 1 {
		return usageErr("mod why: give a module PATH")
	}
	n, err := openProject(c, env)
	if err != nil {
		return err
	}
	if err := n.Resolve(c.Context, false); err != nil {
		return modErr(err)
	}
	path := c.Args().First()
	fmt.Fprintf(env.stdout, "# %s\n", path)
	chain := n.Graph.Why(path)
	if chain == nil {
		fmt.Fprintf(env.stdout, "(%s does not need %s)\n", n.File.Module, path)
		return nil
	}
	fmt.Fprintln(env.stdout, strings.Join(chain, "\n"))
	return nil
}

// projectRequires lists the require() names of the project's own Lua
// files (not vendor/ or hidden folders).
func projectRequires(root string) ([]string, error) {
	var names []string
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && p != root && (d.Name() == modload.VendorDir || strings.HasPrefix(d.Name(), ".")) {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(p, ".lua") {
			return nil
		}
		src, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		found, err := lint.Requires(luart.DisplayPath(p), src)
		if err != nil {
			return err
		}
		names = append(names, found...)
		return nil
	})
	return names, err
}

// DefaultModulesDir is where gofab types links the recipe modules of
// gofab.mod for the editor.
const DefaultModulesDir = ".gofab/modules"

// linkModules makes lua-language-server resolve require() of recipe
// modules: LuaLS reads a require name's dots as folders, so each module
// (and alias) gets a symbolic link at .gofab/modules/<path, dots as
// slashes> to its tree in the cache or vendor/, and the folder joins
// .luarc.json's workspace.library. Without a gofab.mod it does nothing.
func linkModules(c *cli.Context, env environ, luarc string) error {
	cfg, err := readConfig(c)
	if err != nil {
		return err
	}
	finder, err := loadModules(cfg, env, filepath.Join(".", DefaultFabfile))
	if err != nil || finder == nil {
		return err
	}
	p := finder.(*modload.Project)
	if err := os.RemoveAll(DefaultModulesDir); err != nil {
		return usageErr("types: %v", err)
	}
	links := map[string]string{}
	for _, m := range p.Modules() {
		links[m.Path] = m.Dir
	}
	for alias, path := range p.File.Alias {
		if dir, ok := links[path]; ok {
			links[alias] = dir
		}
	}
	for name, dir := range links {
		link := filepath.Join(DefaultModulesDir, filepath.FromSlash(strings.ReplaceAll(name, ".", "/")))
		if err := os.MkdirAll(filepath.Dir(link), 0o755); err != nil {
			return usageErr("types: %v", err)
		}
		if err := os.Symlink(dir, link); err != nil {
			return usageErr("types: %v", err)
		}
	}
	if err := addLibrary(luarc, DefaultModulesDir); err != nil {
		return err
	}
	fmt.Fprintf(env.stdout, "linked %d recipe modules under %s\n", len(links), DefaultModulesDir)
	return nil
}

// modEditCommand is gofab mod edit: gofab.mod changed from flags, as go
// mod edit does, without fetching anything (gofab mod download or tidy
// then fill the cache and gofab.sum).
func modEditCommand(env environ) *cli.Command {
	list := func(name, usage string) cli.Flag { return &cli.StringSliceFlag{Name: name, Usage: usage} }
	return &cli.Command{
		Name:  "edit",
		Usage: "edit gofab.mod from flags (no network): -require, -droprequire, -replace, -dropreplace, -alias, -dropalias, -source, -dropsource, -gofab",
		Flags: []cli.Flag{
			list("require", "require `PATH@VERSION`"), list("droprequire", "drop the requirement of `PATH`"),
			list("replace", "replace `PATH=DIR` by a local directory"), list("dropreplace", "drop the replacement of `PATH`"),
			list("alias", "short name `NAME=PATH`"), list("dropalias", "drop the short name `NAME`"),
			list("source", "fetch `PATH=URL` from that git URL"), list("dropsource", "drop the source of `PATH`"),
			&cli.StringFlag{Name: "gofab", Usage: "the gofab `VERSION` the module needs"},
		},
		Action: func(c *cli.Context) error { return modEdit(c, env) },
	}
}

func modEdit(c *cli.Context, env environ) error {
	wd, err := os.Getwd()
	if err != nil {
		return usageErr("%v", err)
	}
	root := projectRoot(wd)
	if root == "" {
		return usageErr("no gofab.mod here or in any parent directory")
	}
	p, err := modload.ReadProject(root, modcache.Cache{}, version)
	if err != nil {
		return modErr(err)
	}
	f := p.File
	pairs := func(flag, sep string, set func(k, v string) error) error {
		for _, kv := range c.StringSlice(flag) {
			k, v, ok := strings.Cut(kv, sep)
			if !ok || k == "" || v == "" {
				return fmt.Errorf("-%s %q: want A%sB", flag, kv, sep)
			}
			if err := set(k, v); err != nil {
				return err
			}
		}
		return nil
	}
	drops := func(flag string, drop func(k string) error) error {
		for _, k := range c.StringSlice(flag) {
			if err := drop(k); err != nil {
				return err
			}
		}
		return nil
	}
	steps := []error{
		pairs("require", "@", func(path, v string) error {
			if err := module.Check(path, v); err != nil {
				return err
			}
			f.SetRequire(path, v)
			return nil
		}),
		drops("droprequire", func(path string) error { f.SetRequire(path, ""); return nil }),
		pairs("replace", "=", f.SetReplace),
		drops("dropreplace", func(path string) error { return f.SetReplace(path, "") }),
		pairs("alias", "=", f.SetAlias),
		drops("dropalias", func(name string) error { return f.SetAlias(name, "") }),
		pairs("source", "=", func(path, url string) error { f.SetSource(path, url); return nil }),
		drops("dropsource", func(path string) error { f.SetSource(path, ""); return nil }),
	}
	fl, err := flagsOf[struct {
		Gofab string `flag:"gofab"`
	}](c)
	if err != nil {
		return err
	}
	if v := fl.Gofab; v != "" {
		f.SetGofab(v)
	}
	for _, err := range steps {
		if err != nil {
			return modErr(fmt.Errorf("mod edit: %w", err))
		}
	}
	if _, err := modfile.Parse(modfile.Name, f.Format()); err != nil {
		return modErr(fmt.Errorf("mod edit would write a gofab.mod that does not parse: %w", err))
	}
	return saveProject(p)
}
