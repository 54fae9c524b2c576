package recipetest

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// project writes files (name → content) into a new directory.
func project(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, content := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// runTests runs gofab test's runner on dir and returns whether it passed
// and its report.
func runTests(t *testing.T, dir string, o Options) (bool, string) {
	t.Helper()
	var out bytes.Buffer
	o.Out = &out
	if o.Paths == nil {
		o.Paths = []string{dir}
	}
	ok, err := Run(context.Background(), o)
	if err != nil {
		t.Fatalf("Run: %v\n%s", err, out.String())
	}
	return ok, out.String()
}

const deployFabfile = `
local cuisine = require("cuisine")
local files = require("files")

handler("reload nginx", function() sudo("systemctl reload nginx") end)

task("deploy", "Deploy the site", function(args)
  cuisine.package_ensure("nginx")
  if files.upload_template("site.conf", "/etc/nginx/sites-available/site", {port = args.port or "80"},
      {use_sudo = true, mode = "0644", backup = false}) then
    notify("reload nginx")
  end
  cuisine.service_ensure("nginx")
end)

task("build", "Build locally, ship the result", function()
  run_local("make dist")
  put("dist.txt", "/srv/dist.txt", {use_sudo = true, mode = "0640", owner = "www-data"})
end)

task("probe", function()
  local r = run("custom-tool --version")
  puts("version " .. r.stdout)
  return r.stdout
end)

task("denied", function()
  put("dist.txt", "/etc/dist.txt")
end)

task("ship", function()
  local _, r = sync("site", "/srv/www", {delete = true})
  files.append("/srv/www/index.html", "<!-- shipped -->")
  files.sed("/srv/www/about.html", "About", "About us", {backup = ""})
  get("/srv/www/index.html", "fetched/{host}.html")
  return r
end)
`

// TestCases: passing and failing cases, and how a failure reads.
func TestCases(t *testing.T) {
	dir := project(t, map[string]string{
		"fabfile.lua": deployFabfile,
		"site.conf":   "server { listen {{ .port }}; }\n",
		"dist.txt":    "built\n",
		"tests/deploy_test.lua": `local t = require("testing")

t.case("first deploy installs, writes and reloads", function(h)
  h:run_task("deploy", {port = "8088"})
  h:assert_ran_sudo("apt%-get .*install .*nginx")
  h:assert_file("/etc/nginx/sites-available/site", {equals = "server { listen 8088; }\n", mode = "0644", owner = "root"})
  h:assert_ran_sudo("systemctl reload nginx")
  t.equal(h:packages(), {"nginx"})
  t.equal(h:services(), {"nginx"})
  h:run_task("deploy", {port = "8088"})
  h:assert_not_ran("systemctl reload nginx")
  h:assert_not_ran("apt%-get install")
end)

t.case("a wrong expectation fails with what was seen", function(h)
  h:run_task("deploy", {port = "8088"})
  h:assert_ran("systemctl restart nginx")
end)

t.case("a wrong file expectation", function(h)
  h:run_task("deploy", {port = "9000"})
  h:assert_file("/etc/nginx/sites-available/site", {contains = "listen 8088"})
end)
`,
	})
	ok, out := runTests(t, dir, Options{})
	if ok {
		t.Fatalf("passed with failing cases:\n%s", out)
	}
	for _, want := range []string{
		"--- FAIL: a wrong expectation fails with what was seen",
		`deploy_test.lua:17: assert_ran: no command matching "systemctl restart nginx" ran on web1; the latest run_task issued:`,
		"sudo:  systemctl reload nginx",
		"--- FAIL: a wrong file expectation",
		`deploy_test.lua:22: assert_file("/etc/nginx/sites-available/site") on web1: does not contain "listen 8088"; it holds:`,
		"server { listen 9000; }",
		"FAIL\t",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("report lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "FAIL: first deploy") {
		t.Errorf("the passing case failed:\n%s", out)
	}
	if !strings.HasSuffix(out, "FAIL\n") {
		t.Errorf("no FAIL summary:\n%s", out)
	}

	// -run selects cases; -v lists them and their commands.
	ok, out = runTests(t, dir, Options{Run: regexp.MustCompile("^first"), Verbose: true})
	if !ok {
		t.Fatalf("the selected passing case failed:\n%s", out)
	}
	for _, want := range []string{"=== RUN   first deploy", "--- PASS: first deploy", "commands on web1:", "helper: dpkg-query", "sudo:  systemctl reload nginx", "PASS\n"} {
		if !strings.Contains(out, want) {
			t.Errorf("-v report lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "wrong") {
		t.Errorf("-run ran other cases:\n%s", out)
	}
}

// TestHostFeatures: run_local apart, scripted results and values, --check
// and --dry-run, strict hosts, OS facts, permissions, owners and links.
func TestHostFeatures(t *testing.T) {
	dir := project(t, map[string]string{
		"fabfile.lua":     deployFabfile,
		"site.conf":       "server { listen {{ .port }}; }\n",
		"dist.txt":        "built\n",
		"site/index.html": "<h1>hi</h1>\n",
		"site/about.html": "About\n",
		"host_test.lua": `local t = require("testing")

t.case("run_local is recorded on the local host", function(h)
  h:run_task("build")
  h:assert_ran_local("make dist")
  h:assert_file("/srv/dist.txt", {equals = "built\n", mode = "0640", owner = "www-data"})
  t.equal(#h:localhost():commands(), 1)
  for _, c in ipairs(h:commands(true)) do
    assert(c.command ~= "make dist", "make ran on the remote host")
  end
end)

t.case("scripted output reaches the task and its value", function(h)
  h:respond("^custom%-tool %-%-version$", {stdout = "2.1\n"})
  local r = h:run_task("probe")
  t.equal(r.value, "2.1\n")
  h:assert_output("version 2.1")
end)

t.case("check changes nothing", function(h)
  local r = h:run_task("deploy", {}, {check = true})
  h:assert_not_ran("apt%-get")
  h:assert_file("/etc/nginx/sites-available/site", {absent = true})
  t.equal(r.status, "ok")
end)

t.case("dry run runs nothing", function(h)
  h:run_task("build", {}, {dry_run = true})
  t.equal(#h:commands(true), 0)
  t.equal(#h:localhost():commands(true), 0)
  h:assert_file("/srv/dist.txt", {absent = true})
  h:assert_output("local: make dist")
end)

t.case("OS facts pick the package manager", function(h)
  h:os("fedora", "40")
  h:run_task("deploy")
  h:assert_ran_sudo("dnf .*install.* nginx")
end)

t.case("the login user cannot write /etc", function(h)
  local r = h:run_task("denied", {}, {allow_failure = true})
  t.equal(r.status, "failed")
  assert(r.error:find("permission denied"), r.error)
end)

t.case("sync, files and get over the in-memory file system", function(h)
  h:files({["/srv/www/stale.html"] = {content = "old", owner = "deploy"}, ["/srv/www"] = {dir = true, owner = "deploy"}})
  local r = h:run_task("ship")
  t.equal(r.value.files, {"about.html", "index.html"})
  t.equal(r.value.removed, {"stale.html"})
  h:assert_file("/srv/www/index.html", {equals = "<h1>hi</h1>\n<!-- shipped -->\n"})
  h:assert_file("/srv/www/about.html", {equals = "About us\n"})
  h:assert_file("/srv/www/stale.html", {absent = true})
  t.equal(h:run_task("ship").value.removed, {}, "nothing left to delete")
  t.equal(h:localhost():read("fetched/web1.html"), "<h1>hi</h1>\n<!-- shipped -->\n")
end)

t.case("files and links put on the host", function(h)
  h:files({["/etc/app/conf"] = {content = "x=1\n", mode = "0600", owner = "www-data"},
           ["/etc/app/current"] = {link = "/etc/app/conf"},
           ["~/notes"] = "hi"})
  h:assert_file("/etc/app/conf", {mode = "0600", owner = "www-data", group = "www-data", equals = "x=1\n"})
  h:assert_file("/etc/app/current", {link = "/etc/app/conf"})
  h:assert_file("/home/deploy/notes", {equals = "hi"})
  t.equal(h:read("/etc/app/current"), "x=1\n")
  t.equal(h:read("/nonexistent"), nil)
end)
`,
		"strict/fabfile.lua": deployFabfile,
		"strict/dist.txt":    "built\n",
		"strict/strict_test.lua": `local t = require("testing")
t.strict()
t.case("unscripted commands fail under strict", function(h)
  h:run_task("probe")
end)
`,
	})
	ok, out := runTests(t, dir, Options{Paths: []string{filepath.Join(dir, "host_test.lua")}})
	if !ok {
		t.Fatalf("failed:\n%s", out)
	}
	// get wrote to the local fake host's memory, not to this machine.
	if _, err := os.Stat(filepath.Join(dir, "fetched")); err == nil {
		t.Error("get wrote to the disk")
	}
	ok, out = runTests(t, dir, Options{Paths: []string{filepath.Join(dir, "strict")}})
	if ok || !strings.Contains(out, "unscripted commands under testing.strict") || !strings.Contains(out, "web1: custom-tool --version") {
		t.Fatalf("strict host accepted an unscripted command:\n%s", out)
	}
}

// TestMultiHost: a case with several hosts; execute, runs_once and
// barrier behave as in a real run.
func TestMultiHost(t *testing.T) {
	dir := project(t, map[string]string{
		"fabfile.lua": `
task("migrate", {runs_once = true}, function() run("migrate-db") end)
task("restart", function() sudo("systemctl restart app") end)
task("rollout", function()
  execute("migrate")
  run("fetch-release")
  barrier()
  execute("restart")
  return env.host
end)
task("tag", function() execute("restart", {on = "db1"}) end)
`,
		"multi_test.lua": `local t = require("testing")

t.case("rollout", {hosts = {"web1", "web2", "web3"}}, function(a, b, c)
  local r = a:run_task("rollout")
  t.equal(r.hosts.web2.value, "web2")
  local migrations = 0
  for _, h in ipairs({a, b, c}) do
    h:assert_ran("fetch%-release")
    h:assert_ran_sudo("systemctl restart app")
    for _, cmd in ipairs(h:commands(true)) do
      if cmd.command == "migrate-db" then migrations = migrations + 1 end
    end
  end
  t.equal(migrations, 1, "runs_once ran the migration once")
end)

t.case("execute on another host makes it", function(h)
  h:run_task("tag")
  h:host("db1"):assert_ran_sudo("systemctl restart app")
  h:assert_not_ran("systemctl")
end)
`,
	})
	ok, out := runTests(t, dir, Options{Verbose: true})
	if !ok {
		t.Fatalf("failed:\n%s", out)
	}
}

// TestBadInput: each problem is one clear line and a failure, never a
// crash.
func TestBadInput(t *testing.T) {
	cases := []struct {
		name  string
		files map[string]string
		want  string
	}{
		{"syntax error in the test", map[string]string{"fabfile.lua": `task("a", function() end)`, "x_test.lua": "t.case(\n"},
			"x_test.lua:2:"},
		{"no cases", map[string]string{"fabfile.lua": `task("a", function() end)`, "x_test.lua": "local t = require('testing')\n"},
			"declares no testing.case"},
		{"unknown task", map[string]string{"fabfile.lua": `task("deploy", function() end)`,
			"x_test.lua": "local t = require('testing')\nt.case('c', function(h) h:run_task('deplyo') end)\n"},
			`x_test.lua:2: run_task("deplyo"): unknown task "deplyo"`},
		{"error in the task", map[string]string{"fabfile.lua": "task('deploy', function()\n  error('boom')\nend)",
			"x_test.lua": "local t = require('testing')\nt.case('c', function(h) h:run_task('deploy') end)\n"},
			`fabfile.lua:2: boom`},
		{"fabfile does not load", map[string]string{"fabfile.lua": "task(", "x_test.lua": "local t = require('testing')\n"},
			"fabfile.lua:1:"},
		{"method called with a dot", map[string]string{"fabfile.lua": `task("a", function() end)`,
			"x_test.lua": "local t = require('testing')\nt.case('c', function(h) h.run_task('a') end)\n"},
			"FakeHost expected (call it with a colon"},
		{"misspelled option", map[string]string{"fabfile.lua": `task("a", function() end)`,
			"x_test.lua": "local t = require('testing')\nt.case('c', function(h) h:run_task('a', {}, {chek = true}) end)\n"},
			`unknown option "chek"`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := project(t, c.files)
			ok, out := runTests(t, dir, Options{})
			if ok || !strings.Contains(out, c.want) {
				t.Fatalf("want a failure with %q:\n%s", c.want, out)
			}
			if strings.Contains(out, "goroutine ") || strings.Contains(out, "stack traceback") {
				t.Fatalf("a stack in the report:\n%s", out)
			}
		})
	}
	if _, err := Run(context.Background(), Options{Paths: []string{t.TempDir()}, Out: &bytes.Buffer{}}); err == nil {
		t.Error("no error for a directory without tests")
	}
	orphan := project(t, map[string]string{"x_test.lua": "local t = require('testing')\n"})
	if ok, out := runTests(t, orphan, Options{}); ok || !strings.Contains(out, "no fabfile.lua next to") {
		t.Errorf("a test without a fabfile:\n%s", out)
	}
}

// TestRecipes runs the unit tests of the recipes shipped in fabfiles/.
func TestRecipes(t *testing.T) {
	ok, out := runTests(t, "", Options{Paths: []string{filepath.Join("..", "..", "..", "fabfiles")}})
	if !ok {
		t.Fatalf("fabfiles/ tests failed:\n%s", out)
	}
}

// TestREADMEExample runs the README's gofab test example against the
// recipes in fabfiles/.
func TestREADMEExample(t *testing.T) {
	readme, err := os.ReadFile(filepath.Join("..", "..", "..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	var example string
	for _, m := range regexp.MustCompile("(?s)```lua\n(.*?)```").FindAllStringSubmatch(string(readme), -1) {
		if strings.Contains(m[1], `require("testing")`) {
			example = m[1]
		}
	}
	if example == "" {
		t.Fatal("README has no testing example")
	}
	dir := project(t, map[string]string{"readme_test.lua": example})
	fabfile, _ := filepath.Abs(filepath.Join("..", "..", "..", "fabfiles", "fabfile.lua"))
	ok, out := runTests(t, dir, Options{Fabfile: fabfile, Verbose: true})
	if !ok || !strings.Contains(out, "--- PASS: rolling restart") {
		t.Fatalf("README example:\n%s", out)
	}
}

// TestHostileTestFile runs testdata/hostile, a fabfile and test file that
// try every io and os function and every way to start a local process,
// and checks this machine's disk, environment and processes are as they
// were.
func TestHostileTestFile(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("HOSTILE_DIR", dir)
	if err := os.WriteFile(filepath.Join(dir, "keep.txt"), []byte("original"), 0o644); err != nil {
		t.Fatal(err)
	}
	before := listing(t, dir)
	tmpBefore := listing(t, os.TempDir())
	ok, out := runTests(t, "testdata/hostile", Options{Verbose: true})
	if !ok {
		t.Errorf("the hostile test file failed:\n%s", out)
	}
	if after := listing(t, dir); after != before {
		t.Errorf("the watched directory changed:\nbefore %s\nafter  %s", before, after)
	}
	for _, name := range strings.Fields(listing(t, os.TempDir())) {
		if strings.HasPrefix(name, "lua_") && !strings.Contains(tmpBefore, name) {
			t.Errorf("a Lua temporary file was made on disk: %s", name)
		}
	}
	if v, set := os.LookupEnv("HOSTILE_SET"); set {
		t.Errorf("os.setenv changed gofab's environment: HOSTILE_SET=%s", v)
	}
	procs, _ := filepath.Glob("/proc/[0-9]*/cmdline")
	for _, p := range procs {
		if b, err := os.ReadFile(p); err == nil && bytes.Contains(b, []byte("4242")) {
			t.Errorf("a local process was started: %s %q", p, b)
		}
	}
}

// listing is a directory's names and regular files' contents, as one
// text.
func listing(t *testing.T, dir string) string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	for _, e := range entries {
		var data []byte
		if e.Type().IsRegular() { // a fifo in /tmp would block the read
			data, _ = os.ReadFile(filepath.Join(dir, e.Name()))
		}
		fmt.Fprintf(&b, "%s:%q ", e.Name(), data)
	}
	return b.String()
}

// TestFirstRecipeTest (issue 31, item 14): a first test of a plain deploy
// task, written as a new user would, passes when the recipe is right; a
// failure comes from what the test declares, and says which declaration.
func TestFirstRecipeTest(t *testing.T) {
	dir := project(t, map[string]string{
		"fabfile.lua": `handler("reload nginx", function() sudo("systemctl reload nginx") end)
task("deploy", function()
  sudo("apt-get install -y nginx git python3-venv")
  sudo("mkdir -p /srv/app && chown -R app:app /srv/app")
  sudo("git clone https://git.example.com/app.git /srv/app/src", {user = "app"})
  sudo("psql -c 'create database app' || true", {user = "postgres"})
  put("site.conf", "/etc/nginx/sites-enabled/site", {use_sudo = true})
  notify("reload nginx")
end)
task("probe", function() run("dpkg-query -W nginx") end)
task("restart", function() run("systemctl restart nginx") end)`,
		"site.conf": "server {}\n",
		"deploy_test.lua": `local t = require("testing")
t.case("deploy reloads nginx", function(h)
  h:run_task("deploy")
  h:assert_ran_sudo("systemctl reload nginx")
end)
t.case("a stopped nginx cannot reload", function(h)
  h:services({nginx = "stopped"})
  local r = h:run_task("deploy", {}, {allow_failure = true})
  t.equal(r.ok, false)
  h:assert_output("declared it stopped with h:services")
end)
t.case("a package probe names the declaration", function(h)
  t.equal(h:run_task("probe", {}, {allow_failure = true}).ok, false)
  h:assert_output('h:packages%({"nginx"}%) declares it installed')
  h:packages({"nginx"})
  h:run_task("probe")
end)
t.case("a command that needs root says to use sudo", function(h)
  t.equal(h:run_task("restart", {}, {allow_failure = true}).ok, false)
  h:assert_output("use sudo%(%)")
end)`,
	})
	ok, out := runTests(t, dir, Options{})
	if !ok {
		t.Fatalf("a first recipe test failed:\n%s", out)
	}
}
