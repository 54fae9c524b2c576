package tests

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// uniqueSleep returns a sleep length no other test or earlier run uses, so
// "sleep <it>" names this test's remote processes.
func uniqueSleep(base int) string {
	return fmt.Sprintf("%d.%d", base+os.Getpid()%99, time.Now().Nanosecond()%100000)
}

// TestInterruptStopsEveryCommand: after Ctrl-C (or a timeout), nothing
// gofab started is left on the hosts, whoever it runs as: run, sudo with a
// password and without, sudo as another user, with a pty, with input, and
// commands that ignore SIGTERM. sudo'd commands run as root, which the
// login user cannot signal; before the sudo guard they all lived on.
func TestInterruptStopsEveryCommand(t *testing.T) {
	needTestbed(t)
	cases := []struct {
		name, user, call string
		// timeout: the command times out by itself, no Ctrl-C.
		timeout bool
	}{
		{name: "sudo", user: "pw", call: `sudo("echo started; sleep %s")`},
		{name: "sudo-nopasswd", user: "np", call: `sudo("echo started; sleep %s")`},
		{name: "sudo-ignores-term", user: "np", call: `sudo("trap '' TERM INT HUP; echo started; sleep %s")`},
		{name: "sudo-pty", user: "pw", call: `sudo("echo started; sleep %s", {pty = true})`},
		{name: "sudo-stdin", user: "np", call: `sudo("head -c 3 >/dev/null; echo started; sleep %s", {stdin = "abc"})`},
		{name: "sudo-other-user", user: "np", call: `sudo("echo started; sleep %s", {user = "` + "gofabtest" + `"})`},
		{name: "sudo-timeout", user: "pw", call: `sudo("echo started; sleep %s", {timeout = 1, warn_only = true})`, timeout: true},
		{name: "sudo-timeout-ignores-term", user: "np", call: `sudo("trap '' TERM; echo started; sleep %s", {timeout = 1, warn_only = true})`, timeout: true},
		{name: "run-pty", user: "np", call: `run("echo started; sleep %s", {pty = true})`},
	}
	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			marker := uniqueSleep(300 + 10*i)
			p := newProject(t, `task("t", function() `+fmt.Sprintf(c.call, marker)+` end)`, "")
			user := tb.User
			if c.user == "np" {
				user = tb.NPUser
			}
			hostList := fmt.Sprintf("%[1]s@127.0.0.2,%[1]s@127.0.0.3,%[1]s@127.0.0.4", user)
			cmd, wait := startGofab(t, p, []string{"GOFAB_SUDO_PASSWORD=" + tb.Password}, "out: started", 3, "-H", hostList, "t")
			if !c.timeout {
				waitProcs(t, marker, 3)
				cmd.Process.Signal(syscall.SIGINT)
			}
			code, text := wait()
			want := 130
			if c.timeout {
				want = 0
			}
			if code != want {
				t.Fatalf("exit %d, want %d\n%s", code, want, text)
			}
			if c.timeout && !strings.Contains(text, "timed out after 1s") {
				t.Errorf("no timeout reported:\n%s", text)
			}
			waitNoProcs(t, marker)
		})
	}
}

// TestTimeoutDoesNotOvershoot: a command that obeys SIGTERM ends when its
// timeout fires, not a grace period later. Measured as a ratio against the
// same run without a timeout, so load does not matter: -T 1 on a 30 s
// sleep must cost about as much as a 1 s sleep does, far from 1 s + the 2 s
// grace.
func TestTimeoutDoesNotOvershoot(t *testing.T) {
	needTestbed(t)
	p := newProject(t, `
task("run_bare", function() run("sleep 1") end)
task("run_timed", function() run("sleep 30") end)
task("sudo_bare", function() sudo("sleep 1") end)
task("sudo_timed", function() sudo("sleep 30") end)
`, "")
	// Each is timed twice and the faster run kept, so a moment of load on
	// a shared machine does not decide the outcome.
	best := func(args ...string) time.Duration {
		d := time.Duration(1 << 62)
		for range 2 {
			start := time.Now()
			r := p.run(nil, args...)
			d = min(d, time.Since(start))
			if !strings.Contains(args[len(args)-1], "timed") {
				wantCode(t, r, 0)
			} else {
				wantCode(t, r, 1)
				mustContain(t, r, "timed out after 1s")
			}
		}
		return d
	}
	for _, kind := range []string{"run", "sudo"} {
		t.Run(kind, func(t *testing.T) {
			bare := best("-H", tb.NPUser+"@127.0.0.2", kind+"_bare")
			timed := best("-H", tb.NPUser+"@127.0.0.2", "-T", "1", kind+"_timed")
			// The grace period is 2 s: an overshoot by it makes timed at
			// least bare + 2 s.
			if timed > bare+1500*time.Millisecond {
				t.Errorf("-T 1 took %s, a plain 1 s command %s: the timeout overshoots", timed, bare)
			}
		})
	}
}

