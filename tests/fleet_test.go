package tests

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/gofab/gofab/internal/simfleet"
)

// simulated starts a simulated fleet of n hosts in this process and
// returns it with the files gofab needs to reach it.
func simulated(t *testing.T, n int, faults map[int]simfleet.Fault) (*simfleet.Fleet, simfleet.ClientFiles) {
	t.Helper()
	dir := t.TempDir()
	pub, key, err := simfleet.NewClientKey(dir)
	if err != nil {
		t.Fatal(err)
	}
	f, err := simfleet.Start(simfleet.Config{Hosts: n, User: "deploy", AuthorizedKeys: []ssh.PublicKey{pub},
		Faults: faults, SlowDelay: time.Second, Limit: 10 * time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(f.Close)
	cf, err := f.WriteClientFiles(dir, key)
	if err != nil {
		t.Fatal(err)
	}
	return f, cf
}

// TestThousandHostsSimulated runs a task with two commands and a put on
// a thousand simulated hosts: every one succeeds, each host logs in once.
func TestThousandHostsSimulated(t *testing.T) {
	const n = 1000
	f, cf := simulated(t, n, nil)
	p := newProject(t, `
task("t", function()
  run("uname -r")
  put("payload", "/tmp/payload")
  local r = run("hostname", {quiet = true})
  if r.stdout ~= env.host .. "\n" then abort("hostname said " .. r.stdout) end
end)`, "")
	p.write("payload", strings.Repeat("x", 64<<10))
	r := p.runFor(5*time.Minute, nil, "-S", cf.SSHConfig, "-q", "-H", "@"+filepath.Join(filepath.Dir(cf.SSHConfig), "hosts.txt"), "t")
	wantCode(t, r, 0)
	mustContain(t, r, "1000 hosts: 1000 ok, 0 failed, 0 unreachable")
	if got := f.Logins.Load(); got != n {
		t.Errorf("%d logins for %d hosts: connections are not reused", got, n)
	}
	if got := f.Commands.Load(); got != 2*n {
		t.Errorf("%d commands, want %d", got, 2*n)
	}
}

// TestSimulatedFaults: hosts that refuse, stall, drop a command or are
// slow each end as they should, and never hold up the others.
func TestSimulatedFaults(t *testing.T) {
	faults := map[int]simfleet.Fault{1: simfleet.Refuse, 2: simfleet.Stall, 3: simfleet.Drop, 4: simfleet.Slow}
	_, cf := simulated(t, 50, faults)
	p := newProject(t, `task("t", function() run("echo fine") end)`, "")
	start := time.Now()
	r := p.runFor(3*time.Minute, nil, "-S", cf.SSHConfig, "-t", "3", "-H", strings.Join(cf.Hosts, ","), "t")
	wantCode(t, r, 1)
	mustContain(t, r, "50 hosts: 47 ok, 1 failed, 2 unreachable",
		"["+simfleet.Addr(4)+"] out: fine", "["+simfleet.Addr(0)+"] out: fine")
	for _, i := range []int{1, 2, 3} {
		if strings.Contains(r.stdout, "["+simfleet.Addr(i)+"] out: fine") {
			t.Errorf("faulty host %d ran the command", i)
		}
	}
	if d := time.Since(start); d > 2*time.Minute {
		t.Errorf("the run took %s: a stalled host held it up", d)
	}
}
