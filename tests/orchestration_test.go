package tests

import (
	"regexp"
	"strings"
	"testing"
)

const orchestrationFab = `
local shared = require("shared")

task("prep", {runs_once = true}, function()
  puts("prep ran")
  return {token = tostring(math.random(1, 1e9)) .. "-" .. env.host}
end)

task("deploy", function()
  local r = execute("prep")
  local token
  for _, v in pairs(r) do token = v.token end
  puts("token=" .. token)
end)

task("twice", {runs_once = true}, function() puts("twice ran") end)

task("fails", function()
  if env.host == "127.0.0.3" then abort("no good") end
  return env.host .. "!"
end)

task("fanout", function()
  local r = execute("fails", {hosts = {"127.0.0.2", "127.0.0.3"}, warn_only = true}, "extra")
  assert(r["127.0.0.2"] == "127.0.0.2!", "value from .2")
  assert(r["127.0.0.3"].error:find("no good"), "error from .3")
  puts("fanout ok")
end)

task("fanout_aborts", function()
  execute("fails", {hosts = {"127.0.0.2", "127.0.0.3"}})
  puts("went on")
end)

task("rolling", {batch = {1, "50%"}}, function()
  puts("start")
  run("sleep 0.2", {quiet = true})
  puts("end")
end)

task("gather", function()
  puts("before")
  if env.host == "127.0.0.2" then run("sleep 0.5", {quiet = true}) end
  barrier()
  puts("after")
end)

task("limited", {max_fail = 1, serial = true}, function()
  if env.host == "127.0.0.2" or env.host == "127.0.0.3" then abort("broken") end
  puts("ran")
end)

task("fastfail", {fail_fast = true, pool_size = 1}, function()
  abort("first one breaks")
end)

task("publish", function()
  if env.host == "127.0.0.2" then
    run("sleep 0.3", {quiet = true})
    shared.set("leader", {name = env.host})
  end
  puts("leader=" .. shared.wait("leader", 10).name)
end)
`

// lines returns the stdout lines matching re, in order.
func lines(out string, re *regexp.Regexp) []string {
	var got []string
	for _, l := range strings.Split(out, "\n") {
		if re.MatchString(l) {
			got = append(got, l)
		}
	}
	return got
}

// TestRunsOnceUnderParallelism runs a runs_once task through execute from
// 50 hosts at once: it runs exactly once and every host sees its value.
func TestRunsOnceUnderParallelism(t *testing.T) {
	needTestbed(t)
	p := newProject(t, orchestrationFab, "")
	r := p.run(nil, "-H", hosts(2, 50), "-z", "50", "deploy", "prep", "twice", "twice")
	wantCode(t, r, 0)
	if n := strings.Count(r.stdout, "prep ran"); n != 1 {
		t.Errorf("prep ran %d times, want once\n%s", n, r)
	}
	if n := strings.Count(r.stdout, "twice ran"); n != 1 {
		t.Errorf("twice ran %d times, want once", n)
	}
	tokens := map[string]bool{}
	for _, l := range lines(r.stdout, regexp.MustCompile(`token=`)) {
		tokens[l[strings.Index(l, "token="):]] = true
	}
	if len(tokens) != 1 || len(lines(r.stdout, regexp.MustCompile(`token=`))) != 50 {
		t.Errorf("hosts saw %d different tokens in %d lines, want 1 in 50", len(tokens), len(lines(r.stdout, regexp.MustCompile(`token=`))))
	}
}

// TestExecuteResults checks execute's per-host values and errors.
func TestExecuteResults(t *testing.T) {
	needTestbed(t)
	p := newProject(t, orchestrationFab, "")
	r := p.run(nil, "-H", "127.0.0.9", "fanout")
	wantCode(t, r, 0)
	mustContain(t, r, "[127.0.0.9] fanout ok", "[127.0.0.3] error:")

	// Fabric's execute aborts the caller when a host failed; the message
	// names the host and the way to get the table instead.
	r = p.run(nil, "-H", "127.0.0.9", "fanout_aborts")
	wantCode(t, r, 1)
	mustContain(t, r, `execute("fails") failed on 1 of 2 hosts (127.0.0.3): `, "no good", "warn_only = true")
	mustNotContain(t, r, "went on")
	r = p.run(nil, "-H", "127.0.0.9", "-w", "fanout_aborts")
	wantCode(t, r, 0)
	mustContain(t, r, "went on")
}

// TestRollingBatches: with batch {1, "50%"} on 5 hosts the batches are
// 1, 3, 1 hosts, and a batch starts only when the previous one ended.
func TestRollingBatches(t *testing.T) {
	needTestbed(t)
	p := newProject(t, orchestrationFab, "")
	r := p.run(nil, "-H", hosts(2, 5), "rolling")
	wantCode(t, r, 0)
	seq := lines(r.stdout, regexp.MustCompile(`\] (start|end)$`))
	var kinds []string
	for _, l := range seq {
		kinds = append(kinds, l[strings.LastIndex(l, " ")+1:])
	}
	want := "start end start start start end end end start end"
	if got := strings.Join(kinds, " "); got != want {
		t.Errorf("order %q, want %q\n%s", got, want, r)
	}
}