// waitProcs waits until n remote processes carry marker ("started" is
// printed just before the sleep starts), failing after 10 s.
func waitProcs(t *testing.T, marker string, n int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		got := countProcs(t, marker)
		if got == n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d remote sleeps running, want %d", got, n)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestBadInputIsUsageError: a bad host or numeric flag stops gofab before
// it connects anywhere: exit 2, one line, nothing run on the good hosts.
func TestBadInputIsUsageError(t *testing.T) {
	needTestbed(t)
	p := newProject(t, `task("t", function() run("echo ran-on-good-host") end)`, "")
	cases := []struct {
		args []string
		want string
	}{
		{[]string{"-H", "127.0.0.2,h:99999", "t"}, `invalid host string "h:99999"`},
		{[]string{"--port", "70000", "-H", "127.0.0.2", "t"}, "--port 70000: must be a port from 1 to 65535"},
		{[]string{"-H", "127.0.0.2", "t:hosts=a@@;[::1"}, `invalid host string "a@@"`},
		{[]string{"-H", "127.0.0.2,[0000:000000]", "t"}, "not an IP address in brackets"},
		{[]string{"-H", "127.0.0.2,bad:host:99999x", "t"}, `invalid host string "bad:host:99999x"`},
		{[]string{"-z", "-1", "-H", "127.0.0.2", "t"}, "--pool-size -1"},
		{[]string{"-T", "-1", "-H", "127.0.0.2", "t"}, "--command-timeout -1"},
		{[]string{"--keepalive", "-5", "-H", "127.0.0.2", "t"}, "--keepalive -5"},
		{[]string{"--port", "0", "-H", "127.0.0.2", "t"}, "--port 0"},
		{[]string{"-n", "0", "-H", "127.0.0.2", "t"}, "--connection-attempts 0"},
		{[]string{"-t", "0", "-H", "127.0.0.2", "t"}, "--timeout 0"},
		{[]string{"--max-handshakes", "0", "-H", "127.0.0.2", "t"}, "--max-handshakes 0"},
		{[]string{"-H", "127.0.0.2,bad:host", "--", "echo", "ran-on-good-host"}, `invalid host string "bad:host"`},
	}
	for _, c := range cases {
		r := p.run(nil, c.args...)
		if r.code != 2 || !strings.Contains(r.stderr, c.want) || strings.Contains(r.stdout+r.stderr, "ran-on-good-host") ||
			strings.Count(strings.TrimSpace(r.stderr), "\n") != 0 {
			t.Errorf("gofab %q: want exit 2, one line with %q, nothing run\n%s", c.args, c.want, r)
		}
	}
}

// TestExecuteRecursion: a task that executes itself stops at the depth
// limit with one error line and exit 1; a runs_once task that executes
// itself is an error, not a hang.
func TestExecuteRecursion(t *testing.T) {
	p := newProject(t, `
task("e", function() execute("e") end)
task("o", {runs_once = true}, function() execute("o") end)
`, "")
	r := p.run(nil, "-H", "local", "e")
	wantCode(t, r, 1)
	if n := strings.Count(r.stdout+r.stderr, "error:"); n != 1 {
		t.Errorf("%d error lines, want 1\n%s", n, r)
	}
	mustContain(t, r, "execute() nested deeper than 16 tasks (e -> e -> e -> …)")
	r = p.run(nil, "-H", "local", "o")
	wantCode(t, r, 1)
	mustContain(t, r, `runs_once task "o" calls execute() on itself (o -> o)`)
}

// startGofab starts gofab in p and returns it once n output lines ended
// with marker, with a function that reads the rest and waits for the exit.
func startGofab(t *testing.T, p *project, env []string, marker string, n int, args ...string) (*exec.Cmd, func() (int, string)) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	t.Cleanup(cancel)
	cmd := exec.CommandContext(ctx, gofabBin, append([]string{"-S", filepath.Join(p.dir, "ssh_config")}, args...)...)
	cmd.Dir = p.dir
	cmd.Env = append(append([]string{}, p.env...), env...)
	out, _ := cmd.StdoutPipe()
	cmd.Stderr = cmd.Stdout
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(out)
	var lines []string
	seen := 0
	for seen < n && sc.Scan() {
		lines = append(lines, sc.Text())
		if strings.HasSuffix(sc.Text(), marker) {
			seen++
		}
	}
	if seen < n {
		cmd.Wait()
		t.Fatalf("gofab printed %q %d times, not %d: %q (%v)", marker, seen, n, lines, sc.Err())
	}
	return cmd, func() (int, string) {
		for sc.Scan() {
			lines = append(lines, sc.Text())
		}
		cmd.Wait()
		return cmd.ProcessState.ExitCode(), strings.Join(lines, "\n")
	}
}

