package tests

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
)

// remoteDir makes a directory the testbed user owns: the "remote" side of
// a transfer, on this same machine, so the test can look at it directly.
func remoteDir(t *testing.T) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "gofab-remote-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	u, err := user.Lookup(tb.User)
	if err != nil {
		t.Fatal(err)
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	if err := os.Chown(dir, uid, gid); err != nil {
		t.Fatal(err)
	}
	os.Chmod(dir, 0o755)
	return dir
}

func randomFile(t *testing.T, path string, size int, mode os.FileMode) string {
	t.Helper()
	data := make([]byte, size)
	rand.Read(data)
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, data, mode); err != nil {
		t.Fatal(err)
	}
	os.Chmod(path, mode)
	return sum(t, path)
}

func sum(t *testing.T, path string) string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	h := sha256.New()
	io.Copy(h, f)
	return hex.EncodeToString(h.Sum(nil))
}

// noTemps fails when a gofab temporary file is left in dir's tree.
func noTemps(t *testing.T, dir string) {
	t.Helper()
	filepath.Walk(dir, func(p string, _ os.FileInfo, _ error) error {
		if strings.Contains(filepath.Base(p), ".gofab-") {
			t.Errorf("temporary file left behind: %s", p)
		}
		return nil
	})
}

func mode(t *testing.T, p string) os.FileMode {
	t.Helper()
	fi, err := os.Lstat(p)
	if err != nil {
		t.Fatal(err)
	}
	return fi.Mode()
}

// TestPutGetRoundTrip sends a random binary file, an empty file and
// awkward names up and back down, and compares hashes and modes.
func TestPutGetRoundTrip(t *testing.T) {
	needTestbed(t)
	p := newProject(t, `
task("roundtrip", function()
  local up = put("data/blob.bin", env.dst .. "/blob.bin", {mirror_local_mode = true})
  assert(#up == 1 and up[1] == env.dst .. "/blob.bin", "put returns the remote path")
  put("data/empty", env.dst .. "/")
  put("data/names", env.dst)
  cd(env.dst, function()
    get("blob.bin", "back/{basename}")
    get("names", "back/")
    get("empty", "back/empty")
  end)
end)`, "")
	dst := remoteDir(t)
	blob := randomFile(t, filepath.Join(p.dir, "data/blob.bin"), 5<<20+123, 0o751)
	randomFile(t, filepath.Join(p.dir, "data/empty"), 0, 0o644)
	odd := []string{"with space.txt", `quote'and"double.txt`, "ünïcödé-日本.txt", "$dollar`tick`.txt"}
	sums := map[string]string{}
	for _, n := range odd {
		sums[n] = randomFile(t, filepath.Join(p.dir, "data/names", n), 1000, 0o644)
	}
	r := p.run(nil, "-H", "127.0.0.2", "--set", "dst="+dst, "roundtrip")
	wantCode(t, r, 0)
	if got := sum(t, filepath.Join(dst, "blob.bin")); got != blob {
		t.Errorf("uploaded blob sha256 %s, want %s", got, blob)
	}
	if m := mode(t, filepath.Join(dst, "blob.bin")).Perm(); m != 0o751 {
		t.Errorf("uploaded blob mode %o, want 751 (mirror_local_mode)", m)
	}
	if got := sum(t, filepath.Join(p.dir, "back/blob.bin")); got != blob {
		t.Errorf("downloaded blob sha256 %s, want %s", got, blob)
	}
	if m := mode(t, filepath.Join(p.dir, "back/blob.bin")).Perm(); m != 0o751 {
		t.Errorf("downloaded blob mode %o, want 751", m)
	}
	for _, f := range []string{filepath.Join(dst, "empty"), filepath.Join(p.dir, "back/empty")} {
		if fi, err := os.Stat(f); err != nil || fi.Size() != 0 {
			t.Errorf("empty file %s: %v", f, err)
		}
	}
	for n, want := range sums {
		for _, f := range []string{filepath.Join(dst, "names", n), filepath.Join(p.dir, "back/names", n)} {
			if _, err := os.Stat(f); err != nil {
				t.Errorf("%s: %v", f, err)
			} else if got := sum(t, f); got != want {
				t.Errorf("%s: sha256 %s, want %s", f, got, want)
			}
		}
	}
	noTemps(t, dst)
	noTemps(t, p.dir)
}

