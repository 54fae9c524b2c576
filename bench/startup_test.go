package bench

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// BenchmarkStartup measures whole-process start-up, median wall time of
// 51 runs per op: gofab --version, gofab -l on a 50-task fabfile, and for
// reference bench/startupref --version (a binary linking only the
// packages gofab must use: gopher-lua, x/crypto/ssh, pkg/sftp,
// urfave/cli/v2) and /bin/true.
func BenchmarkStartup(b *testing.B) {
	dir := b.TempDir()
	gofab := build(b, dir, "./cmd/gofab")
	ref := build(b, dir, "./bench/startupref")
	fabfile := fiftyTasks(b, dir)
	for _, c := range []struct {
		name string
		argv []string
	}{
		{"true", []string{"/bin/true"}},
		{"startupref--version", []string{ref, "--version"}},
		{"gofab--version", []string{gofab, "--version"}},
		{"gofab-l50", []string{gofab, "-f", fabfile, "-l"}},
	} {
		b.Run(c.name, func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				b.ReportMetric(medianRun(b, c.argv, 51), "median-ms")
			}
		})
	}
}

// fiftyTasks writes a fabfile of 50 documented tasks into dir (what -l
// lists in the start-up benchmarks) and returns its path.
func fiftyTasks(b *testing.B, dir string) string {
	var fab strings.Builder
	for i := 0; i < 50; i++ {
		fmt.Fprintf(&fab, "task(%q, %q, function() run(\"echo %d\") end)\n", fmt.Sprintf("task%02d", i), fmt.Sprintf("Task number %d", i), i)
	}
	fabfile := filepath.Join(dir, "fabfile.lua")
	if err := os.WriteFile(fabfile, []byte(fab.String()), 0o644); err != nil {
		b.Fatal(err)
	}
	return fabfile
}

// medianRun runs argv n times and returns the median wall time in ms.
func medianRun(b *testing.B, argv []string, n int) float64 {
	return medianRunIn(b, "", nil, argv, n)
}

// medianRunIn is medianRun in directory dir with environment env (nil:
// this process's).
func medianRunIn(b *testing.B, dir string, env, argv []string, n int) float64 {
	times := make([]time.Duration, n)
	for i := range times {
		start := time.Now()
		runIn(b, dir, env, argv...)
		times[i] = time.Since(start)
	}
	slices.Sort(times)
	return float64(times[n/2].Microseconds()) / 1000
}

// runIn runs argv in dir with env, failing b when it fails.
func runIn(b *testing.B, dir string, env []string, argv ...string) {
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Dir, cmd.Env = dir, env
	if out, err := cmd.CombinedOutput(); err != nil {
		b.Fatalf("%s: %v\n%s", argv, err, out)
	}
}
