package tests

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// cuisineFab calls every state-changing function twice: first it must
// report changed, then not. check() aborts the task on a failed
// expectation, naming it.
const cuisineFab = `
local c = require("cuisine")
local function check(cond, what) if not cond then abort("check failed: " .. what) end end
local function twice(what, f)
  local first, details = f()
  local second = f()
  check(first == true, what .. ": first call did not change")
  check(second == false, what .. ": second call changed again")
  return details
end

handler("restart app", function() puts("handler ran") end)

task("all", function()
  local dir, u, g = env.dir, env.user_name, env.group_name
  -- text
  check(c.text_detect_eol("a\r\nb") == "\r\n" and c.text_detect_eol("a\nb") == "\n", "eol")
  check(c.text_ensure_line("a\n", "b", "a") == "a\nb\n", "ensure_line")
  local t, n = c.text_replace_line("x\ny\n", "y", "z")
  check(t == "x\nz\n" and n == 1, "replace_line")
  check(c.text_strip_margin("  |a\n  |b") == "a\nb", "strip_margin")
  check(c.text_template("hi {{ .who }}", {who = "there"}) == "hi there", "template")
  -- groups and users
  twice("group_ensure", function() return c.group_ensure(g) end)
  check(c.group_check(g).name == g, "group_check")
  twice("user_ensure", function() return c.user_ensure(u, {shell = "/bin/sh", passwd = "first-secret"}) end)
  check(c.user_check(u).shell == "/bin/sh", "user_check")
  twice("user_ensure shell", function() return c.user_ensure(u, {shell = "/bin/bash"}) end)
  twice("user_passwd", function() return c.user_passwd(u, "second-secret") end)
  twice("group_user_ensure", function() return c.group_user_ensure(g, u) end)
  check(c.group_user_check(g, u), "group_user_check")
  twice("group_user_del", function() return c.group_user_del(g, u) end)
  -- files and directories (as root: sudo)
  c.mode_sudo(function()
    twice("dir_ensure", function() return c.dir_ensure(dir .. "/a/b", {recursive = true, mode = "0750", owner = u}) end)
    check(c.dir_exists(dir .. "/a/b") and c.file_is_dir(dir .. "/a"), "dir_exists")
    twice("file_write", function() return c.file_write(dir .. "/f", "one\n", {mode = "0640"}) end)
    check(c.file_read(dir .. "/f") == "one\n" and c.file_read(dir .. "/missing") == nil, "file_read")
    check(c.file_exists(dir .. "/f") and c.file_is_file(dir .. "/f") and not c.file_is_link(dir .. "/f"), "file tests")
    twice("file_attribs", function() return c.file_attribs(dir .. "/f", {mode = "0600", owner = u, group = g}) end)
    local a = c.file_attribs_get(dir .. "/f")
    check(a.mode == "600" and a.owner == u and a.group == g, "file_attribs_get " .. a.mode .. a.owner)
    twice("file_ensure", function() return c.file_ensure(dir .. "/empty", {mode = "0644"}) end)
    twice("file_append", function() return c.file_append(dir .. "/f", "two\n") end)
    twice("file_update", function() return c.file_update(dir .. "/f", function(s) return s:gsub("one", "ONE") end) end)
    check(c.file_read(dir .. "/f") == "ONE\ntwo\n", "content after update")
    twice("file_upload", function() return c.file_upload(dir .. "/up", "upload.txt") end)
    check(c.file_sha256(dir .. "/up") == env.upload_sum, "file_sha256")
    twice("file_link", function() return c.file_link(dir .. "/f", dir .. "/link") end)
    check(c.file_is_link(dir .. "/link"), "file_is_link")
    twice("file_unlink", function() return c.file_unlink(dir .. "/link") end)
    twice("dir_remove", function() return c.dir_remove(dir .. "/a") end)
  end)
  local k = twice("ssh_keygen", function() return c.ssh_keygen(u) end)
  check(k.key:find("^ssh%-ed25519 "), "ed25519 key: " .. tostring(k.key))
  twice("ssh_authorize", function() return c.ssh_authorize(u, k.key) end)
  twice("ssh_unauthorize", function() return c.ssh_unauthorize(u, k.key) end)
  -- services (a SysV script the test installed), processes, system
  twice("service_start", function() return c.service_start(env.service) end)
  check(c.service_is_active(env.service), "service_is_active")
  check(c.service_ensure(env.service) == false, "service_ensure on a running service")
  twice("service_stop", function() return c.service_stop(env.service) end)
  check(c.service_restart(env.service), "service_restart")
  twice("service_enable", function() return c.service_enable(env.service) end)
  local daemon = "sleep 1000 0." .. env.suffix -- not in gofab's own command line
  local found = c.process_find(daemon)
  check(#found == 1, "process_find found " .. #found .. ": " .. table.concat((function() local t = {} for _, p in ipairs(found) do t[#t+1] = p.pid .. " " .. p.command end return t end)(), " / "))
  twice("process_kill", function() return c.process_kill(daemon, {use_sudo = true}) end)
  check(c.command_check("sh") and not c.command_check("gofab-no-such-command"), "command_check")
  if env.locale ~= "" then
    twice("locale_ensure", function() return c.locale_ensure(env.locale) end)
  end
  -- create and remove a second user and group
  check(c.group_create(g .. "x") and c.group_check(g .. "x") ~= nil, "group_create")
  check(c.user_create(u .. "x", {createhome = false}) and c.user_check(u .. "x") ~= nil, "user_create")
  check(c.group_user_add(g .. "x", u .. "x") and c.group_user_check(g .. "x", u .. "x"), "group_user_add")
  twice("user_remove", function() return c.user_remove(u .. "x") end)
  twice("group_remove", function() return c.group_remove(g .. "x") end)
  check(#c.system_uuid() > 8, "system_uuid")
  notify("restart app")
  notify("restart app")
end)

task("packages", function()
  c.package_update()
  check(c.package_clean(), "package_clean")
  twice("package_ensure", function() return c.package_ensure({"hello"}) end)
  check(c.command_ensure("hello") == false, "command_ensure of an installed command")
  twice("package_remove", function() return c.package_remove("hello") end)
end)

task("pkgnopw", function(args)
  puts("installed already: " .. tostring((c.package_ensure(args.pkg))))
end)

task("pkgcheck", function()
  puts("pkg would=" .. tostring((c.package_ensure("hello"))))
end)

task("local", function()
  local here = c.mode_local(function() return c.file_exists(env.real_fabfile) end)
  puts("local=" .. tostring(here))
end)

task("cleanup", function()
  c.user_remove(env.user_name, {rmhome = true})
  c.group_remove(env.group_name)
end)

task("plan", function()
  local r1 = c.group_ensure(env.group_name)
  local r2 = c.user_ensure(env.user_name, {groups = {env.group_name}})
  local r3 = c.ssh_authorize(env.user_name, "ssh-ed25519 AAAA test")
  c.mode_sudo(function() c.file_write(env.dir .. "/planned", "new content\n", {mode = "0600"}) end)
  run("touch " .. env.dir .. "/ran")
  run("true", {check_safe = true})
  puts(string.format("plan changed=%s,%s,%s", tostring(r1), tostring(r2), tostring(r3)))
end)
`