// TestPutTree copies a directory tree with a symlink, kept as a link by
// default and followed with follow_links, and puts a glob.
func TestPutTree(t *testing.T) {
	needTestbed(t)
	p := newProject(t, `
task("tree", function()
  local w = put("site", env.dst .. "/site")
  assert(#w == 3, "3 paths written, got " .. #w)
  put("site", env.dst .. "/followed", {follow_links = true})
  lcd("site/css", function() put("*.css", env.dst .. "/glob") end)
end)`, "")
	dst := remoteDir(t)
	randomFile(t, filepath.Join(p.dir, "site/index.html"), 100, 0o644)
	randomFile(t, filepath.Join(p.dir, "site/css/a.css"), 100, 0o644)
	if err := os.Symlink("index.html", filepath.Join(p.dir, "site/home.html")); err != nil {
		t.Fatal(err)
	}
	r := p.run(nil, "-H", "127.0.0.2", "--set", "dst="+dst, "tree")
	wantCode(t, r, 0)
	mustContain(t, r, "[127.0.0.2] put: site -> "+dst+"/site")
	if target, err := os.Readlink(filepath.Join(dst, "site/home.html")); err != nil || target != "index.html" {
		t.Errorf("symlink not recreated: %q %v", target, err)
	}
	if m := mode(t, filepath.Join(dst, "followed/home.html")); !m.IsRegular() {
		t.Errorf("follow_links: home.html is %v, want a regular file", m)
	}
	if _, err := os.Stat(filepath.Join(dst, "site/css/a.css")); err != nil {
		t.Error(err)
	}
	if _, err := os.Stat(filepath.Join(dst, "glob/a.css")); err != nil {
		t.Errorf("glob put: %v", err)
	}
	noTemps(t, dst)
}

