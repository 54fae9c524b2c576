package tests

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
)

// gitRepo is a real git repository the recipe-module tests fetch from.
type gitRepo struct {
	t   *testing.T
	dir string
}

func needGit(t *testing.T) {
	t.Helper()
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("git is not installed (tests/testbed.sh installs it)")
	}
}

func newGitRepo(t *testing.T, dir string) *gitRepo {
	t.Helper()
	needGit(t)
	r := &gitRepo{t: t, dir: dir}
	os.MkdirAll(dir, 0o755)
	r.git("init", "-q", "-b", "main")
	return r
}

func (r *gitRepo) git(args ...string) string {
	r.t.Helper()
	cmd := exec.Command("git", append([]string{"-C", r.dir, "-c", "user.name=t", "-c", "user.email=t@example.com"}, args...)...)
	cmd.Env = append(os.Environ(), "GIT_CONFIG_NOSYSTEM=1", "GIT_COMMITTER_DATE=2026-01-02T03:04:05Z", "GIT_AUTHOR_DATE=2026-01-02T03:04:05Z")
	out, err := cmd.CombinedOutput()
	if err != nil {
		r.t.Fatalf("git %v: %v\n%s", args, err, out)
	}
	return strings.TrimSpace(string(out))
}

// commit writes files (content "" removes one) and commits, tagging the
// commit with tags (moved if they exist).
func (r *gitRepo) commit(files map[string]string, tags ...string) string {
	r.t.Helper()
	for name, content := range files {
		p := filepath.Join(r.dir, name)
		if content == "" {
			os.Remove(p)
			continue
		}
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			r.t.Fatal(err)
		}
	}
	r.git("add", "-A")
	r.git("commit", "-q", "--allow-empty", "-m", "change")
	for _, tag := range tags {
		r.git("tag", "-f", tag)
	}
	return r.git("rev-parse", "HEAD")
}

// recipesRepo is a recipe repository with a gofab.mod declaring path and
// an nginx module whose reload task prints what.
func recipesRepo(t *testing.T, dir, path, what string, tags ...string) *gitRepo {
	r := newGitRepo(t, dir)
	r.commit(map[string]string{
		"gofab.mod":      "module " + path + "\ngofab 0.2\n",
		"nginx/init.lua": nginxModule(what),
		"lib/util.lua":   "return {word = 'from lib'}\n",
	}, tags...)
	return r
}

func nginxModule(what string) string {
	return fmt.Sprintf(`local util = require("lib.util") -- the module's own file, by a short name
task("reload", "reload nginx", function() print(%q .. " " .. util.word) end)
return {}
`, what)
}

// modProject is a project directory with its own module cache.
type modProject struct {
	t          *testing.T
	dir, cache string
	env        []string
}

func newModProject(t *testing.T, fabfile string) *modProject {
	root := t.TempDir()
	p := &modProject{t: t, dir: filepath.Join(root, "proj"), cache: filepath.Join(root, "cache")}
	os.MkdirAll(p.dir, 0o755)
	p.env = []string{"GOFAB_MODCACHE=" + p.cache}
	writeFile(t, filepath.Join(p.dir, "fabfile.lua"), fabfile)
	if r := p.gofab("mod", "init", "example.com/ops/myproject"); r.code != 0 {
		t.Fatalf("mod init: %s", r)
	}
	return p
}

func (p *modProject) gofab(args ...string) result {
	p.t.Helper()
	return gofab(p.t, p.dir, p.env, "", args...)
}

// appendMod adds a line to gofab.mod, as a person editing it would.
func (p *modProject) appendMod(format string, args ...any) {
	f, err := os.OpenFile(filepath.Join(p.dir, "gofab.mod"), os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		p.t.Fatal(err)
	}
	fmt.Fprintf(f, format, args...)
	f.Close()
}

func (p *modProject) read(name string) string {
	data, _ := os.ReadFile(filepath.Join(p.dir, name))
	return string(data)
}

