package bench

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/gofab/gofab/internal/testdouble/simfleet"
)

// fleetSizes are the fleet sizes BenchmarkFleet measures; GOFAB_FLEET_SIZES
// (comma-separated) changes them.
func fleetSizes() []int {
	sizes := []int{1000, 2000, 5000, 10000}
	if s := os.Getenv("GOFAB_FLEET_SIZES"); s != "" {
		sizes = nil
		for _, f := range strings.Split(s, ",") {
			if n, err := strconv.Atoi(f); err == nil {
				sizes = append(sizes, n)
			}
		}
	}
	return sizes
}

// startFleet runs bench/fleet with n hosts in its own process and waits
// until it serves; it is stopped when the benchmark ends.
func startFleet(b *testing.B, fleetBin, dir string, n int) (port string) {
	p, err := simfleet.StartProcess(fleetBin, "-hosts", strconv.Itoa(n), "-dir", dir, "-limit", "60m")
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(p.Kill)
	return p.Port
}

// fleetCommands are the command lines that run "uname -r" on every host
// of the fleet in fdir (serving on port): gofab's ad-hoc mode, and the
// floor program with the same 64 handshakes in flight (it takes the
// hosts with their port, from a file written here).
func fleetCommands(b *testing.B, gofab, floor, fdir, port string) (gofabArgv, floorArgv []string) {
	hosts, err := os.ReadFile(filepath.Join(fdir, "hosts.txt"))
	if err != nil {
		b.Fatal(err)
	}
	var withPort []string
	for _, h := range strings.Fields(string(hosts)) {
		withPort = append(withPort, h+":"+port)
	}
	list := filepath.Join(fdir, "hostports.txt")
	if err := os.WriteFile(list, []byte(strings.Join(withPort, "\n")), 0o644); err != nil {
		b.Fatal(err)
	}
	return []string{gofab, "-S", filepath.Join(fdir, "ssh_config"), "-q", "-H", "@" + filepath.Join(fdir, "hosts.txt"), "--", "uname", "-r"},
		[]string{floor, "-hosts-file", list, "-user", "deploy", "-key", filepath.Join(fdir, "id_ed25519"),
			"-known-hosts", filepath.Join(fdir, "known_hosts"), "-limit", "64", "uname", "-r"}
}

// BenchmarkFleet runs "uname -r" on simulated fleets of 1k to 10k hosts
// (bench/fleet, in a process of its own): gofab's ad-hoc mode against the
// floor program, a bare x/crypto/ssh client with the same 64 handshakes
// in flight. The client's CPU, wall time and peak RSS are reported; the
// fleet's own CPU is not counted.
func BenchmarkFleet(b *testing.B) {
	dir := b.TempDir()
	gofab := build(b, dir, "./cmd/gofab")
	floor := build(b, dir, "./bench/floor")
	fleetBin := build(b, dir, "./bench/fleet")
	for _, n := range fleetSizes() {
		fdir := filepath.Join(dir, fmt.Sprintf("fleet%d", n))
		gofabArgv, floorArgv := fleetCommands(b, gofab, floor, fdir, startFleet(b, fleetBin, fdir, n))
		b.Run(fmt.Sprintf("hosts=%d/floor", n), func(b *testing.B) {
			measure(b, floorArgv[0], floorArgv[1:]...)
		})
		b.Run(fmt.Sprintf("hosts=%d/gofab", n), func(b *testing.B) {
			measure(b, gofabArgv[0], gofabArgv[1:]...)
		})
	}
}

// BenchmarkFleetTask runs a fabfile task of three commands and a 64 KiB
// put on simulated fleets: what a real deploy costs gofab per host.
func BenchmarkFleetTask(b *testing.B) {
	dir := b.TempDir()
	gofab := build(b, dir, "./cmd/gofab")
	fleetBin := build(b, dir, "./bench/fleet")
	payload := filepath.Join(dir, "payload")
	os.WriteFile(payload, make([]byte, 64<<10), 0o644)
	fab := filepath.Join(dir, "fabfile.lua")
	os.WriteFile(fab, []byte(fmt.Sprintf(`task("deploy", function()
  run("uname -r")
  put(%q, "/tmp/payload")
  run("echo deployed")
  run("hostname")
end)
`, payload)), 0o644)
	for _, n := range fleetSizes() {
		fdir := filepath.Join(dir, fmt.Sprintf("fleet%d", n))
		startFleet(b, fleetBin, fdir, n)
		b.Run(fmt.Sprintf("hosts=%d", n), func(b *testing.B) {
			measure(b, gofab, "-f", fab, "-S", filepath.Join(fdir, "ssh_config"), "-q", "-H", "@"+filepath.Join(fdir, "hosts.txt"), "deploy")
		})
	}
}
