package main

import (
	"runtime/debug"

	"github.com/engage-etl/engage-etl/internal/config"
)

// A run holds about chunk_bytes per window in flight, several times over
// (the answer, its rows, the COPY buffer); the Go runtime lets the heap grow
// to twice what is live before it collects. A soft memory limit makes it
// collect sooner instead, so the process stays near what it needs: with the
// default settings (4 MiB chunks, 4 streams of 4 windows) that is
// baseMemoryLimit, measured by `make bench` at no cost in CPU, where without
// a limit the peak RSS of a busy day's backfill passed 200 MB.
const (
	baseMemoryLimit = 150 << 20
	baseInFlight    = config.DefaultChunkBytes * config.DefaultStreamParallelism * config.DefaultWindowParallelism
)

// memoryLimit is the soft limit for a configuration: the base, scaled up
// with the bytes a run may hold in flight.
func memoryLimit(s config.Sync) int64 {
	inFlight := int64(s.ChunkBytes) * int64(max(s.StreamParallelism, 1)) * int64(max(s.WindowParallelism, 1))
	return max(baseMemoryLimit, baseMemoryLimit*inFlight/baseInFlight)
}

// limitMemory sets the runtime's soft memory limit for cfg, unless
// GOMEMLIMIT sets it already (the runtime reads that itself).
func limitMemory(cfg *config.Config, lookup config.LookupEnv) {
	if _, set := lookup("GOMEMLIMIT"); set {
		return
	}
	debug.SetMemoryLimit(memoryLimit(cfg.Sync))
}