// TestRunawayTopLevel: planning honours the first signal, for a run and
// for gofab check (which prints nothing while planning: the test waits
// until gofab has spent CPU time in the loop).
func TestRunawayTopLevel(t *testing.T) {
	p := newProject(t, "while true do end\ntask('t', function() end)\n", "")
	for _, c := range []struct {
		args []string
		sig  syscall.Signal
		code int
	}{
		{[]string{"-H", "local", "t"}, syscall.SIGINT, 130},
		{[]string{"check"}, syscall.SIGTERM, 143},
	} {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		cmd := exec.CommandContext(ctx, gofabBin, c.args...)
		cmd.Dir, cmd.Env = p.dir, p.env
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		for cpuTicks(cmd.Process.Pid) < 20 && ctx.Err() == nil {
			time.Sleep(10 * time.Millisecond)
		}
		cmd.Process.Signal(c.sig)
		cmd.Wait()
		cancel()
		if code := cmd.ProcessState.ExitCode(); code != c.code || !strings.Contains(out.String(), "interrupted while") {
			t.Errorf("gofab %v after %v: exit %d, want %d\n%s", c.args, c.sig, code, c.code, out.String())
		}
	}
}

// cpuTicks returns the user and system CPU time pid has used, in clock
// ticks (1/100 s).
func cpuTicks(pid int) int {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	_, rest, _ := strings.Cut(string(data), ") ")
	f := strings.Fields(rest)
	if len(f) < 13 {
		return 0
	}
	var u, s int
	fmt.Sscan(f[11], &u)
	fmt.Sscan(f[12], &s)
	return u + s
}

// TestHangupStopsLikeInterrupt: SIGHUP stops remote commands (sudo'd
// ones too), prints the recap and writes the rerun state with the hosts
// marked interrupted.
func TestHangupStopsLikeInterrupt(t *testing.T) {
	needTestbed(t)
	marker := uniqueSleep(500)
	p := newProject(t, `task("t", function() sudo("echo started; sleep `+marker+`") end)`, "")
	stateDir := filepath.Join(p.dir, "state")
	env := []string{"GOFAB_STATE_DIR=" + stateDir}
	cmd, wait := startGofab(t, p, env, "out: started", 1, "-H", tb.NPUser+"@127.0.0.2,"+tb.NPUser+"@127.0.0.3", "t")
	waitProcs(t, marker, 2)
	cmd.Process.Signal(syscall.SIGHUP)
	code, text := wait()
	if code != 129 || !strings.Contains(text, "2 hosts: 0 ok, 0 failed, 0 unreachable, 2 interrupted") {
		t.Fatalf("exit %d, want 129 and a recap\n%s", code, text)
	}
	waitNoProcs(t, marker)
	state, err := os.ReadFile(filepath.Join(stateDir, "runs.json"))
	if err != nil || !strings.Contains(string(state), `"`+tb.NPUser+`@127.0.0.2": "interrupted"`) {
		t.Errorf("run state %s (%v) does not mark the host interrupted", state, err)
	}
	// A corrupt state file does not block a run that does not need it.
	os.WriteFile(filepath.Join(stateDir, "runs.json"), []byte("{not json"), 0o600)
	r := p.run(env, "-H", "local", "--", "true")
	wantCode(t, r, 0)
	mustContain(t, r, "warning: run state")
	r = p.run(env, "--rerun-failed", "t")
	wantCode(t, r, 0)
	mustContain(t, r, "nothing to rerun")
}