// serviceScript is a SysV init script for a daemon the test controls.
const serviceScript = `#!/bin/sh
### BEGIN INIT INFO
# Provides:          %[1]s
# Required-Start:
# Required-Stop:
# Default-Start:     2 3 4 5
# Default-Stop:      0 1 6
# Short-Description: gofab test daemon
### END INIT INFO
PID=/run/%[1]s.pid
case "$1" in
  start) start-stop-daemon --start --background --make-pidfile --pidfile $PID --exec /bin/sleep -- 1000 0.%[2]s ;;
  stop) start-stop-daemon --stop --pidfile $PID --retry 5 --oknodo; rm -f $PID ;;
  restart|reload) $0 stop; $0 start ;;
  status) [ -f $PID ] && kill -0 "$(cat $PID)" 2>/dev/null ;;
esac
`

func cuisineNames(t *testing.T) (user, group, service string) {
	suffix := fmt.Sprintf("%d%d", os.Getpid()%1000, time.Now().UnixNano()%10000)
	user, group, service = "gfu"+suffix, "gfg"+suffix, "gofab-svc-"+suffix
	t.Cleanup(func() {
		exec.Command("userdel", "-r", user).Run()
		exec.Command("groupdel", group).Run()
		exec.Command("/etc/init.d/"+service, "stop").Run()
		exec.Command("update-rc.d", "-f", service, "remove").Run()
		os.Remove("/etc/init.d/" + service)
	})
	if err := os.WriteFile("/etc/init.d/"+service, []byte(fmt.Sprintf(serviceScript, service, suffix)), 0o755); err != nil {
		t.Fatal(err)
	}
	return user, group, service
}

