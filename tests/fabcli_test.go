package tests

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestFabCommandLine: the command lines a fab user types.
func TestFabCommandLine(t *testing.T) {
	needTestbed(t)
	p := newProject(t, `
task("hi", "Says hi", function() run("echo hi-from-$(hostname -I >/dev/null; echo $SSH_CONNECTION | cut -d' ' -f3)") end)
task("build", function() run("exit 4") end)
task("deploy", function() run("echo deployed") end)
task("ask", function() puts("answer=" .. prompt("Your name?")) end)
task("pw", function() puts("pw-known=" .. tostring(env.password ~= nil)); sudo("echo sudo-ok") end)
`, "")
	cases := []struct {
		name string
		args []string
		code int
		want []string
		not  []string
	}{
		{"flags after the task", []string{"hi", "-H", "127.0.0.2"}, 0, []string{"out: hi-from-127.0.0.2"}, nil},
		{"glued short flag", []string{"hi", "-H127.0.0.3"}, 0, []string{"out: hi-from-127.0.0.3"}, nil},
		{"glued boolean flags", []string{"-H", "127.0.0.2", "-wq", "build"}, 0, nil, []string{"run:"}},
		{"-P is accepted", []string{"-P", "-H", "127.0.0.2", "hi"}, 0, []string{"hi-from"}, nil},
		{"-r is accepted", []string{"-r", "-H", "127.0.0.2", "hi"}, 0, []string{"hi-from"}, nil},
		{"--version", []string{"--version"}, 0, []string{"gofab version"}, nil},
		{"-V", []string{"-V"}, 0, []string{"gofab version"}, nil},
		{"help", []string{"-h"}, 0, []string{"USAGE:"}, nil},
		{"fab flag gofab lacks", []string{"--linewise", "hi"}, 2, []string{"gofab: --linewise: gofab's output is always line by line"}, nil},
		{"unknown flag, two dashes", []string{"--bogus", "hi"}, 2, []string{"gofab: unknown flag --bogus"}, nil},
		{"-D explained", []string{"-D", "hi"}, 2, []string{"-D: gofab always checks host keys"}, nil},
		{"bad value names the long flag", []string{"-z", "abc", "hi"}, 2, []string{`invalid value "abc" for --pool-size`}, nil},
		{"stop at the first failure", []string{"-H", "127.0.0.2", "build", "deploy"}, 1, []string{"Not run: deploy (build failed; --keep-going runs every task named)"}, []string{"deployed"}},
		{"--keep-going", []string{"-H", "127.0.0.2", "--keep-going", "build", "deploy"}, 1, []string{"out: deployed"}, []string{"Not run"}},
		{"--shortlist", []string{"--shortlist"}, 0, []string{"ask\nbuild\ndeploy\nhi\npw\n"}, nil},
		{"-F short", []string{"-l", "-F", "short"}, 0, []string{"ask\nbuild\n"}, nil},
		{"--abort-on-prompts", []string{"-H", "127.0.0.2", "--abort-on-prompts", "ask"}, 1, []string{"--abort-on-prompts is set"}, nil},
		{"-p password", []string{"-H", "127.0.0.2", "-p", tb.Password, "pw"}, 0, []string{"out: sudo-ok"}, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := p.run(nil, c.args...)
			wantCode(t, r, c.code)
			mustContain(t, r, c.want...)
			mustNotContain(t, r, c.not...)
			if c.code == 2 && strings.Count(strings.TrimSpace(r.stderr), "\n") > 0 {
				t.Errorf("more than one line:\n%s", r)
			}
		})
	}
}

// TestOutputOnStdout: command output stays on stdout; errors, warnings
// and the recap go to stderr, so gofab t > out.txt keeps only output.
func TestOutputOnStdout(t *testing.T) {
	needTestbed(t)
	p := newProject(t, `task("t", function()
  run("echo payload")
  if env.host == "127.0.0.3" then run("exit 2") end
  warn("careful")
end)`, "")
	r := p.run(nil, "-H", hosts(2, 2), "t")
	wantCode(t, r, 1)
	if !strings.Contains(r.stdout, "out: payload") {
		t.Errorf("output not on stdout:\n%s", r)
	}
	for _, s := range []string{"error:", "warning: careful", "Summary:", "2 hosts:"} {
		if strings.Contains(r.stdout, s) || !strings.Contains(r.stderr, s) {
			t.Errorf("%q should be on stderr only:\n%s", s, r)
		}
	}
}

// TestGlobalFlagsReachSubcommands: -S, --include and -f work wherever
// they are written; help SUBCOMMAND and docs are offered.
func TestGlobalFlagsReachSubcommands(t *testing.T) {
	needTestbed(t)
	p := newProject(t, `local m = require("mymod")
task("t", function() end)`, "Host web1\n  HostName 10.9.9.9\n  Port 2299\n")
	os.Mkdir(filepath.Join(p.dir, "mods"), 0o755)
	p.write("mods/mymod.lua", "return {}\n")
	r := p.run(nil, "ssh-config", "web1") // -S is added first by p.run
	wantCode(t, r, 0)
	mustContain(t, r, "hostname 10.9.9.9", "port 2299")
	cmd := exec.Command(gofabBin, "--include", filepath.Join(p.dir, "mods"), "check")
	cmd.Dir, cmd.Env = p.dir, p.env
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Errorf("gofab --include DIR check: %v\n%s", err, out)
	}
	other := t.TempDir()
	cmd = exec.Command(gofabBin, "-f", filepath.Join(p.dir, "fabfile.lua"), "--include", filepath.Join(p.dir, "mods"), "-l")
	cmd.Dir, cmd.Env = other, p.env
	if out, err := cmd.CombinedOutput(); err != nil || !strings.Contains(string(out), "    t") {
		t.Errorf("gofab -f X -l: %v\n%s", err, out)
	}
	r = p.run(nil, "help", "hosts")
	wantCode(t, r, 0)
	mustContain(t, r, "gofab hosts - list the hosts")
	r = p.run(nil, "--help")
	mustContain(t, r, "   docs ")
	for _, line := range strings.Split(r.stdout, "\n") {
		if strings.Contains(line, "(default: false)") || strings.Count(line, "(default:") > 1 {
			t.Errorf("doubled or empty default in --help: %s", line)
		}
	}
}

// TestFabricIdioms: Fabric's get() paths, env.password and env keys gofab
// has no use for.
func TestFabricIdioms(t *testing.T) {
	needTestbed(t)
	p := newProject(t, `
env.password = "`+tb.Password+`"
task("fetch", function() get("/etc/hostname", "%(host)s/%(basename)s") end)
task("sudo_pw", function() sudo("echo sudo-with-env-password") end)
`, "")
	r := p.run(nil, "-H", "127.0.0.2", "fetch", "sudo_pw")
	wantCode(t, r, 0)
	if _, err := os.Stat(filepath.Join(p.dir, "127.0.0.2", "hostname")); err != nil {
		t.Errorf("get with %%(host)s: %v\n%s", err, r)
	}
	mustContain(t, r, "out: sudo-with-env-password")
	mustNotContain(t, r, tb.Password)
	q := newProject(t, "env.always_use_pty = true\ntask('t', function() end)\n", "")
	r = q.run(nil, "-H", "local", "t")
	wantCode(t, r, 2)
	mustContain(t, r, "env.always_use_pty: gofab runs commands without a pty; pass {pty = true}")
	q = newProject(t, "env.warn_only = true\ntask('t', function() run('exit 3') end)\n", "")
	r = q.run(nil, "-H", "local", "t")
	wantCode(t, r, 0)
	mustContain(t, r, "warning:")
}
