package tests

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/gofab/gofab/internal/data/inventory"
)

// Ansible's own tools are the oracle for inventories (issue 27): each file
// of tests/testdata/ansible is read by ansible-inventory --list and by
// gofab hosts --list, and a table of patterns is evaluated by Ansible's
// InventoryManager and by gofab hosts PATTERN.

// ansiblePatterns evaluates patterns with Ansible's InventoryManager (one
// Python process per file): each pattern's hosts, or "error: …". Ansible
// walks nested groups through Python sets of Group objects hashed by
// address, so the order of a group with grandchildren (and of all) changes
// from run to run; hashing groups by name (with PYTHONHASHSEED=0) makes
// that order one fixed order, so the score does not move by chance.
const ansiblePatterns = `import json, sys, warnings
warnings.simplefilter("ignore")
from ansible.parsing.dataloader import DataLoader
from ansible.inventory.manager import InventoryManager
from ansible.inventory.group import Group
Group.__hash__ = lambda self: hash(self.name)
im = InventoryManager(loader=DataLoader(), sources=[sys.argv[1]])
out = {}
for p in json.load(sys.stdin):
    try:
        out[p] = [h.name for h in im.get_hosts(p)]
    except Exception as e:
        out[p] = "error: %s" % e
print(json.dumps(out))
`

// ansibleTool returns the path of an Ansible program, or skips the test.
func ansibleTool(t *testing.T, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		if os.Getenv("GOFAB_REQUIRE_TESTBED") != "" {
			t.Fatalf("%s is not installed (tests/testbed.sh installs ansible-core)", name)
		}
		t.Skipf("%s is not installed (tests/testbed.sh installs ansible-core)", name)
	}
	return p
}

// TestAnsibleCorpus compares gofab's reading of every inventory in the
// corpus with Ansible's, file by file (groups with their hosts and
// children in order, every host's merged vars) and pattern by pattern,
// prints the score, and fails when it falls below what gofab reached.
func TestAnsibleCorpus(t *testing.T) {
	t.Parallel() // self-contained (its own fleet, files or shells): runs beside the other parallel tests, after the serial ones
	inventoryBin := ansibleTool(t, "ansible-inventory")
	files, _ := filepath.Glob(filepath.Join(repoRoot, "tests", "testdata", "ansible", "*.*"))
	home := t.TempDir()
	script := filepath.Join(home, "patterns.py")
	writeFile(t, script, ansiblePatterns)
	var mu sync.Mutex // guards the counts, which the files' subtests add to in parallel
	var sameFiles, files0, samePatterns, patterns0 int
	layouts, _ := filepath.Glob(filepath.Join(repoRoot, "tests", "testdata", "ansible", "*", "hosts.*"))
	// Each file costs two Python processes of about a second: the files
	// run in parallel, as many at once as the machine has processors.
	t.Run("files", func(t *testing.T) {
		for _, f := range append(files, layouts...) {
			if strings.HasSuffix(f, ".md") {
				continue
			}
			mu.Lock()
			files0++
			mu.Unlock()
			t.Run(filepath.Base(f), func(t *testing.T) {
				t.Parallel()
				sameFile, same, total := compareWithAnsible(t, t.TempDir(), inventoryBin, script, f)
				mu.Lock()
				defer mu.Unlock()
				if sameFile {
					sameFiles++
				}
				samePatterns += same
				patterns0 += total
			})
		}
	})
	t.Logf("score: files identical %d/%d, patterns identical %d/%d", sameFiles, files0, samePatterns, patterns0)
	if files0 < 20 || len(layouts) < 2 {
		t.Errorf("the corpus has %d files (%d with group_vars/host_vars), want at least 20 (and 2)", files0, len(layouts))
	}
	// What gofab reaches today: a change that reads a file or a pattern
	// differently from Ansible where it agreed before fails here.
	if sameFiles < corpusFilesFloor || samePatterns < corpusPatternsFloor {
		t.Errorf("score fell below files %d, patterns %d", corpusFilesFloor, corpusPatternsFloor)
	}
}