// TestChildrenDoNotInheritSecrets: run_local and inventory commands never
// see gofab's password variables.
func TestChildrenDoNotInheritSecrets(t *testing.T) {
	p := newProject(t, `
hosts(require("inventory").command("env | grep -c GOFAB_ > count.txt; echo '{}'"))
task("t", function() run_local("echo seen=$(env | grep -c GOFAB_)") end)
`, "")
	r := p.run([]string{"GOFAB_PASSWORD=pw-one", "GOFAB_SUDO_PASSWORD=pw-two"}, "-H", "local", "t")
	wantCode(t, r, 0)
	mustContain(t, r, "seen=0")
	mustNotContain(t, r, "pw-one", "pw-two")
	if data, _ := os.ReadFile(filepath.Join(p.dir, "count.txt")); strings.TrimSpace(string(data)) != "0" {
		t.Errorf("the inventory command saw %s GOFAB_ variables", data)
	}
}

// TestGetStaysInItsDestination: a remote symlink that later became a
// directory is not written through locally, and a host named ".." gets a
// safe directory of its own.
func TestGetStaysInItsDestination(t *testing.T) {
	needTestbed(t)
	p := newProject(t, `
task("link", function() run("rm -rf ~/gst && mkdir -p ~/gst && ln -s /tmp/gst-outside-`+uniqueSleep(0)+` ~/gst/l") end)
task("dir", function() run("rm -rf ~/gst/l && mkdir -p ~/gst/l && echo inside > ~/gst/l/f") end)
task("fetch", function() get("~/gst", "copy") end)
task("hostname", function() get("/etc/hostname", "names") end)
`, "Host ..\n  HostName 127.0.0.2\n")
	outside := t.TempDir()
	os.Mkdir(filepath.Join(p.dir, "copy"), 0o755)
	for _, step := range []string{"link", "fetch", "dir"} {
		wantCode(t, p.run(nil, "-H", "127.0.0.2", step), 0)
	}
	// Point the local copy of the link at a directory outside the copy.
	link := filepath.Join(p.dir, "copy", "gst", "l")
	if fi, err := os.Lstat(link); err != nil || fi.Mode()&os.ModeSymlink == 0 {
		t.Fatalf("the first get did not copy the link: %v", err)
	}
	os.Remove(link)
	os.Symlink(outside, link)
	r := p.run(nil, "-H", "127.0.0.2", "fetch")
	wantCode(t, r, 0)
	if data, err := os.ReadFile(filepath.Join(link, "f")); err != nil || string(data) != "inside\n" {
		t.Errorf("copy/l/f = %q, %v", data, err)
	}
	if fi, _ := os.Lstat(link); fi == nil || !fi.IsDir() {
		t.Errorf("copy/l is not a directory now")
	}
	if entries, _ := os.ReadDir(outside); len(entries) != 0 {
		t.Errorf("get wrote through the local symlink into %s: %v", outside, entries)
	}
	r = p.run(nil, "-H", "..,127.0.0.3", "hostname")
	wantCode(t, r, 0)
	for _, f := range []string{"names/_../hostname", "names/127.0.0.3/hostname"} {
		if _, err := os.Stat(filepath.Join(p.dir, f)); err != nil {
			t.Errorf("%s: %v\n%s", f, err, r)
		}
	}
	if _, err := os.Stat(filepath.Join(p.dir, "hostname")); err == nil {
		t.Errorf("a host named .. wrote outside names/")
	}
}

