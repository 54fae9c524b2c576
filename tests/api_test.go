package tests

import (
	"bufio"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// apiFab exercises the fabfile API on a real host; check() aborts the task
// when an expectation fails, so the test only needs the exit status and a
// few lines.
const apiFab = `
env.roledefs = {
  web = {"127.0.0.2", "127.0.0.3"},
  db = {hosts = {"127.0.0.4"}, vars = {pg = "15"}},
}
env.greeting = env.greeting or "hello"

local function check(cond, what)
  if not cond then abort("check failed: " .. what) end
end

task("api", {doc = "Exercise the API", aliases = {"everything"}}, function(args)
  check(args[1] == "one" and args.mode == "fast", "args")
  check(env.host == "127.0.0.2" and env.host_string == "127.0.0.2", "env.host")
  check(env.user == "` + "%USER%" + `" and env.port == ` + "%PORT%" + `, "env.user/env.port")
  check(env.vars.src == "/a" and env.greeting == "hello", "--set")

  local r = run("echo out; echo err >&2", {quiet = true})
  check(r.stdout == "out\n" and r.stderr == "err\n", "capture")
  check(r.code == 0 and r.ok and not r.failed and r.host == "127.0.0.2", "result fields")
  check(tostring(r) == "out" and r.command == "echo out; echo err >&2", "tostring")

  local ok, err = pcall(run, "exit 5")
  check(not ok and err:find("127.0.0.2") and err:find("exit 5") and err:find("code 5"), "error message: " .. tostring(err))
  local w = warn_only(function() return run("exit 6") end)
  check(w.code == 6 and w.failed, "warn_only")
  check(run("exit 3", {ok_codes = {0, 3}}).ok, "ok_codes")

  local argv = run({"printf", "%s|", "a b", "it's", "$HOME", "` + "`x`" + `"}, {quiet = true})
  check(tostring(argv) == "a b|it's|$HOME|` + "`x`" + `|", "argv quoting: " .. tostring(argv))
  check(shell_quote("it's") == "'it'\\''s'", "shell_quote")

  cd("/usr", function()
    cd("share", function()
      check(tostring(run("pwd", {quiet = true})) == "/usr/share", "nested cd")
    end)
  end)
  check(tostring(run("pwd", {quiet = true})) ~= "/usr/share", "cd restored")
  local okcd = pcall(cd, "/tmp", function() error("boom") end)
  check(not okcd and tostring(run("pwd", {quiet = true})) ~= "/tmp", "cd restored after error")

  lcd("/etc", function()
    check(tostring(run_local("pwd", {quiet = true})) == "/etc", "lcd")
  end)
  prefix("export A=1", function()
    prefix("export B=2", function()
      check(tostring(run("echo $A$B", {quiet = true})) == "12", "prefix")
    end)
  end)
  shell_env({X = "a b", Y = "it's"}, function()
    check(tostring(run("echo $X/$Y", {quiet = true})) == "a b/it's", "shell_env")
  end)
  check(tostring(run("echo $Z", {env = {Z = "zz"}, quiet = true})) == "zz", "opts.env")
  path("/opt/gofab/bin", function()
    check(tostring(run("echo $PATH", {quiet = true})):find(":/opt/gofab/bin$"), "path append")
  end)
  path("/opt/first", "prepend", function()
    check(tostring(run("echo $PATH", {quiet = true})):find("^/opt/first:"), "path prepend")
  end)
  with_settings({warn_only = true, custom = "x"}, function()
    check(env.custom == "x" and run("false").failed, "with_settings")
  end)
  check(env.custom == nil, "with_settings restored")
  check(tostring(run("tty", {pty = true, quiet = true})):find("^/dev/pts/"), "pty")
  local q = quiet(function() return run("echo hidden; exit 2") end)
  check(q.code == 2 and q.stdout == "hidden\n", "quiet")
  hide("running", "stdout", function() run("echo HIDDEN-OUTPUT") end)
  hide("everything", function() show("stdout", function() run("echo SHOWN-OUTPUT") end) end)
  puts("puts-line")
  warn("careful")
  local okp, perr = pcall(prompt, "Branch?")
  check(not okp and perr:find("standard input ended"), "prompt without an answer")
  local okc, cerr = pcall(confirm, "Sure?")
  check(not okc and cerr:find("standard input ended"), "confirm without an answer")
  local okr, rerr = pcall(require_env, "nope", {used_for = "testing"})
  check(not okr and rerr:find("env.nope must be set") and rerr:find("used for testing"), "require_env")
  require_env("greeting")
  return {done = true}
end)

task("roles", {roles = {"db"}}, function()
  puts("pg=" .. tostring(env.pg) .. " roles=" .. table.concat(env.effective_roles, ","))
end)

task("who", function() puts("ran") end)
task("pinned", {hosts = {"127.0.0.5"}, exclude_hosts = {"127.0.0.6"}}, function() puts("pinned") end)
`

// TestFabfileAPI runs every fabfile API function against a real host.
func TestFabfileAPI(t *testing.T) {
	needTestbed(t)
	fab := strings.NewReplacer("%USER%", tb.User, "%PORT%", tb.Port).Replace(apiFab)
	p := newProject(t, fab, "")
	r := p.run(nil, "-H", "127.0.0.2", "--set", "vars.src=/a", "everything:one,mode=fast")
	wantCode(t, r, 0)
	mustContain(t, r, "[127.0.0.2] puts-line", "[127.0.0.2] warning: careful", "[127.0.0.2] out: SHOWN-OUTPUT",
		`[127.0.0.2] warning: run("exit 6") on 127.0.0.2 exited with code 6`)
	mustNotContain(t, r, "HIDDEN-OUTPUT", "out: hidden", "check failed")
}

// TestHostSelection covers roles with vars, -R, -H, -x, task hosts and
// exclude_hosts, per-task hosts= arguments and de-duplication.
func TestHostSelection(t *testing.T) {
	needTestbed(t)
	fab := strings.NewReplacer("%USER%", tb.User, "%PORT%", tb.Port).Replace(apiFab)
	cases := []struct {
		name string
		args []string
		ran  []string
	}{
		{"role with vars", []string{"roles"}, []string{"[127.0.0.4] pg=15 roles=db"}},
		{"-R and -x", []string{"-R", "web,db", "-x", "127.0.0.3", "who"}, []string{"[127.0.0.2] ran", "[127.0.0.4] ran"}},
		{"-H dedupes", []string{"-H", "127.0.0.2,127.0.0.2", "-H", "127.0.0.3", "who"}, []string{"[127.0.0.2] ran", "[127.0.0.3] ran"}},
		{"task hosts option", []string{"pinned"}, []string{"[127.0.0.5] pinned"}},
		{"per-task hosts arg", []string{"-H", "127.0.0.2", "who:hosts=127.0.0.7;127.0.0.8"}, []string{"[127.0.0.7] ran", "[127.0.0.8] ran"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p := newProject(t, fab, "")
			r := p.run(nil, c.args...)
			wantCode(t, r, 0)
			mustContain(t, r, c.ran...)
			if n := strings.Count(r.stdout, "] ran") + strings.Count(r.stdout, "] pinned") + strings.Count(r.stdout, "] pg="); n != len(c.ran) {
				t.Errorf("%d hosts ran, want %d\n%s", n, len(c.ran), r)
			}
		})
	}
}

// TestListAndDisplay checks -l and -d.
func TestListAndDisplay(t *testing.T) {
	needTestbed(t)
	p := newProject(t, `
task("deploy", "Deploy the app\nLonger description here.", function() end)
task("b", {doc = "Second", hosts = {"h1"}, aliases = {"bee"}}, function() end)
`, "")
	r := p.run(nil, "-l")
	wantCode(t, r, 0)
	mustContain(t, r, "Available tasks:", "    b       Second", "    deploy  Deploy the app")
	mustNotContain(t, r, "Longer description")
	r = p.run(nil, "-d", "bee")
	wantCode(t, r, 0)
	mustContain(t, r, "task 'b'", "Second", "Hosts: h1", "Aliases: bee", "fabfile.lua:3")
}

// TestOutputStreamsLive checks a line reaches gofab's stdout while the
// remote command is still running.
func TestOutputStreamsLive(t *testing.T) {
	needTestbed(t)
	dir, err := os.MkdirTemp("", "gofab-gate-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	os.Chmod(dir, 0o755) // the remote user must see the gate
	gate := filepath.Join(dir, "gate")
	p := newProject(t, `task("s", function() run("echo first; while [ ! -e `+gate+` ]; do sleep 0.05; done; echo second") end)`, "")
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, gofabBin, "-S", filepath.Join(p.dir, "ssh_config"), "-H", "127.0.0.2", "s")
	cmd.Dir, cmd.Env = p.dir, p.env
	out, _ := cmd.StdoutPipe()
	cmd.Stderr = cmd.Stdout // errors and the recap are on stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Wait()
	sc := bufio.NewScanner(out)
	for sc.Scan() {
		if sc.Text() == "[127.0.0.2] out: second" {
			t.Fatal("second line arrived before the gate opened")
		}
		if sc.Text() == "[127.0.0.2] out: first" {
			break
		}
	}
	// "first" arrived while the command waits on the gate: it streamed.
	if err := os.WriteFile(gate, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	sawSecond := false
	for sc.Scan() {
		sawSecond = sawSecond || sc.Text() == "[127.0.0.2] out: second"
	}
	if !sawSecond {
		t.Fatal("second line never arrived")
	}
}