// TestBarrier: no host passes the barrier before every host reached it,
// also when the pool holds fewer hosts than the batch.
func TestBarrier(t *testing.T) {
	needTestbed(t)
	for _, pool := range []string{"0", "1"} {
		p := newProject(t, orchestrationFab, "")
		r := p.run(nil, "-H", hosts(2, 4), "-z", pool, "gather")
		wantCode(t, r, 0)
		seq := lines(r.stdout, regexp.MustCompile(`\] (before|after)$`))
		if len(seq) != 8 {
			t.Fatalf("-z %s: %d lines, want 8\n%s", pool, len(seq), r)
		}
		for i, l := range seq {
			if (i < 4) != strings.HasSuffix(l, "before") {
				t.Errorf("-z %s: line %d is %q: a host passed the barrier early\n%s", pool, i, l, r)
				break
			}
		}
	}
}

// TestMaxFail: once more hosts failed than max_fail allows, the others
// are not started and are reported as skipped.
func TestMaxFail(t *testing.T) {
	needTestbed(t)
	p := newProject(t, orchestrationFab, "")
	r := p.run(nil, "-H", hosts(2, 6), "limited")
	wantCode(t, r, 1)
	mustNotContain(t, r, "] ran")
	mustContain(t, r, "6 hosts: 0 ok, 2 failed, 0 unreachable, 4 skipped", "not started: cancelled: too many hosts failed (max_fail)")
	r = p.run(nil, "-H", hosts(2, 4), "fastfail")
	wantCode(t, r, 1)
	mustContain(t, r, "4 hosts: 0 ok, 1 failed, 0 unreachable, 3 skipped")
}

// TestSharedValues: one host publishes, the others wait for it.
func TestSharedValues(t *testing.T) {
	needTestbed(t)
	p := newProject(t, orchestrationFab, "")
	r := p.run(nil, "-H", hosts(2, 4), "publish")
	wantCode(t, r, 0)
	if n := strings.Count(r.stdout, "leader=127.0.0.2"); n != 4 {
		t.Errorf("%d hosts saw the leader, want 4\n%s", n, r)
	}
}

// TestSkipBadHosts: an unreachable host is skipped and does not fail the
// run; without the flag it does.
func TestSkipBadHosts(t *testing.T) {
	needTestbed(t)
	p := newProject(t, `task("hi", function() run("true") puts("hi") end)`, "")
	r := p.run(nil, "-H", "127.0.0.2,127.0.0.3:1", "--skip-bad-hosts", "hi")
	wantCode(t, r, 0)
	mustContain(t, r, "[127.0.0.2] hi", "127.0.0.3:1  skipped", "1 ok, 0 failed, 0 unreachable, 1 skipped")
	r = p.run(nil, "-H", "127.0.0.2,127.0.0.3:1", "hi")
	wantCode(t, r, 1)
	mustContain(t, r, "1 unreachable")
}

// TestReboot "reboots" a host by killing its login user's processes (the
// connection drops as in a reboot) and checks the task carries on over a
// new connection.
func TestReboot(t *testing.T) {
	needTestbed(t)
	p := newProject(t, `
task("t", function()
  local before = tostring(run("echo $SSH_CONNECTION", {quiet = true, check_safe = true}))
  reboot({wait = 30, command = "pkill -KILL -u `+tb.NPUser+`"})
  local after = tostring(run("echo $SSH_CONNECTION", {quiet = true, check_safe = true}))
  assert(before ~= after, "same connection after reboot: " .. after)
  puts("back")
end)`, "")
	r := p.run(nil, "-H", tb.NPUser+"@127.0.0.2", "t")
	wantCode(t, r, 0)
	mustContain(t, r, "reboot: pkill", "] back")
	// --check does not reboot: the connection stays, so the assertion
	// that it changed fails.
	r = p.run(nil, "--check", "-H", tb.NPUser+"@127.0.0.2", "t")
	wantCode(t, r, 1)
	mustContain(t, r, "would reboot: pkill", "same connection after reboot")
}

// TestHandlers: a handler runs once at the end of the task, only on the
// hosts that notified it, and not when the task failed.
func TestHandlers(t *testing.T) {
	needTestbed(t)
	p := newProject(t, `
handler("restart", function() puts("restarted") end)
task("t", function()
  if env.host ~= "127.0.0.4" then notify("restart") notify("restart") end
  puts("task body done")
  if env.host == "127.0.0.3" then abort("failed after notifying") end
end)`, "")
	r := p.run(nil, "-H", hosts(2, 3), "t")
	wantCode(t, r, 1)
	if n := strings.Count(r.stdout, "[127.0.0.2] restarted"); n != 1 {
		t.Errorf("handler ran %d times on the notifying host, want 1\n%s", n, r)
	}
	mustNotContain(t, r, "[127.0.0.3] restarted", "[127.0.0.4] restarted")
	// The handler runs after the task's body.
	if strings.Index(r.stdout, "[127.0.0.2] restarted") < strings.Index(r.stdout, "[127.0.0.2] task body done") {
		t.Errorf("handler ran before the task ended\n%s", r)
	}
}
