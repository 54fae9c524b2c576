package main

import (
	"os"
	"runtime"
	"runtime/pprof"
)

// startProfiles writes a CPU profile to $GOFAB_CPUPROFILE and, when the
// returned function runs, a heap profile to $GOFAB_MEMPROFILE: how the
// fleet benchmarks find where gofab spends.
func startProfiles(getenv func(string) string) (stop func()) {
	var cpu *os.File
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