const nginxFabfile = `local nginx = require("git.example.com/ops/recipes/nginx")
`

// TestModGetTagAndRun: the walk-through over file:// — mod init,
// get a tag, gofab.mod and gofab.sum written, -l lists the module's
// tasks under its namespace, a run uses the cached tree with no network.
func TestModGetTagAndRun(t *testing.T) {
	repoDir := filepath.Join(t.TempDir(), "recipes")
	recipesRepo(t, repoDir, "git.example.com/ops/recipes", "reload v1.4.2", "v1.4.2")
	p := newModProject(t, nginxFabfile)
	r := p.gofab("get", "file://"+repoDir+"@v1.4.2")
	wantCode(t, r, 0)
	mod := p.read("gofab.mod")
	for _, want := range []string{"module example.com/ops/myproject", "gofab 0.2", "require git.example.com/ops/recipes v1.4.2", "source git.example.com/ops/recipes \"file://" + repoDir + "\""} {
		if !strings.Contains(mod, want) {
			t.Errorf("gofab.mod lacks %q:\n%s", want, mod)
		}
	}
	sum := p.read("gofab.sum")
	if !regexp.MustCompile(`(?m)^git.example.com/ops/recipes v1.4.2 h1:\S{44}$`).MatchString(sum) ||
		!strings.Contains(sum, "git.example.com/ops/recipes v1.4.2/gofab.mod h1:") {
		t.Errorf("gofab.sum:\n%s", sum)
	}
	r = p.gofab("-l")
	mustContain(t, r, "nginx.reload", "reload nginx")
	os.RemoveAll(repoDir) // no network (nor repository) at run time
	r = p.gofab("-H", "local", "nginx.reload")
	wantCode(t, r, 0)
	mustContain(t, r, "reload v1.4.2 from lib")
	// gofab check and gofab test follow the module too.
	wantCode(t, p.gofab("check"), 0)
	writeFile(t, filepath.Join(p.dir, "fabfile_test.lua"), `local t = require("testing")
t.case("reload runs", function(h)
  h:run_task("nginx.reload")
end)
`)
	r = p.gofab("test")
	wantCode(t, r, 0)
}

// TestModBranchPseudoVersionAndUpgrade: @main pins a pseudo-version of
// the commit (Go's form); get -u moves to the newest tag; @none drops it.
func TestModBranchPseudoVersionAndUpgrade(t *testing.T) {
	repoDir := filepath.Join(t.TempDir(), "recipes")
	repo := recipesRepo(t, repoDir, "git.example.com/ops/recipes", "v1.4.2", "v1.4.2")
	head := repo.commit(map[string]string{"nginx/init.lua": nginxModule("main")})
	p := newModProject(t, nginxFabfile)
	wantCode(t, p.gofab("get", "file://"+repoDir+"@main"), 0)
	want := "require git.example.com/ops/recipes v1.4.3-0.20260102030405-" + head[:12]
	if !strings.Contains(p.read("gofab.mod"), want) {
		t.Fatalf("want %q in\n%s", want, p.read("gofab.mod"))
	}
	mustContain(t, p.gofab("-H", "local", "nginx.reload"), "main from lib")
	repo.commit(map[string]string{"nginx/init.lua": nginxModule("v1.5.0")}, "v1.5.0")
	wantCode(t, p.gofab("get", "-u", "git.example.com/ops/recipes"), 0)
	if !strings.Contains(p.read("gofab.mod"), "require git.example.com/ops/recipes v1.5.0") {
		t.Fatalf("get -u:\n%s", p.read("gofab.mod"))
	}
	mustContain(t, p.gofab("-H", "local", "nginx.reload"), "v1.5.0 from lib")
	wantCode(t, p.gofab("get", "git.example.com/ops/recipes@none"), 0)
	if strings.Contains(p.read("gofab.mod"), "git.example.com/ops/recipes") || strings.TrimSpace(p.read("gofab.sum")) != "" {
		t.Fatalf("@none left:\n%s\n%s", p.read("gofab.mod"), p.read("gofab.sum"))
	}
}