// compareWithAnsible reads inventory file f (or the layout folder it heads)
// with gofab and with Ansible: whether gofab hosts --list equals
// ansible-inventory --list, and how many of the patterns the file suggests
// select the same hosts, of how many.
func compareWithAnsible(t *testing.T, home, inventoryBin, script, f string) (sameFile bool, same, total int) {
	name, data := filepath.Base(f), readFile(t, f)
	dir := t.TempDir()
	// A layout is a folder: the inventory with group_vars/ and
	// host_vars/ beside it.
	if filepath.Base(filepath.Dir(f)) != "ansible" {
		copyTree(t, filepath.Dir(f), dir)
	} else {
		writeFile(t, filepath.Join(dir, name), data)
	}
	writeFile(t, filepath.Join(dir, "fabfile.lua"), fmt.Sprintf("hosts(require(\"inventory\").file(%q))\n", name))
	want := ansibleJSON(t, home, inventoryBin, "-i", filepath.Join(dir, name), "--list")
	r := gofab(t, dir, nil, "", "hosts", "--list")
	if r.code != 0 {
		t.Errorf("%s: gofab hosts --list: %s", name, r)
		return false, 0, 0
	}
	var got any
	if err := json.Unmarshal([]byte(r.stdout), &got); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	if diff := jsonDiff("", want, got); diff != "" {
		t.Logf("%s differs from ansible-inventory --list: %s", name, diff)
	} else {
		sameFile = true
	}

	pats := corpusPatterns(want)
	total = len(pats)
	ansible := ansiblePatternHosts(t, home, script, filepath.Join(dir, name), pats)
	// The patterns go to the inventory package gofab hosts uses (the
	// file's hosts, groups and order came through gofab itself above):
	// 691 gofab processes would cost a minute of the suite.
	inv, err := inventory.Parse(name, []byte(data))
	if err == nil {
		err = inventory.LoadVarsDirs(inv, dir)
	}
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	if err := inv.Finish(); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	for _, p := range pats {
		got := "error"
		var why string
		if picked, err := inv.Select(p, nil); err == nil {
			names := []string{}
			for _, h := range picked {
				names = append(names, h.Name)
			}
			got = strings.Join(names, " ")
		} else {
			why = err.Error()
		}
		wantHosts := "error"
		if list, ok := ansible[p].([]any); ok {
			names := []string{}
			for _, h := range list {
				names = append(names, h.(string))
			}
			wantHosts = strings.Join(names, " ")
		}
		if got == wantHosts {
			same++
		} else {
			t.Logf("%s: pattern %q: ansible %q, gofab %q %s", name, p, wantHosts, got, why)
		}
	}
	return sameFile, same, total
}

const corpusFilesFloor, corpusPatternsFloor = 22, 684

func readFile(t *testing.T, path string) string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

// ansibleJSON runs an Ansible program and decodes its JSON output.
func ansibleJSON(t *testing.T, home, bin string, args ...string) any {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Env = []string{"HOME=" + home, "PATH=" + os.Getenv("PATH"), "ANSIBLE_LOCALHOST_WARNING=False", "ANSIBLE_INVENTORY_UNPARSED_WARNING=False"}
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("%s %v: %v\n%s", bin, args, err, out)
	}
	var v any
	if err := json.Unmarshal(out, &v); err != nil {
		t.Fatalf("%s %v: %v\n%s", bin, args, err, out)
	}
	return v
}

