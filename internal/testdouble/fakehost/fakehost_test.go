package fakehost

import (
	"bytes"
	"context"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gofab/gofab/internal/base/host"
)

// sh runs a command line on h as the login user, or as root with sudo.
func sh(t *testing.T, h *Host, line string, sudo bool) (string, string, int) {
	t.Helper()
	var out, errb bytes.Buffer
	code, err := h.Conn(false).Interpret(context.Background(), &host.Cmd{Command: line, Stdout: &out, Stderr: &errb},
		host.Call{Kind: host.KindRun, Command: line, Sudo: sudo})
	if err != nil {
		t.Fatalf("%s: %v", line, err)
	}
	return out.String(), errb.String(), code
}

// TestShell: the shell and the emulated tools on the in-memory file
// system, as gofab's built-ins use them.
func TestShell(t *testing.T) {
	cases := []struct {
		name, line string
		sudo       bool
		stdout     string // substring; "" checks nothing
		code       int
		after      func(t *testing.T, v *View)
	}{
		{"echo and exit status", "echo hi; exit 3", false, "hi\n", 3, nil},
		{"test builtin sees the fake fs", "[ -d /etc ] && [ ! -e /nope ] && echo yes", false, "yes", 0, nil},
		{"redirect writes a file", "printf 'a\\nb\\n' > ~/f && cat ~/f", false, "a\nb\n", 0, func(t *testing.T, v *View) {
			if o, _, _ := v.Owner("/home/deploy/f"); o != "deploy" {
				t.Errorf("owner %q", o)
			}
		}},
		{"append", "echo 1 > /tmp/x; echo 2 >> /tmp/x; cat /tmp/x", false, "1\n2\n", 0, nil},
		{"permission denied outside home", "echo x > /etc/motd", false, "", 1, nil},
		{"root may write /etc", "echo x > /etc/motd && stat -c '%a %U %G' /etc/motd", true, "644 root root", 0, nil},
		{"mkdir -p, chmod, chown, stat", "mkdir -p /srv/a/b && chmod 750 /srv/a/b && chown www-data:www-data /srv/a/b && stat -c '%a %U %G' -- /srv/a/b", true,
			"750 www-data www-data", 0, nil},
		{"chown to an undeclared user assumes it exists", "touch /srv/f && chown ghost:ghost /srv/f && stat -c %U /srv/f", true, "ghost", 0, nil},
		{"symlinks", "echo c > /srv/t && ln -sfn /srv/t /srv/l && readlink /srv/l && cat /srv/l && [ -L /srv/l ]", true, "/srv/t\nc\n", 0, nil},
		{"cp and mv -T", "echo c > /tmp/a && cp -- /tmp/a /tmp/b && mv -Tf -- /tmp/b /tmp/c && cat /tmp/c && [ ! -e /tmp/b ]", false, "c\n", 0, nil},
		{"rm -rf", "mkdir -p /tmp/d/e && touch /tmp/d/e/f && rm -rf -- /tmp/d && [ ! -e /tmp/d ]", false, "", 0, nil},
		{"sha256sum", "printf abc > /tmp/h && sha256sum -- /tmp/h", false, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad  /tmp/h", 0, nil},
		{"xargs -0", "cd /tmp && printf 'a\\0' > n && echo x > a && xargs -0 sha256sum -z -- < n", false, "  a\x00", 0, nil},
		{"command -v knows the host", "command -v cat && ! command -v nginx", false, "/usr/bin/cat", 0, nil},
		{"id and whoami", "whoami; id -u", true, "root\n0\n", 0, nil},
		{"packages", "apt-get install -y nginx && dpkg-query -W -f='${Package} ${Status}\\n' nginx | awk '$NF == \"installed\" {print $1}'", true, "nginx\n", 0,
			func(t *testing.T, v *View) {
				if fi, err := v.Stat("/etc/nginx/sites-available"); err != nil || !fi.IsDir() {
					t.Errorf("nginx's directories: %v", err)
				}
			}},
		{"kill is a program, not a missing builtin", "kill -HUP 4242 && sudo kill -TERM 1", false, "", 0, nil},
		{"packages need root", "apt-get install -y nginx", false, "", 1, nil},
		{"services", "systemctl start nginx && systemctl is-active nginx && systemctl stop nginx; systemctl is-active --quiet nginx", true, "active\n", 3, nil},
		{"an undeclared service reloads", "systemctl reload nginx && systemctl is-active nginx", true, "active\n", 0, nil},
		{"a stopped service does not reload", "systemctl stop nginx; systemctl reload nginx", true, "", 1, nil},
		{"sudo inside a command", "sudo -u www-data whoami", false, "www-data", 0, nil},
		{"sh -c and sh FILE", "echo 'echo from-file' > /tmp/s.sh && sh /tmp/s.sh && sh -c 'echo from-c'", false, "from-file\nfrom-c\n", 0, nil},
		{"a parse error is exit 2", "if then", false, "", 2, nil},
		{"users and groups", "useradd -m app && getent passwd app && groupadd ops && usermod -a -G ops app && getent group ops", true,
			"app:x:", 0, func(t *testing.T, v *View) {
				if o, _, err := v.Owner("/home/app"); err != nil || o != "app" {
					t.Errorf("home of app: %q %v", o, err)
				}
			}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			h := New("web1", "")
			out, errOut, code := sh(t, h, c.line, c.sudo)
			if code != c.code || !strings.Contains(out, c.stdout) {
				t.Fatalf("%s: exit %d, stdout %q, stderr %q; want exit %d and %q", c.line, code, out, errOut, c.code, c.stdout)
			}
			if c.after != nil {
				c.after(t, h.FS.As("root"))
			}
		})
	}
}