// TestCheckAndDryRunAreHonest: --check runs no ad-hoc command (it goes
// through run() like a task's), and the shipped recipes, which install
// packages and write files with use_sudo and a mode, can be dry-run.
func TestCheckAndDryRunAreHonest(t *testing.T) {
	needTestbed(t)
	p := newProject(t, "", "")
	r := p.run(nil, "--check", "-H", "local", "--", "touch", "made-by-check")
	wantCode(t, r, 0)
	mustContain(t, r, "[local] skipped: run: touch made-by-check")
	if _, err := os.Stat(filepath.Join(p.dir, "made-by-check")); err == nil {
		t.Error("--check ran the ad-hoc command")
	}
	r = p.run(nil, "-f", filepath.Join(repoRoot, "fabfiles", "fabfile.lua"), "--dry-run", "-H", "127.0.0.2", "webapps.deploy", "logrotate.configure:service=myservice")
	wantCode(t, r, 0)
	mustContain(t, r, "sudo: <package manager> install nginx uwsgi-emperor uwsgi-plugin-python3",
		"would upload_template: /etc/uwsgi-emperor/vassals/app1.ini", "would upload_template: /etc/logrotate.d/myservice")
	mustNotContain(t, r, "error")
}

// TestSharedFilesystemRaces: hosts that share a file system (NFS homes;
// here 127.0.0.x all reach one sshd) may create the same directory at
// once; "ensure" and sync tolerate that the other made it first.
func TestSharedFilesystemRaces(t *testing.T) {
	needTestbed(t)
	base := "/tmp/gofab-race-" + uniqueSleep(0)
	t.Cleanup(func() { os.RemoveAll(base) })
	p := newProject(t, `
local c = require("cuisine")
task("ensure", function(args)
  barrier()
  c.dir_ensure("`+base+`/" .. args[1] .. "/a/b", {recursive = false})
end)
task("prepare", function(args) c.dir_ensure("`+base+`/" .. args[1] .. "/a", {recursive = true, mode = "777"}) end)
task("sync", function(args)
  barrier()
  sync("tree", "`+base+`/sync-" .. args[1])
end)
`, "")
	for i := 0; i < 20; i++ {
		os.MkdirAll(filepath.Join(p.dir, "tree", fmt.Sprintf("d%02d", i), "sub"), 0o755)
		p.write(fmt.Sprintf("tree/d%02d/sub/f", i), "x")
	}
	const n = 12
	for round := 0; round < 3; round++ {
		wantCode(t, p.run(nil, "-H", "127.0.0.2", fmt.Sprintf("prepare:%d", round)), 0)
		r := p.run(nil, "-q", "-H", hosts(2, n), fmt.Sprintf("ensure:%d", round))
		wantCode(t, r, 0)
		mustContain(t, r, fmt.Sprintf("%d hosts: %d ok", n, n))
		r = p.run(nil, "-q", "-H", hosts(2, n), fmt.Sprintf("sync:%d-%d", round, os.Getpid()))
		wantCode(t, r, 0)
		mustContain(t, r, fmt.Sprintf("%d hosts: %d ok", n, n))
	}
}

var (
	plainOnce sync.Once
	plainBin  string
	plainErr  error
)

// plainGofab returns a gofab built without the race detector (whose
// shadow memory would swamp a memory measurement).
func plainGofab(t *testing.T) string {
	t.Helper()
	if !raceEnabled {
		return gofabBin
	}
	plainOnce.Do(func() {
		plainBin = filepath.Join(filepath.Dir(gofabBin), "gofab-plain")
		cmd := exec.Command("go", "build", "-o", plainBin, "./cmd/gofab")
		cmd.Dir = repoRoot
		if out, err := cmd.CombinedOutput(); err != nil {
			plainErr = fmt.Errorf("build: %v\n%s", err, out)
		}
	})
	if plainErr != nil {
		t.Fatal(plainErr)
	}
	return plainBin
}

