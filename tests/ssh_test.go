package tests

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

const sudoFab = `
task("whoami", function()
  local r = sudo("whoami")
  puts("root=" .. tostring(r))
  cd("/tmp", function()
    shell_env({GREETING = "hi there"}, function()
      puts("inner=" .. tostring(sudo("echo $(pwd) $GREETING")))
    end)
  end)
  puts("as=" .. tostring(sudo({"id", "-un"}, {user = "nobody"})))
  puts("stdin=" .. tostring(sudo("tr a-z A-Z", {stdin = "fed through sudo\n"})))
end)
`

// TestSudo covers sudo with the right, wrong and no password, the login
// password fallback, and NOPASSWD, and checks the password never shows.
func TestSudo(t *testing.T) {
	needTestbed(t)
	cases := []struct {
		name string
		user string
		env  []string
		code int
		want []string
	}{
		{"right password", tb.User, []string{"GOFAB_SUDO_PASSWORD=" + tb.Password}, 0,
			[]string{"[127.0.0.2] root=root", "[127.0.0.2] inner=/tmp hi there", "[127.0.0.2] as=nobody", "[127.0.0.2] stdin=FED THROUGH SUDO"}},
		{"wrong password", tb.User, []string{"GOFAB_SUDO_PASSWORD=not-the-password"}, 1,
			[]string{`[127.0.0.2] error: fabfile.lua:3: sudo("whoami") on 127.0.0.2: sudo password was refused`}},
		{"no password", tb.User, nil, 1,
			[]string{"sudo asked for a password and none is known: set GOFAB_SUDO_PASSWORD"}},
		{"login password used for sudo", tb.User, []string{"GOFAB_PASSWORD=" + tb.Password}, 0,
			[]string{"[127.0.0.2] root=root"}},
		{"NOPASSWD", tb.NPUser, nil, 0, []string{"[" + tb.NPUser + "@127.0.0.2] root=root", "[" + tb.NPUser + "@127.0.0.2] stdin=FED THROUGH SUDO"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p := newProject(t, sudoFab, "")
			host := "127.0.0.2"
			if c.user != tb.User {
				host = c.user + "@" + host
			}
			start := time.Now()
			r := p.run(c.env, "-H", host, "whoami")
			wantCode(t, r, c.code)
			mustContain(t, r, c.want...)
			mustNotContain(t, r, tb.Password, "not-the-password", "gofab-sudo-")
			if d := time.Since(start); d > 20*time.Second {
				t.Errorf("took %s: a wrong or missing password must fail fast", d)
			}
		})
	}
}

// TestHostKeys checks unknown keys are refused with advice, recorded with
// --accept-new-host-keys, and that a changed key is refused even then.
func TestHostKeys(t *testing.T) {
	needTestbed(t)
	p := newProject(t, `task("t", function() run("true") end)`, "")
	kh := filepath.Join(p.dir, "known_hosts")
	p.editConfig(tb.KnownHosts, kh) // the project's own, empty known_hosts

	r := p.run(nil, "-H", "127.0.0.2", "t")
	wantCode(t, r, 1)
	mustContain(t, r, "host key for [127.0.0.2]:"+tb.Port+" is unknown", "--accept-new-host-keys", "StrictHostKeyChecking accept-new")

	r = p.run(nil, "--accept-new-host-keys", "-H", "127.0.0.2", "t")
	wantCode(t, r, 0)
	data, err := os.ReadFile(kh)
	if err != nil || !strings.Contains(string(data), "[127.0.0.2]:"+tb.Port+" ssh-ed25519 ") {
		t.Fatalf("known_hosts not recorded: %q %v", data, err)
	}
	r = p.run(nil, "-H", "127.0.0.2", "t")
	wantCode(t, r, 0)

	other, err := os.ReadFile(tb.OtherHostKey)
	if err != nil {
		t.Fatal(err)
	}
	fields := strings.Fields(string(other))
	p.write("known_hosts", fmt.Sprintf("[127.0.0.2]:%s %s %s\n", tb.Port, fields[0], fields[1]))
	for _, args := range [][]string{{"-H", "127.0.0.2", "t"}, {"--accept-new-host-keys", "-H", "127.0.0.2", "t"}} {
		r = p.run(nil, args...)
		wantCode(t, r, 1)
		mustContain(t, r, "REMOTE HOST KEY HAS CHANGED for [127.0.0.2]:"+tb.Port, "ssh-keygen -R")
	}
}