// TestResponsesAndLog: scripted answers win over emulation, the log says
// who ran what, strict hosts refuse what nobody scripted.
func TestResponsesAndLog(t *testing.T) {
	h := New("web1", "")
	h.Respond(Response{Pattern: "^nginx %-t$", Stderr: "syntax is ok\n"})
	h.Respond(Response{Pattern: "cat /etc/secret", Stdout: "scripted", Code: 0})
	if _, errOut, code := sh(t, h, "nginx -t", true); code != 0 || errOut != "syntax is ok\n" {
		t.Errorf("nginx -t: %d %q", code, errOut)
	}
	if out, _, _ := sh(t, h, "cat /etc/secret", false); out != "scripted" {
		t.Errorf("a response matching the whole command: %q", out)
	}
	if _, _, code := sh(t, h, "deploy-tool --now", false); code != 0 {
		t.Errorf("an unscripted command: exit %d", code)
	}
	log := h.Commands(false)
	if len(log) != 3 || log[0].User != "root" || log[2].User != "deploy" || len(log[2].Unscripted) != 1 || log[2].Unscripted[0] != "deploy-tool --now" {
		t.Fatalf("log: %+v", log)
	}
	h.Respond(Response{Pattern: "^keygen$", Writes: map[string]string{"/etc/key": "K"}})
	if _, _, code := sh(t, h, "keygen", true); code != 0 {
		t.Fatalf("keygen: exit %d", code)
	}
	if o, _, _ := h.FS.As("root").Owner("/etc/key"); o != "root" {
		t.Errorf("a response's file belongs to %q, want root (the command's user)", o)
	}
	h.Begin()
	if len(h.Commands(true)) != 0 {
		t.Error("Begin did not start a new run")
	}
	h.Install("nginx")
	if fi, err := h.FS.As("root").Stat("/etc/nginx/sites-available"); err != nil || !fi.IsDir() || !h.installed("nginx") {
		t.Errorf("a package the test declares has its directories: %v", err)
	}
	h.SetStrict(true)
	if _, errOut, code := sh(t, h, "deploy-tool --now", false); code != 127 || !strings.Contains(errOut, "unscripted command on web1: deploy-tool --now") {
		t.Errorf("strict: %d %q", code, errOut)
	}
	if _, errOut, code := sh(t, h, "touch /srv/f && chown ghost /srv/f", true); code != 1 || !strings.Contains(errOut, `invalid user: "ghost" (t.strict() is on`) {
		t.Errorf("strict chown to an undeclared user: %d %q", code, errOut)
	}
}