// TestModDiamond: A needs C v1.1.0, B needs C v1.3.0; minimal version
// selection picks v1.3.0, and mod graph / mod why show why.
func TestModDiamond(t *testing.T) {
	base := t.TempDir()
	c := newGitRepo(t, filepath.Join(base, "c"))
	c.commit(map[string]string{"gofab.mod": "module example.org/c\n", "c.lua": "return {v = '1.1'}\n"}, "v1.1.0")
	c.commit(map[string]string{"c.lua": "return {v = '1.3'}\n"}, "v1.3.0")
	for name, cv := range map[string]string{"a": "v1.1.0", "b": "v1.3.0"} {
		r := newGitRepo(t, filepath.Join(base, name))
		r.commit(map[string]string{
			"gofab.mod": fmt.Sprintf("module example.org/%s\nrequire example.org/c %s\nsource example.org/c \"file://%s/c\"\n", name, cv, base),
			"init.lua":  "return {}\n",
		}, "v1.0.0")
	}
	p := newModProject(t, `local c = require("example.org/c/c")
task("which", function() print("c is " .. c.v) end)
`)
	wantCode(t, p.gofab("get", "file://"+base+"/a@v1.0.0", "file://"+base+"/b@v1.0.0"), 0)
	mustContain(t, p.gofab("-H", "local", "which"), "c is 1.3")
	graph := p.gofab("mod", "graph")
	wantCode(t, graph, 0)
	mustContain(t, graph, "example.org/a@v1.0.0 example.org/c@v1.1.0", "example.org/b@v1.0.0 example.org/c@v1.3.0", "example.com/ops/myproject example.org/a@v1.0.0")
	why := p.gofab("mod", "why", "example.org/c")
	wantCode(t, why, 0)
	if lines := strings.Split(strings.TrimSpace(why.stdout), "\n"); len(lines) != 4 || lines[1] != "example.com/ops/myproject" || !strings.HasPrefix(lines[3], "example.org/c@") {
		t.Errorf("mod why:\n%s", why.stdout)
	}
	if sum := p.read("gofab.sum"); !strings.Contains(sum, "example.org/c v1.3.0 h1:") || strings.Contains(sum, "example.org/c v1.1.0 h1:") ||
		!strings.Contains(sum, "example.org/c v1.1.0/gofab.mod h1:") {
		t.Errorf("gofab.sum keeps the selected tree and every gofab.mod MVS reads:\n%s", sum)
	}
	// A fresh cache filled from gofab.sum alone (CI) runs the same.
	os.RemoveAll(p.cache)
	wantCode(t, p.gofab("mod", "download"), 0)
	mustContain(t, p.gofab("-H", "local", "which"), "c is 1.3")
}

// TestModMovedTagAndTamperedCache: a tag moved upstream is caught when a
// fresh cache downloads it; an edited cache file stops a run before it
// connects, and mod verify names it.
func TestModMovedTagAndTamperedCache(t *testing.T) {
	repoDir := filepath.Join(t.TempDir(), "recipes")
	repo := recipesRepo(t, repoDir, "git.example.com/ops/recipes", "original", "v1.0.0")
	p := newModProject(t, nginxFabfile)
	wantCode(t, p.gofab("get", "file://"+repoDir+"@v1.0.0"), 0)
	sumBefore, modBefore := p.read("gofab.sum"), p.read("gofab.mod")

	cached := filepath.Join(p.cache, "git.example.com", "ops", "recipes@v1.0.0", "nginx", "init.lua")
	os.Chmod(filepath.Dir(cached), 0o755)
	os.Chmod(cached, 0o644)
	writeFile(t, cached, nginxModule("evil"))
	r := p.gofab("-H", "127.0.0.1", "nginx.reload") // stops before connecting anywhere
	wantCode(t, r, 2)
	mustContain(t, r, "git.example.com/ops/recipes@v1.0.0", "not the one gofab.sum proves")
	mustNotContain(t, r, "evil")
	r = p.gofab("mod", "verify")
	wantCode(t, r, 2)
	mustContain(t, r, "git.example.com/ops/recipes@v1.0.0")

	repo.commit(map[string]string{"nginx/init.lua": nginxModule("moved")}, "v1.0.0")
	os.RemoveAll(p.cache)
	r = p.gofab("mod", "download")
	wantCode(t, r, 2)
	mustContain(t, r, "git.example.com/ops/recipes@v1.0.0", "hash mismatch", "gofab.sum has h1:")
	if strings.Count(strings.TrimSpace(r.stderr), "\n") > 1 {
		t.Errorf("want one line (after the download note):\n%s", r.stderr)
	}
	if p.read("gofab.sum") != sumBefore || p.read("gofab.mod") != modBefore {
		t.Error("a failed download changed gofab.mod or gofab.sum")
	}
	entries, _ := filepath.Glob(filepath.Join(p.cache, ".tmp-*"))
	if len(entries) > 0 {
		t.Errorf("partial cache entries left: %v", entries)
	}
}