// TestAuthMethods covers key files, the agent, the login password, an
// encrypted key with no terminal and a missing key file.
func TestAuthMethods(t *testing.T) {
	needTestbed(t)
	const fab = `task("t", function() run("echo authed-as-$(id -un)") end)`
	// noKey is a project whose ssh_config offers no usable key.
	noKey := func(t *testing.T) *project {
		p := newProject(t, fab, "")
		p.editConfig("IdentityFile "+tb.Key, "IdentityFile "+filepath.Join(p.dir, "none"))
		return p
	}

	t.Run("password", func(t *testing.T) {
		p := noKey(t)
		r := p.run([]string{"GOFAB_PASSWORD=" + tb.Password}, "-H", "127.0.0.2", "t")
		wantCode(t, r, 0)
		mustContain(t, r, "out: authed-as-"+tb.User)
		mustNotContain(t, r, tb.Password)
	})
	t.Run("wrong password", func(t *testing.T) {
		p := noKey(t)
		r := p.run([]string{"GOFAB_PASSWORD=wrong-login-pw"}, "-H", "127.0.0.2", "t")
		wantCode(t, r, 1)
		mustContain(t, r, "unable to authenticate")
		mustNotContain(t, r, "wrong-login-pw")
	})
	t.Run("-I with nothing on stdin", func(t *testing.T) {
		p := noKey(t)
		r := p.run(nil, "-I", "-H", "127.0.0.2", "t")
		wantCode(t, r, 2)
		mustContain(t, r, "Login password: standard input ended before an answer")
	})
	t.Run("-i key", func(t *testing.T) {
		p := noKey(t)
		r := p.run(nil, "-i", tb.Key, "-H", "127.0.0.2", "t")
		wantCode(t, r, 0)
		mustContain(t, r, "out: authed-as-"+tb.User)
	})
	t.Run("missing -i key", func(t *testing.T) {
		p := newProject(t, fab, "")
		r := p.run(nil, "-i", "/nonexistent/key", "-H", "127.0.0.2", "t")
		wantCode(t, r, 2)
		mustContain(t, r, "identity file: stat /nonexistent/key: no such file or directory")
	})
	t.Run("encrypted key without terminal", func(t *testing.T) {
		p := newProject(t, fab, "")
		p.editConfig("IdentityFile "+tb.Key, "IdentityFile "+tb.EncryptedKey)
		r := p.run(nil, "-H", "127.0.0.2", "t")
		wantCode(t, r, 1)
		mustContain(t, r, "is encrypted", "load it into ssh-agent")
	})
	t.Run("agent", func(t *testing.T) {
		sock := filepath.Join(t.TempDir(), "agent.sock")
		agent := exec.Command("ssh-agent", "-D", "-a", sock)
		if err := agent.Start(); err != nil {
			t.Skip("no ssh-agent:", err)
		}
		t.Cleanup(func() { agent.Process.Kill(); agent.Wait() })
		for i := 0; i < 100; i++ {
			if _, err := os.Stat(sock); err == nil {
				break
			}
			time.Sleep(20 * time.Millisecond)
		}
		add := exec.Command("ssh-add", tb.Key)
		add.Env = []string{"SSH_AUTH_SOCK=" + sock}
		if out, err := add.CombinedOutput(); err != nil {
			t.Fatalf("ssh-add: %v %s", err, out)
		}
		p := noKey(t)
		// IdentitiesOnly is on in the project config; turn it off so the
		// agent's key is offered.
		p.editConfig("IdentitiesOnly yes", "IdentitiesOnly no")
		r := p.run([]string{"SSH_AUTH_SOCK=" + sock}, "-H", "127.0.0.2", "t")
		wantCode(t, r, 0)
		mustContain(t, r, "out: authed-as-"+tb.User)
	})
}

