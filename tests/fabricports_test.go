package tests

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// What a Fabric 1 user hits in the first hour of porting (issue 31).

// TestRunLocalNeverDials (item 8): run_local runs on this machine even
// when the task's host cannot be reached.
func TestRunLocalNeverDials(t *testing.T) {
	p := newProject(t, `task("build", function() run_local("echo built-here") end)`, "")
	r := p.run(nil, "-H", "127.0.0.2:1", "build") // nothing listens on port 1
	wantCode(t, r, 0)
	mustContain(t, r, "out: built-here")
	mustNotContain(t, r, "connect", "refused")
}

// TestSetOrderAndHelpers (item 12): --set comes first, then the
// fabfile's top level (Fabric's order), so env.x = env.x or default takes
// a --set value; sleep, colors (plain without a terminal) and
// env.local_user are there.
func TestSetOrderAndHelpers(t *testing.T) {
	p := newProject(t, `local colors = require("colors")
env.branch = env.branch or "main"
env.forced = "top"
task("t", function()
  sleep(0.01)
  puts(colors.red(env.branch) .. " " .. env.forced .. " by " .. env.local_user)
end)`, "")
	r := p.run(nil, "-H", "local", "t")
	wantCode(t, r, 0)
	mustContain(t, r, "[local] main top by ")
	r = p.run(nil, "--set", "branch=hotfix,forced=cli", "-H", "local", "t")
	wantCode(t, r, 0)
	mustContain(t, r, "[local] hotfix top by ")
	mustNotContain(t, r, "\x1b[")
}

// TestPromptsWithoutTerminal (item 6): prompt and confirm read a piped
// stdin as Fabric did; --set answers a keyed question; --yes answers every
// confirm; with neither, the error names the --set key that works.
func TestPromptsWithoutTerminal(t *testing.T) {
	p := newProject(t, `task("t", function()
  local c = prompt("Colour?", {key = "colour"})
  local go_on = confirm("Go on?", {default = false, key = "go_on"})
  puts("colour=" .. c .. " go_on=" .. tostring(go_on) .. " env=" .. env.colour)
end)
task("bare", function() puts(prompt("Name?")) end)`, "")
	r := gofab(t, p.dir, nil, "blue\ny\n", "-H", "local", "t")
	wantCode(t, r, 0)
	mustContain(t, r, "colour=blue go_on=true env=blue")
	r = gofab(t, p.dir, nil, "", "--set", "colour=red,go_on=no", "-H", "local", "t")
	wantCode(t, r, 0)
	mustContain(t, r, "colour=red go_on=false")
	r = gofab(t, p.dir, nil, "green\n", "--yes", "-H", "local", "t")
	wantCode(t, r, 0)
	mustContain(t, r, "colour=green go_on=true")
	r = gofab(t, p.dir, nil, "", "-H", "local", "t")
	wantCode(t, r, 1)
	mustContain(t, r, "standard input ended before an answer (pass --set colour=…)")
	r = gofab(t, p.dir, nil, "", "-H", "local", "bare")
	wantCode(t, r, 1)
	mustContain(t, r, `give it a key, prompt(text, {key = "name"}), and pass --set name=…`)
}

// TestTasksAsFunctions (item 7): a task calls another as a function on
// its own host (tasks.name(args), call(name, args)); a private task is
// callable, execute()-able and runnable but not listed.
func TestTasksAsFunctions(t *testing.T) {
	p := newProject(t, `task("build", {private = true}, function(args)
  puts("building " .. (args.version or "dev"))
  return "built-" .. (args.version or "dev")
end)
task("deploy", "Deploy it", function()
  puts(tasks.build({version = "1.2"}) .. " " .. call("build"))
  execute("build")
end)
task("typo", function() tasks.biuld() end)`, "")
	r := p.run(nil, "-l")
	wantCode(t, r, 0)
	mustContain(t, r, "deploy  Deploy it")
	mustNotContain(t, r, "build")
	r = p.run(nil, "-H", "local", "deploy")
	wantCode(t, r, 0)
	mustContain(t, r, "[local] building 1.2", "[local] built-1.2 built-dev")
	r = p.run(nil, "-H", "local", "build")
	wantCode(t, r, 0)
	mustContain(t, r, "[local] building dev")
	r = p.run(nil, "-H", "local", "typo")
	wantCode(t, r, 1)
	mustContain(t, r, `tasks.biuld: unknown task "biuld", did you mean "build"?`)
}

