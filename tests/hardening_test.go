package tests

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
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
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			cmd := exec.CommandContext(ctx, gofabBin, "-S", filepath.Join(p.dir, "ssh_config"), "-H", hostList, "t")
			cmd.Dir = p.dir
			cmd.Env = append(append([]string{}, p.env...), "GOFAB_SUDO_PASSWORD="+tb.Password)
			out, _ := cmd.StdoutPipe()
			cmd.Stderr = cmd.Stdout
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			sc := bufio.NewScanner(out)
			var lines []string
			started := 0
			for started < 3 && sc.Scan() {
				lines = append(lines, sc.Text())
				if strings.HasSuffix(sc.Text(), "out: started") {
					started++
				}
			}
			if started < 3 {
				t.Fatalf("hosts did not start: %q", lines)
			}
			if !c.timeout {
				waitProcs(t, marker, 3)
				cmd.Process.Signal(syscall.SIGINT)
			}
			for sc.Scan() {
				lines = append(lines, sc.Text())
			}
			err := cmd.Wait()
			want := 130
			if c.timeout {
				want = 0
			}
			if code := cmd.ProcessState.ExitCode(); code != want {
				t.Fatalf("exit %v, want %d; output %q", err, want, lines)
			}
			if c.timeout && !strings.Contains(strings.Join(lines, "\n"), "timed out after 1s") {
				t.Errorf("no timeout reported: %q", lines)
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
	for _, kind := range []string{"run", "sudo"} {
		t.Run(kind, func(t *testing.T) {
			start := time.Now()
			r := p.run(nil, "-H", tb.NPUser+"@127.0.0.2", kind+"_bare")
			bare := time.Since(start)
			wantCode(t, r, 0)
			start = time.Now()
			r = p.run(nil, "-H", tb.NPUser+"@127.0.0.2", "-T", "1", kind+"_timed")
			timed := time.Since(start)
			wantCode(t, r, 1)
			mustContain(t, r, "timed out after 1s")
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
