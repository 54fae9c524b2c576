package tests

import (
	"context"
	"fmt"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gofab/gofab/internal/base/host"
	"github.com/gofab/gofab/internal/transport/connect"
	"github.com/gofab/gofab/internal/transport/sshconfig"
)

// TestGateway reaches three hosts through -g (and env.gateway): all of
// them share one connection to the gateway.
func TestGateway(t *testing.T) {
	needTestbed(t)
	for _, how := range []string{"flag", "env.gateway"} {
		t.Run(how, func(t *testing.T) {
			proxy := passThrough(t)
			fab := `task("t", function() run("echo via=$SSH_CONNECTION") end)`
			args := []string{"-H", hosts(2, 3), "t"}
			if how == "flag" {
				args = append([]string{"-g", proxy.addr}, args...)
			} else {
				fab = fmt.Sprintf("env.gateway = %q\n", proxy.addr) + fab
			}
			p := newProject(t, fab, "")
			p.trust(proxy)
			r := p.run(nil, args...)
			wantCode(t, r, 0)
			mustContain(t, r, "3 hosts: 3 ok")
			if n := proxy.accepted.Load(); n != 1 {
				t.Errorf("%d connections to the gateway, want 1 shared by all hosts", n)
			}
		})
	}
}

// TestProxyCommand reaches a host through ssh_config's ProxyCommand (an
// OpenSSH client forwarding with -W through the testbed's sshd).
func TestProxyCommand(t *testing.T) {
	needTestbed(t)
	proxyCmd := fmt.Sprintf("ssh -q -i %s -o IdentitiesOnly=yes -o UserKnownHostsFile=%s -p %s %s@127.0.0.1 -W %%h:%%p",
		tb.Key, tb.KnownHosts, tb.Port, tb.User)
	p := newProject(t, `task("t", function() run("echo via=$SSH_CONNECTION") end)`,
		"Host 127.0.0.11\n  ProxyCommand "+proxyCmd+"\n")
	r := p.run(nil, "-H", "127.0.0.11", "t")
	wantCode(t, r, 0)
	if !regexp.MustCompile(`\[127\.0\.0\.11\] out: via=\S+ \d+ 127\.0\.0\.11 `).MatchString(r.stdout) {
		t.Errorf("no output through the proxy command\n%s", r)
	}
	bad := newProject(t, `task("t", function() run("true") end)`, "Host 127.0.0.11\n  ProxyCommand echo no route to the bastion >&2; exit 3\n")
	r = bad.run(nil, "-H", "127.0.0.11", "t")
	wantCode(t, r, 1)
	// What the command said is in the error, not loose on gofab's stderr.
	mustContain(t, r, `connect to 127.0.0.11: through ProxyCommand "echo no route to the bastion >&2; exit 3"`,
		"(the command said: no route to the bastion)")
	for _, line := range strings.Split(r.stdout+r.stderr, "\n") {
		if strings.TrimSpace(line) == "no route to the bastion" {
			t.Errorf("the command's stderr leaked:\n%s", r)
		}
	}
}

// TestConnectionAttempts: a host that drops the first two connections is
// reached with -n 3 and not with -n 1.
func TestConnectionAttempts(t *testing.T) {
	needTestbed(t)
	for _, c := range []struct {
		attempts string
		code     int
	}{{"1", 1}, {"3", 0}} {
		proxy := passThrough(t)
		proxy.dropFirst.Store(2)
		p := newProject(t, `task("t", function() run("true") end)`, "")
		p.trust(proxy)
		r := p.run(nil, "-n", c.attempts, "-H", proxy.addr, "t")
		wantCode(t, r, c.code)
		if c.code == 0 && proxy.accepted.Load() != 3 {
			t.Errorf("-n 3: %d connections, want 3", proxy.accepted.Load())
		}
	}
}

// TestConnectionResetMidCommand cuts one host's connection while its
// command runs: that host fails with a clear error, the others finish.
func TestConnectionResetMidCommand(t *testing.T) {
	needTestbed(t)
	proxy := passThrough(t)
	p := newProject(t, `task("t", function() run("echo started; sleep 2; echo done") end)`, "")
	p.trust(proxy)
	code, text := p.runUntil("["+proxy.addr+"] out: started", proxy.cut, "-H", proxy.addr+",127.0.0.2,127.0.0.3", "t")
	if code != 1 {
		t.Fatalf("exit %d, want 1\n%s", code, text)
	}
	for _, want := range []string{"[127.0.0.2] out: done", "[127.0.0.3] out: done", "[" + proxy.addr + "] error:", "3 hosts: 2 ok, 1 failed"} {
		if !strings.Contains(text, want) {
			t.Errorf("output lacks %q\n%s", want, text)
		}
	}
	if strings.Contains(text, "["+proxy.addr+"] out: done") {
		t.Error("the cut host finished its command")
	}
}

// TestSessionsPerConnection runs 15 commands at once on one connection:
// OpenSSH allows 10 sessions per connection, so the rest must wait, not
// fail.
func TestSessionsPerConnection(t *testing.T) {
	needTestbed(t)
	p := newProject(t, "", "")
	d := connect.NewDialer(connect.Options{
		Config: sshconfig.NewLoader(sshconfig.CurrentLocal(), filepath.Join(p.dir, "ssh_config")),
	})
	conn, err := d.Dial(context.Background(), host.Addr{Host: "127.0.0.2"})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	var wg sync.WaitGroup
	errs := make(chan error, 15)
	for i := 0; i < 15; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			code, err := conn.Run(context.Background(), &host.Cmd{Command: "sleep 0.3"})
			if err == nil && code != 0 {
				err = fmt.Errorf("exit %d", code)
			}
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Errorf("a concurrent command failed: %v", err)
		}
	}
}

// TestTwoHundredHosts runs a command on 200 loopback hosts (127.0.1.1 …
// 127.0.1.200) through one real sshd: handshakes are capped, so none
// fails. One sshd on two shared cores serves about this many logins
// steadily; a thousand hosts failed under load (every login forks and
// costs sshd about 0.25 s of CPU), and belong to a simulated fleet.
func TestTwoHundredHosts(t *testing.T) {
	needTestbed(t)
	p := newProject(t, `
env.hosts = {}
for c = 1, 200 do table.insert(env.hosts, "127.0.1." .. c) end
task("t", function() run("true") end)`, "")
	r := p.runFor(5*time.Minute, nil, "-q", "t")
	wantCode(t, r, 0)
	mustContain(t, r, "200 hosts: 200 ok, 0 failed, 0 unreachable")
}

// TestKeepaliveDetectsSilentHost freezes the network under a running
// command: with --keepalive 1 the connection is given up after three
// unanswered probes instead of hanging for the command's 30 s.
func TestKeepaliveDetectsSilentHost(t *testing.T) {
	needTestbed(t)
	proxy := passThrough(t)
	p := newProject(t, `task("t", function() run("echo started; sleep 30") end)`, "")
	p.trust(proxy)
	var frozen time.Time
	code, text := p.runUntil("out: started", func() { proxy.freeze(); frozen = time.Now() }, "--keepalive", "1", "-H", proxy.addr, "t")
	if code != 1 {
		t.Fatalf("exit %d, want 1\n%s", code, text)
	}
	if d := time.Since(frozen); d > 15*time.Second {
		t.Errorf("gave up after %s; keepalives should end it within a few seconds", d)
	}
}
