package tests

import (
	"fmt"
	"net"
	"regexp"
	"strings"
	"testing"
	"time"
)

// TestConcurrentPrefixedOutput runs a task on eight hosts that each print
// many lines on stdout and stderr, and checks that every line arrives
// whole, prefixed with its own host, in order within the host.
func TestConcurrentPrefixedOutput(t *testing.T) {
	needTestbed(t)
	long := strings.Repeat("x", 70000)
	p := newProject(t, `
task("spam", "Print a lot", function()
  run("for i in $(seq 1 200); do echo line-$i; echo errline-$i >&2; done; echo `+long+`")
end)
`, "")
	r := p.run(nil, "-H", hosts(2, 8), "spam")
	wantCode(t, r, 0)
	lineRE := regexp.MustCompile(`^\[(127\.0\.0\.\d+)\] (run|out|err): (.*)$`)
	next := map[string]int{}
	nextErr := map[string]int{}
	longs := 0
	for _, line := range strings.Split(r.stdout, "\n") {
		if line == "" || strings.HasPrefix(line, "Summary") || strings.HasPrefix(line, "  127.") || strings.Contains(line, "hosts:") {
			continue
		}
		m := lineRE.FindStringSubmatch(line)
		if m == nil {
			t.Fatalf("malformed line %.200q", line)
		}
		h, kind, text := m[1], m[2], m[3]
		switch {
		case kind == "out" && text == long:
			longs++
		case kind == "out":
			next[h]++
			if want := fmt.Sprintf("line-%d", next[h]); text != want {
				t.Fatalf("%s: got %q, want %q", h, text, want)
			}
		case kind == "err":
			nextErr[h]++
			if want := fmt.Sprintf("errline-%d", nextErr[h]); text != want {
				t.Fatalf("%s: got %q, want %q", h, text, want)
			}
		}
	}
	if len(next) != 8 || longs != 8 {
		t.Fatalf("got output from %d hosts and %d long lines, want 8 and 8", len(next), longs)
	}
	for h, n := range next {
		if n != 200 || nextErr[h] != 200 {
			t.Errorf("%s: %d out and %d err lines, want 200 each", h, n, nextErr[h])
		}
	}
	mustContain(t, r, "Summary:", "8 hosts: 8 ok, 0 failed, 0 unreachable")
}

// TestExitStatus covers the documented exit statuses and their one-line
// messages.
func TestExitStatus(t *testing.T) {
	needTestbed(t)
	const fab = `
env.hosts = {"127.0.0.2"}
task("lsb_release", function() run("true") end)
task("fail_on_3", function()
  if env.host == "127.0.0.3" then run("exit 7") end
end)
task("lua_error", function()
  local x = nil
  return x.field
end)
task("show_args", function(args) puts(args[1] .. "|" .. args[2] .. "|" .. args.k) end)
`
	cases := []struct {
		name    string
		fabfile string
		args    []string
		code    int
		want    []string
	}{
		{"ok", fab, []string{"lsb_release"}, 0, []string{"[127.0.0.2] run: true"}},
		{"unknown task suggests", fab, []string{"lsb_relase"}, 2, []string{`unknown task "lsb_relase", did you mean "lsb_release"?`}},
		{"bad flag", fab, []string{"--no-such-flag", "lsb_release"}, 2, []string{"unknown flag --no-such-flag (gofab --help lists the flags)"}},
		{"fabfile not found", fab, []string{"-f", "missing.lua", "lsb_release"}, 2, []string{"fabfile not found: missing.lua"}},
		{"syntax error", "task('a', function()\n  run(\"x\"\nend)\n", []string{"a"}, 2, []string{"fabfile.lua:3:"}},
		{"top-level run", "run('date')\n", []string{"-l"}, 2, []string{"fabfile.lua:1: run() is only available inside a task"}},
		{"fails on one host only", fab, []string{"-H", hosts(2, 3), "fail_on_3"}, 1, []string{
			`[127.0.0.3] error: fabfile.lua:5: run("exit 7") on 127.0.0.3 exited with code 7`,
			"3 hosts: 2 ok, 1 failed, 0 unreachable"}},
		{"lua runtime error", fab, []string{"lua_error"}, 1, []string{"[127.0.0.2] error: fabfile.lua:9: attempt to index a non-table object(nil) with key 'field'"}},
		{"malformed host", fab, []string{"-H", "127.0.0.2,bad:host:99999x,127.0.0.3", "lsb_release"}, 2, []string{
			`gofab: invalid host string "bad:host:99999x"`}},
		{"task args", fab, []string{"show_args:a,b\\,c,k=v=w"}, 0, []string{"[127.0.0.2] a|b,c|v=w"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p := newProject(t, c.fabfile, "")
			r := p.run(nil, c.args...)
			wantCode(t, r, c.code)
			mustContain(t, r, c.want...)
			if c.code == 2 && strings.Count(strings.TrimSpace(r.stderr), "\n") > 0 && !strings.Contains(r.stdout, "Available") {
				t.Errorf("usage error is more than one line:\n%s", r.stderr)
			}
		})
	}
}