func ansiblePatternHosts(t *testing.T, home, script, inventory string, patterns []string) map[string]any {
	t.Helper()
	in, _ := json.Marshal(patterns)
	cmd := exec.Command(ansiblePython(), script, inventory)
	cmd.Env = []string{"HOME=" + home, "PATH=" + os.Getenv("PATH"), "PYTHONHASHSEED=0"}
	cmd.Stdin = strings.NewReader(string(in))
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("Ansible's InventoryManager on %s: %v\n%s", inventory, err, out)
	}
	var m map[string]any
	if err := json.Unmarshal(out, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

// corpusPatterns is the table of patterns for one inventory: all, each
// group, unions, intersections, exclusions, subscripts, globs, regexes.
func corpusPatterns(list any) []string {
	var groups []string
	for g := range list.(map[string]any) {
		if g != "_meta" && g != "all" {
			groups = append(groups, g)
		}
	}
	sort.Strings(groups)
	pats := []string{"all", "*", "ungrouped", "~.*1.*", "*1*", "all[0]", "all[-1]", "all[1:2]"}
	for i, g := range groups {
		pats = append(pats, g, g+"[0]", g+"[-1]", g+"[0:1]")
		if i+1 < len(groups) {
			h := groups[i+1]
			pats = append(pats, g+":"+h, g+":&"+h, g+":!"+h)
		}
	}
	return pats
}

// jsonDiff says where a and b differ ("" when equal), numbers compared by
// value (gofab writes 1000.0 as 1000).
func jsonDiff(path string, a, b any) string {
	if fa, ok := a.(float64); ok {
		if fb, ok := b.(float64); ok && fa == fb {
			return ""
		}
	}
	switch av := a.(type) {
	case map[string]any:
		bv, ok := b.(map[string]any)
		if !ok {
			return fmt.Sprintf("%s: ansible %v, gofab %v", path, short(a), short(b))
		}
		keys := map[string]bool{}
		for k := range av {
			keys[k] = true
		}
		for k := range bv {
			keys[k] = true
		}
		sorted := make([]string, 0, len(keys))
		for k := range keys {
			sorted = append(sorted, k)
		}
		sort.Strings(sorted)
		for _, k := range sorted {
			if d := jsonDiff(path+"."+k, av[k], bv[k]); d != "" {
				return d
			}
		}
		return ""
	case []any:
		bv, ok := b.([]any)
		if !ok || len(av) != len(bv) {
			return fmt.Sprintf("%s: ansible %v, gofab %v", path, short(a), short(b))
		}
		for i := range av {
			if d := jsonDiff(fmt.Sprintf("%s[%d]", path, i), av[i], bv[i]); d != "" {
				return d
			}
		}
		return ""
	}
	if !reflect.DeepEqual(a, b) {
		return fmt.Sprintf("%s: ansible %v, gofab %v", path, short(a), short(b))
	}
	return ""
}

func short(v any) string {
	b, _ := json.Marshal(v)
	if len(b) > 200 {
		b = append(b[:200], "…"...)
	}
	return string(b)
}

// ansiblePython is the Python that runs ansible-inventory (its #! line),
// which has the ansible package; python3 on PATH may be another.
func ansiblePython() string {
	bin, _ := exec.LookPath("ansible-inventory")
	data, _ := os.ReadFile(bin)
	if line, _, _ := strings.Cut(string(data), "\n"); strings.HasPrefix(line, "#!") {
		if f := strings.Fields(line[2:]); len(f) > 0 && !strings.HasSuffix(f[0], "/env") {
			return f[0]
		}
	}
	return "python3"
}

// TestEmptySelection: a pattern whose names all exist but select no host
// (an empty intersection, an empty group) runs the task nowhere with one
// line, as Ansible does, instead of running it on this machine; with
// --strict-hosts it is an error.
func TestEmptySelection(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "hosts.ini"), "[web]\nweb1\n\n[db]\ndb1\n\n[spare]\n")
	writeFile(t, filepath.Join(dir, "fabfile.lua"), `hosts(require("inventory").file("hosts.ini"))
task("x", function() print("ran on " .. env.host) end)
`)
	for _, pattern := range []string{"web:&db", "spare", "web:!web1"} {
		r := gofab(t, dir, nil, "", "-H", pattern, "x")
		if r.code != 0 || strings.Contains(r.stdout+r.stderr, "ran on") ||
			!strings.Contains(r.stderr, fmt.Sprintf("warning: x: pattern %q selects no host", pattern)) {
			t.Errorf("-H %s: %s", pattern, r)
		}
		r = gofab(t, dir, nil, "", "--strict-hosts", "-H", pattern, "x")
		if r.code != 2 || strings.Contains(r.stdout, "ran on") || !strings.Contains(r.stderr, "(--strict-hosts)") {
			t.Errorf("--strict-hosts -H %s: %s", pattern, r)
		}
		r = gofab(t, dir, nil, "", "hosts", "--output", "json", pattern)
		if r.code != 0 || strings.TrimSpace(r.stdout) != "[]" {
			t.Errorf("hosts %s: %s", pattern, r)
		}
	}
	if r := gofab(t, dir, nil, "", "-H", "web:&nosuchgroup", "x"); r.code != 2 || !strings.Contains(r.stderr, "nosuchgroup") {
		t.Errorf("a pattern naming nothing that exists is still an error: %s", r)
	}
}