// TestModVendorOffline: mod vendor, then the repository and the cache are
// gone and the run still works; a tampered vendor/ file stops it.
func TestModVendorOffline(t *testing.T) {
	repoDir := filepath.Join(t.TempDir(), "recipes")
	recipesRepo(t, repoDir, "git.example.com/ops/recipes", "vendored", "v1.0.0")
	p := newModProject(t, nginxFabfile)
	wantCode(t, p.gofab("get", "file://"+repoDir+"@v1.0.0"), 0)
	wantCode(t, p.gofab("mod", "vendor"), 0)
	if !strings.Contains(p.read("vendor/modules.txt"), "# git.example.com/ops/recipes v1.0.0") {
		t.Fatalf("vendor/modules.txt:\n%s", p.read("vendor/modules.txt"))
	}
	os.RemoveAll(repoDir)
	os.RemoveAll(p.cache)
	mustContain(t, p.gofab("-H", "local", "nginx.reload"), "vendored from lib")
	wantCode(t, p.gofab("mod", "verify"), 0)
	r := p.gofab("--mod", "mod", "-H", "local", "nginx.reload")
	wantCode(t, r, 2)
	mustContain(t, r, "gofab mod download")
	writeFile(t, filepath.Join(p.dir, "vendor", "git.example.com", "ops", "recipes", "lib", "util.lua"), "return {word = 'tampered'}\n")
	r = p.gofab("-H", "local", "nginx.reload")
	wantCode(t, r, 2)
	mustNotContain(t, r, "tampered")
	wantCode(t, p.gofab("mod", "verify"), 2)
}

// TestModReplaceAliasTidy: replace points at a working copy next to the
// project (edits show at once), an alias shortens require(), tidy drops
// an unused requirement and adds a missing one.
func TestModReplaceAliasTidy(t *testing.T) {
	base := t.TempDir()
	repoDir := filepath.Join(base, "recipes")
	recipesRepo(t, repoDir, "git.example.com/ops/recipes", "tagged", "v1.0.0")
	other := newGitRepo(t, filepath.Join(base, "other"))
	other.commit(map[string]string{"gofab.mod": "module example.org/other\n", "init.lua": "return {}\n"}, "v0.1.0")
	p := newModProject(t, `local nginx = require("ops/nginx")
`)
	wantCode(t, p.gofab("get", "file://"+repoDir+"@v1.0.0", "file://"+base+"/other@v0.1.0"), 0)
	p.appendMod("alias ops git.example.com/ops/recipes\n")
	mustContain(t, p.gofab("-H", "local", "nginx.reload"), "tagged from lib")

	wantCode(t, p.gofab("mod", "tidy"), 0)
	if mod := p.read("gofab.mod"); strings.Contains(mod, "example.org/other") || !strings.Contains(mod, "require git.example.com/ops/recipes v1.0.0") {
		t.Fatalf("tidy:\n%s", mod)
	}

	p.appendMod("replace git.example.com/ops/recipes => ../recipes-dev\n")
	dev := filepath.Join(filepath.Dir(p.dir), "recipes-dev")
	copyTree(t, repoDir, dev)
	writeFile(t, filepath.Join(dev, "nginx", "init.lua"), nginxModule("edited in place"))
	mustContain(t, p.gofab("-H", "local", "nginx.reload"), "edited in place from lib")

	// tidy adds what a require() needs (found through a source line).
	writeFile(t, filepath.Join(p.dir, "extra.lua"), `return require("example.org/other")`)
	p.appendMod("source example.org/other \"file://%s/other\"\n", base)
	wantCode(t, p.gofab("mod", "tidy"), 0)
	if mod := p.read("gofab.mod"); !strings.Contains(mod, "example.org/other v0.1.0") {
		t.Fatalf("tidy did not add example.org/other:\n%s", mod)
	}
}