// TestCuisine runs every state-changing function twice (changed, then
// not), checks the system really changed, and runs handlers once.
func TestCuisine(t *testing.T) {
	needTestbed(t)
	user, group, service := cuisineNames(t)
	p := newProject(t, cuisineFab, "")
	p.write("upload.txt", "uploaded\n")
	dir := t.TempDir() // root-owned: everything goes through sudo
	sum := "3b8e6ab0d1b1a4c6d0c6c1b0b1d4fbb5c3d8f1b4c8b9e7d0f6c6b8a3e2d1c0b9"
	if out, err := exec.Command("sha256sum", filepath.Join(p.dir, "upload.txt")).Output(); err == nil {
		sum = strings.Fields(string(out))[0]
	}
	set := []string{"--set", "dir=" + dir, "--set", "user_name=" + user, "--set", "group_name=" + group,
		"--set", "service=" + service, "--set", "upload_sum=" + sum, "--set", "suffix=" + strings.TrimPrefix(service, "gofab-svc-")}
	locale := ""
	if _, err := os.Stat("/usr/share/i18n/locales/en_US"); err == nil {
		if out, _ := exec.Command("locale", "-a").Output(); !strings.Contains(strings.ToLower(string(out)), "en_us.utf8") {
			locale = "en_US.UTF-8" // missing: locale_ensure may make it, and the test removes it
			t.Cleanup(func() { exec.Command("localedef", "--delete-from-archive", "en_US.utf8").Run() })
		}
	}
	set = append(set, "--set", "locale="+locale)
	r := p.runFor(3*time.Minute, []string{"GOFAB_SUDO_PASSWORD=" + tb.Password}, append(append([]string{"-H", "127.0.0.2"}, set...), "all")...)
	wantCode(t, r, 0)
	mustNotContain(t, r, "check failed", "first-secret", "second-secret", tb.Password)
	if n := strings.Count(r.stdout, "handler ran"); n != 1 {
		t.Errorf("handler ran %d times, want once", n)
	}
	out, err := exec.Command("id", "-un", user).Output()
	if err != nil || strings.TrimSpace(string(out)) != user {
		t.Errorf("user %s was not created: %v", user, err)
	}
	if data, _ := os.ReadFile(filepath.Join(dir, "f")); string(data) != "ONE\ntwo\n" {
		t.Errorf("file content %q", data)
	}
	if _, err := os.Stat(filepath.Join(dir, "a")); err == nil {
		t.Error("dir_remove left the directory")
	}
	if links, _ := filepath.Glob("/etc/rc2.d/S??" + service); len(links) != 1 {
		t.Errorf("service_enable made no rc2.d link: %v", links)
	}
	r = p.run([]string{"GOFAB_SUDO_PASSWORD=" + tb.Password}, append(append([]string{"-H", "127.0.0.2"}, set...), "cleanup")...)
	wantCode(t, r, 0)
	if err := exec.Command("id", user).Run(); err == nil {
		t.Errorf("user_remove left %s", user)
	}
}

// TestCuisinePackages installs and removes a small real Debian package
// through apt.
func TestCuisinePackages(t *testing.T) {
	needTestbed(t)
	packageManagerReady(t)
	if helloInstalled() {
		if out, err := aptGet("remove", "-y", "-qq", "hello").CombinedOutput(); err != nil {
			t.Fatalf("removing hello before the test: %v\n%s", err, out)
		}
	}
	p := newProject(t, cuisineFab, "")
	r := p.run([]string{"GOFAB_SUDO_PASSWORD=" + tb.Password}, "-H", "127.0.0.2", "--check", "pkgcheck")
	wantCode(t, r, 0)
	mustContain(t, r, "pkg would=true", "would run: DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install")
	if helloInstalled() {
		t.Fatal("--check installed the package")
	}
	// Learning that a package is installed needs no password; a change
	// that does names the call, not its probes.
	r = p.run(nil, "-H", "127.0.0.2", "pkgnopw:pkg=sudo")
	wantCode(t, r, 0)
	mustContain(t, r, "installed already: false")
	mustNotContain(t, r, "sudo: ")
	r = p.run(nil, "-H", "127.0.0.2", "pkgnopw:pkg=hello")
	wantCode(t, r, 1)
	mustContain(t, r, `error: fabfile.lua:`, `cuisine.package_ensure("hello") on 127.0.0.2: DEBIAN_FRONTEND=noninteractive apt-get`)
	mustNotContain(t, r, "os-release", "dpkg-query")
	r = p.runFor(5*time.Minute, []string{"GOFAB_SUDO_PASSWORD=" + tb.Password}, "-H", "127.0.0.2", "packages")
	wantCode(t, r, 0)
	mustNotContain(t, r, "check failed")
	if helloInstalled() {
		t.Error("package_remove left hello installed")
	}
}

// helloInstalled says whether dpkg has Debian's hello package installed.
func helloInstalled() bool {
	out, _ := exec.Command("dpkg-query", "-W", "-f=${Status}", "hello").Output()
	return strings.HasSuffix(string(out), " installed")
}

