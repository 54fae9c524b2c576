package bench

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"
)

// sample is one process's wall and CPU time.
type sample struct{ wall, cpu time.Duration }

// runOnce runs argv (output discarded) and returns its wall and CPU time.
func runOnce(b *testing.B, argv []string) sample {
	cmd := exec.Command(argv[0], argv[1:]...)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	start := time.Now()
	if err := cmd.Run(); err != nil {
		b.Fatalf("%s: %v\n%s", filepath.Base(argv[0]), err, stderr.String())
	}
	ru := cmd.ProcessState.SysUsage().(*syscall.Rusage)
	return sample{time.Since(start), time.Duration(ru.Utime.Nano() + ru.Stime.Nano())}
}

// ratios runs subject and reference alternately, pairs times, and
// reports the medians of subject/reference for wall and CPU time, so
// that noise on the machine falls on both sides of each pair.
func ratios(b *testing.B, pairs int, subject, reference []string) {
	var wall, cpu []float64
	var sw, rw []time.Duration
	for i := 0; i < pairs; i++ {
		s, r := runOnce(b, subject), runOnce(b, reference)
		wall = append(wall, float64(s.wall)/float64(r.wall))
		cpu = append(cpu, float64(s.cpu)/float64(max(r.cpu, time.Millisecond)))
		sw, rw = append(sw, s.wall), append(rw, r.wall)
	}
	med := func(x []float64) float64 { slices.Sort(x); return x[len(x)/2] }
	medD := func(x []time.Duration) float64 { slices.Sort(x); return float64(x[len(x)/2].Microseconds()) / 1000 }
	b.ReportMetric(med(wall), "wall-ratio")
	b.ReportMetric(med(cpu), "cpu-ratio")
	b.ReportMetric(medD(sw), "subject-ms")
	b.ReportMetric(medD(rw), "reference-ms")
}

// BenchmarkStartupRatio: gofab --version and gofab -l on 50 tasks against
// bench/startupref --version (the floor the required packages set), as
// the medians of 51 alternating pairs; and bench/startupfeat --version
// against it: the floor of any program linking the libraries gofab's
// features are built on (YAML, age, git, the shell interpreter, …).
func BenchmarkStartupRatio(b *testing.B) {
	dir := b.TempDir()
	gofab := build(b, dir, "./cmd/gofab")
	ref := build(b, dir, "./bench/startupref")
	feat := build(b, dir, "./bench/startupfeat")
	fabfile := fiftyTasks(b, dir)
	for _, c := range []struct {
		name string
		argv []string
	}{{"version", []string{gofab, "--version"}}, {"l50", []string{gofab, "-f", fabfile, "-l"}}, {"featuresfloor", []string{feat, "--version"}}} {
		b.Run(c.name, func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				ratios(b, 51, c.argv, []string{ref, "--version"})
			}
		})
	}
}

// BenchmarkFleetRatio: "uname -r" on 10,000 simulated hosts (bench/fleet
// in a process of its own), gofab's ad-hoc mode against the floor (a bare
// x/crypto/ssh client, 64 handshakes in flight), as the medians of five
// alternating pairs. GOFAB_FLEET_SIZES sets the size (the first one).
func BenchmarkFleetRatio(b *testing.B) {
	dir := b.TempDir()
	gofab := build(b, dir, "./cmd/gofab")
	floor := build(b, dir, "./bench/floor")
	fleetBin := build(b, dir, "./bench/fleet")
	n := 10000
	if sizes := fleetSizes(); os.Getenv("GOFAB_FLEET_SIZES") != "" {
		n = sizes[0]
	}
	fdir := filepath.Join(dir, "fleet-hosts") // dir/fleet is the fleet binary
	gofabArgv, floorArgv := fleetCommands(b, gofab, floor, fdir, startFleet(b, fleetBin, fdir, n))
	b.Run(fmt.Sprintf("hosts=%d", n), func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			ratios(b, 5, gofabArgv, floorArgv)
		}
	})
}