// TestInterruptStopsRemoteCommands sends SIGINT to gofab while remote
// commands run and checks gofab exits 130 and no remote process is left.
func TestInterruptStopsRemoteCommands(t *testing.T) {
	needTestbed(t)
	marker := fmt.Sprintf("%d.%d", 900+os.Getpid()%99, time.Now().Nanosecond()%1000)
	p := newProject(t, `task("hang", function() run("echo started; sleep `+marker+`") end)`, "")
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, gofabBin, "-S", filepath.Join(p.dir, "ssh_config"), "-H", hosts(2, 3), "hang")
	cmd.Dir, cmd.Env = p.dir, p.env
	out, _ := cmd.StdoutPipe()
	cmd.Stderr = cmd.Stdout // errors and the recap are on stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(out)
	started := 0
	var lines []string
	for started < 3 && sc.Scan() {
		lines = append(lines, sc.Text())
		if strings.HasSuffix(sc.Text(), "out: started") {
			started++
		}
	}
	if started < 3 {
		t.Fatalf("hosts did not start: %q", lines)
	}
	if n := countProcs(t, marker); n != 3 {
		t.Fatalf("%d remote sleeps running, want 3", n)
	}
	cmd.Process.Signal(syscall.SIGINT)
	for sc.Scan() {
		lines = append(lines, sc.Text())
	}
	err := cmd.Wait()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 130 {
		t.Fatalf("exit %v, want 130; output %q", err, lines)
	}
	if !strings.Contains(strings.Join(lines, "\n"), "interrupted") {
		t.Errorf("no host reported the interrupt: %q", lines)
	}
	if !strings.Contains(strings.Join(lines, "\n"), "3 hosts: 0 ok, 0 failed, 0 unreachable, 3 interrupted") {
		t.Errorf("no recap after the interrupt: %q", lines)
	}
	waitNoProcs(t, marker)
}

// TestCommandTimeout checks -T and the timeout option stop a slow command.
func TestCommandTimeout(t *testing.T) {
	needTestbed(t)
	p := newProject(t, `
task("slow", function() run("sleep 30") end)
task("slow_warn", function()
  local r = run("sleep 30", {timeout = 0.5, warn_only = true})
  puts("timed_out=" .. tostring(r.timed_out) .. " ok=" .. tostring(r.ok))
end)
`, "")
	start := time.Now()
	r := p.run(nil, "-T", "1", "-H", "127.0.0.2", "slow")
	wantCode(t, r, 1)
	mustContain(t, r, `run("sleep 30") on 127.0.0.2: timed out after 1s`)
	r = p.run(nil, "-H", "127.0.0.2", "slow_warn")
	wantCode(t, r, 0)
	mustContain(t, r, "timed_out=true ok=false")
	if d := time.Since(start); d > 20*time.Second {
		t.Errorf("timeouts took %s", d)
	}
}

// countProcs counts processes whose command line contains marker; the
// testbed's sshd runs on this machine, so remote processes are visible.
func countProcs(t *testing.T, marker string) int {
	t.Helper()
	out, _ := exec.Command("pgrep", "-f", "^sleep "+marker).Output()
	return len(strings.Fields(string(out)))
}

// TestSecondInterruptQuitsAtOnce: a command that ignores SIGTERM keeps
// the first Ctrl-C waiting for its grace period; a second Ctrl-C quits at
// once with status 130.
func TestSecondInterruptQuitsAtOnce(t *testing.T) {
	needTestbed(t)
	marker := fmt.Sprintf("%d.%d", 700+os.Getpid()%99, time.Now().Nanosecond()%1000)
	p := newProject(t, `task("stubborn", function() run("trap '' TERM INT; echo started; sleep `+marker+`") end)`, "")
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, gofabBin, "-S", filepath.Join(p.dir, "ssh_config"), "-H", "127.0.0.2", "stubborn")
	cmd.Dir, cmd.Env = p.dir, p.env
	out, _ := cmd.StdoutPipe()
	stderr, _ := cmd.StderrPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(out)
	for sc.Scan() && !strings.HasSuffix(sc.Text(), "out: started") {
	}
	go io.Copy(io.Discard, out)
	cmd.Process.Signal(syscall.SIGINT)
	// Wait until gofab says it is stopping, then interrupt again.
	es := bufio.NewScanner(stderr)
	for es.Scan() && !strings.Contains(es.Text(), "interrupted") {
	}
	go io.Copy(io.Discard, stderr)
	second := time.Now()
	cmd.Process.Signal(syscall.SIGINT)
	err := cmd.Wait()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 130 {
		t.Fatalf("exit %v, want 130", err)
	}
	if d := time.Since(second); d > 1500*time.Millisecond {
		t.Errorf("gofab took %s to quit after the second Ctrl-C", d)
	}
	// Even a command that ignores SIGTERM does not outlive gofab: sshd
	// ends it when the connection goes.
	waitNoProcs(t, marker)
}

// waitNoProcs fails the test unless the remote processes carrying marker
// are gone within 5 s of gofab exiting (sshd and the kill take a moment).
func waitNoProcs(t *testing.T, marker string) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for countProcs(t, marker) > 0 {
		if time.Now().After(deadline) {
			t.Fatalf("remote process %s still running after gofab exited", marker)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