// TestPutUseSudo writes into a root-owned directory: refused without sudo
// (leaving nothing behind), done with use_sudo, mode and owner applied.
func TestPutUseSudo(t *testing.T) {
	needTestbed(t)
	p := newProject(t, `
task("plain", function() put("app.conf", env.dst .. "/app.conf") end)
task("sudo", function()
  put("app.conf", env.dst .. "/app.conf", {use_sudo = true, mode = "0640", owner = env.owner, group = "root"})
  put("app.conf", env.dst .. "/kept.conf", {use_sudo = true})
end)`, "")
	dst, err := os.MkdirTemp("", "gofab-rootdir-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dst) })
	os.Chmod(dst, 0o755)
	want := randomFile(t, filepath.Join(p.dir, "app.conf"), 3000, 0o644)
	// An existing file keeps its mode and owner when replaced.
	if err := os.WriteFile(filepath.Join(dst, "kept.conf"), []byte("old"), 0o600); err != nil {
		t.Fatal(err)
	}
	sudoEnv := []string{"GOFAB_SUDO_PASSWORD=" + tb.Password}

	r := p.run(sudoEnv, "-H", "127.0.0.2", "--set", "dst="+dst, "plain")
	wantCode(t, r, 1)
	mustContain(t, r, "permission denied")
	noTemps(t, dst)

	r = p.run(sudoEnv, "-H", "127.0.0.2", "--set", "dst="+dst, "--set", "owner="+tb.NPUser, "sudo")
	wantCode(t, r, 0)
	mustNotContain(t, r, tb.Password)
	conf := filepath.Join(dst, "app.conf")
	if got := sum(t, conf); got != want {
		t.Errorf("sha256 %s, want %s", got, want)
	}
	if m := mode(t, conf).Perm(); m != 0o640 {
		t.Errorf("mode %o, want 640", m)
	}
	st, _ := os.Stat(conf)
	u, _ := user.Lookup(tb.NPUser)
	if uid := strconv.Itoa(int(st.Sys().(*syscall.Stat_t).Uid)); uid != u.Uid {
		t.Errorf("owner uid %s, want %s (%s)", uid, u.Uid, tb.NPUser)
	}
	if m := mode(t, filepath.Join(dst, "kept.conf")).Perm(); m != 0o600 {
		t.Errorf("replaced file mode %o, want its old 600", m)
	}
	noTemps(t, dst)
	leftovers, _ := filepath.Glob("/tmp/gofab-[0-9a-f]*[0-9a-f]")
	for _, l := range leftovers {
		if fi, err := os.Stat(l); err == nil && fi.IsDir() && len(filepath.Base(l)) == len("gofab-")+16 {
			t.Errorf("private staging directory left behind: %s", l)
		}
	}
}

// TestGetFromSeveralHosts gets the same file from three hosts with the
// default path, a templated path and use_sudo.
func TestGetFromSeveralHosts(t *testing.T) {
	needTestbed(t)
	p := newProject(t, `
task("fetch", function()
  get(env.src .. "/motd", "default")
  get(env.src .. "/motd", "templated/{host}-{port}-{user}/{basename}")
  get(env.src .. "/motd")
  get(env.src .. "/secret", "secret-{host}", {use_sudo = true})
  get(env.src .. "/*.log", "logs/")
end)`, "")
	src := remoteDir(t)
	want := randomFile(t, filepath.Join(src, "motd"), 2000, 0o644)
	randomFile(t, filepath.Join(src, "a.log"), 10, 0o644)
	randomFile(t, filepath.Join(src, "b.log"), 10, 0o644)
	secret := randomFile(t, filepath.Join(src, "secret"), 100, 0o600) // root-owned
	r := p.run([]string{"GOFAB_SUDO_PASSWORD=" + tb.Password}, "-H", hosts(2, 3), "--set", "src="+src, "fetch")
	wantCode(t, r, 0)
	for i := 2; i <= 4; i++ {
		h := "127.0.0." + strconv.Itoa(i)
		for _, f := range []string{
			"default/" + h + "/motd",
			"templated/" + h + "-" + tb.Port + "-" + tb.User + "/motd",
			h + src + "/motd",
		} {
			if got := sum(t, filepath.Join(p.dir, f)); got != want {
				t.Errorf("%s: sha256 %s, want %s", f, got, want)
			}
		}
		if got := sum(t, filepath.Join(p.dir, "secret-"+h)); got != secret {
			t.Errorf("use_sudo get on %s: sha256 %s, want %s", h, got, secret)
		}
		for _, l := range []string{"a.log", "b.log"} {
			if _, err := os.Stat(filepath.Join(p.dir, "logs", h, l)); err != nil {
				t.Errorf("glob get: %v", err)
			}
		}
	}
}

// TestSync pushes a tree twice (the second moves nothing), then with
// changes, delete and exclude.
func TestSync(t *testing.T) {
	needTestbed(t)
	p := newProject(t, `
task("sync", function(args)
  local changed, r = sync("tree", env.dst, {delete = args.delete == "yes", exclude = {"*.tmp", "cache"}, use_sudo = args.sudo == "yes"})
  puts(string.format("changed=%s %d/%d files=%s removed=%s", tostring(changed), #r.files, #r.removed,
    table.concat(r.files, ","), table.concat(r.removed, ",")))
end)`, "")
	dst := remoteDir(t)
	for i := 0; i < 20; i++ {
		randomFile(t, filepath.Join(p.dir, "tree", "d"+strconv.Itoa(i%3), "f"+strconv.Itoa(i)), 4096, 0o644)
	}
	randomFile(t, filepath.Join(p.dir, "tree/skip.tmp"), 10, 0o644)
	randomFile(t, filepath.Join(p.dir, "tree/cache/x"), 10, 0o644)
	run := func(args ...string) result {
		r := p.run(nil, append([]string{"-H", "127.0.0.2", "--set", "dst=" + dst}, args...)...)
		wantCode(t, r, 0)
		return r
	}
	mustContain(t, run("sync"), "changed=true 20/0")
	mustContain(t, run("sync"), "changed=false 0/0")
	if _, err := os.Stat(filepath.Join(dst, "skip.tmp")); err == nil {
		t.Error("excluded file was sent")
	}
	// A changed file, a mode change, a file removed locally, and an
	// excluded remote file that delete must leave alone.
	randomFile(t, filepath.Join(p.dir, "tree/d0/f0"), 4096, 0o644)
	os.Chmod(filepath.Join(p.dir, "tree/d1/f1"), 0o755)
	os.Remove(filepath.Join(p.dir, "tree/d2/f2"))
	randomFile(t, filepath.Join(dst, "remote.tmp"), 10, 0o644)
	mustContain(t, run("sync:delete=yes"), "changed=true 2/1 files=d0/f0,d1/f1 removed=d2/f2")
	if m := mode(t, filepath.Join(dst, "d1/f1")).Perm(); m != 0o755 {
		t.Errorf("mode %o, want 755", m)
	}
	if _, err := os.Stat(filepath.Join(dst, "remote.tmp")); err != nil {
		t.Error("delete removed an excluded file")
	}
	mustContain(t, run("sync:delete=yes"), "changed=false 0/0")
	noTemps(t, dst)

	// A docroot owned by root: use_sudo writes, re-modes and deletes
	// through one sudo script; the files belong to root.
	root, err := os.MkdirTemp("", "gofab-docroot-") // t.TempDir's parent is private to root
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(root) })
	os.Chmod(root, 0o755)
	docroot := filepath.Join(root, "www")
	sudoRun := func(args ...string) result {
		r := p.run([]string{"GOFAB_SUDO_PASSWORD=" + tb.Password}, append([]string{"-H", "127.0.0.2", "--set", "dst=" + docroot}, args...)...)
		wantCode(t, r, 0)
		return r
	}
	mustContain(t, sudoRun("sync:sudo=yes"), "changed=true 19/0")
	mustContain(t, sudoRun("sync:sudo=yes"), "changed=false 0/0")
	os.Chmod(filepath.Join(p.dir, "tree/d0/f3"), 0o600)
	os.Remove(filepath.Join(p.dir, "tree/d1/f4"))
	mustContain(t, sudoRun("sync:sudo=yes,delete=yes"), "changed=true 1/1 files=d0/f3 removed=d1/f4")
	if fi, err := os.Stat(filepath.Join(docroot, "d0/f3")); err != nil || fi.Mode().Perm() != 0o600 || fi.Sys().(*syscall.Stat_t).Uid != 0 {
		t.Errorf("synced with sudo: %v %v", err, fi)
	}
	if _, err := os.Stat(filepath.Join(docroot, "d1/f4")); err == nil {
		t.Error("delete with sudo left the file")
	}
	noTemps(t, docroot)
}