// TestModConcurrentGets: two gofab get processes fill one cache at once;
// both succeed and the cache verifies.
func TestModConcurrentGets(t *testing.T) {
	repoDir := filepath.Join(t.TempDir(), "recipes")
	recipesRepo(t, repoDir, "git.example.com/ops/recipes", "shared", "v1.0.0")
	a := newModProject(t, nginxFabfile)
	b := newModProject(t, nginxFabfile)
	b.cache = a.cache
	b.env = a.env
	var wg sync.WaitGroup
	results := make([]result, 2)
	for i, p := range []*modProject{a, b} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[i] = gofab(t, p.dir, p.env, "", "get", "file://"+repoDir+"@v1.0.0")
		}()
	}
	wg.Wait()
	for _, r := range results {
		wantCode(t, r, 0)
	}
	if a.read("gofab.sum") != b.read("gofab.sum") {
		t.Error("the two projects recorded different hashes")
	}
	wantCode(t, a.gofab("mod", "verify"), 0)
	mustContain(t, b.gofab("-H", "local", "nginx.reload"), "shared from lib")
}

// TestModBadInput: each mistake is one line, exit 2, and leaves gofab.mod
// and gofab.sum as they were.
func TestModBadInput(t *testing.T) {
	base := t.TempDir()
	repoDir := filepath.Join(base, "recipes")
	recipesRepo(t, repoDir, "git.example.com/ops/recipes", "x", "v1.0.0")
	future := newGitRepo(t, filepath.Join(base, "future"))
	future.commit(map[string]string{"gofab.mod": "module example.org/future\ngofab 9.9\n"}, "v1.0.0")
	cyc := map[string]*gitRepo{}
	for _, n := range []string{"p", "q"} {
		cyc[n] = newGitRepo(t, filepath.Join(base, n))
	}
	cyc["p"].commit(map[string]string{"gofab.mod": fmt.Sprintf("module example.org/p\nrequire example.org/q v1.0.0\nsource example.org/q \"file://%s/q\"\n", base)}, "v1.0.0")
	cyc["q"].commit(map[string]string{"gofab.mod": fmt.Sprintf("module example.org/q\nrequire example.org/p v1.0.0\nsource example.org/p \"file://%s/p\"\n", base)}, "v1.0.0")
	notDir := filepath.Join(base, "a-file")
	writeFile(t, notDir, "x")
	for _, tc := range []struct {
		name string
		env  []string
		args []string
		want string
	}{
		{"unknown version", nil, []string{"get", "file://" + repoDir + "@v9.0.0"}, "no tag v9.0.0"},
		{"no such branch", nil, []string{"get", "file://" + repoDir + "@nope"}, `no branch, tag or commit "nope"`},
		{"host down", nil, []string{"get", "https://127.0.0.1:1/ops/recipes.git@v1.0.0"}, "127.0.0.1:1"},
		{"path mismatch", nil, []string{"get", "git.example.com/ops/other@v1.0.0"}, "git.example.com/ops/other"},
		{"newer gofab", nil, []string{"get", "file://" + base + "/future@v1.0.0"}, "needs gofab 9.9; this is gofab 0.2"},
		{"cycle", nil, []string{"get", "file://" + base + "/p@v1.0.0"}, "requirement cycle"},
		{"cache not writable", []string{"GOFAB_MODCACHE=" + notDir + "/cache"}, []string{"get", "file://" + repoDir + "@v1.0.0"}, "module cache is not writable"},
		{"require() outside gofab.mod", nil, []string{"-H", "local", "-l"}, `require("git.example.com/ops/recipes/nginx"): no module in gofab.mod provides it`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := newModProject(t, nginxFabfile)
			if tc.name == "path mismatch" {
				p.appendMod("source git.example.com/ops/other \"file://%s\"\n", repoDir)
			}
			mod, sum := p.read("gofab.mod"), p.read("gofab.sum")
			r := gofab(t, p.dir, append(p.env, tc.env...), "", tc.args...)
			wantCode(t, r, 2)
			mustContain(t, r, tc.want)
			lines := strings.Split(strings.TrimSpace(r.stderr), "\n")
			if last := lines[len(lines)-1]; !strings.Contains(last, tc.want) && !strings.Contains(r.stderr, tc.want) {
				t.Errorf("last line %q", last)
			}
			for _, l := range lines {
				if !strings.HasPrefix(l, "gofab: ") {
					t.Errorf("not a one-line message: %q", l)
				}
			}
			if p.read("gofab.mod") != mod || p.read("gofab.sum") != sum {
				t.Error("gofab.mod or gofab.sum changed")
			}
		})
	}
	// A malformed gofab.mod is reported at its line.
	p := newModProject(t, "")
	writeFile(t, filepath.Join(p.dir, "gofab.mod"), "module example.com/x\nrequire git.example.com/ops/recipes 1.0\n")
	r := p.gofab("-l")
	wantCode(t, r, 2)
	mustContain(t, r, "gofab.mod:2:")
}

