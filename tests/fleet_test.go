package tests

import (
	"bytes"
	"fmt"
	"io"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/creack/pty"

	"github.com/gofab/gofab/internal/testdouble/simfleet"
)

var (
	fleetOnce sync.Once
	fleetBin  string
	fleetErr  error
)

// fleet is a simulated fleet (bench/fleet) running in a process of its
// own — in this one it would weigh on every child's peak RSS, which
// Linux starts from the parent's at fork.
type fleet struct {
	*simfleet.Process
	dir   string
	hosts []string
}

// simulated starts a fleet of n hosts with the given faults (NAME=i,j).
func simulated(t *testing.T, n int, faults ...string) *fleet {
	t.Helper()
	fleetOnce.Do(func() {
		fleetBin = filepath.Join(filepath.Dir(gofabBin), "fleet")
		cmd := exec.Command("go", "build", "-o", fleetBin, "./bench/fleet")
		cmd.Dir = repoRoot
		if out, err := cmd.CombinedOutput(); err != nil {
			fleetErr = fmt.Errorf("build bench/fleet: %v\n%s", err, out)
		}
	})
	if fleetErr != nil {
		t.Fatal(fleetErr)
	}
	f := &fleet{dir: t.TempDir()}
	args := []string{"-hosts", fmt.Sprint(n), "-dir", f.dir, "-slow", "1s", "-limit", "10m"}
	for _, fl := range faults {
		args = append(args, "-fault", fl)
	}
	p, err := simfleet.StartProcess(fleetBin, args...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.Kill)
	f.Process = p
	for i := 0; i < n; i++ {
		f.hosts = append(f.hosts, simfleet.Addr(i))
	}
	return f
}

func (f *fleet) sshConfig() string { return filepath.Join(f.dir, "ssh_config") }

// TestThousandHostsSimulated runs a task with two commands and a put on
// a thousand simulated hosts: every one succeeds, each host logs in once.
func TestThousandHostsSimulated(t *testing.T) {
	t.Parallel() // self-contained (its own fleet, files or shells): runs beside the other parallel tests, after the serial ones
	const n = 1000
	f := simulated(t, n)
	p := newProject(t, `
task("t", function()
  run("uname -r")
  put("payload", "/tmp/payload")
  local r = run("hostname", {quiet = true})
  if r.stdout ~= env.host .. "\n" then abort("hostname said " .. r.stdout) end
end)`, "")
	p.write("payload", strings.Repeat("x", 64<<10))
	r := p.runFor(5*time.Minute, nil, "-S", f.sshConfig(), "-q", "-H", "@"+filepath.Join(f.dir, "hosts.txt"), "t")
	wantCode(t, r, 0)
	mustContain(t, r, "1000 hosts: 1000 ok, 0 failed, 0 unreachable")
	logins, commands, err := f.Stop()
	if err != nil {
		t.Fatal(err)
	}
	if logins != n {
		t.Errorf("%d logins for %d hosts: connections are not reused", logins, n)
	}
	if commands != 2*n {
		t.Errorf("%d commands, want %d", commands, 2*n)
	}
}

// TestSimulatedFaults: hosts that refuse, stall, drop a command or are
// slow each end as they should, and never hold up the others.
func TestSimulatedFaults(t *testing.T) {
	t.Parallel() // self-contained (its own fleet, files or shells): runs beside the other parallel tests, after the serial ones
	f := simulated(t, 50, "refuse=1", "stall=2", "drop=3", "slow=4")
	p := newProject(t, `task("t", function() run("echo fine") end)`, "")
	start := time.Now()
	r := p.runFor(3*time.Minute, nil, "-S", f.sshConfig(), "-t", "3", "-H", strings.Join(f.hosts, ","), "t")
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

// onTerminal runs gofab on a pseudo-terminal until it exits and returns
// everything the terminal was sent.
func onTerminal(t *testing.T, env []string, args ...string) string {
	t.Helper()
	cmd := exec.Command(gofabBin, args...)
	cmd.Dir = t.TempDir()
	cmd.Env = append(append(baseEnv(cmd.Dir), "TERM=xterm"), env...)
	tty, err := pty.StartWithSize(cmd, &pty.Winsize{Rows: 40, Cols: 160})
	if err != nil {
		t.Fatal(err)
	}
	defer tty.Close()
	var seen bytes.Buffer
	io.Copy(&seen, tty) // until gofab exits and the terminal closes
	cmd.Wait()
	return seen.String()
}

// TestTerminalView: on a terminal the status line is there from the first
// moment with hosts connecting and running, each host has the same colour
// in every run, error words are red, and NO_COLOR turns colours off.
func TestTerminalView(t *testing.T) {
	f := simulated(t, 12, "slow=0,1,2,3,4,5,6,7,8,9", "refuse=11")
	args := []string{"-S", f.sshConfig(), "-H", strings.Join(f.hosts, ","), "--", "echo", "hi"}
	screen := onTerminal(t, nil, args...)
	first := strings.Index(screen, "0/12 done · ")
	out := strings.Index(screen, "out: hi")
	if first < 0 || out < 0 || first > out {
		t.Fatalf("no status line before the first host finished:\n%q", screen)
	}
	if !regexp.MustCompile(`\d+/12 done · \d+ connecting · [1-9]\d* running · \d+ failed`).MatchString(screen) {
		t.Errorf("the status line never showed hosts running:\n%q", screen)
	}
	colour := regexp.MustCompile(`(\x1b\[[0-9;]+m)\[` + regexp.QuoteMeta(f.hosts[10]) + `\]`)
	m := colour.FindStringSubmatch(screen)
	if m == nil {
		t.Fatalf("host %s has no colour:\n%q", f.hosts[10], screen)
	}
	if again := colour.FindStringSubmatch(onTerminal(t, nil, args...)); again == nil || again[1] != m[1] {
		t.Errorf("host %s changed colour between runs: %q then %q", f.hosts[10], m[1], again)
	}
	if !regexp.MustCompile(`\x1b\[1;31merror\x1b\[0m: unreachable: [^\r\n]* \(details in the summary\)`).MatchString(screen) {
		t.Errorf("the unreachable host's error is not red and short:\n%q", screen)
	}
	if plain := onTerminal(t, []string{"NO_COLOR=1"}, args...); strings.Contains(plain, "\x1b[3") || strings.Contains(plain, "\x1b[1;") {
		t.Errorf("colours with NO_COLOR:\n%q", plain)
	}
}