// TestUnreachableHost checks a host with nothing listening is reported as
// unreachable while the others carry on.
func TestUnreachableHost(t *testing.T) {
	needTestbed(t)
	p := newProject(t, `task("up", function() run("echo up") end)`, "")
	r := p.run(nil, "-H", "127.0.0.2,127.0.0.3:1,127.0.0.4", "up")
	wantCode(t, r, 1)
	// The error shows once: short in the stream, in full in the recap.
	mustContain(t, r, "[127.0.0.2] out: up", "[127.0.0.4] out: up",
		"[127.0.0.3:1] error: unreachable: connection refused (details in the summary)",
		"3 hosts: 2 ok, 0 failed, 1 unreachable")
	if n := strings.Count(r.stdout+r.stderr, "connect to 127.0.0.3:1: dial tcp"); n != 1 {
		t.Errorf("the full error shows %d times, want once (in the recap)\n%s", n, r)
	}
	if !regexp.MustCompile(`127\.0\.0\.3:1\s+unreachable`).MatchString(r.stderr) {
		t.Errorf("summary does not mark 127.0.0.3:1 unreachable\n%s", r)
	}
}

// TestOneConnectionPerHost checks that every command of a run, across two
// tasks, goes over the same SSH connection (the same client port).
func TestOneConnectionPerHost(t *testing.T) {
	needTestbed(t)
	p := newProject(t, `
task("a", function() for i = 1, 5 do run("echo conn=$SSH_CONNECTION") end end)
task("b", function() run("echo conn=$SSH_CONNECTION") end)
`, "")
	r := p.run(nil, "-H", hosts(2, 2), "a", "b")
	wantCode(t, r, 0)
	seen := map[string]map[string]bool{}
	for _, m := range regexp.MustCompile(`\[(\S+)\] out: conn=(\S+ \d+)`).FindAllStringSubmatch(r.stdout, -1) {
		if seen[m[1]] == nil {
			seen[m[1]] = map[string]bool{}
		}
		seen[m[1]][m[2]] = true
	}
	if len(seen) != 2 {
		t.Fatalf("saw %d hosts, want 2\n%s", len(seen), r)
	}
	for h, conns := range seen {
		if len(conns) != 1 {
			t.Errorf("%s used %d connections, want 1: %v", h, len(conns), conns)
		}
	}
}

// TestLocalHostAndIPv6 runs on the built-in local host (no SSH) and on
// [::1]:port.
func TestLocalHostAndIPv6(t *testing.T) {
	needTestbed(t)
	p := newProject(t, `task("who", function() run("echo user=$(id -un) ssh=${SSH_CONNECTION:-none}") end)`, "")
	r := p.run(nil, "-H", "local,[::1]:"+tb.Port, "who")
	wantCode(t, r, 0)
	mustContain(t, r, "[local] out: user=root ssh=none", "[[::1]:"+tb.Port+"] out: user="+tb.User+" ssh=::1")
}

