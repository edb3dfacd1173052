package main

import (
	"flag"
	"fmt"
	"os"
	goruntime "runtime"
	"runtime/pprof"
)

// profiling is the --cpuprofile and --memprofile flags of sync, backfill and
// rebuild: Go profiles for `go tool pprof`, e.g. of make bench's runs.
type profiling struct{ cpu, mem string }

func (p *profiling) register(fs *flag.FlagSet) {
	fs.StringVar(&p.cpu, "cpuprofile", "", "write a CPU profile to this `file` (go tool pprof)")
	fs.StringVar(&p.mem, "memprofile", "", "write a heap profile to this `file` when the command ends (go tool pprof)")
}

// start begins the CPU profile; the returned function ends it and writes
// the heap profile.
func (p *profiling) start() (stop func(), err error) {
	var cpu *os.File
	if p.cpu != "" {
		if cpu, err = os.Create(p.cpu); err != nil {
			return nil, usageError{fmt.Errorf("--cpuprofile: %w", err)}
		}
		if err := pprof.StartCPUProfile(cpu); err != nil {
			cpu.Close()
			return nil, fmt.Errorf("--cpuprofile: %w", err)
		}
	}
	return func() {
		if cpu != nil {
			pprof.StopCPUProfile()
			cpu.Close()
		}
		if p.mem != "" {
			if f, err := os.Create(p.mem); err == nil {
				goruntime.GC()
				pprof.WriteHeapProfile(f)
				f.Close()
			}
		}
	}, nil
}