// TestHugeOutputBoundedMemory: 200 MB of stdout is streamed, a result
// keeps --max-output of it and says so, and gofab's memory stays bounded.
func TestHugeOutputBoundedMemory(t *testing.T) {
	needTestbed(t)
	p := newProject(t, `task("t", function()
  local r = run("head -c 200000000 /dev/zero | tr '\\0' 'a' | fold -w 1000", {quiet = true})
  puts("kept", #r.stdout, tostring(r.truncated))
end)`, "")
	cmd := exec.Command(plainGofab(t), "-S", filepath.Join(p.dir, "ssh_config"), "-H", "127.0.0.2", "--max-output", "16", "t")
	cmd.Dir, cmd.Env = p.dir, p.env
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if !strings.Contains(string(out), fmt.Sprintf("kept %d true", 16<<20)) || !strings.Contains(string(out), "not kept in the result") {
		t.Errorf("output:\n%s", out)
	}
	rss := cmd.ProcessState.SysUsage().(*syscall.Rusage).Maxrss // KiB
	if rss > 150<<10 {
		t.Errorf("gofab peaked at %d MiB for 200 MB of output kept to 16 MiB", rss>>10)
	}
	t.Logf("peak RSS %d MiB", rss>>10)
}

// TestListScalesLinearly: gofab -l on 20,000 tasks costs about ten times
// what 2,000 do (declaring a task used to check every earlier one: 1.3 s
// for 20,000). A ratio, so the machine's load does not matter.
func TestListScalesLinearly(t *testing.T) {
	timeList := func(n int) time.Duration {
		p := newProject(t, fmt.Sprintf(`for i = 1, %d do task("t" .. i, "doc " .. i, function() end) end`, n), "")
		best := time.Duration(1 << 62)
		for range 3 {
			start := time.Now()
			r := p.run(nil, "-l")
			wantCode(t, r, 0)
			best = min(best, time.Since(start))
		}
		return best
	}
	small, large := timeList(2000), timeList(20000)
	if large > 30*small {
		t.Errorf("-l took %s for 20,000 tasks and %s for 2,000: worse than linear", large, small)
	}
	t.Logf("-l: 2,000 tasks %s, 20,000 tasks %s", small, large)
}

// TestHostOutputCannotDriveTheTerminal: escape sequences a host prints
// (window title, colours, clear screen) are removed from prefixed output.
func TestHostOutputCannotDriveTheTerminal(t *testing.T) {
	needTestbed(t)
	p := newProject(t, `task("t", function() run([[printf '\033]0;owned\007\033[31mred\033[0m\033[2J plain\n']]) end)`, "")
	r := p.run(nil, "-H", "127.0.0.2", "t")
	wantCode(t, r, 0)
	mustContain(t, r, "[127.0.0.2] out: red plain")
	if strings.ContainsAny(r.stdout, "\x1b\x07") {
		t.Errorf("control characters reached the terminal: %q", r.stdout)
	}
}

// TestSelfReferencingTable: a table that contains itself, given to
// execute() or shared.set, is a short error.
func TestSelfReferencingTable(t *testing.T) {
	p := newProject(t, `
task("s", function() local t = {}; t.self = t; require("shared").set("k", t) end)
task("e", function() local t = {1}; t[2] = t; execute("x", {}, t) end)
task("x", function() end)
`, "")
	r := p.run(nil, "-H", "local", "--keep-going", "s", "e")
	wantCode(t, r, 1)
	mustContain(t, r, "shared.set: at self: a table that contains itself", "execute: arguments must be plain data: at [2]: a table that contains itself")
	for _, line := range strings.Split(r.stderr, "\n") {
		if len(line) > 300 {
			t.Errorf("error line of %d characters: %.120s…", len(line), line)
		}
	}
}

// TestSealedLibraries: os.exit, os.execute, io.popen and io.read raise an
// error saying what to use; io.write and io.stdout/io.stderr go to the
// host's prefixed output, and the run still ends with its recap.
func TestSealedLibraries(t *testing.T) {
	p := newProject(t, `
task("w", function() io.write("a", "b"); io.write("c\nd"); io.stderr:write("oops\n") end)
task("x", function() os.exit(3) end)
task("p", function() io.popen("ls") end)
task("e", function() os.execute("touch made-by-execute") end)
`, "")
	r := p.run(nil, "-H", "local,127.0.0.2", "--keep-going", "w", "x", "p", "e")
	wantCode(t, r, 1)
	mustContain(t, r, "[local] abc\n", "[local] d\n", "[local] err: oops",
		"os.exit would end gofab without its recap", "io.popen bypasses --check", "os.execute bypasses --check", "Summary:")
	if _, err := os.Stat(filepath.Join(p.dir, "made-by-execute")); err == nil {
		t.Error("os.execute ran")
	}
}