// TestInventorySourceTable: the table inventory.file() returns is built
// when the fabfile first reads it; read and changed in Lua it still gives
// hosts() the change, and the source's null vars survive either way.
func TestInventorySourceTable(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "hosts.ini"), "[web]\nweb1 port=22 none=None\nweb2\n")
	writeFile(t, filepath.Join(dir, "fabfile.lua"), `local inv = require("inventory")
local t = inv.file("hosts.ini")
print("web1 port " .. tostring(t.hosts.web1.vars.port) .. ", " .. #t.host_order .. " hosts")
t.hosts.web1.vars.extra = "added in Lua"
hosts(t)
hosts(inv.file("hosts.ini")) -- a second, untouched table: the file as read
`)
	r := gofab(t, dir, nil, "", "hosts", "--host", "web1", "--output", "json")
	if r.code != 0 || !strings.Contains(r.stdout, "web1 port 22, 2 hosts") {
		t.Fatalf("%s", r)
	}
	body := r.stdout[strings.Index(r.stdout, "{"):]
	var got struct{ Vars map[string]any }
	if err := json.Unmarshal([]byte(body), &got); err != nil {
		t.Fatalf("%v\n%s", err, body)
	}
	if got.Vars["extra"] != "added in Lua" || got.Vars["port"] != float64(22) {
		t.Errorf("web1 vars %v", got.Vars)
	}
	if v, ok := got.Vars["none"]; !ok || v != nil {
		t.Errorf("the null var: %v %v", v, ok)
	}
}

// TestInventoryAdoptedSource: the first source given to hosts() untouched
// is taken as read, not copied; hosts and groups declared after it, and
// env.roledefs, join the run's inventory but never the source, which a
// later read still sees as the file says.
func TestInventoryAdoptedSource(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "hosts.ini"), "[web]\nweb1\nweb2\n")
	writeFile(t, filepath.Join(dir, "fabfile.lua"), `local inv = require("inventory")
hosts(inv.file("hosts.ini"))
group("extra", {hosts = {"x1"}})
env.roledefs = {r = {"x2"}}
local again = inv.file("hosts.ini")
print("source: " .. #again.host_order .. " hosts, x1 " .. tostring(again.hosts.x1) .. ", extra " .. tostring(again.groups.extra))
`)
	r := gofab(t, dir, nil, "", "hosts")
	if r.code != 0 || !strings.Contains(r.stdout, "source: 2 hosts, x1 nil, extra nil") {
		t.Fatalf("the source changed: %s", r)
	}
	for _, want := range []string{"web1", "web2", "x1", "x2"} {
		if !strings.Contains(r.stdout, want+" ") && !strings.Contains(r.stdout, want+"\n") {
			t.Errorf("%s missing from the run's inventory: %s", want, r)
		}
	}
}
