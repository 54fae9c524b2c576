package main

import (
	"os"
	"runtime"
	"runtime/debug"
	"runtime/pprof"
)

// startProfiles writes a CPU profile to $GOFAB_CPUPROFILE and, when the
// returned function runs, a heap profile to $GOFAB_MEMPROFILE: how the
// fleet benchmarks find where gofab spends.
func startProfiles(getenv func(string) string) (stop func()) {
	var cpu *os.File
	if getenv("GOFAB_MEMPROFILE") != "" {
		runtime.MemProfileRate = 4096 // fine enough for a short run's allocations
	}
	if p := getenv("GOFAB_CPUPROFILE"); p != "" {
		if f, err := os.Create(p); err == nil && pprof.StartCPUProfile(f) == nil {
			cpu = f
		}
	}
	return func() {
		if cpu != nil {
			pprof.StopCPUProfile()
			cpu.Close()
		}
		if p := getenv("GOFAB_MEMPROFILE"); p != "" {
			if f, err := os.Create(p); err == nil {
				runtime.GC()
				pprof.Lookup("heap").WriteTo(f, 0)
				f.Close()
			}
		}
	}
}

// gcPercent is the garbage collector's target unless GOGC says otherwise:
// gofab is a short-lived process whose heap is mostly per-host state that
// lives as long as the host's task, so collecting at twice Go's default
// growth halves the collector's CPU for a fleet at a bounded cost in
// memory (BenchmarkFleet: peak RSS at 10,000 hosts stays under 400 MiB).
const gcPercent = 200

// tuneGC applies gcPercent when GOGC is not set.
func tuneGC(getenv func(string) string) {
	if getenv("GOGC") == "" {
		debug.SetGCPercent(gcPercent)
	}
}