// aptGet is apt-get as the suite runs it: never asking, and waiting for
// another holder of dpkg's lock as cuisine does.
func aptGet(args ...string) *exec.Cmd {
	cmd := exec.Command("apt-get", append([]string{"-o", "DPkg::Lock::Timeout=600"}, args...)...)
	cmd.Env = append(os.Environ(), "DEBIAN_FRONTEND=noninteractive")
	return cmd
}

// packageManagerReady makes sure dpkg can install before a test that
// installs. The machine is shared: a package run interrupted outside this
// suite leaves dpkg refusing every install until `dpkg --configure -a` has
// finished it (a CI run failed so, before this test had run a command).
// It finishes that run, waiting while another process holds dpkg's lock.
func packageManagerReady(t *testing.T) {
	t.Helper()
	if pending, _ := os.ReadDir("/var/lib/dpkg/updates"); len(pending) == 0 {
		return
	}
	t.Log("dpkg was left interrupted before this test: running dpkg --configure -a")
	deadline := time.Now().Add(10 * time.Minute)
	for {
		cmd := exec.Command("dpkg", "--force-confold", "--configure", "-a")
		cmd.Env = append(os.Environ(), "DEBIAN_FRONTEND=noninteractive")
		out, err := cmd.CombinedOutput()
		if err == nil {
			return
		}
		if !strings.Contains(string(out), "lock") || time.Now().After(deadline) {
			t.Fatalf("dpkg --configure -a: %v\n%s", err, out)
		}
		time.Sleep(time.Second) // another process holds the lock: dpkg has no wait of its own
	}
}

// TestCheckMode: --check changes nothing (users, groups, files, commands)
// but reports what would change; --diff shows the file's diff; then a
// real run, then a check that reports no change.
func TestCheckMode(t *testing.T) {
	needTestbed(t)
	user, group, _ := cuisineNames(t)
	p := newProject(t, cuisineFab, "")
	dir := remoteDir(t)
	os.Chmod(dir, 0o755)
	env := []string{"GOFAB_SUDO_PASSWORD=" + tb.Password}
	args := []string{"-H", "127.0.0.2", "--set", "dir=" + dir, "--set", "user_name=" + user, "--set", "group_name=" + group}
	r := p.run(env, append(append([]string{"--check", "--diff"}, args...), "plan")...)
	wantCode(t, r, 0)
	mustContain(t, r, "plan changed=true,true,true", "would run: groupadd", "would file_write: "+dir+"/planned",
		"diff: attributes of "+dir+"/planned: (none) -> 0600", "+new content", "skipped: run: touch")
	if exec.Command("id", user).Run() == nil || exec.Command("getent", "group", group).Run() == nil {
		t.Fatal("--check created the user or group")
	}
	for _, f := range []string{"planned", "ran"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err == nil {
			t.Errorf("--check wrote %s", f)
		}
	}
	r = p.run(env, append(append([]string{"--diff"}, args...), "plan")...)
	wantCode(t, r, 0)
	mustContain(t, r, "[127.0.0.2] diff: +new content", "[127.0.0.2] file_write: "+dir+"/planned")
	if _, err := os.Stat(filepath.Join(dir, "planned")); err != nil {
		t.Error("the real run did not write the file")
	}
	r = p.run(env, append(append([]string{"--check"}, args...), "plan")...)
	wantCode(t, r, 0)
	mustContain(t, r, "plan changed=false,false,false")
	mustNotContain(t, r, "would ")
	r = p.run(env, append(args, "cleanup")...)
	wantCode(t, r, 0)
}

// TestDryRun connects nowhere: a host that does not exist still "runs",
// printing the commands and transfers it would attempt.
func TestDryRun(t *testing.T) {
	p := newProject(t, `task("t", function() run("echo one") sudo("systemctl restart app") put("fabfile.lua", "/srv/f") end)`, "")
	r := p.run(nil, "--dry-run", "-H", "host-that-does-not-exist.invalid,127.0.0.2:1", "t")
	wantCode(t, r, 0)
	mustContain(t, r, "[host-that-does-not-exist.invalid] run: echo one", "[127.0.0.2:1] sudo: systemctl restart app",
		"[127.0.0.2:1] would put: fabfile.lua -> /srv/f", "2 hosts: 2 ok")
}

// TestCuisineModeLocal: under mode_local cuisine acts on this machine, so
// it works for a host that cannot be reached.
func TestCuisineModeLocal(t *testing.T) {
	p := newProject(t, cuisineFab, "")
	r := p.run(nil, "-H", "127.0.0.2:1", "local")
	wantCode(t, r, 0)
	mustContain(t, r, "[127.0.0.2:1] local=true")
}