// TestPasswordSetInATask (item 2): a sudo password given inside a task
// (with_settings, env.sudo_password, env.password) answers sudo, and shows
// nowhere.
func TestPasswordSetInATask(t *testing.T) {
	needTestbed(t)
	p := newProject(t, fmt.Sprintf(`task("settings", function()
  with_settings({sudo_password = %[1]q}, function() sudo("echo sudo-ok-1") end)
end)
task("env", function()
  env.sudo_password = %[1]q
  sudo("echo sudo-ok-2")
end)
task("password", function()
  with_settings({password = %[1]q}, function() sudo("echo sudo-ok-3") end)
end)
task("newline", function()
  with_settings({sudo_password = "a\nb"}, function() sudo("echo never") end)
end)`, tb.Password), "")
	for i, task := range []string{"settings", "env", "password"} {
		r := p.run(nil, "-H", "127.0.0.2", task)
		wantCode(t, r, 0)
		mustContain(t, r, fmt.Sprintf("out: sudo-ok-%d", i+1))
		mustNotContain(t, r, tb.Password)
	}
	r := p.run(nil, "-H", "127.0.0.2", "newline")
	wantCode(t, r, 1)
	mustContain(t, r, "env.sudo_password contains a newline")
	mustNotContain(t, r, "out: never", "a\nb")
}

// TestAuthFailureSaysWhatWasTried (item 10): the error names the user,
// the keys and agent tried, and that ssh_config's User was overridden.
func TestAuthFailureSaysWhatWasTried(t *testing.T) {
	needTestbed(t)
	p := newProject(t, `task("t", function() run("true") end)`, "")
	r := p.run(nil, "-u", "nosuchuser", "-H", "127.0.0.2", "t")
	wantCode(t, r, 1)
	mustContain(t, r, "unable to authenticate", "as nosuchuser@127.0.0.2 (tried key "+tb.Key+", agent: none)",
		"ssh_config says User "+tb.User+", overridden by -u, env.user")
}