// TestFilesModule exercises every function of require("files") twice
// where it changes something: the first call changes, the second does not.
func TestFilesModule(t *testing.T) {
	needTestbed(t)
	p := newProject(t, `
local files = require("files")
local function check(c, what) if not c then abort("check failed: " .. what) end end
task("files", function()
  local f = env.dst .. "/conf"
  check(not files.exists(f), "exists on a missing file")
  check(files.write(f, "a=1\n# b=2\nc=3\n") == true, "write changes")
  check(files.write(f, "a=1\n# b=2\nc=3\n") == false, "write again changes nothing")
  check(files.write(f, "a=1\n# b=2\nc=3\n", {mode = "0600"}) == true, "mode change")
  check(files.exists(f) and not files.is_dir(f) and files.is_dir(env.dst) and not files.is_link(f), "tests")
  check(files.is_link(env.dst .. "/link"), "is_link")
  check(files.first(env.dst .. "/nope", f) == f and files.first(env.dst .. "/nope") == nil, "first")
  check(files.contains(f, "c=3") and files.contains(f, "a=1", {exact = true}) and not files.contains(f, "a=", {exact = true}), "contains")
  check(files.contains(f, "^c=[0-9]$", {escape = false}) and not files.contains(f, "C=3"), "contains regex/case")
  check(files.contains(f, "C=3", {case_sensitive = false}), "contains case-insensitive")
  check(files.append(f, "d=4") == true and files.append(f, "d=4") == false, "append twice")
  check(files.append(f, {"e=5", "a=1"}) == true, "append list")
  check(files.append(f, "a", {partial = true}) == false, "append partial")
  check(files.sed(f, "^c=([0-9])$", "c=\\1\\1") == true and files.sed(f, "^c=([0-9])$", "c=\\1\\1") == false, "sed")
  check(files.sed(f, "=", ": ", {limit = "^e", backup = ""}) == true, "sed limit")
  check(files.comment(f, "^a=") == true and files.comment(f, "^a=") == false, "comment")
  check(files.uncomment(f, "b=") == true and files.uncomment(f, "b=") == false, "uncomment")
  check(files.read(f) == "#a=1\nb=2\nc=33\nd=4\ne: 5\n", "content: " .. files.read(f))
  check(files.upload_template("site.tpl", env.dst .. "/site.conf", {name = "example.org", ports = {80, 443}}) == true, "template")
  check(files.upload_template("site.tpl", env.dst .. "/site.conf", {name = "example.org", ports = {80, 443}}) == false, "template again")
  check(files.read(env.dst .. "/site.conf") == "server_name example.org;\nlisten 80;\nlisten 443;\n", "template output")
  local ok, err = pcall(files.upload_template, "site.tpl", env.dst .. "/x.conf", {})
  check(not ok and err:find("name"), "missing template key: " .. tostring(err))
  local root = env.rootdir .. "/root.conf"
  check(not files.exists(root .. ".x") and files.write(root, "x\n", {use_sudo = true, mode = "0600"}) == true, "sudo write")
  check(files.write(root, "x\n", {use_sudo = true, mode = "0600"}) == false, "sudo write again")
  check(files.append(root, "y", {use_sudo = true}) == true and files.append(root, "y", {use_sudo = true}) == false, "sudo append")
  check(files.read(root, {use_sudo = true}) == "x\ny\n", "sudo read")
  check(not pcall(files.read, root), "read without sudo is refused")
  check(files.exists(root, {use_sudo = true}) and files.contains(root, "y", {use_sudo = true}), "sudo exists/contains")
end)`, "")
	p.write("site.tpl", "server_name {{ .name }};\n{{ range .ports }}listen {{ . }};\n{{ end }}")
	dst := remoteDir(t)
	os.Symlink("conf", filepath.Join(dst, "link"))
	rootdir, err := os.MkdirTemp("", "gofab-rootdir-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(rootdir) })
	os.Chmod(rootdir, 0o700)
	r := p.run([]string{"GOFAB_SUDO_PASSWORD=" + tb.Password}, "-H", "127.0.0.2", "--set", "dst="+dst, "--set", "rootdir="+rootdir, "files")
	wantCode(t, r, 0)
	mustNotContain(t, r, "check failed")
	if data, _ := os.ReadFile(filepath.Join(dst, "conf.bak")); !bytes.Contains(data, []byte("a=1")) {
		t.Errorf("sed/comment kept no backup: %q", data)
	}
	if m := mode(t, filepath.Join(rootdir, "root.conf")).Perm(); m != 0o600 {
		t.Errorf("sudo write mode %o, want 600", m)
	}
	noTemps(t, dst)
	noTemps(t, rootdir)
}

// TestTransferAtTopLevel: put outside a task is a clear usage error.
func TestTransferAtTopLevel(t *testing.T) {
	needTestbed(t)
	p := newProject(t, "put('a', 'b')\ntask('x', function() end)\n", "")
	r := p.run(nil, "-H", "127.0.0.2", "x")
	wantCode(t, r, 2)
	mustContain(t, r, "fabfile.lua:1:", "put() is only available inside a task")
}

// interruptProject is a project whose host 127.0.0.1:<proxy port> reaches
// sshd through a fault proxy, with a destination holding old content and
// a 64 MiB file to upload over it.
func interruptProject(t *testing.T, proxy *faultProxy) (p *project, dst, old string) {
	t.Helper()
	p = newProject(t, `task("up", function() put("big.bin", env.dst .. "/target.bin") end)`, "")
	p.trust(proxy)
	randomFile(t, filepath.Join(p.dir, "big.bin"), 64<<20, 0o644)
	dst = remoteDir(t)
	old = randomFile(t, filepath.Join(dst, "target.bin"), 1000, 0o644)
	return p, dst, old
}

func untouched(t *testing.T, dst, old string) {
	t.Helper()
	if got := sum(t, filepath.Join(dst, "target.bin")); got != old {
		t.Errorf("destination changed: sha256 %s, want the old %s", got, old)
	}
	noTemps(t, dst)
}

// TestUploadConnectionKilled cuts the connection mid-upload: the host
// fails, the destination keeps its old content and the temporary file is
// removed (over a new connection).
func TestUploadConnectionKilled(t *testing.T) {
	needTestbed(t)
	proxy := newFaultProxy(t, 8<<20, true)
	p, dst, old := interruptProject(t, proxy)
	r := p.run(nil, "-H", proxy.addr, "--set", "dst="+dst, "up")
	wantCode(t, r, 1)
	mustContain(t, r, `put("big.bin")`)
	select {
	case <-proxy.reached:
	default:
		t.Fatal("the upload never reached the fault")
	}
	untouched(t, dst, old)
}

// TestUploadInterrupted sends SIGINT to gofab while the upload is stalled
// mid-file: exit 130, old content kept, no temporary file.
func TestUploadInterrupted(t *testing.T) {
	needTestbed(t)
	proxy := newFaultProxy(t, 8<<20, false)
	p, dst, old := interruptProject(t, proxy)
	cmd := exec.Command(gofabBin, "-S", filepath.Join(p.dir, "ssh_config"), "-H", proxy.addr, "--set", "dst="+dst, "up")
	cmd.Dir, cmd.Env = p.dir, p.env
	stderr, _ := cmd.StderrPipe()
	var stdout bytes.Buffer
	cmd.Stdout = &stdout
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case <-proxy.reached:
	case err := <-done:
		t.Fatalf("gofab ended before the upload stalled: %v\n%s", err, stdout.String())
	}
	cmd.Process.Signal(syscall.SIGINT)
	// Resume once gofab says it is stopping, so the copy sees the cancel.
	buf := make([]byte, 4096)
	var errOut strings.Builder
	for !strings.Contains(errOut.String(), "interrupted") {
		n, err := stderr.Read(buf)
		errOut.Write(buf[:n])
		if err != nil {
			break
		}
	}
	proxy.Resume()
	rest, _ := io.ReadAll(stderr)
	errOut.Write(rest)
	err := <-done
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 130 {
		t.Fatalf("exit %v, want 130\n%s%s", err, stdout.String(), errOut.String())
	}
	untouched(t, dst, old)
}

// TestUploadDiskFull uploads into a 1 MiB tmpfs: the write fails for lack
// of space, the old file stays and the temporary file is removed.
func TestUploadDiskFull(t *testing.T) {
	needTestbed(t)
	dst := remoteDir(t)
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size=1m,mode=0777", "gofab-full", dst).CombinedOutput(); err != nil {
		t.Skipf("cannot mount a tmpfs here: %v %s", err, out)
	}
	t.Cleanup(func() { exec.Command("umount", dst).Run() })
	old := randomFile(t, filepath.Join(dst, "target.bin"), 1000, 0o666)
	p := newProject(t, `task("up", function() put("big.bin", env.dst .. "/target.bin") end)`, "")
	randomFile(t, filepath.Join(p.dir, "big.bin"), 4<<20, 0o644)
	r := p.run(nil, "-H", "127.0.0.2", "--set", "dst="+dst, "up")
	wantCode(t, r, 1)
	mustContain(t, r, `put("big.bin") on 127.0.0.2`, "no space left on device")
	untouched(t, dst, old)
}