// TestModTypesForEditors: gofab types links the required modules where
// lua-language-server's require() resolution finds them, so a call into
// a cached module is type-checked (a wrong argument type is flagged).
func TestModTypesForEditors(t *testing.T) {
	repoDir := filepath.Join(t.TempDir(), "recipes")
	r := newGitRepo(t, repoDir)
	r.commit(map[string]string{
		"gofab.mod":      "module git.example.com/ops/recipes\n",
		"nginx/init.lua": "local M = {}\n---@param name string\nfunction M.site(name) return name end\nreturn M\n",
	}, "v1.0.0")
	p := newModProject(t, `local nginx = require("git.example.com/ops/recipes/nginx")
local ops = require("ops/nginx")
nginx.site("fine")
nginx.site(1)
ops.site(2)
`)
	wantCode(t, p.gofab("get", "file://"+repoDir+"@v1.0.0"), 0)
	p.appendMod("alias ops git.example.com/ops/recipes\n")
	r2 := p.gofab("types")
	wantCode(t, r2, 0)
	mustContain(t, r2, "linked 2 recipe modules")
	if luarc := p.read(".luarc.json"); !strings.Contains(luarc, ".gofab/modules") {
		t.Fatalf(".luarc.json:\n%s", luarc)
	}
	var mismatches []int
	for _, d := range checkWithLuaLS(t, p.dir) {
		if d.File == "fabfile.lua" && d.Code == "param-type-mismatch" {
			mismatches = append(mismatches, d.Line)
		}
	}
	if fmt.Sprint(mismatches) != "[4 5]" {
		t.Errorf("LuaLS param-type-mismatch lines %v, want [4 5] (the module's types did not reach the editor)", mismatches)
	}
}