// TestCheckRunsProbes (item 4): under --check a command that provably
// only reads runs (echoed as a probe), so decisions match a real run;
// anything that may write is skipped.
func TestCheckRunsProbes(t *testing.T) {
	p := newProject(t, "", "")
	releases := filepath.Join(p.dir, "releases")
	for _, r := range []string{"20260101", "20260202"} {
		if err := os.MkdirAll(filepath.Join(releases, r), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Symlink(filepath.Join(releases, "20260202"), filepath.Join(p.dir, "current")); err != nil {
		t.Fatal(err)
	}
	p.write("fabfile.lua", fmt.Sprintf(`task("deploy", function()
  local n = tonumber((run("ls -1t %[1]s/releases | wc -l").stdout))
  local cur = run("readlink %[1]s/current").stdout
  puts("releases=" .. n .. " current=" .. cur)
  if n > 1 then run("rm -rf %[1]s/releases/20260101") end
  run("ls > %[1]s/written")
end)`, p.dir))
	r := p.run(nil, "--check", "-H", "local", "deploy")
	wantCode(t, r, 0)
	mustContain(t, r, "probe: ls -1t", "probe: readlink", "releases=2 current="+releases+"/20260202",
		"skipped: run: rm -rf", "skipped: run: ls > ")
	for _, p := range []string{filepath.Join(releases, "20260101"), filepath.Join(p.dir, "written")} {
		if _, err := os.Lstat(p); (err == nil) != strings.HasSuffix(p, "20260101") {
			t.Errorf("%s: %v", p, err)
		}
	}
}

// TestIOPathsAsTemplates (item 13): io.open and io.lines take a relative
// path from the fabfile's directory (lcd()'s when set), as templates do,
// wherever gofab is started.
func TestIOPathsAsTemplates(t *testing.T) {
	p := newProject(t, `task("t", function()
  puts("top=" .. io.open("data.txt"):read("*a"))
  for l in io.lines("data.txt") do puts("line=" .. l) end
  lcd("sub", function() puts("sub=" .. io.open("data.txt"):read("*a")) end)
end)`, "")
	p.write("data.txt", "fabfile-dir")
	os.Mkdir(filepath.Join(p.dir, "sub"), 0o755)
	p.write("sub/data.txt", "lcd-dir")
	elsewhere := t.TempDir()
	r := gofab(t, elsewhere, nil, "", "-f", filepath.Join(p.dir, "fabfile.lua"), "-H", "local", "t")
	wantCode(t, r, 0)
	mustContain(t, r, "top=fabfile-dir", "line=fabfile-dir", "sub=lcd-dir")
}

// TestRunSudo (item 1): sudo inside run() has its password prompt
// answered (never shown, never in argv), in a pipeline as another user
// too; with no password known the error says what to do in one line.
func TestRunSudo(t *testing.T) {
	needTestbed(t)
	p := newProject(t, `task("t", function()
  run("sudo whoami")
  run("sudo -u gofabtest id -un | tr a-z A-Z")
  run("sudo true && sudo whoami")
end)
task("input", function()
  run("sudo cat", {stdin = "fed-to-sudo-cat\n"})
  run("cat", {stdin = "plain\n"})
end)`, "")
	r := p.run([]string{"GOFAB_SUDO_PASSWORD=" + tb.Password}, "-H", "127.0.0.2", "t")
	wantCode(t, r, 0)
	mustContain(t, r, "out: root", "out: GOFABTEST")
	mustNotContain(t, r, tb.Password, "[gofab-sudo-")
	r = p.run([]string{"GOFAB_SUDO_PASSWORD=" + tb.Password}, "-H", "127.0.0.2", "input")
	wantCode(t, r, 0)
	mustContain(t, r, "out: fed-to-sudo-cat", "out: plain")
	mustNotContain(t, r, tb.Password)
	r = p.run(nil, "-H", "127.0.0.2", "t")
	wantCode(t, r, 1)
	mustContain(t, r, "the command's sudo asked for a password and none is known", "or use sudo(cmd)")
}

// TestDryRunPlansABuildThenPut (item 5): --dry-run plans a "build locally,
// then put" deploy, and a cuisine call about a user an earlier step would
// create, instead of failing; nothing is built or connected.
func TestDryRunPlansABuildThenPut(t *testing.T) {
	p := newProject(t, `local cuisine = require("cuisine")
task("deploy", function()
  run_local("mkdir -p dist && echo x > dist/app.tar")
  put("dist/app.tar", "/tmp/app.tar")
  cuisine.user_ensure("fabtest")
  cuisine.ssh_keygen("fabtest")
  cuisine.ssh_authorize("fabtest", "ssh-ed25519 AAAA test")
end)`, "")
	r := p.run(nil, "--dry-run", "-H", "127.0.0.2:1", "deploy")
	wantCode(t, r, 0)
	mustContain(t, r, "would put: "+p.dir+"/dist/app.tar is not present now: an earlier step would make it",
		`would: cuisine.ssh_keygen("fabtest") (user "fabtest" is not known under --dry-run)`)
	if _, err := os.Stat(filepath.Join(p.dir, "dist")); err == nil {
		t.Error("--dry-run ran the local build")
	}
}

// TestSudoPtyTypedAhead (item 11): input given to sudo(…, {pty = true})
// reaches the command every time, password or NOPASSWD: sudo flushes the
// terminal's pending input after reading the password, so gofab sends the
// input only once the command says sudo let it run. 60 tries, five hosts
// at a time.
func TestSudoPtyTypedAhead(t *testing.T) {
	needTestbed(t)
	p := newProject(t, `task("ahead", function()
  sudo("read x; echo got:$x:$(id -u)", {pty = true, stdin = "typed-ahead\n"})
end)`, "")
	for _, user := range []string{tb.User, tb.NPUser} {
		for round := 0; round < 6; round++ {
			hostList := strings.ReplaceAll(hosts(2, 5), "127.", user+"@127.")
			r := p.run([]string{"GOFAB_SUDO_PASSWORD=" + tb.Password}, "-H", hostList, "ahead")
			wantCode(t, r, 0)
			if n := strings.Count(r.stdout, "got:typed-ahead:0"); n != 5 {
				t.Fatalf("%s, round %d: %d of 5 hosts got the input\n%s", user, round, n, r)
			}
			mustNotContain(t, r, tb.Password)
		}
	}
}