// TestAdhocCommand runs "gofab -- cmd" on several hosts.
func TestAdhocCommand(t *testing.T) {
	needTestbed(t)
	p := newProject(t, "", "")
	r := p.run(nil, "-H", hosts(2, 3), "--", "uname", "-s")
	wantCode(t, r, 0)
	for i := 2; i <= 4; i++ {
		mustContain(t, r, fmt.Sprintf("[127.0.0.%d] run: uname -s", i), fmt.Sprintf("[127.0.0.%d] out: Linux", i))
	}
	r = p.run(nil, "-H", "127.0.0.2", "--", "exit 3")
	wantCode(t, r, 1)
	mustContain(t, r, `[127.0.0.2] error: run("exit 3") on 127.0.0.2 exited with code 3`)
	r = p.run(nil, "-w", "-H", "127.0.0.2", "--", "exit 3")
	wantCode(t, r, 0)
	mustContain(t, r, "warning:")
}

// TestProxyJump reaches a host through a jump host from the ssh config
// (the testbed's sshd forwards to itself), and honours ProxyJump none.
func TestProxyJump(t *testing.T) {
	needTestbed(t)
	p := newProject(t, `task("t", function() run("echo via=$SSH_CONNECTION") end)`,
		"Host 127.0.0.9\n  ProxyJump 127.0.0.8\nHost 127.0.0.10\n  ProxyJump none\n")
	r := p.run(nil, "-H", "127.0.0.9,127.0.0.10", "t")
	wantCode(t, r, 0)
	// Through the jump the connection to 127.0.0.9 comes from sshd itself.
	if !regexp.MustCompile(`\[127\.0\.0\.9\] out: via=\S+ \d+ 127\.0\.0\.9 `).MatchString(r.stdout) {
		t.Errorf("no output through the jump host\n%s", r)
	}
	mustContain(t, r, "[127.0.0.10] out: via=127.0.0.1 ")
	p2 := newProject(t, `task("t", function() run("true") end)`, "Host 127.0.0.9\n  ProxyJump 127.0.0.3:1\n")
	r = p2.run(nil, "-H", "127.0.0.9", "t")
	wantCode(t, r, 1)
	mustContain(t, r, "jump host 127.0.0.3:1")
}

// TestConnectTimeout checks -t bounds a handshake with a host that accepts
// TCP and never answers.
func TestConnectTimeout(t *testing.T) {
	needTestbed(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			defer c.Close() // hold it open, silent
		}
	}()
	p := newProject(t, `task("t", function() run("true") end)`, "")
	start := time.Now()
	r := p.run(nil, "-t", "1", "-H", ln.Addr().String()+",127.0.0.2", "t")
	wantCode(t, r, 1)
	mustContain(t, r, "timed out after 1s", "2 hosts: 1 ok, 0 failed, 1 unreachable")
	if d := time.Since(start); d > 15*time.Second {
		t.Errorf("took %s with -t 1", d)
	}
}

// TestSerialAndPoolSize checks --serial runs hosts one after another (each
// host's lines together) and -z 1 does the same.
func TestSerialAndPoolSize(t *testing.T) {
	needTestbed(t)
	p := newProject(t, `task("t", function() run("echo a; sleep 0.2; echo b") end)`, "")
	for _, flag := range [][]string{{"--serial"}, {"-z", "1"}} {
		r := p.run(nil, append(flag, "-H", hosts(2, 3), "t")...)
		wantCode(t, r, 0)
		var order []string
		for _, m := range regexp.MustCompile(`\[(\S+)\] out: ([ab])`).FindAllStringSubmatch(r.stdout, -1) {
			order = append(order, m[1]+m[2])
		}
		want := []string{"127.0.0.2a", "127.0.0.2b", "127.0.0.3a", "127.0.0.3b", "127.0.0.4a", "127.0.0.4b"}
		if strings.Join(order, " ") != strings.Join(want, " ") {
			t.Errorf("%v: order %v, want %v", flag, order, want)
		}
	}
}