// TestModCompletion: completion offers gofab mod's verbs and, after get
// and mod why, the modules gofab.mod requires.
func TestModCompletion(t *testing.T) {
	p := newModProject(t, "")
	writeFile(t, filepath.Join(p.dir, "gofab.mod"), "module example.com/x\nrequire git.example.com/ops/recipes v1.4.2\nalias ops git.example.com/ops/recipes\n")
	for _, tc := range []struct {
		words []string
		want  string
	}{
		{[]string{"mod", ""}, "vendor\t"},
		{[]string{"mod", "t"}, "tidy\t"},
		{[]string{"get", "git"}, "git.example.com/ops/recipes\tv1.4.2"},
		{[]string{"mod", "why", ""}, "ops\tgit.example.com/ops/recipes"},
	} {
		r := p.gofab(append([]string{"__complete"}, tc.words...)...)
		if !strings.Contains(r.stdout, tc.want) {
			t.Errorf("complete %q: want %q in\n%s", tc.words, tc.want, r.stdout)
		}
	}
}

// TestModNoManifestRepo: a repository without gofab.mod (most recipe
// repos today) is a module with no requirements whose path comes from its
// URL: file.local/ and a local folder's name.
func TestModNoManifestRepo(t *testing.T) {
	repoDir := filepath.Join(t.TempDir(), "recipes.git")
	r := newGitRepo(t, repoDir)
	r.commit(map[string]string{"nginx/init.lua": nginxModule("no manifest"), "lib/util.lua": "return {word = 'from lib'}\n"}, "v0.3.0")
	p := newModProject(t, `local nginx = require("file.local/recipes/nginx")
`)
	wantCode(t, p.gofab("get", repoDir+"@v0.3.0"), 0)
	if mod := p.read("gofab.mod"); !strings.Contains(mod, "require file.local/recipes v0.3.0") || !strings.Contains(mod, "source file.local/recipes "+repoDir) {
		t.Fatalf("gofab.mod:\n%s", mod)
	}
	if !strings.Contains(p.read("gofab.sum"), "file.local/recipes v0.3.0/gofab.mod h1:") {
		t.Errorf("the synthesised gofab.mod is not hashed:\n%s", p.read("gofab.sum"))
	}
	mustContain(t, p.gofab("-H", "local", "nginx.reload"), "no manifest from lib")
}

// TestModEdit: gofab mod edit changes gofab.mod from flags, without the
// network, and refuses what would not parse.
func TestModEdit(t *testing.T) {
	p := newModProject(t, "")
	r := p.gofab("mod", "edit", "-require", "git.example.com/ops/recipes@v1.4.2", "-alias", "ops=git.example.com/ops/recipes",
		"-replace", "git.example.com/ops/recipes=../recipes", "-source", "git.example.com/ops/recipes=ssh://git@git.example.com/ops/recipes.git")
	wantCode(t, r, 0)
	mod := p.read("gofab.mod")
	for _, want := range []string{"require git.example.com/ops/recipes v1.4.2", "alias ops git.example.com/ops/recipes",
		"replace git.example.com/ops/recipes => ../recipes", `source git.example.com/ops/recipes "ssh://git@git.example.com/ops/recipes.git"`} {
		if !strings.Contains(mod, want) {
			t.Errorf("gofab.mod lacks %q:\n%s", want, mod)
		}
	}
	for _, bad := range [][]string{{"-require", "git.example.com/ops/recipes@1.0"}, {"-replace", "a.com/b=c.com/d"}, {"-alias", "o.k=a.com/b"}} {
		r := p.gofab(append([]string{"mod", "edit"}, bad...)...)
		wantCode(t, r, 2)
		if p.read("gofab.mod") != mod {
			t.Fatalf("a refused edit %v changed gofab.mod", bad)
		}
	}
	wantCode(t, p.gofab("mod", "edit", "-droprequire", "git.example.com/ops/recipes", "-dropalias", "ops", "-dropreplace", "git.example.com/ops/recipes", "-dropsource", "git.example.com/ops/recipes"), 0)
	if mod := p.read("gofab.mod"); strings.Contains(mod, "recipes") {
		t.Errorf("drops left:\n%s", mod)
	}
}