// TestFS: the host.FS view keeps owners, modes and permissions.
func TestFS(t *testing.T) {
	f := NewFS("deploy")
	user, root := f.As("deploy"), f.As("root")
	if err := user.Mkdir("/etc/app", 0o755); !errors.Is(err, fs.ErrPermission) {
		t.Errorf("user mkdir in /etc: %v", err)
	}
	if err := root.WriteFile("/etc/app/conf", []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := user.Open("/etc/app/conf"); !errors.Is(err, fs.ErrPermission) {
		t.Errorf("user reads root's 0600 file: %v", err)
	}
	w, err := user.CreateExclusive("~/new")
	if err != nil {
		t.Fatal(err)
	}
	w.Write([]byte("data"))
	w.Close()
	if _, err := user.CreateExclusive("/home/deploy/new"); !errors.Is(err, fs.ErrExist) {
		t.Errorf("exclusive create over a file: %v", err)
	}
	if err := user.Rename("new", "renamed"); err != nil {
		t.Fatal(err)
	}
	if data, err := user.ReadFile("/home/deploy/renamed"); err != nil || string(data) != "data" {
		t.Errorf("renamed: %q %v", data, err)
	}
	if err := user.Chown("renamed", "root", "", false); !errors.Is(err, fs.ErrPermission) {
		t.Errorf("user chown: %v", err)
	}
	matches, _ := root.Glob("/etc/app/*")
	if len(matches) != 1 || matches[0] != "/etc/app/conf" {
		t.Errorf("glob: %q", matches)
	}
	if err := root.Remove("/etc/app"); err == nil {
		t.Error("removed a directory that is not empty")
	}
}

// TestFleet: hosts are made once per name, whatever the host string.
func TestFleet(t *testing.T) {
	var f Fleet
	a := f.Host("web1")
	if f.Host("ops@web1:2222") != a || len(f.Hosts()) != 1 {
		t.Error("one name made two hosts")
	}
	if b := f.Host("admin@web2"); b.User != "admin" {
		t.Errorf("login user %q", b.User)
	}
	if u, p, _ := f.Identity(host.Addr{Host: "web2"}); u != "admin" || p != 22 {
		t.Errorf("identity %s %d", u, p)
	}
}

// TestOverlay: reads fall through to the disk, writes stay in memory.
func TestOverlay(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "disk.txt"), []byte("disk"), 0o644); err != nil {
		t.Fatal(err)
	}
	o := NewOverlay(NewFS("deploy"), host.OS{})
	f, err := o.Open(filepath.Join(dir, "disk.txt"))
	if err != nil {
		t.Fatal(err)
	}
	data, _ := io.ReadAll(f)
	f.Close()
	if string(data) != "disk" {
		t.Errorf("read through: %q", data)
	}
	w, err := o.CreateExclusive(filepath.Join(dir, "sub", "mem.txt"))
	if err != nil {
		t.Fatal(err)
	}
	w.Write([]byte("mem"))
	w.Close()
	if _, err := os.Stat(filepath.Join(dir, "sub")); err == nil {
		t.Error("a write reached the disk")
	}
	entries, err := o.ReadDir(dir)
	if err != nil || len(entries) != 2 || entries[0].Name() != "disk.txt" || entries[1].Name() != "sub" {
		t.Errorf("merged listing: %v %v", entries, err)
	}
	if err := o.Remove(filepath.Join(dir, "disk.txt")); err == nil {
		t.Error("removed a disk file")
	}
	if _, err := os.Stat(filepath.Join(dir, "disk.txt")); err != nil {
		t.Error("the disk file is gone")
	}
}
