package tests

import (
	"bytes"
	"context"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// The third hardening pass (issue 24): one test per item, each failing on
// the code before its fix.

// background starts gofab in p without waiting; finish waits for it
// (at most a minute) and returns its exit status and output.
func background(t *testing.T, p *project, env []string, args ...string) (*exec.Cmd, func() result) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	t.Cleanup(cancel)
	cmd := exec.CommandContext(ctx, gofabBin, args...)
	cmd.Dir = p.dir
	cmd.Env = append(append([]string{}, p.env...), env...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	return cmd, func() result {
		cmd.Wait()
		if ctx.Err() != nil {
			t.Fatalf("gofab %v hung\n%s%s", args, stdout.String(), stderr.String())
		}
		return result{stdout: stdout.String(), stderr: stderr.String(), code: cmd.ProcessState.ExitCode()}
	}
}

// fifoWriter opens fifo for writing once gofab has opened it for reading
// (until then a non-blocking open fails): the sign that gofab got there.
func fifoWriter(t *testing.T, fifo string) *os.File {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		f, err := os.OpenFile(fifo, os.O_WRONLY|syscall.O_NONBLOCK, 0)
		if err == nil {
			return f
		}
		if time.Now().After(deadline) {
			t.Fatalf("gofab never opened %s: %v", fifo, err)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestOutputPathsKeepWhatIsThere (item 2): --report and report -o never
// replace a device, a fifo or a symlink with a regular file.
func TestOutputPathsKeepWhatIsThere(t *testing.T) {
	p := newProject(t, `task("t", function() run("echo hi") end)`, "")
	target := p.write("target.html", "old")
	link := filepath.Join(p.dir, "link.html")
	if err := os.Symlink("target.html", link); err != nil {
		t.Fatal(err)
	}
	fifo := filepath.Join(p.dir, "fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	read := make(chan []byte, 1)
	go func() {
		f, err := os.Open(fifo) // blocks until gofab opens it to write
		if err != nil {
			read <- nil
			return
		}
		var buf bytes.Buffer
		buf.ReadFrom(f)
		f.Close()
		read <- buf.Bytes()
	}()
	for _, out := range []string{os.DevNull, link, fifo} {
		r := p.run(nil, "-H", "local", "--report", out, "t")
		wantCode(t, r, 0)
	}
	if fi, err := os.Lstat(os.DevNull); err != nil || fi.Mode()&fs.ModeCharDevice == 0 {
		t.Errorf("%s is now %v", os.DevNull, fi.Mode())
	}
	if fi, err := os.Lstat(link); err != nil || fi.Mode()&fs.ModeSymlink == 0 {
		t.Errorf("the symlink was replaced: %v", fi.Mode())
	}
	if b, _ := os.ReadFile(target); !bytes.Contains(b, []byte("<html")) {
		t.Errorf("the symlink's target did not get the page: %.80q", b)
	}
	if fi, err := os.Lstat(fifo); err != nil || fi.Mode()&fs.ModeNamedPipe == 0 {
		// Its reader waits on the fifo that was unlinked: do not wait.
		t.Errorf("the fifo was replaced: %v", fi.Mode())
	} else if b := <-read; !bytes.Contains(b, []byte("<html")) {
		t.Errorf("the fifo's reader got %.80q", b)
	}
	r := p.run(nil, "-H", "local", "--report", p.dir, "t")
	wantCode(t, r, 2)
	mustContain(t, r, "is a directory")
}

// TestSudoPasswordWithNewline (item 3): refused before connecting, in one
// line that does not show it.
func TestSudoPasswordWithNewline(t *testing.T) {
	p := newProject(t, `task("t", function() run("echo ran") end)`, "")
	for _, pw := range []string{"pw\nINJECTED", "wrong\rright"} {
		r := p.run([]string{"GOFAB_SUDO_PASSWORD=" + pw}, "-H", "local", "t")
		wantCode(t, r, 2)
		mustContain(t, r, "sudo password contains a newline")
		mustNotContain(t, r, "INJECTED", "right", "ran")
		if n := strings.Count(strings.TrimSpace(r.stderr), "\n"); n != 0 {
			t.Errorf("%d lines, want one:\n%s", n+1, r.stderr)
		}
	}
}

// TestInventoryCommandBackgroundChild (item 4): a child the command leaves
// holding its stdout neither hangs gofab nor outlives it, and the first
// Ctrl-C stops a command that does not end.
func TestInventoryCommandBackgroundChild(t *testing.T) {
	marker := uniqueSleep(4240)
	p := newProject(t, `local inv = require("inventory")
hosts(inv.command([[(sleep `+marker+` &); echo '{"all": {"hosts": ["local"]}}']]))
task("t", function() run("echo ran") end)`, "")
	r := p.run(nil, "hosts")
	wantCode(t, r, 0)
	mustContain(t, r, "local")
	waitNoProcs(t, marker)

	marker = uniqueSleep(4250)
	p.write("fabfile.lua", `hosts(require("inventory").command("sleep `+marker+`; echo {}"))
task("t", function() end)`)
	cmd, finish := background(t, p, nil, "t")
	waitProcs(t, marker, 1)
	cmd.Process.Signal(syscall.SIGINT)
	r = finish()
	if r.code == 0 {
		t.Errorf("an interrupted inventory command gave exit 0\n%s", r)
	}
	waitNoProcs(t, marker)
}

// TestGatewayLoops (item 6): a host that is its own gateway, or two that
// are each other's, stop the run at load in one line; a ProxyJump loop in
// ssh_config fails the host instead of waiting for itself; a host's
// missing identity file is exit 2, as -i's is.
func TestGatewayLoops(t *testing.T) {
	p := newProject(t, "", "")
	cases := []struct{ fabfile, want string }{
		{`hosts{a = {address = "127.0.0.2", gateway = "a"}}`, "gateway loop: a -> a"},
		{`hosts{a = {address = "127.0.0.2", gateway = "b"}, b = {address = "127.0.0.3", gateway = "a"}}`, "gateway loop: a -> b -> a"},
		{`hosts{a = {address = "127.0.0.2", identity = "no-such-key"}}`, "host a: identity file: stat no-such-key"},
	}
	for _, c := range cases {
		p.write("fabfile.lua", c.fabfile+"\ntask(\"t\", function() run(\"true\") end)")
		r := p.run(nil, "-H", "a", "t")
		wantCode(t, r, 2)
		mustContain(t, r, c.want)
	}
	cfg := p.write("ssh_config", "Host a b\n  HostName 127.0.0.2\nHost a\n  ProxyJump b\nHost b\n  ProxyJump a\n")
	p.write("fabfile.lua", `task("t", function() run("true") end)`)
	args := []string{"-H", "a", "t"}
	if tb == nil { // run passes the project's ssh_config only with a testbed
		args = append([]string{"-S", cfg}, args...)
	}
	r := p.run(nil, args...)
	wantCode(t, r, 1)
	mustContain(t, r, "ProxyJump loop: b -> a -> b")
}

// TestHostFileBounded (item 7): -H @/dev/zero is refused once past the
// size a host list can have; -H @fifo stops at the first signal, with
// the interrupted status.
func TestHostFileBounded(t *testing.T) {
	p := newProject(t, `task("t", function() end)`, "")
	r := p.run(nil, "-H", "@/dev/zero", "t")
	wantCode(t, r, 2)
	mustContain(t, r, "host list /dev/zero: larger than 16 MiB")

	fifo := filepath.Join(p.dir, "hosts.fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, sig := range []syscall.Signal{syscall.SIGINT, syscall.SIGTERM} {
		cmd, finish := background(t, p, nil, "-H", "@"+fifo, "t")
		w := fifoWriter(t, fifo) // holds it open, writing nothing
		cmd.Process.Signal(sig)
		r := finish()
		w.Close()
		want := 130
		if sig == syscall.SIGTERM {
			want = 143
		}
		wantCode(t, r, want)
		mustContain(t, r, "host list "+fifo)
	}
}

// TestControlCharactersInHostNames (item 8): refused at load with the
// file and line, shown escaped, never reaching the terminal raw.
func TestControlCharactersInHostNames(t *testing.T) {
	p := newProject(t, `hosts(require("inventory").file("hosts.ini"))
task("t", function() run("true") end)`, "")
	p.write("hosts.ini", "[web]\nesc\x1bc\x07bell\n")
	for _, args := range [][]string{{"hosts"}, {"-R", "web", "t"}} {
		r := p.run(nil, args...)
		wantCode(t, r, 2)
		mustContain(t, r, `hosts.ini:2: bad host name "esc\x1bc\abell"`)
		if strings.ContainsAny(r.stdout+r.stderr, "\x1b\x07") {
			t.Errorf("a control character reached the terminal: %q", r.stderr)
		}
	}
	p.write("fabfile.lua", `task("t", function() end)`)
	r := p.run(nil, "-H", "a\x1bb", "--", "true")
	wantCode(t, r, 2)
	mustContain(t, r, "contains a control character")
}

// TestNumbers (item 10): non-finite values are refused; a positive value
// below the clock's resolution is that resolution, not "no timeout".
func TestNumbers(t *testing.T) {
	p := newProject(t, `task("t", function() end)`, "")
	for _, c := range []struct{ flag, value, want string }{
		{"--timeout", "NaN", "--timeout NaN: must be a finite number"},
		{"--timeout", "Inf", "--timeout +Inf: must be a finite number"},
		{"-T", "NaN", "--command-timeout NaN: must be a finite number"},
		{"--keepalive", "-Inf", "--keepalive -Inf: must be a number of 0 or more"},
		{"--command-timeout", "+Inf", "--command-timeout +Inf: must be a finite number"},
	} {
		r := p.run(nil, c.flag, c.value, "-H", "local", "t")
		wantCode(t, r, 2)
		mustContain(t, r, c.want)
	}
	r := p.run(nil, "--command-timeout", "1e-300", "-H", "local", "--", "sleep 30")
	wantCode(t, r, 1)
	mustContain(t, r, "timed out")
}

// TestConsistency (item 11): ssh-config and hosts see a host as a run
// does; gofab test interrupted exits 130.
func TestConsistency(t *testing.T) {
	p := newProject(t, `hosts{web1 = {address = "127.0.0.9", user = "deploy", port = 2222}}
task("t", function() end)`, "")
	r := p.run(nil, "ssh-config", "web1")
	wantCode(t, r, 0)
	mustContain(t, r, "hostname 127.0.0.9", "user deploy", "port 2222")
	r = p.run(nil, "ssh-config", "fabtest@web1:2200")
	mustContain(t, r, "hostname 127.0.0.9", "user fabtest", "port 2200")
	r = p.run(nil, "hosts", "fabtest@web1")
	wantCode(t, r, 0)
	mustContain(t, r, "fabtest@web1")
	r = p.run(nil, "hosts", "fabtest@web9")
	wantCode(t, r, 2)

	// gofab test: the case's task reads a fifo, so the test knows when
	// the case runs, then waits for a value nobody publishes until it is
	// interrupted (a fake host's sleep returns at once).
	fifo := filepath.Join(p.dir, "started.fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	p.write("fabfile.lua", `task("slow", function()
  io.open(os.getenv("FIFO")):read("*a")
  require("shared").wait("never published", 60)
end)`)
	p.write("slow_test.lua", `local t = require("testing")
t.case("slow", function(h) h:run_task("slow") end)`)
	cmd, finish := background(t, p, []string{"FIFO=" + fifo}, "test")
	fifoWriter(t, fifo).Close() // the task reads to the end and goes on to sleep
	cmd.Process.Signal(syscall.SIGINT)
	r = finish()
	wantCode(t, r, 130)
}
